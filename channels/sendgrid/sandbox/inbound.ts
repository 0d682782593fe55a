/**
 * "Act as the debtor" for email through SendGrid: builds the multipart POST that
 * SendGrid's Inbound Parse webhook sends when mail arrives at the parse domain,
 * in either the parsed form (fields + attachmentN files) or the raw form (full MIME
 * in `email`), and delivers it to the gateway.
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import addressparser from 'nodemailer/lib/addressparser';
import type { CallbackDispatcher, CallbackRecord } from '../../kit/callback-dispatcher.js';

export interface InboundEmailAttachment {
  filename: string;
  contentType: string;
  content: Buffer | string;
  /** Makes the attachment inline (listed in `content-ids`). */
  contentId?: string;
}

export interface InboundEmailInput {
  /** e.g. `Jane Debtor <jane@example.com>` */
  from: string;
  /** e.g. `reply+TOKEN@inbound.example.com`; several addresses comma-separated. */
  to: string;
  cc?: string;
  subject: string;
  text?: string;
  html?: string;
  messageId?: string;
  inReplyTo?: string;
  references?: string | string[];
  date?: Date;
  headers?: Record<string, string>;
  attachments?: InboundEmailAttachment[];
}

export interface InboundParseOptions {
  /** Raw mode: the full MIME message in the `email` field instead of parsed fields. */
  raw?: boolean;
  basicAuth?: { username: string; password: string };
  senderIp?: string;
  spamScore?: number;
}

export interface InboundParseResult {
  status: number | null;
  delivered: boolean;
  responseBody: string | null;
  /** The MIME message the sandbox composed (the `email` field in raw mode). */
  mime: string;
  callback: CallbackRecord;
}

function plainAddresses(list: string): string[] {
  return addressparser(list, { flatten: true })
    .map((entry) => ('address' in entry ? entry.address : ''))
    .filter((address): address is string => Boolean(address));
}

async function composeMime(input: InboundEmailInput): Promise<Buffer> {
  const composer = new MailComposer({
    from: input.from,
    to: input.to,
    ...(input.cc ? { cc: input.cc } : {}),
    subject: input.subject,
    ...(input.text !== undefined ? { text: input.text } : {}),
    ...(input.html !== undefined ? { html: input.html } : {}),
    ...(input.messageId ? { messageId: input.messageId } : {}),
    ...(input.inReplyTo ? { inReplyTo: input.inReplyTo } : {}),
    ...(input.references ? { references: input.references } : {}),
    date: input.date ?? new Date(),
    headers: input.headers ?? {},
    attachments: (input.attachments ?? []).map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: a.content,
      ...(a.contentId ? { cid: a.contentId } : {}),
    })),
  });
  return composer.compile().build();
}

/** Serialises a FormData exactly as fetch would send it, so the body can be stored and retried. */
async function encodeMultipart(form: FormData): Promise<{ body: Buffer; contentType: string }> {
  const request = new Request('http://sandbox.invalid/', { method: 'POST', body: form });
  return {
    body: Buffer.from(await request.arrayBuffer()),
    contentType: request.headers.get('content-type') ?? 'multipart/form-data',
  };
}

export async function postInboundParse(
  dispatcher: CallbackDispatcher,
  url: string,
  input: InboundEmailInput,
  options: InboundParseOptions = {},
): Promise<InboundParseResult> {
  if (!input.from || !input.to) throw new Error('from and to are required for an inbound email');
  const fromAddress = plainAddresses(input.from)[0];
  if (!fromAddress) throw new Error(`from has no email address: ${input.from}`);
  const toAddresses = plainAddresses([input.to, input.cc ?? ''].filter(Boolean).join(', '));
  if (toAddresses.length === 0) throw new Error(`to has no email address: ${input.to}`);

  const mime = await composeMime(input);
  const mimeText = mime.toString('utf8');
  const headerBlock = mimeText.slice(0, mimeText.indexOf('\r\n\r\n') + 2);
  const domain = fromAddress.split('@')[1] ?? '';

  const form = new FormData();
  const common: Record<string, string> = {
    dkim: `{@${domain} : pass}`,
    to: input.to,
    from: input.from,
    sender_ip: options.senderIp ?? '203.0.113.25',
    spam_report:
      'Spam detection software, running on the system "parsley", has NOT identified this incoming email as spam.',
    envelope: JSON.stringify({ to: toAddresses, from: fromAddress }),
    subject: input.subject,
    spam_score: String(options.spamScore ?? 0.1),
    SPF: 'pass',
  };
  if (input.cc) common.cc = input.cc;

  if (options.raw) {
    for (const [name, value] of Object.entries(common)) form.append(name, value);
    form.append('charsets', JSON.stringify({ to: 'UTF-8', from: 'UTF-8', subject: 'UTF-8' }));
    form.append('email', mimeText);
  } else {
    form.append('headers', headerBlock);
    for (const [name, value] of Object.entries(common)) form.append(name, value);
    const charsets: Record<string, string> = { to: 'UTF-8', from: 'UTF-8', subject: 'UTF-8' };
    if (input.text !== undefined) {
      form.append('text', input.text);
      charsets.text = 'UTF-8';
    }
    if (input.html !== undefined) {
      form.append('html', input.html);
      charsets.html = 'UTF-8';
    }
    form.append('charsets', JSON.stringify(charsets));
    const attachments = input.attachments ?? [];
    form.append('attachments', String(attachments.length));
    if (attachments.length > 0) {
      const info: Record<string, Record<string, string>> = {};
      const contentIds: Record<string, string> = {};
      attachments.forEach((attachment, index) => {
        const field = `attachment${index + 1}`;
        info[field] = {
          filename: attachment.filename,
          name: attachment.filename,
          type: attachment.contentType,
          ...(attachment.contentId ? { 'content-id': attachment.contentId } : {}),
        };
        if (attachment.contentId) contentIds[attachment.contentId] = field;
        const bytes =
          typeof attachment.content === 'string' ? Buffer.from(attachment.content, 'utf8') : attachment.content;
        form.append(field, new Blob([new Uint8Array(bytes)], { type: attachment.contentType }), attachment.filename);
      });
      form.append('attachment-info', JSON.stringify(info));
      if (Object.keys(contentIds).length > 0) form.append('content-ids', JSON.stringify(contentIds));
    }
  }

  const { body, contentType } = await encodeMultipart(form);
  const headers: Record<string, string> = { 'Content-Type': contentType, 'User-Agent': 'Sendlib/1.0 parse' };
  if (options.basicAuth) {
    headers.Authorization = `Basic ${Buffer.from(`${options.basicAuth.username}:${options.basicAuth.password}`).toString('base64')}`;
  }
  const callback = await dispatcher.deliver({
    provider: 'sendgrid',
    kind: options.raw ? 'inbound-parse:raw' : 'inbound-parse',
    url,
    headers,
    body,
  });
  return {
    status: callback.responseStatus ?? null,
    delivered: callback.state === 'delivered',
    responseBody: callback.responseBody ?? null,
    mime: mimeText,
    callback,
  };
}
