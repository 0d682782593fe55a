// What a provider's refusal of a send means for a contact point (its
// ProviderError.effect): a number that opted out at the carrier revokes SMS
// consent; an invalid number or a bouncing address marks the point invalid;
// an undeliverable postal address likewise.
// Consent changes go through the one consumer-consent path
// (src/messaging/consent.ts changeConsent), so a carrier opt-out is recorded,
// audited and shown exactly like a STOP text.
import type { AppContext } from '../context.js';
import type { Prisma } from '../generated/prisma/client.js';
import type { ContactPointEffect } from '../../channels/types.js';
import { appendEvent, type TimelineEvent } from '../conversations/thread.js';
import { changeConsent, sameAddressContactPoints } from '../messaging/consent.js';
import { newOutcome } from '../messaging/thread-writer.js';

type Tx = Prisma.TransactionClient;

export type ContactPointEffectName = ContactPointEffect | 'email_opted_out' | 'calls_opted_out';

const OPT_OUT_CHANNEL = { sms_opted_out: 'SMS', email_opted_out: 'EMAIL', calls_opted_out: 'VOICE' } as const;

/**
 * Applies one provider verdict inside the caller's transaction and returns the
 * timeline events it appended (the caller publishes them after commit). Pass
 * `ctx` to also announce opt-outs to outgoing-webhook subscribers.
 */
export async function applyContactPointEffect(
  tx: Tx,
  contactPointId: string,
  effect: ContactPointEffectName,
  source: string,
  conversationId?: string,
  ctx?: AppContext,
): Promise<TimelineEvent[]> {
  const out = newOutcome();
  if (effect === 'sms_opted_out' || effect === 'email_opted_out' || effect === 'calls_opted_out') {
    // An opt-out binds the number or address, whichever debtor holds it.
    await changeConsent(
      tx,
      {
        ctx,
        contactPointIds: await sameAddressContactPoints(tx, contactPointId),
        channel: OPT_OUT_CHANNEL[effect],
        state: 'REVOKED',
        source,
        conversationId: conversationId ?? null,
        cause: { effect },
      },
      out,
    );
    return out.events;
  }
  const reason =
    effect === 'number_invalid'
      ? `number invalid (${source})`
      : effect === 'email_invalid'
        ? `email bounced (${source})`
        : `address undeliverable (${source})`;
  await tx.contactPoint.update({
    where: { id: contactPointId },
    data: { valid: false, invalidReason: reason, invalidAt: new Date() },
  });
  await tx.auditEvent.create({
    data: {
      actorType: 'provider',
      actorId: source,
      action: `contact_point.${effect}`,
      entityType: 'contact_point',
      entityId: contactPointId,
    },
  });
  if (conversationId)
    out.events.push(
      await appendEvent(
        tx,
        conversationId,
        'contact_point.changed',
        { contactPointId, effect, source },
        { touch: false },
      ),
    );
  return out.events;
}
