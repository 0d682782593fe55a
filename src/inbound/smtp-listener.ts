// Optional SMTP listener for teams that receive replies by MX instead of
// SendGrid Inbound Parse (SMTP_LISTEN_PORT; 0 = off). It accepts mail only for
// the INBOUND_EMAIL_DOMAIN, within INBOUND_EMAIL_MAX_BYTES, and answers 250
// only once the raw message is stored — the same pipeline as Inbound Parse.
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { AppContext } from '../context.js';
import { emailDedupeKey, parseRawMime } from './email.js';
import { intake } from './intake.js';
import { normalizeEmail } from './matching.js';

export interface SmtpListener {
  port: number;
  close(): Promise<void>;
}

function smtpError(message: string, code: number): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export async function startSmtpListener(ctx: AppContext): Promise<SmtpListener | null> {
  if (!ctx.config.SMTP_LISTEN_PORT) return null;
  const domain = ctx.providers.email.inboundDomain.toLowerCase();
  const maxBytes = ctx.config.INBOUND_EMAIL_MAX_BYTES;
  const server = new SMTPServer({
    name: domain,
    banner: 'dunning-gateway inbound',
    size: maxBytes,
    authOptional: true,
    // An MX takes no logins; no certificate is configured for STARTTLS here
    // (terminate TLS in front, or let senders fall back to plain SMTP).
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      const rcpt = normalizeEmail(address.address);
      if (!rcpt.endsWith(`@${domain}`))
        return callback(smtpError(`5.7.1 relaying to <${address.address}> denied`, 550));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (err) => callback(err));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
          return callback(smtpError(`5.3.4 message exceeds ${maxBytes} bytes`, 552));
        }
        const raw = Buffer.concat(chunks);
        const rcptTo = session.envelope.rcptTo.map((r) => normalizeEmail(r.address));
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : null;
        void (async () => {
          const mail = await parseRawMime(raw, rcptTo);
          await intake(ctx, {
            provider: 'smtp',
            kind: 'inbound-email',
            dedupeKey: emailDedupeKey(mail, raw),
            headers: {
              envelope: { mailFrom, rcptTo },
              remoteAddress: session.remoteAddress,
              clientHostname: session.clientHostname,
            },
            body: raw,
          });
        })().then(
          () => callback(),
          (err) => {
            ctx.log.error({ err }, 'inbound SMTP message could not be stored');
            callback(smtpError('4.3.0 temporary failure storing the message; try again later', 451));
          },
        );
      });
    },
  });
  server.on('error', (err) => ctx.log.warn({ err: err.message }, 'inbound SMTP error'));
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.server.once('error', onError);
    server.listen(ctx.config.SMTP_LISTEN_PORT, ctx.config.SMTP_LISTEN_HOST, () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  ctx.log.info({ port }, 'inbound SMTP listening');
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}
