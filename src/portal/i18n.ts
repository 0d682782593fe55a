// The words of the debtor's page and the unsubscribe page, from the same
// locale files as the message templates (templates/<locale>/_locale.yaml,
// key `portal`), following the templates' locale fallback chain key by key:
// a locale missing a key shows the base (en) wording, never a blank.
import { join } from 'node:path';
import { defaultTemplatesDir, localeFallbackChain } from '../templates/index.js';
import { LOCALE_FILE, localeFile, readYamlFile } from '../templates/template-files.js';

/** Languages the page offers (each has templates/<locale>/_locale.yaml with a portal section). */
export const PAGE_LOCALES = ['en', 'es'] as const;

const cache = new Map<string, Record<string, string> | null>();

function stringsOf(locale: string): Record<string, string> | null {
  if (!cache.has(locale)) {
    let strings: Record<string, string> | null = null;
    try {
      const r = localeFile.safeParse(readYamlFile(join(defaultTemplatesDir(), locale, LOCALE_FILE)));
      strings = r.success ? (r.data.portal ?? null) : null;
    } catch {
      strings = null; // no such locale folder
    }
    cache.set(locale, strings);
  }
  return cache.get(locale) ?? null;
}

export interface Translator {
  /** The language the page is shown in (BCP 47, for <html lang>). */
  lang: string;
  t(key: string, vars?: Record<string, string | number>): string;
}

export function translator(locale: string | null | undefined): Translator {
  const chain = localeFallbackChain(locale && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(locale) ? locale : 'en');
  const tables = chain
    .map((l) => ({ l, s: stringsOf(l) }))
    .filter((x): x is { l: string; s: Record<string, string> } => x.s !== null);
  const lang = tables[0]?.l ?? 'en';
  return {
    lang,
    t(key, vars = {}) {
      for (const { s } of tables) {
        const text = s[key];
        if (text !== undefined)
          return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
      }
      throw new Error(`no portal text "${key}" in ${chain.join(', ')}`);
    },
  };
}

/** The page language: an explicit, supported choice, else the debtor's own. */
export function pageLocale(requested: unknown, debtorLocale: string | null | undefined): string {
  if (typeof requested === 'string' && (PAGE_LOCALES as readonly string[]).includes(requested)) return requested;
  return debtorLocale ?? 'en';
}
