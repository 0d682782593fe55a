// Lob letter tracking webhooks: mailed, in transit, delivered, returned to
// sender, failed, and the certified-mail variants. A returned letter marks the
// postal address invalid.
import type { Express, Request, Response } from 'express';
import type { AppContext } from '../context.js';
import type { InboundEvent } from '../generated/prisma/client.js';
import type { MessageStatus } from '../generated/prisma/enums.js';
import { audit } from '../audit.js';
import { appendEvent } from '../conversations/thread.js';
import { badRequest } from '../http/errors.js';
import { headersForStorage, registerProcessor } from './events-store.js';
import { intake } from './intake.js';
import { applyStatus } from '../messaging/status.js';
import { addFlags } from '../messaging/thread-writer.js';
import { verifyLob } from './verify.js';

interface LobEvent {
  id?: string;
  event_type?: { id?: string };
  body?: { id?: string; [k: string]: unknown };
  reference_id?: string;
  date_created?: string;
}

export function lobRoutes(app: Express, ctx: AppContext): void {
  app.post('/webhooks/lob', verifyLob(ctx), async (req: Request, res: Response) => {
    const e = req.body as LobEvent;
    if (!e || typeof e !== 'object' || typeof e.id !== 'string' || !e.event_type?.id) {
      throw badRequest('not a Lob event', [{ field: 'id', reason: 'is required' }, { field: 'event_type.id', reason: 'is required' }]);
    }
    await intake(ctx, { provider: 'lob', kind: 'letter', dedupeKey: `lob:${e.id}`, headers: headersForStorage(req.headers), body: req.rawBody! });
    res.status(200).json({ ok: true });
  });
}

/** letter.mailed, letter.certified.delivered, … → our status (null: kept in the history only). */
export function lobStatus(eventType: string): MessageStatus | null | undefined {
  const step = eventType.replace(/^letter\./, '').replace(/^certified\./, '');
  const map: Record<string, MessageStatus | null> = {
    created: null,
    rendered_pdf: null,
    rendered_thumbnails: null,
    mailed: 'MAILED',
    in_transit: 'IN_TRANSIT',
    in_local_area: 'IN_TRANSIT',
    processed_for_delivery: 'IN_TRANSIT',
    're-routed': 'IN_TRANSIT',
    pickup_available: 'IN_TRANSIT',
    issue: null,
    delivered: 'DELIVERED',
    returned_to_sender: 'RETURNED',
    failed: 'FAILED',
    deleted: 'CANCELLED',
  };
  return step in map ? map[step] : undefined;
}

async function processLetter(ctx: AppContext, event: InboundEvent) {
  const e = JSON.parse(Buffer.from(event.body).toString('utf8')) as LobEvent;
  const type = e.event_type?.id ?? '';
  const status = lobStatus(type);
  if (status === undefined) return { ignored: `untracked Lob event ${type}` };
  const letterId = e.body?.id ?? e.reference_id;
  if (!letterId) return { ignored: 'event names no letter' };
  await applyStatus(ctx, {
    ref: { providerMessageId: letterId },
    status,
    providerStatus: type,
    providerEventId: `lob:${e.id}`,
    occurredAt: e.date_created ? new Date(e.date_created) : undefined,
    detail: { eventType: type, letterId, ...(e.body?.tracking_number ? { trackingNumber: e.body.tracking_number } : {}) },
    effects: async (tx, message, out) => {
      if (status !== 'RETURNED' || !message.contactPointId) return;
      const cause = { messageId: message.id, lobEventId: e.id };
      await tx.contactPoint.update({ where: { id: message.contactPointId }, data: { valid: false, invalidReason: 'letter returned to sender', invalidAt: new Date() } });
      await audit(tx, { type: 'provider', id: 'lob' }, { action: 'contact_point.invalidate', entityType: 'contact_point', entityId: message.contactPointId, data: { reason: 'returned_to_sender', ...cause } });
      out.events.push(await appendEvent(tx, message.conversationId, 'contact_point.invalid', { contactPointId: message.contactPointId, reason: 'returned_to_sender', ...cause }));
      await addFlags(tx, message.conversationId, ['NEEDS_REVIEW'], { reason: 'letter returned to sender; address needs checking', ...cause }, out);
    },
  });
}

registerProcessor('lob', 'letter', processLetter);
