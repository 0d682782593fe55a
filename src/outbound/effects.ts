// What a provider's verdict means for a contact point: Twilio 21610 (the
// number replied STOP at the carrier) revokes SMS consent; 21211 and hard
// bounces mark the point invalid; spam reports opt out of email; returned
// letters mark the address invalid. Shared by dispatch and status webhooks.
import type { Prisma } from '../generated/prisma/client.js';
import type { ContactPointEffect } from '../../channels/types.js';
import { appendEvent, type TimelineEvent } from '../conversations/thread.js';

type Tx = Prisma.TransactionClient;

export async function applyContactPointEffect(tx: Tx, contactPointId: string, effect: ContactPointEffect | 'email_opted_out' | 'calls_opted_out', source: string, conversationId?: string): Promise<TimelineEvent[]> {
  const events: TimelineEvent[] = [];
  const revoke = async (channel: 'SMS' | 'EMAIL' | 'VOICE') => {
    await tx.channelConsent.upsert({
      where: { contactPointId_channel: { contactPointId, channel } },
      create: { contactPointId, channel, state: 'REVOKED', source },
      update: { state: 'REVOKED', source, changedAt: new Date() },
    });
  };
  const invalidate = async (reason: string) => {
    await tx.contactPoint.update({ where: { id: contactPointId }, data: { valid: false, invalidReason: reason, invalidAt: new Date() } });
  };
  switch (effect) {
    case 'sms_opted_out': await revoke('SMS'); break;
    case 'email_opted_out': await revoke('EMAIL'); break;
    case 'calls_opted_out': await revoke('VOICE'); break;
    case 'number_invalid': await invalidate(`number invalid (${source})`); break;
    case 'email_invalid': await invalidate(`email bounced (${source})`); break;
    case 'address_invalid': await invalidate(`address undeliverable (${source})`); break;
  }
  await tx.auditEvent.create({ data: { actorType: 'provider', actorId: source, action: `contact_point.${effect}`, entityType: 'contact_point', entityId: contactPointId } });
  if (conversationId) events.push(await appendEvent(tx, conversationId, 'contact_point.changed', { contactPointId, effect, source }, { touch: false }));
  return events;
}
