// Structured JSON logs. Message bodies, credentials and signatures are redacted
// everywhere; modules log ids and statuses at info level, never content.
import { pino, type Logger } from 'pino';
import { plugins } from '../channels/registry.js';

export type { Logger };

/**
 * Paths whose last part is itself a secret: a provider's webhook token
 * (channels/<provider>: secretPaths), the signed unsubscribe token. Logged as
 * `<prefix>[redacted]`.
 */
export const SECRET_PATH_PREFIXES = [
  ...plugins.flatMap((p) => p.secretPaths ?? []),
  '/unsubscribe/',
  '/files/letters/signed/',
];

/** Query parameters whose values are credentials or signatures (letter links' sig, tokens, keys). */
const SECRET_QUERY = /token|sig|secret|key|pass|auth|code|session|csrf|jwt/i;

const REDACTED = '[redacted]';

/** A URL (path and query, as a request line has it) with its secrets replaced by [redacted]. */
export function redactUrl(url: string): string {
  // An absolute URL: its credentials go (postgres://user:pass@…), its path and query are redacted as below.
  const abs = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (abs) return `${abs[1]}${abs[2]!.replace(/^[^@]*@/, `${REDACTED}@`)}${abs[3] ? redactUrl(abs[3]) : ''}`;
  const q = url.indexOf('?');
  let pathPart = q < 0 ? url : url.slice(0, q);
  for (const prefix of SECRET_PATH_PREFIXES) {
    if (pathPart.startsWith(prefix) && pathPart.length > prefix.length) pathPart = `${prefix}${REDACTED}`;
  }
  if (q < 0) return pathPart;
  const parts = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((kv) => {
      const i = kv.indexOf('=');
      const key = i < 0 ? kv : kv.slice(0, i);
      let name = key;
      try {
        name = decodeURIComponent(key.replace(/\+/g, ' '));
      } catch {
        /* an undecodable name is matched as sent */
      }
      return SECRET_QUERY.test(name) && i >= 0 ? `${key}=${REDACTED}` : kv;
    });
  return parts.length ? `${pathPart}?${parts.join('&')}` : pathPart;
}

/** How pino-http writes the request on every line of that request: no headers, no body, secrets out of the URL. */
export const requestSerializer = (req: { id: unknown; method: string; url: string }) => ({
  id: req.id,
  method: req.method,
  url: redactUrl(String(req.url ?? '')),
});

// With every provider's signature headers (channels/<provider>: redactHeaders).
const SECRET_HEADERS = [
  'authorization',
  'cookie',
  ...plugins.flatMap((p) => p.redactHeaders ?? []),
  'x-csrf-token',
  'x-gateway-signature',
  'proxy-authorization',
];

export const redactPaths = [
  // Headers wherever a logged object carries them (a request, an HTTP client error, a webhook record).
  ...SECRET_HEADERS.flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`]),
  // URLs wherever logged: their secret parts only (see redactUrl).
  'url',
  '*.url',
  'path',
  '*.path',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.apiKey',
  '*.body',
  '*.Body',
  '*.text',
  '*.html',
  '*.subject',
];

/** URLs keep what is not secret in them; everything else listed is replaced whole. */
function censor(value: unknown, path: string[]): unknown {
  const last = path[path.length - 1];
  if ((last === 'url' || last === 'path') && typeof value === 'string') return redactUrl(value);
  return REDACTED;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'dunning-gateway' },
      redact: { paths: redactPaths, censor },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
