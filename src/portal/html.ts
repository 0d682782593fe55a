// The HTML shell of the debtor's page and the unsubscribe page: server
// rendered, no script, mobile first (one column, large targets, readable at
// 360 px), with the landmarks, labels and contrast axe-core checks for.
import type { Response } from 'express';
import { PAGE_LOCALES, translator, type Translator } from './i18n.js';

export const esc = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const CSS = `*{box-sizing:border-box}
html{font-size:100%;-webkit-text-size-adjust:100%}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;color:#1b1b1b;background:#f4f5f7}
.skip{position:absolute;left:-999px}.skip:focus{left:.5rem;top:.5rem;background:#fff;padding:.5rem;z-index:2}
header{background:#0b3d63;color:#fff;padding:.75rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;justify-content:space-between}
header p{margin:0;font-weight:600}
header nav a{color:#fff;margin-left:.75rem}
main{max-width:46rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;line-height:1.25;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:0 0 .75rem}
section,.card{background:#fff;border:1px solid #d5d9de;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
dl{display:grid;grid-template-columns:1fr auto;gap:.25rem 1rem;margin:0}
dt{color:#3d4650}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums;font-weight:600}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input,select,textarea{font:inherit;width:100%;padding:.6rem;border:1px solid #5b6570;border-radius:.375rem;background:#fff;color:#1b1b1b}
textarea{min-height:6rem}
button{font:inherit;font-weight:600;width:100%;margin-top:.75rem;padding:.75rem 1rem;border:0;border-radius:.375rem;background:#0b5cad;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b3d63;border:2px solid #0b3d63}
button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
a{color:#0b4f94}
.notice{border-left:.35rem solid #0b5cad;background:#e8f1fb;padding:.75rem 1rem;margin:0 0 1rem;border-radius:.25rem}
.error{border-left-color:#a4161a;background:#fdecec}
.success{border-left-color:#1b6e3a;background:#e7f5ec}
.row{display:grid;grid-template-columns:1fr 1fr;gap:.75rem}
ul{padding-left:1.25rem}
.muted{color:#4a545e}
@media (min-width:48rem){main{padding:2rem 1rem}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1rem}.grid section{margin:0}}`;

export interface PageOptions {
  title: string;
  body: string;
  tr: Translator;
  /** Links to this page in the other languages (no query means the same page). */
  langHref?: (locale: string) => string;
  /** Shown in the header when signed in. */
  signOut?: string;
  /** Origins a form may be sent or redirected to besides this one (a payment provider's checkout page). */
  formTargets?: string[];
}

export function pageHtml(o: PageOptions): string {
  const langs = o.langHref
    ? PAGE_LOCALES.filter((l) => l !== o.tr.lang)
        .map(
          (l) =>
            `<a href="${esc(o.langHref!(l))}" lang="${l}" hreflang="${l}">${esc(translator(l).t('lang_name'))}</a>`,
        )
        .join('')
    : '';
  return `<!doctype html><html lang="${esc(o.tr.lang)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer"><meta name="robots" content="noindex,nofollow">
<title>${esc(o.title)}</title><style>${CSS}</style></head><body><a class="skip" href="#main">${esc(o.tr.t('skip'))}</a>
<header><p>${esc(o.tr.t('title'))}</p><nav aria-label="${esc(o.tr.t('prefs_language_label'))}">${langs}${o.signOut ?? ''}</nav></header>
<main id="main">${o.body}</main></body></html>`;
}

/** Sends a page with the headers every debtor-facing page gets: never cached, never framed, no script. */
export function sendPage(res: Response, status: number, html: string, formTargets: string[] = []): void {
  res.status(status);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self' ${formTargets.join(' ')}; frame-ancestors 'none'; base-uri 'none'`.replace(
      /\s+;/g,
      ';',
    ),
  );
  res.type('html').send(html);
}

export const notice = (text: string, kind: 'info' | 'error' | 'success' = 'info') =>
  `<div class="notice${kind === 'info' ? '' : ` ${kind}`}" role="${kind === 'error' ? 'alert' : 'status'}">${esc(text)}</div>`;
