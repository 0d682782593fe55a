// Calls in the debtor's language: every <Say> carries the locale's language
// and a voice that speaks it (templates/<locale>/_locale.yaml `voice`), and the
// keypad follow-ups come from the same templates — a Spanish script read by
// Twilio's default English voice, then "We will not call this number again",
// was what a Spanish-speaking debtor heard. Through the official SDK to the
// Twilio sandbox, which fetches the TwiML as Twilio does.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';

describe("voice in the debtor's language", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'voice-lang-twilio-token-1234',
      LOB_WEBHOOK_SECRET: 'voice-lang-lob-secret',
    });
  });
  afterAll(async () => gw?.close());

  async function call(locale: string, digits: string[]) {
    const s = await seedDebtor(gw, { locale });
    const phone = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.phoneId! } })).value;
    gw.ctx.sandboxes!.twilio.setCallScript(phone, { answer: 'human', digits });
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'past-due-notice',
      channel: 'VOICE',
    });
    expect(r.status).toBe(202);
    await eventually(
      async () =>
        (await api(gw).get(`/api/v1/messages/${r.body.messageId}`)).body.status === 'COMPLETED' ? true : null,
      20_000,
      'call completed',
    );
    const docs = gw.ctx.sandboxes!.twilio.listCalls({ to: phone })[0]!.documents.map((d) => d.twiml ?? '');
    return docs.join('\n');
  }

  const says = (twiml: string) =>
    [...twiml.matchAll(/<Say([^>]*)>([^<]*)<\/Say>/g)].map((m) => ({ attrs: m[1]!, text: m[2]! }));

  it('a Spanish debtor hears Spanish, in a Spanish voice, menu and follow-up included', async () => {
    const twiml = await call('es', ['9']);
    const all = says(twiml);
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const s of all) expect(s.attrs).toMatch(/language="es-US"/), expect(s.attrs).toMatch(/voice="Polly\.Lupe"/);
    expect(twiml).toContain('No volveremos a llamar a este número.');
    expect(twiml).not.toContain('We will not call this number again');
  });

  it('an English debtor hears English in an English voice; an unknown regional locale falls back', async () => {
    for (const locale of ['en', 'en-GB']) {
      const all = says(await call(locale, ['3']));
      for (const s of all)
        expect(s.attrs).toMatch(
          /language="en-US"[^>]*voice="Polly\.Joanna"|voice="Polly\.Joanna"[^>]*language="en-US"/,
        );
      expect(all.at(-1)!.text).toBe('Goodbye.');
    }
  });
});
