// Shared fixtures of the inbound tests: a gateway with known provider secrets,
// signed requests in each provider's wire format, and debtors seeded directly.
import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { freePort } from '../support/ports.js';

export const ADMIN_KEY = 'admin-key-for-inbound-tests-0123456789';
export const TWILIO_SID = `AC${'a'.repeat(32)}`;
export const TWILIO_TOKEN = 'twilio-auth-token-for-tests';
export const LOB_SECRET = 'lob-webhook-secret-for-tests';
export const PARSE_SECRET = 'inbound-parse-secret-for-tests';
export const INBOUND_DOMAIN = 'inbound.example.com';

export interface InboundGateway extends TestGateway {
  sendgridKey: KeyObject;
  smtpPort: number;
  dataDir: string;
}

export async function startInboundGateway(extra: Record<string, string> = {}): Promise<InboundGateway> {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbound-test-'));
  // The SMTP port is chosen free, then bound by the gateway: a parallel test file may take it in between.
  for (let attempt = 1; ; attempt++) {
    const smtpPort = await freePort();
    try {
      return await startOn(smtpPort);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }

  async function startOn(smtpPort: number): Promise<InboundGateway> {
    const gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      TWILIO_ACCOUNT_SID: TWILIO_SID,
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      SENDGRID_WEBHOOK_PUBLIC_KEY: pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      SENDGRID_INBOUND_SECRET: PARSE_SECRET,
      LOB_WEBHOOK_SECRET: LOB_SECRET,
      INBOUND_EMAIL_DOMAIN: INBOUND_DOMAIN,
      INBOUND_RETRY_BASE_MS: '200',
      INBOUND_RETRY_SWEEP_MS: '500',
      SMTP_LISTEN_PORT: String(smtpPort),
      SMTP_LISTEN_HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ...extra,
    });
    return Object.assign(gw, { sendgridKey: pair.privateKey, smtpPort, dataDir });
  }
}

export const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

/** POSTs form params to a Twilio webhook path, signed as Twilio signs (or with the given signature). */
export async function postTwilio(
  gw: TestGateway,
  pathname: string,
  params: Record<string, string>,
  opts: { signature?: string | null } = {},
) {
  const url = `${gw.url}${pathname}`;
  const signature =
    opts.signature === undefined ? twilio.getExpectedTwilioSignature(TWILIO_TOKEN, url, params) : opts.signature;
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature ? { 'x-twilio-signature': signature } : {}),
    },
    body: new URLSearchParams(params).toString(),
  });
}

export function inboundSms(from: string, body: string, extra: Record<string, string> = {}): Record<string, string> {
  const messageSid = extra.MessageSid ?? sid('SM');
  return {
    ToCountry: 'US',
    SmsMessageSid: messageSid,
    NumMedia: '0',
    SmsSid: messageSid,
    SmsStatus: 'received',
    Body: body,
    To: '+15005550006',
    NumSegments: '1',
    MessageSid: messageSid,
    AccountSid: TWILIO_SID,
    From: from,
    ApiVersion: '2010-04-01',
    ...extra,
  };
}

export async function postSendgridEvents(
  gw: InboundGateway,
  events: unknown[],
  opts: { timestamp?: number; tamper?: boolean; noSignature?: boolean } = {},
) {
  const raw = JSON.stringify(events);
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = sign('sha256', Buffer.from(timestamp + raw), gw.sendgridKey).toString('base64');
  return fetch(`${gw.url}/webhooks/sendgrid/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(opts.noSignature
        ? {}
        : { 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp }),
    },
    body: opts.tamper ? raw.replace('delivered', 'dropped') : raw,
  });
}

export async function postLob(gw: TestGateway, event: unknown, opts: { secret?: string; timestamp?: string } = {}) {
  const raw = JSON.stringify(event);
  const timestamp = opts.timestamp ?? String(Date.now());
  const signature = createHmac('sha256', opts.secret ?? LOB_SECRET)
    .update(`${timestamp}.${raw}`)
    .digest('hex');
  return fetch(`${gw.url}/webhooks/lob`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'lob-signature': signature, 'lob-signature-timestamp': timestamp },
    body: raw,
  });
}

/** A multipart body as SendGrid Inbound Parse posts it. */
export function inboundParseForm(
  fields: Record<string, string>,
  files: { field: string; filename: string; contentType: string; content: Buffer }[] = [],
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files)
    form.append(f.field, new Blob([new Uint8Array(f.content)], { type: f.contentType }), f.filename);
  return form;
}

export const basicAuth = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

export async function seedDebtor(
  gw: TestGateway,
  opts: { name?: string; phone?: string; email?: string; address?: boolean } = {},
) {
  const db = gw.ctx.db;
  const debtor = await db.debtor.create({ data: { fullName: opts.name ?? 'Dana Debtor' } });
  const phone = opts.phone
    ? await db.contactPoint.create({ data: { debtorId: debtor.id, kind: 'PHONE', value: opts.phone, isMobile: true } })
    : null;
  const email = opts.email
    ? await db.contactPoint.create({ data: { debtorId: debtor.id, kind: 'EMAIL', value: opts.email } })
    : null;
  const address = opts.address
    ? await db.contactPoint.create({
        data: {
          debtorId: debtor.id,
          kind: 'ADDRESS',
          value: '1 Main St, Springfield, IL 62701, US',
          line1: '1 Main St',
          city: 'Springfield',
          region: 'IL',
          postalCode: '62701',
          country: 'US',
        },
      })
    : null;
  return { debtor, phone, email, address };
}

/** An outbound message as the outbound side stores it once the provider accepted it. */
export async function seedOutbound(
  gw: TestGateway,
  debtorId: string,
  contactPointId: string,
  channel: 'SMS' | 'EMAIL' | 'VOICE' | 'LETTER',
  fields: { providerMessageId?: string; rfcMessageId?: string; status?: 'QUEUED' | 'SENT' } = {},
) {
  const db = gw.ctx.db;
  const conversation = await db.conversation.upsert({
    where: { debtorId },
    create: { debtorId, replyToken: randomBytes(8).toString('hex') },
    update: {},
  });
  return db.message.create({
    data: {
      conversationId: conversation.id,
      debtorId,
      contactPointId,
      direction: 'OUTBOUND',
      channel,
      status: fields.status ?? 'QUEUED',
      body: 'Your balance is overdue.',
      providerMessageId: fields.providerMessageId ?? null,
      rfcMessageId: fields.rfcMessageId ?? null,
    },
  });
}
