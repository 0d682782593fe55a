// SMS replies through the signed Twilio webhook: the classifier's verdicts
// reach consent and flags as they should — an emoji or Spanish opt-out
// revokes, a negated promise raises no PROMISE_TO_PAY, an unclear reply asks
// an agent (NEEDS_REVIEW) and revokes nothing, and a promise's date is a day
// on the debtor's calendar (Honolulu), not UTC's.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../support/gateway.js';
import { inboundSms, postTwilio, seedDebtor, startInboundGateway, type InboundGateway } from './helpers.js';

describe('SMS intents end to end', () => {
  let gw: InboundGateway;
  beforeAll(async () => {
    gw = await startInboundGateway();
  });
  afterAll(async () => gw?.close());

  let n = 0;
  async function reply(text: string, opts: { timeZone?: string; receivedAt?: string } = {}) {
    const phone = `+1808555${String(1000 + n++).padStart(4, '0')}`;
    const { debtor, phone: cp } = await seedDebtor(gw, { phone });
    if (opts.timeZone) await gw.ctx.db.debtor.update({ where: { id: debtor.id }, data: { timeZone: opts.timeZone } });
    await gw.ctx.db.channelConsent.create({
      data: { contactPointId: cp!.id, channel: 'SMS', state: 'GRANTED', source: 'test' },
    });
    expect((await postTwilio(gw, '/webhooks/twilio/sms', inboundSms(phone, text))).status).toBe(200);
    await eventually(
      () => gw.ctx.db.message.findFirst({ where: { debtorId: debtor.id, direction: 'INBOUND' } }),
      10_000,
      `reply "${text}" stored`,
    );
    const conversation = await eventually(
      async () => {
        const c = await gw.ctx.db.conversation.findUnique({ where: { debtorId: debtor.id } });
        return c;
      },
      10_000,
      'conversation',
    );
    const consent = await gw.ctx.db.channelConsent.findUniqueOrThrow({
      where: { contactPointId_channel: { contactPointId: cp!.id, channel: 'SMS' } },
    });
    return { debtor, conversation, consent };
  }

  it.each(['STOP 🛑', 'ya no me escriban por favor', 'dame de baja', 'msg mat bhejo', 'मैसेज मत भेजो', 'I said STOP'])(
    'revokes SMS consent on %j',
    async (text) => {
      const { conversation, consent } = await reply(text);
      expect(consent.state).toBe('REVOKED');
      expect(conversation.flags).toEqual(expect.arrayContaining(['OPT_OUT', 'NEEDS_REVIEW']));
    },
  );

  it('a negated promise is hardship, not a promise; nothing is revoked', async () => {
    const { conversation, consent } = await reply('No tengo trabajo ahora, no puedo pagar');
    expect(consent.state).toBe('GRANTED');
    expect(conversation.flags).toContain('HARDSHIP');
    expect(conversation.flags).not.toContain('PROMISE_TO_PAY');
  });

  it('an unclear reply goes to an agent and revokes nothing', async () => {
    const { conversation, consent } = await reply('Please do not unsubscribe me');
    expect(consent.state).toBe('GRANTED');
    expect(conversation.flags).toEqual(['NEEDS_REVIEW']);
  });

  it('"tomorrow" is read on the debtor\'s calendar', async () => {
    // Received now; in Honolulu (UTC-10) "tomorrow" is the day after Honolulu's today. (The clock-injected cases,
    // including the hours when UTC's day differs, are in test/inbound/corpus/promise-dates.tsv.)
    const { conversation } = await reply('I will pay tomorrow', { timeZone: 'Pacific/Honolulu' });
    expect(conversation.flags).toContain('PROMISE_TO_PAY');
    const event = await gw.ctx.db.conversationEvent.findFirstOrThrow({
      where: {
        conversationId: conversation.id,
        type: 'flag.added',
        payload: { path: ['flag'], equals: 'PROMISE_TO_PAY' },
      },
    });
    const honoluluTomorrow = new Date(Date.now() - 10 * 3600_000 + 24 * 3600_000).toISOString().slice(0, 10);
    expect(JSON.stringify(event.payload)).toContain(`"date":"${honoluluTomorrow}"`);
  });
});
