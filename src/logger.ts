// Structured JSON logs. Message bodies, credentials and signatures are redacted
// everywhere; modules log ids and statuses at info level, never content.
import { pino, type Logger } from 'pino';
import { plugins } from '../channels/registry.js';

export type { Logger };

export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  // Every provider's signature headers (channels/<provider>: redactHeaders).
  ...plugins.flatMap((p) => (p.redactHeaders ?? []).map((h) => `req.headers["${h}"]`)),
  'req.headers["lob-signature"]',
  'req.headers["x-twilio-email-event-webhook-signature"]',
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

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'dunning-gateway' },
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
