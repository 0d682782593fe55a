/**
 * A local SMTP server standing in for the mail relay the gateway's SMTP channel
 * sends through, plus a helper to reply as the debtor into the gateway's own
 * inbound SMTP listener.
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import nodemailer from 'nodemailer';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';
import { prefixedHexId } from '../kit/ids.js';

export interface SmtpSandboxOptions {
  host?: string;
  port?: number;
  /** When set, clients must AUTH (PLAIN/LOGIN) with these credentials. */
  auth?: { user: string; pass: string };
  /** Largest message accepted, in bytes (advertised via SIZE). */
  maxMessageBytes?: number;
  /** Recipients the server refuses at RCPT TO (550), to emulate a bouncing relay. */
  rejectRecipients?: string[];
}

export interface SmtpAttachment {
  filename: string | null;
  contentType: string;
  contentId: string | null;
  byteLength: number;
  sha256: string;
  content: Buffer;
}

export interface SmtpMessage {
  id: string;
  receivedAt: Date;
  envelope: { mailFrom: string | null; rcptTo: string[] };
  authenticatedUser: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  from: string | null;
  to: string[];
  cc: string[];
  replyTo: string | null;
  subject: string | null;
  text: string | null;
  html: string | null;
  /** Raw header values by lower-cased name; repeated headers keep the last value (all are in `raw`). */
  headers: Record<string, string>;
  attachments: SmtpAttachment[];
  raw: string;
}

function addressList(value: AddressObject | AddressObject[] | undefined): string[] {
  if (!value) return [];
  const objects = Array.isArray(value) ? value : [value];
  return objects.flatMap((o) => o.value.map((a) => a.address).filter((a): a is string => Boolean(a)));
}

export class SmtpSandbox extends EventEmitter {
  readonly messages: SmtpMessage[] = [];
  private readonly server: SMTPServer;
  private readonly options: SmtpSandboxOptions;
  private boundPort = 0;

  constructor(options: SmtpSandboxOptions = {}) {
    super();
    this.options = options;
    const rejected = new Set((options.rejectRecipients ?? []).map((r) => r.toLowerCase()));
    this.server = new SMTPServer({
      name: 'smtp-sandbox.local',
      banner: 'dunning-gateway SMTP sandbox',
      // No certificate on a developer machine: plain SMTP on loopback only.
      disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      authOptional: !options.auth,
      allowInsecureAuth: true,
      size: options.maxMessageBytes ?? 25 * 1024 * 1024,
      logger: false,
      onAuth: (auth, _session, callback) => {
        const expected = options.auth;
        if (expected && auth.username === expected.user && auth.password === expected.pass) {
          callback(null, { user: auth.username });
          return;
        }
        callback(new Error('Invalid username or password'));
      },
      onRcptTo: (address: SMTPServerAddress, _session, callback) => {
        if (rejected.has(address.address.toLowerCase())) {
          const error = Object.assign(
            new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`),
            { responseCode: 550 },
          );
          callback(error);
          return;
        }
        callback();
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', callback);
        stream.on('end', () => {
          if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded) {
            callback(Object.assign(new Error('Message exceeds fixed maximum message size'), { responseCode: 552 }));
            return;
          }
          const raw = Buffer.concat(chunks);
          this.store(raw, session.envelope, typeof session.user === 'string' ? session.user : null)
            .then((message) => callback(null, `Message queued as ${message.id}`))
            .catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
        });
      },
    });
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.server.address() as AddressInfo).port;
    this.server.on('error', (err) => this.emit('server-error', err));
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  listMessages(filter: { to?: string } = {}): SmtpMessage[] {
    const to = filter.to?.toLowerCase();
    return this.messages.filter((m) => !to || m.envelope.rcptTo.some((r) => r.toLowerCase() === to));
  }

  /** Resolves with the first stored message matching `predicate`, waiting up to `timeoutMs` for it to arrive. */
  waitForMessage(predicate: (message: SmtpMessage) => boolean, timeoutMs = 10_000): Promise<SmtpMessage> {
    const found = this.messages.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('message', listener);
        reject(new Error(`no matching SMTP message within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (message: SmtpMessage) => {
        if (!predicate(message)) return;
        clearTimeout(timer);
        this.off('message', listener);
        resolve(message);
      };
      this.on('message', listener);
    });
  }

  reset(): void {
    this.messages.length = 0;
  }

  private async store(
    raw: Buffer,
    envelope: { mailFrom: SMTPServerAddress | false; rcptTo: SMTPServerAddress[] },
    user: string | null,
  ): Promise<SmtpMessage> {
    const parsed = await simpleParser(raw);
    // Raw header lines, unfolded: the exact values the sender wrote (mailparser's structured
    // view reshapes some, e.g. List-* into nested objects).
    const headers: Record<string, string> = {};
    for (const { key, line } of parsed.headerLines) {
      headers[key.toLowerCase()] = line
        .slice(line.indexOf(':') + 1)
        .replace(/\r?\n[ \t]+/g, ' ')
        .trim();
    }
    const references =
      parsed.references === undefined ? [] : Array.isArray(parsed.references) ? parsed.references : [parsed.references];
    const message: SmtpMessage = {
      id: prefixedHexId('smtp_', 16),
      receivedAt: new Date(),
      envelope: {
        mailFrom: envelope.mailFrom ? envelope.mailFrom.address : null,
        rcptTo: envelope.rcptTo.map((r) => r.address),
      },
      authenticatedUser: user,
      messageId: parsed.messageId ?? null,
      inReplyTo: parsed.inReplyTo ?? null,
      references,
      from: parsed.from?.text ?? null,
      to: addressList(parsed.to),
      cc: addressList(parsed.cc),
      replyTo: parsed.replyTo?.text ?? null,
      subject: parsed.subject ?? null,
      text: parsed.text ?? null,
      html: typeof parsed.html === 'string' ? parsed.html : null,
      headers,
      attachments: parsed.attachments.map((a) => ({
        filename: a.filename ?? null,
        contentType: a.contentType,
        contentId: a.contentId ?? null,
        byteLength: a.content.length,
        sha256: createHash('sha256').update(a.content).digest('hex'),
        content: a.content,
      })),
      raw: raw.toString('utf8'),
    };
    this.messages.push(message);
    this.emit('message', message);
    return message;
  }
}

export interface DebtorReplyInput {
  host: string;
  port: number;
  auth?: { user: string; pass: string };
  /** e.g. `Jane Debtor <jane@example.com>` */
  from: string;
  to: string;
  subject: string;
  text?: string;
  html?: string;
  inReplyTo?: string;
  references?: string | string[];
  headers?: Record<string, string>;
  attachments?: { filename: string; content: Buffer | string; contentType?: string }[];
}

/** Sends an email AS the debtor to an SMTP listener (the gateway's inbound SMTP), as their mail client would. */
export async function sendDebtorReply(
  input: DebtorReplyInput,
): Promise<{ messageId: string; response: string; accepted: string[] }> {
  const transport = nodemailer.createTransport({
    host: input.host,
    port: input.port,
    secure: false,
    // Loopback listeners have no certificates; never upgrade to TLS.
    ignoreTLS: true,
    ...(input.auth ? { auth: input.auth } : {}),
  });
  try {
    const info = await transport.sendMail({
      from: input.from,
      to: input.to,
      subject: input.subject,
      ...(input.text !== undefined ? { text: input.text } : {}),
      ...(input.html !== undefined ? { html: input.html } : {}),
      ...(input.inReplyTo ? { inReplyTo: input.inReplyTo } : {}),
      ...(input.references ? { references: input.references } : {}),
      headers: input.headers ?? {},
      attachments: input.attachments ?? [],
    });
    return {
      messageId: info.messageId,
      response: info.response,
      accepted: info.accepted.map((a: unknown) =>
        typeof a === 'string' ? a : String((a as { address?: string }).address),
      ),
    };
  } finally {
    transport.close();
  }
}
