// Replay windows of signed webhooks: a signature is only as good as the
// timestamp it covers is recent.

/** Unix timestamp in seconds or milliseconds → ms; NaN when unreadable. */
export function timestampMs(value: string): number {
  if (!/^\d{9,14}$/.test(value)) return Number.NaN;
  const n = Number(value);
  return n > 1e12 ? n : n * 1000;
}

/** Whether a signed timestamp lies within `maxAgeSeconds` of `now` (either side). */
export function fresh(ts: string, maxAgeSeconds: number, now: number): boolean {
  const ms = timestampMs(ts);
  return Number.isFinite(ms) && Math.abs(now - ms) <= maxAgeSeconds * 1000;
}
