// Making a debtor's message safe and readable for an agent: an HTML email is
// sanitised (sanitize-html: no scripts, styles, forms or remote content —
// images only as data: URIs) and its quoted history folded into <details>;
// a plain-text message is split into what the debtor wrote and the quoted
// history below it. The sanitised HTML is served into a sandboxed iframe
// with a CSP that loads nothing (see conversations.ts).
import sanitizeHtml from 'sanitize-html';

const ALLOWED_TAGS = [
  'a',
  'abbr',
  'b',
  'blockquote',
  'br',
  'caption',
  'center',
  'cite',
  'code',
  'col',
  'colgroup',
  'dd',
  'del',
  'details',
  'div',
  'dl',
  'dt',
  'em',
  'font',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'i',
  'img',
  'ins',
  'li',
  'ol',
  'p',
  'pre',
  'q',
  's',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'summary',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'u',
  'ul',
];

/** Classes mail clients put on quoted history. */
const QUOTE_CLASSES = /\b(gmail_quote|yahoo_quoted|moz-cite-prefix|OutlookMessageHeader|protonmail_quote)\b/i;

const OPTIONS: sanitizeHtml.IOptions = {
  allowedTags: ALLOWED_TAGS,
  allowedAttributes: {
    a: ['href', 'title'],
    img: ['src', 'alt', 'width', 'height'],
    td: ['colspan', 'rowspan', 'align'],
    th: ['colspan', 'rowspan', 'align', 'scope'],
    details: ['data-quote'],
    font: ['color'],
    '*': ['dir', 'lang'],
  },
  // Links may be read, not followed from inside the frame; only web and mail links survive.
  allowedSchemes: ['http', 'https', 'mailto'],
  // No remote content by default: a remote image is a read receipt (and a tracker).
  allowedSchemesByTag: { img: ['data'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: ['style', 'script', 'textarea', 'option', 'noscript', 'title', 'head'],
  // Quoted history (a <blockquote>, or a mail client's quote <div>) is folded.
  transformTags: {
    blockquote: () => ({ tagName: 'details', attribs: { 'data-quote': '1' } }),
    div: (tagName, attribs): sanitizeHtml.Tag =>
      QUOTE_CLASSES.test(attribs.class ?? '')
        ? { tagName: 'details', attribs: { 'data-quote': '1' } }
        : { tagName, attribs: {} },
  },
  exclusiveFilter: (frame) =>
    frame.tag === 'img' && !/^data:image\/(png|jpeg|gif|webp);/i.test(String(frame.attribs.src ?? '')),
};

/** Sanitised HTML with quoted history folded (closed) in <details>. */
export function sanitizeEmailHtml(html: string): string {
  return sanitizeHtml(html, OPTIONS).replace(/<details data-quote="1">/g, '<details><summary>Quoted text</summary>');
}

/** The page put into the sandboxed frame: the sanitised HTML and a plain style of our own. */
export function emailFrameDocument(html: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body{font:14px/1.45 system-ui,sans-serif;color:#1d2330;margin:.5rem;word-break:break-word}
img{max-width:100%;height:auto} table{max-width:100%} details{color:#475467;border-left:3px solid #d0d5dd;padding-left:.5rem;margin:.5rem 0}
summary{cursor:pointer;color:#344054} a{color:#1d4ed8}
</style></head><body>${sanitizeEmailHtml(html)}</body></html>`;
}

const QUOTE_HEADER =
  /^(On .{4,200}wrote:|Le .{4,200}a écrit ?:|El .{4,200}escribió:|-{2,}\s*Original Message\s*-{2,}|-{2,}\s*Forwarded message\s*-{2,}|From: .+)$/im;

/** Plain text as {body, quoted}: the history below "On … wrote:" or the trailing "> " lines. */
export function splitQuoted(text: string): { body: string; quoted: string | null } {
  const lines = text.split(/\r?\n/);
  let cut = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (i > 0 && QUOTE_HEADER.test(line)) {
      cut = i;
      break;
    }
    if (line.startsWith('>') && lines.slice(i).every((l) => l.trim() === '' || l.trim().startsWith('>'))) {
      cut = i;
      break;
    }
  }
  if (cut <= 0) return { body: text, quoted: null };
  const body = lines.slice(0, cut).join('\n').trimEnd();
  if (!body.trim()) return { body: text, quoted: null };
  return { body, quoted: lines.slice(cut).join('\n').trim() };
}

/** The readable text of an HTML-only email (for the thread's text and for search), without its quoted history. */
export function textOfHtml(html: string): string {
  const withoutQuotes = sanitizeEmailHtml(html).replace(/<details>[\s\S]*?<\/details>/g, '');
  return sanitizeHtml(withoutQuotes.replace(/<(br|\/p|\/div|\/tr|\/h\d|\/li)\b[^>]*>/gi, '\n'), {
    allowedTags: [],
    allowedAttributes: {},
  })
    .replace(/&nbsp;|\u00a0/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
