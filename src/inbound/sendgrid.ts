// SendGrid webhooks: Inbound Parse (replies by email) and the Event Webhook
// (delivery events of our emails).
//
// An Event Webhook batch is stored once, as received: the signature covers
// the whole body, so only the whole body is evidence. Each event in it is
// then applied on its own (its own transaction, idempotent by sg_event_id
// through message_status_events.provider_event_id): one bad event does not
// undo the others, and a retry of the batch re-applies only what is missing.
import express, { type Express, type Request, type Response } from 'express';
import type { AppContext } from '../context.js';
import type { InboundEvent, Prisma } from '../generated/prisma/client.js';
import type { MessageStatus } from '../generated/prisma/enums.js';
import { audit } from '../audit.js';
import { appendEvent } from '../conversations/thread.js';
import { badRequest } from '../http/errors.js';
import { changeConsent, sameAddressContactPoints } from '../messaging/consent.js';
import { addSuppression, suppressionAddress } from '../domain/suppressions.js';
import { emitOutgoingEvent } from '../webhooks-out/service.js';
import { emailDedupeKey, parseInboundParse } from './email.js';
import { headersForStorage, registerProcessor } from './events-store.js';
import { createHash } from 'node:crypto';
import { intake } from './intake.js';
import { applyStatus, MessageNotFound } from '../messaging/status.js';
import { addFlags, type Tx, type TxOutcome } from '../messaging/thread-writer.js';
import { verifyInboundParse, verifySendgridEvents } from './verify.js';
import type { Message } from '../generated/prisma/client.js';

export function sendgridRoutes(app: Express, ctx: AppContext): void {
  const verifyParse = verifyInboundParse(ctx);
  // Authenticate before reading a (possibly 30 MB) body.
  const multipart = express.raw({ type: () => true, limit: ctx.config.INBOUND_EMAIL_MAX_BYTES });
  const inbound = async (req: Request, res: Response) => {
    const contentType = req.header('content-type') ?? '';
    if (!/^multipart\/form-data/i.test(contentType) || !Buffer.isBuffer(req.body)) throw badRequest('Inbound Parse posts multipart/form-data');
    const raw = req.body;
    let dedupeKey: string;
    try {
      dedupeKey = emailDedupeKey(await parseInboundParse(raw, contentType, ctx.config.INBOUND_EMAIL_MAX_BYTES), raw);
    } catch (err) {
      // Unparseable but authenticated: keep it anyway (an agent or a fix can replay it).
      req.log?.warn({ err: (err as Error).message }, 'inbound parse body could not be parsed; stored for review');
      dedupeKey = `email-sha256:${createHash('sha256').update(raw).digest('hex')}`;
    }
    await intake(ctx, { provider: 'sendgrid', kind: 'inbound-email', dedupeKey, headers: headersForStorage(req.headers), body: raw });
    res.status(200).json({ ok: true });
  };
  app.post('/webhooks/sendgrid/inbound', verifyParse, multipart, inbound);
  app.post('/webhooks/sendgrid/inbound/:token', verifyParse, multipart, inbound);

  app.post('/webhooks/sendgrid/events', verifySendgridEvents(ctx), async (req: Request, res: Response) => {
    if (!Array.isArray(req.body)) throw badRequest('the Event Webhook posts a JSON array of events');
    const raw = req.rawBody!;
    await intake(ctx, {
      provider: 'sendgrid',
      kind: 'events',
      dedupeKey: `sendgrid:batch:${createHash('sha256').update(raw).digest('hex')}`,
      headers: headersForStorage(req.headers),
      body: raw,
    });
    res.status(200).json({ ok: true });
  });
}

// ── Event Webhook processing ──────────────────────────────────────────────

interface SgEvent {
  event?: string;
  email?: string;
  timestamp?: number;
  sg_event_id?: string;
  sg_message_id?: string;
  'smtp-id'?: string;
  type?: string; // bounce | blocked
  reason?: string;
  status?: string;
  response?: string;
  [customArg: string]: unknown;
}

const EVENT_STATUS: Record<string, MessageStatus | null> = {
  processed: 'QUEUED',
  deferred: null,
  delivered: 'DELIVERED',
  bounce: 'BOUNCED',
  dropped: 'FAILED',
  spamreport: null,
  unsubscribe: null,
  group_unsubscribe: null,
  group_resubscribe: null,
  open: null,
  click: null,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Our message: by a custom arg carrying our id, else SendGrid's message id (X-Message-Id is its prefix), else smtp-id. */
function messageRefs(e: SgEvent): Prisma.MessageWhereInput[] {
  const refs: Prisma.MessageWhereInput[] = [];
  for (const arg of ['gateway_message_id', 'message_id', 'messageId']) {
    const v = e[arg];
    if (typeof v === 'string' && UUID.test(v)) refs.push({ id: v });
  }
  if (e.sg_message_id) {
    refs.push({ providerMessageId: e.sg_message_id }, { providerMessageId: e.sg_message_id.split('.')[0]! });
  }
  const smtpId = e['smtp-id'];
  if (typeof smtpId === 'string') refs.push({ rfcMessageId: smtpId }, { rfcMessageId: smtpId.replace(/^<|>$/g, '') });
  return refs;
}

async function invalidateEmail(tx: Tx, message: Message, reason: string, out: TxOutcome, cause: Record<string, unknown>) {
  if (!message.contactPointId) return;
  await tx.contactPoint.update({ where: { id: message.contactPointId }, data: { valid: false, invalidReason: reason, invalidAt: new Date() } });
  await audit(tx, { type: 'provider', id: 'sendgrid' }, { action: 'contact_point.invalidate', entityType: 'contact_point', entityId: message.contactPointId, data: { reason, ...cause } });
  out.events.push(await appendEvent(tx, message.conversationId, 'contact_point.invalid', { contactPointId: message.contactPointId, reason, ...cause }));
}

const OPT_OUT_EVENTS = new Set(['spamreport', 'unsubscribe', 'group_unsubscribe']);

/**
 * A spam report or unsubscribe for an address no debtor has on file: the
 * address goes on the EMAIL suppression list, so it stays opted out if it is
 * added later. Returns whether the event was fully handled this way.
 */
async function suppressUnknownAddress(ctx: AppContext, e: SgEvent, name: string, inboundEventId: string): Promise<boolean> {
  if (!OPT_OUT_EVENTS.has(name) || typeof e.email !== 'string') return false;
  let address: string;
  try {
    address = suppressionAddress('EMAIL', e.email);
  } catch {
    return false;
  }
  if ((await ctx.db.contactPoint.count({ where: { kind: 'EMAIL', value: address } })) > 0) return false;
  const reason = name === 'spamreport' ? 'marked our email as spam' : 'unsubscribed';
  await ctx.db.$transaction(async (tx) => {
    const { created } = await addSuppression(tx, { channel: 'EMAIL', address, reason, source: inboundEventId });
    if (!created) return;
    await audit(tx, { type: 'provider', id: 'sendgrid' }, { action: 'suppression.add', entityType: 'suppression', entityId: `EMAIL:${address}`, data: { reason, sgEventId: e.sg_event_id, event: name } });
    await emitOutgoingEvent(ctx, 'opt_out.recorded', { channel: 'EMAIL', address, contactPointId: null, debtorId: null, source: `sendgrid:${name}`, reason, sgEventId: e.sg_event_id }, { tx });
  });
  return true;
}

async function applySgEvent(ctx: AppContext, e: SgEvent, inboundEventId: string): Promise<void> {
  const name = String(e.event ?? '');
  if (!e.sg_event_id) throw new Error(`event without sg_event_id (${name})`);
  if (!(name in EVENT_STATUS)) return; // an event type we do not track
  const suppressed = await suppressUnknownAddress(ctx, e, name, inboundEventId);
  const refs = messageRefs(e);
  if (refs.length === 0) {
    if (suppressed) return;
    throw new MessageNotFound(`SendGrid event ${e.sg_event_id} (no message id)`);
  }
  const cause = { sgEventId: e.sg_event_id, event: name };
  await applyStatus(ctx, {
    ref: { anyOf: refs },
    status: EVENT_STATUS[name] ?? null,
    providerStatus: e.type && name === 'bounce' ? `bounce:${e.type}` : name,
    providerEventId: `sendgrid:${e.sg_event_id}`,
    errorCode: name === 'bounce' || name === 'dropped' ? (e.status ?? null) : null,
    errorMessage: e.reason ?? e.response ?? null,
    occurredAt: typeof e.timestamp === 'number' ? new Date(e.timestamp * 1000) : undefined,
    detail: { event: name, ...(e.type ? { type: e.type } : {}), ...(e.reason ? { reason: e.reason } : {}), ...(e.status ? { status: e.status } : {}) },
    effects: async (tx, message, out) => {
      if (name === 'bounce' && (e.type ?? 'bounce') === 'bounce') {
        // A hard bounce: the address does not exist. "blocked" is temporary and leaves it valid.
        await invalidateEmail(tx, message, `hard bounce${e.reason ? `: ${e.reason}` : ''}`.slice(0, 500), out, cause);
      }
      if ((name === 'spamreport' || name === 'unsubscribe' || name === 'group_unsubscribe') && message.contactPointId) {
        await changeConsent(tx, { ctx, contactPointIds: await sameAddressContactPoints(tx, message.contactPointId), channel: 'EMAIL', state: 'REVOKED', source: `sendgrid:${name}`, conversationId: message.conversationId, cause }, out);
        await addFlags(tx, message.conversationId, ['OPT_OUT'], { reason: name === 'spamreport' ? 'marked our email as spam' : 'unsubscribed', channel: 'EMAIL', ...cause }, out);
      }
    },
  }).catch((err: unknown) => {
    // The opt-out is recorded; the message it refers to may be gone with its contact point.
    if (suppressed && err instanceof MessageNotFound) return false;
    throw err;
  });
}

async function processEvents(ctx: AppContext, event: InboundEvent) {
  let events: SgEvent[];
  try {
    events = JSON.parse(Buffer.from(event.body).toString('utf8')) as SgEvent[];
  } catch {
    return { ignored: 'body is not JSON' };
  }
  if (!Array.isArray(events)) return { ignored: 'body is not an array' };
  const failures: string[] = [];
  let notFoundOnly = true;
  for (const e of events) {
    try {
      await applySgEvent(ctx, e, event.id);
    } catch (err) {
      failures.push(`${e.sg_event_id ?? '?'}: ${(err as Error).message}`);
      if (!(err instanceof MessageNotFound)) notFoundOnly = false;
    }
  }
  if (failures.length) {
    const summary = `${failures.length} of ${events.length} events failed: ${failures.slice(0, 5).join('; ')}`;
    throw notFoundOnly ? new MessageNotFound(summary) : new Error(summary);
  }
}

registerProcessor('sendgrid', 'events', processEvents);
