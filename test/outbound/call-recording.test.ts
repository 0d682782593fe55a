// Recording reminder calls (VOICE_RECORD_CALLS): the call is placed with
// Twilio's record option, the person hears the recording notice before the
// reminder, and the finished recording is downloaded and kept with the call.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';

describe('recorded reminder calls', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, PROVIDERS: 'sandbox', VOICE_RECORD_CALLS: 'true' });
  });
  afterAll(async () => gw?.close());

  it('announces the recording, records the call and keeps the audio as an attachment of the call', async () => {
    const s = await seedDebtor(gw);
    const phone = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.phoneId! } })).value;
    gw.ctx.sandboxes!.twilio.setCallScript(phone, { answer: 'human', digits: ['1'] });
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'VOICE',
    });
    expect(r.status).toBe(202);
    const m = await eventually(
      async () => {
        const row = await gw.ctx.db.message.findUniqueOrThrow({
          where: { id: r.body.messageId },
          include: { attachments: true },
        });
        return row.status === 'COMPLETED' && row.attachments.length > 0 ? row : null;
      },
      20_000,
      'call completed with its recording',
    );

    const [recording] = gw.ctx.sandboxes!.twilio.recordings.list({ callSid: m.providerMessageId! });
    expect(recording).toMatchObject({ source: 'OutboundAPI', status: 'completed' });
    expect(m.attachments[0]).toMatchObject({
      contentType: 'audio/mpeg',
      filename: `call-recording-${recording!.sid}.mp3`,
    });

    // The notice comes first, before the reminder says who is calling.
    const said = JSON.stringify(gw.ctx.sandboxes!.twilio.listCalls({ to: phone })[0]!.documents);
    expect(said).toContain('This call may be recorded.');
    expect(said.indexOf('This call may be recorded.')).toBeLessThan(said.indexOf('calling from'));
  });
});
