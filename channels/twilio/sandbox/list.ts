/**
 * Twilio's list resources (GET …/Messages.json, …/Calls.json) as the real API
 * serves them: filters as query parameters (To, From, DateSent / DateSent< /
 * DateSent>, StartTime …, Status), newest first, pages of PageSize (default
 * 50, at most 1000) with first/next/previous page URIs the helper libraries
 * follow.
 */
import type { Request } from 'express';
import { TwilioApiError } from './wire.js';

const DAY_MS = 86_400_000;

/**
 * A date filter value: `YYYY-MM-DD` (a whole UTC day, as Twilio's docs give it)
 * or a full ISO 8601 date-time (what the helper libraries serialise).
 */
function parseBound(name: string, value: string): { from: number; to: number } {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const start = Date.parse(`${value}T00:00:00Z`);
    if (Number.isNaN(start)) throw new TwilioApiError(400, 20001, `Invalid ${name}: ${value}`);
    return { from: start, to: start + DAY_MS };
  }
  const at = Date.parse(value);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}T/.test(value))
    throw new TwilioApiError(400, 20001, `Invalid ${name}: ${value}`);
  return { from: at, to: at + 1 };
}

/**
 * Keeps the records whose date passes `Name`, `Name<` (on or before) and
 * `Name>` (on or after); a record without the date (a message not sent yet)
 * never passes a filter on it.
 */
export function dateFilter<T>(
  query: Request['query'],
  name: string,
  dateOf: (item: T) => Date | null,
): (item: T) => boolean {
  const tests: ((t: number) => boolean)[] = [];
  const exact = stringParam(query, name);
  const before = stringParam(query, `${name}<`);
  const after = stringParam(query, `${name}>`);
  if (exact !== undefined) {
    const b = parseBound(name, exact);
    tests.push((t) => t >= b.from && t < b.to);
  }
  if (before !== undefined) {
    const b = parseBound(`${name}<`, before);
    tests.push((t) => t < b.to);
  }
  if (after !== undefined) {
    const b = parseBound(`${name}>`, after);
    tests.push((t) => t >= b.from);
  }
  if (!tests.length) return () => true;
  return (item) => {
    const d = dateOf(item);
    return d !== null && tests.every((test) => test(d.getTime()));
  };
}

/** One value of a query parameter (the last, when repeated). */
export function stringParam(query: Request['query'], name: string): string | undefined {
  const v = query[name];
  if (Array.isArray(v)) return v.length ? String(v[v.length - 1]) : undefined;
  return typeof v === 'string' ? v : undefined;
}

function intParam(query: Request['query'], name: string, fallback: number, min: number, max: number): number {
  const raw = stringParam(query, name);
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new TwilioApiError(400, 20001, `Invalid ${name}: must be an integer from ${min} to ${max}`);
  return n;
}

/**
 * One page of `items` (already filtered and sorted newest first) in Twilio's
 * list envelope under `key`. The page URIs repeat the request's filters, as
 * Twilio's do, so following next_page_uri reads the same list on.
 */
export function listPage(
  req: Request,
  key: 'messages' | 'calls',
  items: Record<string, unknown>[],
): Record<string, unknown> {
  const pageSize = intParam(req.query, 'PageSize', 50, 1, 1000);
  const page = intParam(req.query, 'Page', 0, 0, 1_000_000);
  const path = req.originalUrl.split('?')[0]!;
  const filters = Object.entries(req.query).filter(([k]) => k !== 'PageSize' && k !== 'Page' && k !== 'PageToken');
  const uriOf = (p: number) => {
    const q = new URLSearchParams();
    for (const [k, v] of filters) for (const one of Array.isArray(v) ? v : [v]) q.append(k, String(one));
    q.set('PageSize', String(pageSize));
    q.set('Page', String(p));
    if (p > 0) q.set('PageToken', `PA${p * pageSize}`);
    return `${path}?${q.toString()}`;
  };
  const start = page * pageSize;
  const slice = items.slice(start, start + pageSize);
  return {
    [key]: slice,
    end: start + Math.max(slice.length, 1) - 1,
    first_page_uri: uriOf(0),
    next_page_uri: start + pageSize < items.length ? uriOf(page + 1) : null,
    page,
    page_size: pageSize,
    previous_page_uri: page > 0 ? uriOf(page - 1) : null,
    start,
    uri: uriOf(page),
  };
}
