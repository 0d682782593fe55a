// The part of an email reply its sender wrote, for the classifier: without
// the quoted history, attribution lines, forwarded originals, mobile
// signatures — and without any line of our own outbound messages, however it
// got there (Outlook quotes without ">", people paste). The full original
// stays in messages.body for agents; this text is only what is read for
// intents (opt-outs above all: our "If you have already paid…" and
// "unsubscribe here" footer must never be read as the debtor's words).
//
// Handles top-posting (reply above the quote), bottom-posting and interleaved
// replies (text between and under ">" blocks), Gmail's attribution wrapped
// over two or three lines, Outlook/Exchange header blocks (From:/Sent:/To:/
// Subject: and their translations), Apple Mail, Thunderbird and mobile
// clients, and forwarded mail, in English, Spanish, French, German,
// Portuguese, Italian, Dutch, Nordic languages, Polish, Russian and Hindi.
//
// Why not a library: email-reply-parser (the most used on npm) reads only
// ">"-quoted top-posting, wants Node 22, and leaks Outlook's unprefixed
// quotes and bottom-posted replies; planer/talon ports need a DOM or are
// unmaintained. The corpus in test/inbound/fixtures/replies keeps this honest.
import fs from 'node:fs';
import path from 'node:path';
import { TEMPLATES_DIR } from '../paths.js';

const VERBS = String.raw`(wrote|writes|schrieb|a\s+[ée]crit|[ée]crit|escribi[oó]|escreveu|ha\s+scritto|scrisse|schreef|skrev|kirjoitti|napisa[lł](\(a\))?|pisze|написал(\(а\))?|пишет|ने\s+लिखा|lik(h)?a)`;
/** "On <date>, <name> <addr> wrote:" and translations; the verb may be followed by the name (German, Dutch). */
// Letter boundaries, not \b: "escribió:" and "ने लिखा:" end in letters \b does not know.
const ATTRIBUTION = new RegExp(
  String.raw`^[^\n]{0,260}(?<![\p{L}\p{M}])${VERBS}(?![\p{L}\p{M}])[^\n]{0,160}:\s*$`,
  'iu',
);
/** Webmail that flattens the quote onto the attribution's line ("On …, X <x@y> wrote:   Hello Dana,"). */
const ATTRIBUTION_INLINE = new RegExp(
  String.raw`^\s*(on|el|le|am|em|il|op)\s[^\n]{5,260}(?<![\p{L}\p{M}])${VERBS}(?![\p{L}\p{M}])\s*:\s+\S`,
  'iu',
);
/** Any short line ending in ":" that names an address or a date, right above a ">" quote (mutt, Evolution, custom). */
const QUOTE_INTRO = /^[^\n]{0,200}([\w.+-]+@[\w-]+\.[\w.-]+|\d{1,4}[-/.:]\d{1,2})[^\n]{0,120}:\s*$/u;
const ATTRIBUTION_START = /^(on|am|le|el|em|il|op|den|på|pe|w dniu|dnia|в|\d|\(?[a-z]{2,4}\.?,|[\u0900-\u097f]+,)/iu;

const SEPARATOR = new RegExp(
  String.raw`^\s*(-{2,}|_{2,}|={2,})?\s*(original message|mensaje original|message d'origine|urspr[üu]ngliche nachricht|mensagem original|messaggio originale|oorspronkelijk bericht|originalmeddelande|opprinnelig melding|oryginalna wiadomo[sś][cć]|исходное сообщение|मूल संदेश|forwarded message|mensaje reenviado|message transf[ée]r[ée]|weitergeleitete nachricht|mensagem encaminhada|messaggio inoltrato|doorgestuurd bericht|videresendt melding|vidarebefordrat meddelande|पुनः प्रेषित संदेश|अग्रेषित संदेश)\s*(-{2,}|_{2,}|={2,})?\s*:?\s*$`,
  'iu',
);
const FORWARD_INTRO =
  /^\s*(begin forwarded message|inicio del mensaje reenviado|d[ée]but du message r[ée]exp[ée]di[ée]|anfang der weitergeleiteten nachricht|in[ií]cio da mensagem encaminhada|inizio messaggio inoltrato)\s*:\s*$/iu;
const UNDERSCORES = /^\s*_{8,}\s*$/;

const HEADER_FROM =
  /^\s*\*?\s*(from|de|von|da|van|od|fra|fr[åa]n|от|l[äa]hett[äa]j[äa]|प्रेषक|से|发件人|差出人)\s*\*?\s*:/iu;
const HEADER_OTHER =
  /^\s*\*?\s*(sent|date|enviado|envoy[ée]|gesendet|datum|data|verzonden|fecha|skickat|sendt|отправлено|дата|wys[lł]ano|भेजा गया|दिनांक|to|para|[àa]|an|aan|til|till|do|кому|प्रति|subject|asunto|objet|betreff|assunto|oggetto|onderwerp|[äa]mne|emne|temat|тема|विषय|cc)\s*\*?\s*:/iu;

const MOBILE_SIGNATURE =
  /^\s*(sent from my \w+|sent from (yahoo mail|mail for windows|outlook|samsung|my samsung|my galaxy|proton ?mail)|get outlook for (ios|android)|enviado desde mi \w+|enviado desde (outlook|yahoo)|envoy[ée] de mon \w+|envoy[ée] depuis|von meinem \w+ gesendet|gesendet von|enviado do meu \w+|enviado a partir do|inviato da(l mio)? \w+|verzonden vanaf mijn \w+|skickat från min \w+|मेरे \S+ से भेजा गया)\b.*$/iu;

const isQuoted = (line: string) => /^\s*>/.test(line);
const isBlank = (line: string) => line.trim() === '';

/** Whether the attribution starting at line i (possibly wrapped over 3 lines) ends at line j; returns j or -1. */
function attributionEnd(lines: string[], i: number): number {
  let joined = '';
  for (let j = i; j < Math.min(lines.length, i + 3); j++) {
    if (isQuoted(lines[j]!) || (j > i && isBlank(lines[j]!))) return -1;
    joined = `${joined} ${lines[j]!.trim()}`.trim();
    if (joined.length > 420) return -1;
    if (ATTRIBUTION.test(joined) && ATTRIBUTION_START.test(joined) && /[\d@]/.test(joined)) return j;
  }
  return -1;
}

/** An Outlook-style header block: a From: line with another header field within the next few lines. */
function isHeaderBlock(lines: string[], i: number): boolean {
  if (!HEADER_FROM.test(lines[i]!)) return false;
  for (let j = i + 1; j < Math.min(lines.length, i + 6); j++) if (HEADER_OTHER.test(lines[j]!)) return true;
  return false;
}

function nextContent(lines: string[], from: number): number {
  let k = from;
  while (k < lines.length && isBlank(lines[k]!)) k++;
  return k;
}

export interface ExtractedReply {
  /** What the sender wrote (may be empty: a bare forward, or only our quote). */
  text: string;
  /** Whether anything was taken away (quote, forward, our own lines). */
  trimmed: boolean;
}

/**
 * The sender's own text. `ours`: texts we sent (bodies of our recent
 * messages to this debtor): any reply line found in them is dropped.
 */
export function extractReply(input: string, ours: readonly string[] = []): ExtractedReply {
  const lines = input
    .replace(/\r\n?/g, '\n')
    .replace(/\u00a0/g, ' ')
    .split('\n');
  const kept: string[] = [];
  let trimmed = false;
  let inSignature = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (isQuoted(line)) {
      trimmed = true;
      inSignature = false;
      continue;
    }
    const end = attributionEnd(lines, i);
    if (end >= 0) {
      trimmed = true;
      // Followed by ">" lines: a quote the sender may answer below (bottom-posting): skip the attribution only.
      // Followed by unprefixed text: the rest is the quoted original.
      if (isQuoted(lines[nextContent(lines, end + 1)] ?? '')) {
        i = end;
        continue;
      }
      break;
    }
    if (QUOTE_INTRO.test(line) && isQuoted(lines[nextContent(lines, i + 1)] ?? '')) {
      trimmed = true;
      continue;
    }
    if (ATTRIBUTION_INLINE.test(line) && /[\d@]/.test(line)) {
      trimmed = true;
      break;
    }
    if (
      SEPARATOR.test(line) ||
      FORWARD_INTRO.test(line) ||
      isHeaderBlock(lines, i) ||
      (UNDERSCORES.test(line) && isHeaderBlock(lines, nextContent(lines, i + 1)))
    ) {
      trimmed = true;
      break;
    }
    if (MOBILE_SIGNATURE.test(line)) {
      trimmed = true;
      continue;
    }
    // "-- " starts a signature: skipped up to the next quote (an interleaved reply may follow it).
    if (/^-- ?$/.test(line)) {
      inSignature = true;
      trimmed = true;
      continue;
    }
    if (inSignature) continue;
    kept.push(line);
  }
  const withoutOurs = dropOurLines(kept, ours);
  if (withoutOurs.length !== kept.length) trimmed = true;
  return {
    text: withoutOurs
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim(),
    trimmed,
  };
}

// ── our own words ────────────────────────────────────────────────────────

const fold = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/\p{Diacritic}/gu, '')
    .toLowerCase()
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/** Fixed sentences of our templates (between placeholders), folded: a reply line made of them is our quote. */
let templateFragments: string[] | null = null;
function ourTemplateFragments(): string[] {
  if (templateFragments) return templateFragments;
  const out = new Set<string>();
  try {
    for (const locale of fs.readdirSync(TEMPLATES_DIR)) {
      const dir = path.join(TEMPLATES_DIR, locale);
      if (!fs.statSync(dir).isDirectory()) continue;
      for (const template of fs.readdirSync(dir)) {
        const tdir = path.join(dir, template);
        if (!fs.statSync(tdir).isDirectory()) continue;
        for (const file of fs.readdirSync(tdir)) {
          if (!/\.(md|txt)$/.test(file)) continue;
          const body = fs.readFileSync(path.join(tdir, file), 'utf8').replace(/^---[\s\S]*?\n---\n/, '');
          for (const piece of body.split(/\{\{[^}]*\}\}|[.!?:\n]/)) {
            const f = fold(piece);
            if (f.length >= 24 && f.split(' ').length >= 4) out.add(f);
          }
        }
      }
    }
  } catch {
    // No templates folder (a stripped deployment): the messages we sent still count.
  }
  templateFragments = [...out];
  return templateFragments;
}

function dropOurLines(lines: string[], ours: readonly string[]): string[] {
  const oursFolded = ours.map(fold).filter(Boolean);
  // Whole lines of what we sent, however short ("Kind regards,", the agent's name): pasted back, they are ours.
  const ourLines = new Set(
    ours
      .flatMap((o) => o.split(/\r?\n/))
      .map(fold)
      .filter(Boolean),
  );
  const fragments = ourTemplateFragments();
  return lines.filter((line) => {
    const f = fold(line);
    if (f && ourLines.has(f)) return false;
    if (f.length < 16 || f.split(' ').length < 3) return true;
    if (oursFolded.some((o) => o.includes(f))) return false;
    if (fragments.some((frag) => frag.includes(f) && f.length >= 24)) return false;
    // A line that carries our sentence among the sender's own words keeps them ("Please disregard this message, I paid").
    let rest = f;
    for (const frag of fragments) if (rest.includes(frag)) rest = rest.split(frag).join(' ');
    return rest === f || rest.split(/\s+/).filter((w) => /\p{L}/u.test(w)).length >= 3;
  });
}
