// What a provider's webhook means, applied: plugins (channels/<provider>/)
// parse their webhooks into the gateway's own types (ProviderEvent), and this
// is the one place that writes them — inbound messages into threads, status
// reports onto messages, and their consequences (opt-outs, invalid contact
// points) onto the debtor's contact points. So an opt-out is the debtor's and
// the address's, whichever provider it came through.
import type { AnyPlugin } from '../../channels/registry.js';
import type { Consequence, InboundMessageReport, ProviderEvent, StatusReport } from '../../channels/types.js';
import { audit } from '../audit.js';
import { addSuppression, suppressionAddress } from '../domain/suppressions.js';
import { emitOutgoingEvent } from '../webhooks-out/service.js';
import type { AppContext } from '../context.js';
import { appendEvent } from '../conversations/thread.js';
import type { InboundEvent, Message } from '../generated/prisma/client.js';
import { settingsOf } from '../providers.js';
import {
  fetchProviderMedia,
  safeFilename,
  TransientFetchError,
  type MediaFetchSource,
  type SkippedAttachment,
  type StoredAttachment,
} from './attachments.js';
import { smsKeyword } from './classifier.js';
import { changeConsent, sameAddressContactPoints } from '../messaging/consent.js';
import { landInboundParse } from './email.js';
import type { ProcessResult } from './events-store.js';
import { matchPhone, normalizePhone } from './matching.js';
import { findExistingInbound, recordInboundMessage } from './messages.js';
import { applyStatus, MessageNotFound, type StatusUpdate } from '../messaging/status.js';
import { addFlags, type Tx, type TxOutcome } from '../messaging/thread-writer.js';

/** Media fetches that fail transiently are retried this many times before the message lands without them. */
const MEDIA_FETCH_ATTEMPTS = 3;

/** The provider's media hosts and credentials, for the SSRF-safe fetch. */
function mediaSource(ctx: AppContext, plugin: AnyPlugin): MediaFetchSource {
  const settings = () => settingsOf(ctx.providers, plugin.id);
  return {
    id: plugin.id,
    name: plugin.name,
    hosts: plugin.media?.hosts ?? [],
    authorization: () => plugin.media?.authorization?.(settings()) ?? '',
    sandboxOrigin: () => {
      const sandbox = (ctx.sandboxes as Record<string, { baseUrl?: string }> | null | undefined)?.[plugin.id];
      return settings().mode === 'sandbox' && sandbox?.baseUrl ? new URL(sandbox.baseUrl).origin : null;
    },
  };
}

function extensionFor(contentType: string | undefined): string {
  const map: Record<string, string> = {
    'image/jpeg': '.jpg',
    'image/png': '.png',
    'image/gif': '.gif',
    'application/pdf': '.pdf',
    'text/vcard': '.vcf',
    'video/mp4': '.mp4',
    'audio/mpeg': '.mp3',
  };
  return (contentType && map[contentType.toLowerCase()]) ?? '';
}

async function landMessage(
  ctx: AppContext,
  plugin: AnyPlugin,
  m: InboundMessageReport,
  event: InboundEvent,
): Promise<ProcessResult | undefined> {
  // Landing it twice is refused by the unique provider id anyway; the look-ahead only spares
  // re-downloading media, or a repeat after an attempt whose message landed but whose mark did not.
  if (
    (m.media.length > 0 || event.attempts > 1) &&
    (await findExistingInbound(ctx, { providerMessageId: m.providerMessageId }))
  )
    return undefined;
  const from = normalizePhone(m.from) ?? m.from;
  const to = m.to ? (normalizePhone(m.to) ?? m.to) : null;

  const attachments: StoredAttachment[] = [];
  const skipped: SkippedAttachment[] = [];
  for (const [i, item] of m.media.entries()) {
    const declared = item.contentType;
    const filename = safeFilename(undefined, `media-${i}${extensionFor(declared)}`);
    if (!item.url) {
      skipped.push({ filename, contentType: declared ?? 'unknown', reason: 'no media URL' });
      continue;
    }
    try {
      const r = await fetchProviderMedia(ctx, mediaSource(ctx, plugin), item.url, declared, filename);
      if ('stored' in r) attachments.push(r.stored);
      else skipped.push(r.skipped);
    } catch (err) {
      if (err instanceof TransientFetchError && event.attempts < MEDIA_FETCH_ATTEMPTS) throw err;
      skipped.push({ filename, contentType: declared ?? 'unknown', reason: (err as Error).message });
    }
  }

  const { match, numberContactPointIds } = await matchPhone(ctx.db, from);
  const { created } = await recordInboundMessage(ctx, {
    channel: m.channel,
    provider: plugin.id,
    providerMessageId: m.providerMessageId,
    from,
    to,
    body: m.body,
    match,
    numberContactPointIds,
    keyword: smsKeyword(m.body),
    attachments,
    skippedAttachments: skipped,
    inboundEventId: event.id,
  });
  // A new message was written together with this event's processed mark.
  return created ? { markedProcessed: true } : undefined;
}

/** A provider's verdict on the message's contact point, in the caller's transaction. */
async function applyConsequence(
  tx: Tx,
  ctx: AppContext,
  plugin: AnyPlugin,
  message: Message,
  c: Consequence,
  cause: Record<string, unknown>,
  out: TxOutcome,
): Promise<void> {
  if (!message.contactPointId) return;
  if (c.kind === 'opted-out') {
    await changeConsent(
      tx,
      {
        ctx,
        contactPointIds: await sameAddressContactPoints(tx, message.contactPointId),
        channel: c.channel,
        state: 'REVOKED',
        source: c.source,
        conversationId: message.conversationId,
        cause,
      },
      out,
    );
    await addFlags(
      tx,
      message.conversationId,
      ['OPT_OUT'],
      { reason: c.flagReason, ...(c.flagDetail ?? {}), ...cause },
      out,
    );
    return;
  }
  const reason = c.eventReason ?? c.reason;
  await tx.contactPoint.update({
    where: { id: message.contactPointId },
    data: { valid: false, invalidReason: c.reason, invalidAt: new Date() },
  });
  await audit(
    tx,
    { type: 'provider', id: plugin.id },
    {
      action: 'contact_point.invalidate',
      entityType: 'contact_point',
      entityId: message.contactPointId,
      data: { reason, ...cause },
    },
  );
  out.events.push(
    await appendEvent(tx, message.conversationId, 'contact_point.invalid', {
      contactPointId: message.contactPointId,
      reason,
      ...cause,
    }),
  );
  if (c.reviewReason)
    await addFlags(tx, message.conversationId, ['NEEDS_REVIEW'], { reason: c.reviewReason, ...cause }, out);
}

/** A status report as the status layer's update (effects only when it has consequences). */
export function statusUpdate(ctx: AppContext, plugin: AnyPlugin, r: StatusReport): StatusUpdate {
  return {
    ref: r.ref,
    status: r.status,
    providerStatus: r.providerStatus,
    providerEventId: r.providerEventId,
    errorCode: r.errorCode ?? null,
    errorMessage: r.errorMessage ?? null,
    ...(r.occurredAt ? { occurredAt: r.occurredAt } : {}),
    ...(r.detail ? { detail: r.detail } : {}),
    ...(r.callOutcome ? { callOutcome: r.callOutcome } : {}),
    ...(r.consequence
      ? {
          effects: (tx: Tx, message: Message, out: TxOutcome) =>
            applyConsequence(
              tx,
              ctx,
              plugin,
              message,
              r.consequence!,
              { messageId: message.id, ...(r.cause ?? {}) },
              out,
            ),
        }
      : {}),
  };
}

/**
 * A report with a file to keep (a call recording): fetched before the update
 * and attached in its transaction. Any fetch failure throws, so the raw event
 * stays FAILED and is fetched again; a file refused by the size or type limits
 * is recorded with the reason instead.
 */
async function applyWithAttachment(
  ctx: AppContext,
  plugin: AnyPlugin,
  r: StatusReport & { attach: NonNullable<StatusReport['attach']> },
): Promise<void> {
  if (
    await ctx.db.messageStatusEvent.findUnique({ where: { providerEventId: r.providerEventId }, select: { id: true } })
  )
    return;
  const providerMessageId = 'providerMessageId' in r.ref ? r.ref.providerMessageId : null;
  // Before downloading: a callback that overtook its message's own record waits for it.
  if (providerMessageId && !(await ctx.db.message.findFirst({ where: { providerMessageId }, select: { id: true } })))
    throw new MessageNotFound(`${plugin.name} message ${providerMessageId}`);
  const a = r.attach;
  const f = await fetchProviderMedia(
    ctx,
    mediaSource(ctx, plugin),
    a.url,
    a.contentType,
    safeFilename(a.filename, 'attachment'),
    { onRefusal: 'throw' },
  );
  const stored = 'stored' in f ? f.stored : null;
  const notStored = 'skipped' in f ? { notStored: f.skipped.reason } : {};
  const callOutcome = r.callOutcome
    ? Object.fromEntries(
        Object.entries(r.callOutcome).map(([k, v]) => [k, v && typeof v === 'object' ? { ...v, ...notStored } : v]),
      )
    : undefined;
  await applyStatus(ctx, {
    ...statusUpdate(ctx, plugin, {
      ...r,
      detail: { ...(r.detail ?? {}), ...notStored },
      ...(callOutcome ? { callOutcome } : {}),
    }),
    effects: async (tx, message, out) => {
      if (!stored) return;
      // The same file twice (a replayed event) is one attachment.
      const existing = await tx.attachment.findFirst({ where: { messageId: message.id, sha256: stored.sha256 } });
      const attachment =
        existing ??
        (await tx.attachment.create({
          data: {
            messageId: message.id,
            filename: stored.filename,
            contentType: stored.contentType,
            size: stored.size,
            sha256: stored.sha256,
            path: stored.path,
          },
        }));
      out.events.push(
        await appendEvent(
          tx,
          message.conversationId,
          a.event,
          {
            messageId: message.id,
            ...a.eventData,
            attachment: {
              id: attachment.id,
              filename: attachment.filename,
              contentType: attachment.contentType,
              size: attachment.size,
            },
          },
          { touch: false },
        ),
      );
    },
  });
}

/**
 * An opt-out for an address no debtor has on file goes on the channel's
 * suppression list, so it stays opted out if it is added later. Returns
 * whether the report was fully handled that way.
 */
async function suppressUnknownAddress(
  ctx: AppContext,
  plugin: AnyPlugin,
  s: NonNullable<StatusReport['suppressAddress']>,
  inboundEventId: string,
): Promise<boolean> {
  let address: string;
  try {
    address = suppressionAddress(s.channel, s.address);
  } catch {
    return false;
  }
  if ((await ctx.db.contactPoint.count({ where: { kind: s.channel, value: address } })) > 0) return false;
  await ctx.db.$transaction(async (tx) => {
    const { created } = await addSuppression(tx, {
      channel: s.channel,
      address,
      reason: s.reason,
      source: inboundEventId,
    });
    if (!created) return;
    await audit(
      tx,
      { type: 'provider', id: plugin.id },
      {
        action: 'suppression.add',
        entityType: 'suppression',
        entityId: `${s.channel}:${address}`,
        data: { reason: s.reason, ...s.data },
      },
    );
    await emitOutgoingEvent(
      ctx,
      'opt_out.recorded',
      {
        channel: s.channel,
        address,
        contactPointId: null,
        debtorId: null,
        source: s.source,
        reason: s.reason,
        ...s.data,
      },
      { tx },
    );
  });
  return true;
}

/** A report that may concern an address rather than one of our messages (an opt-out for an unknown address). */
async function applyWithSuppression(
  ctx: AppContext,
  plugin: AnyPlugin,
  r: StatusReport,
  inboundEventId: string,
): Promise<void> {
  const suppressed = r.suppressAddress
    ? await suppressUnknownAddress(ctx, plugin, r.suppressAddress, inboundEventId)
    : false;
  if ('anyOf' in r.ref && r.ref.anyOf.length === 0) {
    if (suppressed) return;
    throw new MessageNotFound(`${plugin.name} event ${r.providerEventId} (no message id)`);
  }
  await applyStatus(ctx, statusUpdate(ctx, plugin, r)).catch((err: unknown) => {
    // The opt-out is recorded; the message it refers to may be gone with its contact point.
    if (suppressed && err instanceof MessageNotFound) return;
    throw err;
  });
}

async function applyOne(
  ctx: AppContext,
  plugin: AnyPlugin,
  e: ProviderEvent,
  event: InboundEvent,
  single: boolean,
): Promise<ProcessResult | undefined> {
  switch (e.type) {
    case 'ignored':
      return { ignored: e.reason };
    case 'message':
      return landMessage(ctx, plugin, e.message, event);
    case 'email':
      return (await landInboundParse(ctx, e.raw, e.contentType, plugin.id, event.id)) ?? undefined;
    case 'invalid':
      throw new Error(e.reason);
    case 'status': {
      if (e.status.suppressAddress || ('anyOf' in e.status.ref && e.status.ref.anyOf.length === 0)) {
        await applyWithSuppression(ctx, plugin, e.status, event.id);
        return undefined;
      }
      if (e.status.attach) {
        await applyWithAttachment(
          ctx,
          plugin,
          e.status as StatusReport & { attach: NonNullable<StatusReport['attach']> },
        );
        return undefined;
      }
      // One event per webhook: its processed mark goes with the update where it can.
      const { inboundEventMarked } = await applyStatus(ctx, {
        ...statusUpdate(ctx, plugin, e.status),
        ...(single ? { inboundEventId: event.id } : {}),
      });
      return inboundEventMarked ? { markedProcessed: true } : undefined;
    }
  }
}

/**
 * Applies what one stored webhook means. A batch's events are applied each
 * on its own (one bad event does not undo the others; a retry re-applies
 * only what is missing, each being idempotent by its provider event id).
 */
export async function applyProviderEvents(
  ctx: AppContext,
  plugin: AnyPlugin,
  events: ProviderEvent[],
  event: InboundEvent,
  batch = false,
): Promise<ProcessResult | undefined> {
  if (!batch && events.length === 1) return applyOne(ctx, plugin, events[0]!, event, true);
  const failures: string[] = [];
  let notFoundOnly = true;
  for (const e of events) {
    try {
      await applyOne(ctx, plugin, e, event, false);
    } catch (err) {
      failures.push(`${e.type === 'status' ? e.status.providerEventId : e.type}: ${(err as Error).message}`);
      if (!(err instanceof MessageNotFound)) notFoundOnly = false;
    }
  }
  if (failures.length) {
    const summary = `${failures.length} of ${events.length} events failed: ${failures.slice(0, 5).join('; ')}`;
    throw notFoundOnly ? new MessageNotFound(summary) : new Error(summary);
  }
  return undefined;
}
