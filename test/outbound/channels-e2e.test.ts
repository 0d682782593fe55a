// Each channel end to end through its official SDK to its sandbox and back
// through the signed status webhooks: SMS and email reach DELIVERED, a call
// COMPLETED with its outcome, a letter MAILED/IN_TRANSIT with its PDF kept.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, outreach, seedDebtor } from '../support/api.js';

describe('channels end to end', () => {
  let gw: TestGateway;
  const { waitStatus, send } = outreach(() => gw);

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'e2e-twilio-token-123456',
      LOB_WEBHOOK_SECRET: 'e2e-lob-webhook-secret',
    });
  });
  afterAll(async () => gw?.close());

  it('SMS reaches DELIVERED with its status history', async () => {
    const s = await seedDebtor(gw);
    const m = await waitStatus(
      await send({ debtorId: s.debtorId, debtId: s.debtId, intent: 'friendly-reminder', channel: 'SMS' }),
      ['DELIVERED'],
    );
    // Due now, it was claimed by the request that decided it (SENDING), then the provider's statuses.
    const history = m.statusHistory.map((e: { status: string }) => e.status);
    expect(history[0]).toBe('SENDING');
    expect(history).toEqual(expect.arrayContaining(['QUEUED', 'DELIVERED']));
    expect(m.deliveredAt).not.toBeNull();
  });

  it('email reaches DELIVERED', async () => {
    const s = await seedDebtor(gw);
    await waitStatus(
      await send({ debtorId: s.debtorId, debtId: s.debtId, intent: 'past-due-notice', channel: 'EMAIL' }),
      ['DELIVERED'],
    );
  });

  it('a call reaches COMPLETED; a person hears the reminder and the menu, and the outcome is recorded', async () => {
    const s = await seedDebtor(gw);
    const phone = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.phoneId! } })).value;
    gw.ctx.sandboxes!.twilio.setCallScript(phone, { answer: 'human', digits: ['9'] });
    const id = await send({ debtorId: s.debtorId, debtId: s.debtId, intent: 'past-due-notice', channel: 'VOICE' });
    const m = await waitStatus(id, ['COMPLETED']);
    expect(m.callOutcome).toMatchObject({ answeredBy: 'human', outcome: 'human', digits: ['9'] });
    // keypad 9 opted the number out of calls
    const consent = await gw.ctx.db.channelConsent.findUniqueOrThrow({
      where: { contactPointId_channel: { contactPointId: s.phoneId!, channel: 'VOICE' } },
    });
    expect(consent.state).toBe('REVOKED');
    const call = gw.ctx.sandboxes!.twilio.listCalls({ to: phone })[0]!;
    expect(JSON.stringify(call.documents)).toMatch(/Gather/);
    // Recording is off by default (VOICE_RECORD_CALLS): no recording, no notice.
    expect(gw.ctx.sandboxes!.twilio.recordings.list({ callSid: call.sid })).toHaveLength(0);
    expect(JSON.stringify(call.documents)).not.toContain('may be recorded');
  });

  it('an answering machine gets only the limited-content voicemail', async () => {
    const s = await seedDebtor(gw);
    const phone = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.phoneId! } })).value;
    gw.ctx.sandboxes!.twilio.setCallScript(phone, { answer: 'machine_end_beep' });
    const m = await waitStatus(
      await send({ debtorId: s.debtorId, debtId: s.debtId, intent: 'past-due-notice', channel: 'VOICE' }),
      ['COMPLETED'],
    );
    expect(m.callOutcome).toMatchObject({ outcome: 'voicemail' });
    const said = JSON.stringify(gw.ctx.sandboxes!.twilio.listCalls({ to: phone })[0]!.documents);
    expect(said).not.toMatch(/\$|1,250|debt/i);
    expect(said).toMatch(/Customer Care/);
  });

  it('a letter reaches MAILED or IN_TRANSIT with its PDF kept', async () => {
    const s = await seedDebtor(gw);
    const m = await waitStatus(
      await send({ debtorId: s.debtorId, debtId: s.debtId, intent: 'letter-of-demand', channel: 'LETTER' }),
      ['MAILED', 'IN_TRANSIT', 'DELIVERED'],
    );
    expect(m.pdf).toMatch(/\/pdf$/);
    expect(m.providerMessageId).toMatch(/^ltr_/);
  });
});
