// Inbound email, from SendGrid Inbound Parse (parsed fields or the raw MIME
// in `email`) and from the built-in SMTP listener: normalised to one shape,
// matched to a thread, stored with its attachments, and read for opt-outs and
// other intents (only the part the sender wrote, not our quoted reminder).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import Busboy from 'busboy';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import addressparser from 'nodemailer/lib/addressparser';
import type { AppContext } from '../context.js';
import type { InboundEvent, Prisma } from '../generated/prisma/client.js';
import { safeFilename, storeAttachmentBytes, type SkippedAttachment, type StoredAttachment } from './attachments.js';
import { visibleReplyText } from './classifier.js';
import { PermanentFailure, registerProcessor, type ProcessResult } from './events-store.js';
import { applyBounce } from './bounces.js';
import { decodeBytes, storableText } from './storable-text.js';
import { detectReport } from './email-reports.js';
import { messageIdOfReturnPath } from '../conversations/return-path.js';
import { matchEmail, normalizeEmail, type Match } from './matching.js';
import { findExistingInbound, recordInboundMessage } from './messages.js';

export interface NormalizedEmail {
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  from: string;
  fromName: string | null;
  to: string[];
  cc: string[];
  envelopeTo: string[];
  subject: string | null;
  text: string;
  html: string | null;
  date: Date | null;
  attachments: { filename: string; contentType: string; content: Buffer }[];
  /** Every header field, lower-cased names, unfolded (bounce and auto-reply detection reads them). */
  headers: Record<string, string[]>;
  /** Text of attached report parts (returned headers or message, delivery status). */
  reportParts: string[];
  /** The SMTP envelope sender when known ('' for the null reverse-path <>). */
  envelopeFrom: string | null;
}

// ── multipart (Inbound Parse) ─────────────────────────────────────────────

export interface MultipartForm {
  fields: Record<string, string>;
  files: { field: string; filename: string; contentType: string; content: Buffer }[];
}

export function parseMultipart(body: Buffer, contentType: string, maxBytes: number): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    let bb: Busboy.Busboy;
    try {
      // Fields are read as latin1, i.e. byte for byte: the raw MIME (`email`) is bytes, and parsed fields are in the
      // charsets their `charsets` field names, decoded afterwards (fieldBytes). A part that declares its charset keeps it.
      bb = Busboy({
        headers: { 'content-type': contentType },
        limits: { fieldSize: maxBytes, fileSize: maxBytes, files: 100, fields: 200 },
        defParamCharset: 'utf8',
        defCharset: 'latin1',
      });
    } catch (err) {
      reject(err);
      return;
    }
    const form: MultipartForm = { fields: {}, files: [] };
    bb.on('field', (name, value) => {
      form.fields[name] = value;
    });
    bb.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () =>
        form.files.push({
          field,
          filename: info.filename ?? '',
          contentType: info.mimeType,
          content: Buffer.concat(chunks),
        }),
      );
    });
    bb.on('error', reject);
    bb.on('close', () => resolve(form));
    Readable.from([body]).pipe(bb);
  });
}

const addresses = (obj: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(obj) ? obj : obj ? [obj] : [])
    .flatMap((o) => o.value.map((v) => v.address ?? ''))
    .filter(Boolean)
    .map(normalizeEmail);

/** Message-IDs are kept without their angle brackets (matching tries both forms). */
export const bareId = (id: string | null | undefined): string | null =>
  id ? id.trim().replace(/^<|>$/g, '') || null : null;

const splitIds = (v: string | string[] | undefined): string[] =>
  (Array.isArray(v) ? v : v ? v.split(/\s+/) : []).map((s) => bareId(s)).filter((s): s is string => Boolean(s));

function listAddresses(value: string | undefined): string[] {
  if (!value) return [];
  return (addressparser(value, { flatten: true }) as { address?: string }[])
    .map((a) => a.address ?? '')
    .filter(Boolean)
    .map(normalizeEmail);
}

/** mailparser's raw header lines as name → values (unfolded). */
function headerFields(mail: ParsedMail | null): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { key, line } of mail?.headerLines ?? []) {
    const value = line
      .slice(line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    (out[key.toLowerCase()] ??= []).push(value);
  }
  return out;
}

const REPORT_PART =
  /^(message\/(delivery-status|global-delivery-status|rfc822|global|rfc822-headers|global-headers|disposition-notification)|text\/rfc822-headers)$/i;
const reportParts = (parts: { contentType: string; content: Buffer }[]): string[] =>
  parts.filter((p) => REPORT_PART.test(p.contentType)).map((p) => p.content.toString('utf8').slice(0, 200_000));

function fromMail(mail: ParsedMail, envelopeTo: string[], envelopeFrom: string | null): NormalizedEmail {
  const from = mail.from?.value[0];
  return {
    headers: headerFields(mail),
    reportParts: reportParts(mail.attachments),
    envelopeFrom,
    messageId: bareId(mail.messageId),
    inReplyTo: bareId(mail.inReplyTo),
    references: splitIds(mail.references),
    from: normalizeEmail(from?.address ?? ''),
    fromName: from?.name || null,
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    envelopeTo,
    subject: mail.subject ?? null,
    text: mail.text ?? '',
    html: typeof mail.html === 'string' ? mail.html : null,
    date: mail.date ?? null,
    attachments: mail.attachments.map((a, i) => ({
      filename: safeFilename(a.filename, `attachment-${i + 1}`),
      contentType: a.contentType,
      content: a.content,
    })),
  };
}

export async function parseRawMime(
  raw: Buffer,
  envelopeTo: string[] = [],
  envelopeFrom: string | null = null,
): Promise<NormalizedEmail> {
  return storableEmail(
    fromMail(await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true }), envelopeTo, envelopeFrom),
  );
}

/** Inbound Parse's `envelope` field: {"to":[…],"from":"…"}. */
function parseEnvelope(envelope: string | undefined): { to: string[]; from: string | null } {
  if (!envelope) return { to: [], from: null };
  try {
    const parsed = JSON.parse(envelope) as { to?: string[] | string; from?: string | null };
    const to = (Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : []).map(normalizeEmail);
    return { to, from: typeof parsed.from === 'string' ? parsed.from.replace(/^<|>$/g, '').trim() : null };
  } catch {
    return { to: [], from: null };
  }
}

/** Both Inbound Parse variants: the raw MIME in `email`, or parsed fields plus attachmentN files. */
/** SendGrid's `charsets` field: {"text":"iso-8859-1","subject":"UTF-8",…}, names lower-cased. */
function parseCharsets(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  try {
    const parsed = JSON.parse(decodeBytes(Buffer.from(raw, 'latin1'))) as unknown;
    if (!parsed || typeof parsed !== 'object') return {};
    return Object.fromEntries(
      Object.entries(parsed as Record<string, unknown>)
        .filter(([, v]) => typeof v === 'string')
        .map(([k, v]) => [k.toLowerCase(), v as string]),
    );
  } catch {
    return {};
  }
}

export async function parseInboundParse(body: Buffer, contentType: string, maxBytes: number): Promise<NormalizedEmail> {
  const form = await parseMultipart(body, contentType, maxBytes);
  const raw = form.fields;
  const charsets = parseCharsets(raw.charsets);
  const bytes = (name: string) => (raw[name] === undefined ? undefined : Buffer.from(raw[name]!, 'latin1'));
  const field = (name: string): string | undefined => {
    const b = bytes(name);
    return b === undefined ? undefined : decodeBytes(b, charsets[name]);
  };
  const f = {
    envelope: field('envelope'),
    headers: raw.headers,
    from: field('from'),
    to: field('to'),
    cc: field('cc'),
    subject: field('subject'),
    text: field('text'),
    html: field('html'),
    attachmentInfo: field('attachment-info'),
  };
  const envelope = parseEnvelope(f.envelope);
  const envelopeTo = envelope.to;
  // Raw mode: the MIME message's own bytes, which name their charsets part by part.
  const email = bytes('email');
  if (email) return parseRawMime(email, envelopeTo, envelope.from);
  // Parsed mode: the original header block is in `headers`; parse it (as bytes: mailparser decodes encoded words and 8-bit UTF-8) for Message-ID and threading.
  const headerMail = f.headers
    ? await simpleParser(
        Buffer.concat([Buffer.from(f.headers.replace(/\r?\n$/, ''), 'latin1'), Buffer.from('\r\n\r\n')]),
      )
    : null;
  const fromList = addressparser(f.from ?? '', { flatten: true }) as { address?: string; name?: string }[];
  let attachmentInfo: Record<string, { filename?: string; type?: string; name?: string }> = {};
  try {
    attachmentInfo = f.attachmentInfo ? JSON.parse(f.attachmentInfo) : {};
  } catch {
    attachmentInfo = {};
  }
  return storableEmail({
    headers: headerFields(headerMail),
    reportParts: reportParts(form.files),
    envelopeFrom: envelope.from,
    messageId: bareId(headerMail?.messageId),
    inReplyTo: bareId(headerMail?.inReplyTo),
    references: splitIds(headerMail?.references),
    from: normalizeEmail(fromList[0]?.address ?? ''),
    fromName: fromList[0]?.name || null,
    to: listAddresses(f.to),
    cc: listAddresses(f.cc),
    envelopeTo,
    subject: f.subject ?? null,
    text: f.text ?? '',
    html: f.html ?? null,
    date: headerMail?.date ?? null,
    attachments: form.files.map((file, i) => ({
      filename: safeFilename(attachmentInfo[file.field]?.filename ?? file.filename, `attachment-${i + 1}`),
      contentType: attachmentInfo[file.field]?.type ?? file.contentType,
      content: file.content,
    })),
  });
}

/** Every text we store, free of what PostgreSQL refuses (NUL) and of invalid code points. */
function storableEmail(mail: NormalizedEmail): NormalizedEmail {
  return {
    ...mail,
    from: storableText(mail.from),
    fromName: storableText(mail.fromName),
    subject: storableText(mail.subject),
    text: storableText(mail.text),
    html: storableText(mail.html),
    messageId: storableText(mail.messageId),
    inReplyTo: storableText(mail.inReplyTo),
    references: mail.references.map((r) => storableText(r)),
    to: mail.to.map((a) => storableText(a)),
    cc: mail.cc.map((a) => storableText(a)),
    envelopeTo: mail.envelopeTo.map((a) => storableText(a)),
    attachments: mail.attachments.map((a) => ({
      ...a,
      filename: storableText(a.filename),
      contentType: storableText(a.contentType),
    })),
  };
}

/** Same email by any route (Inbound Parse, SMTP) → same key: its Message-ID, else a hash of its content. */
export function emailDedupeKey(mail: NormalizedEmail, raw: Buffer): string {
  if (mail.messageId) return `email:${mail.messageId.trim().toLowerCase()}`;
  return `email-sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

// ── processing ───────────────────────────────────────────────────────────

export async function landEmail(
  ctx: AppContext,
  mail: NormalizedEmail,
  provider: string,
  raw: Buffer,
  inboundEventId?: string,
): Promise<ProcessResult | void> {
  // A delivery-status report is about one of our emails, not a message from anyone: applied to that email.
  const report = detectReport({
    headers: mail.headers,
    subject: mail.subject,
    from: mail.from,
    fromName: mail.fromName,
    text: mail.text,
    reportParts: mail.reportParts,
    envelopeFrom: mail.envelopeFrom,
  });
  if (report.kind === 'bounce') return applyBounce(ctx, mail, report, raw, inboundEventId);
  if (report.kind === 'report_success') return { ignored: report.reason };
  if (!mail.from) throw new PermanentFailure('email has no From address');
  const rfcMessageId = mail.messageId;
  const providerMessageId = rfcMessageId ? null : `email-sha256:${createHash('sha256').update(raw).digest('hex')}`;
  if (await findExistingInbound(ctx, { rfcMessageId, providerMessageId })) return;

  const attachments: StoredAttachment[] = [];
  const skipped: SkippedAttachment[] = [];
  for (const a of mail.attachments) {
    const r = await storeAttachmentBytes(ctx, a);
    if ('stored' in r) attachments.push(r.stored);
    else skipped.push(r.skipped);
  }
  const recipients = [...mail.to, ...mail.cc, ...mail.envelopeTo];
  const domain = ctx.providers.email.inboundDomain;
  // An auto-reply sent to our return path (as RFC 3834 asks) names its email by the VERP address.
  const returnPathIds = recipients
    .map((r) => messageIdOfReturnPath(ctx.secret, r, domain))
    .filter((id): id is string => Boolean(id))
    .map((id) => `${id}@${domain}`);
  const referencedIds = [
    ...(mail.inReplyTo ? [mail.inReplyTo] : []),
    ...[...mail.references].reverse(),
    ...returnPathIds,
  ];
  const match = await matchEmail(ctx.db, { from: mail.from, recipients, referencedIds }, domain);
  const autoReply = report.kind === 'auto_reply' ? { reason: report.reason } : null;

  // Classify what the sender wrote; a fresh subject ("Unsubscribe") counts, a "Re: <our subject>" does not.
  const ours = autoReply ? [] : await ourRecentTexts(ctx, match, referencedIds);
  const visible = autoReply ? '' : visibleReplyText(mail.text, ours);
  // Reply and forward prefixes in several languages (Re, AW, SV, VS, Odp, Antw, RES, RV, R, TR, WG, ENC, Ynt, Отв, 回复).
  const replyPrefix = /^\s*(re|aw|sv|vs|odp|antw|res|rv|r|tr|wg|fw|fwd|enc|ynt|отв|回复|答复)\s*(\[\d+\])?\s*[:：]/i;
  const ownSubject =
    mail.subject && !replyPrefix.test(mail.subject) && !ours.includes(mail.subject) ? mail.subject : '';
  await recordInboundMessage(ctx, {
    channel: 'EMAIL',
    provider,
    providerMessageId,
    rfcMessageId,
    inReplyTo: mail.inReplyTo,
    from: mail.from,
    to: mail.to[0] ?? mail.envelopeTo[0] ?? null,
    subject: mail.subject,
    body: mail.text,
    html: mail.html,
    replyText: [ownSubject, visible].filter(Boolean).join('\n'),
    match,
    attachments,
    skippedAttachments: skipped,
    inboundEventId: inboundEventId ?? null,
    autoReply,
  });
}

/**
 * What we recently sent this thread (and the email replied to): lines of them
 * in a reply are our words quoted back, never the sender's.
 */
async function ourRecentTexts(ctx: AppContext, match: Match, referencedIds: string[]): Promise<string[]> {
  const where: Prisma.MessageWhereInput[] = [];
  if (match.kind === 'thread' && match.debtorId) where.push({ debtorId: match.debtorId });
  if (match.kind === 'thread' && match.conversationId) where.push({ conversationId: match.conversationId });
  const ids = referencedIds.flatMap((id) => [id, `<${id}>`]);
  if (ids.length) where.push({ rfcMessageId: { in: ids } });
  if (!where.length) return [];
  const rows = await ctx.db.message.findMany({
    where: { direction: 'OUTBOUND', OR: where },
    orderBy: { createdAt: 'desc' },
    take: 10,
    select: { body: true, subject: true },
  });
  return rows.flatMap((r) => [r.body, r.subject ?? '']).filter(Boolean);
}

/** An email a provider posted as an Inbound Parse style multipart form (src/inbound/provider-events.ts). */
export async function landInboundParse(
  ctx: AppContext,
  raw: Buffer,
  contentType: string,
  provider: string,
  inboundEventId: string,
) {
  const mail = await parseInboundParse(raw, contentType, ctx.config.INBOUND_EMAIL_MAX_BYTES).catch((err: unknown) => {
    throw new PermanentFailure(`the Inbound Parse body cannot be parsed: ${(err as Error).message}`);
  });
  return landEmail(ctx, mail, provider, raw, inboundEventId);
}

async function processSmtp(ctx: AppContext, event: InboundEvent) {
  const headers = event.headers as { envelope?: { rcptTo?: string[]; mailFrom?: string | null } };
  const raw = Buffer.from(event.body);
  const mail = await parseRawMime(
    raw,
    (headers.envelope?.rcptTo ?? []).map(normalizeEmail),
    headers.envelope?.mailFrom ?? null,
  ).catch((err: unknown) => {
    throw new PermanentFailure(`the message cannot be parsed as MIME: ${(err as Error).message}`);
  });
  return landEmail(ctx, mail, 'smtp', raw, event.id);
}

registerProcessor('smtp', 'inbound-email', processSmtp);
