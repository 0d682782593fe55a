// What text the API accepts. PostgreSQL refuses U+0000 in text and jsonb and
// refuses lone surrogates in jsonb (\ud800), so such input used to reach the
// database and come back as a 500 — sometimes after part of the change had
// been committed. Every string of a request's body and query (keys included)
// is checked once, before any handler runs, and a 400 names the field:
//   - NUL and the other C0 control characters (tab, line feed and carriage
//     return are text and stay allowed),
//   - lone surrogates (half of a UTF-16 pair: not Unicode text at all),
//   - Unicode non-characters (U+FFFE, U+FFFF, U+FDD0–U+FDEF and the last two
//     code points of every plane), which are never meant for interchange.
// Nesting is bounded too, so a deeply nested body cannot exhaust the stack of
// the validators after it.
import type { RequestHandler } from 'express';
import { badRequest, type FieldError } from './errors.js';

export const MAX_NESTING = 32;

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why this string is not acceptable text, or null. */
export function textProblem(s: string): string | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) {
      if (c === 0x09 || c === 0x0a || c === 0x0d) continue;
      return c === 0 ? 'must not contain a NUL character (U+0000)' : `must not contain the control character ${hex(c)}`;
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        const cp = (c - 0xd800) * 0x400 + (next - 0xdc00) + 0x10000;
        if ((cp & 0xfffe) === 0xfffe) return `must not contain the non-character ${hex(cp)}`;
        i++;
        continue;
      }
      return `must not contain a lone surrogate (${hex(c)}): it is not valid Unicode text`;
    }
    if (c >= 0xdc00 && c <= 0xdfff)
      return `must not contain a lone surrogate (${hex(c)}): it is not valid Unicode text`;
    if ((c >= 0xfdd0 && c <= 0xfdef) || c === 0xfffe || c === 0xffff)
      return `must not contain the non-character ${hex(c)}`;
  }
  return null;
}

const fieldName = (path: (string | number)[]) => path.map(String).join('.') || '(body)';

/** The first unacceptable string (or key) in a parsed JSON/form/query value, as a field error. */
export function findBadText(value: unknown, prefix: (string | number)[] = []): FieldError | null {
  const stack: { v: unknown; path: (string | number)[] }[] = [{ v: value, path: prefix }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      const p = textProblem(v);
      if (p) return { field: fieldName(path), reason: p };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (path.length - prefix.length >= MAX_NESTING)
      return { field: fieldName(path), reason: `is nested deeper than ${MAX_NESTING} levels` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i] });
      continue;
    }
    for (const [k, child] of Object.entries(v)) {
      const p = textProblem(k);
      // The key itself is the bad part: name it by its position, not by its (unprintable) text.
      if (p) return { field: fieldName([...path, '(key)']), reason: p };
      stack.push({ v: child, path: [...path, k] });
    }
  }
  return null;
}

/**
 * Middleware for API routes: refuses a body or query with unacceptable text
 * (400 naming the field) before authentication and handlers. Provider
 * webhooks are not under it — what a provider sends is stored as received.
 */
export const refuseBadText: RequestHandler = (req, _res, next) => {
  const problem = findBadText(req.body ?? null) ?? findBadText(req.query ?? null, ['query']);
  if (problem) return next(badRequest(`invalid input: ${problem.field} ${problem.reason}`, [problem]));
  next();
};
