// Email over SMTP (nodemailer) as the configured email provider, end to end
// to the SMTP sandbox: Message-ID, Reply-To token, List-Unsubscribe one-click
// and both parts arrive as sent.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';

describe('email over SMTP', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, PROVIDERS: 'sandbox', EMAIL_PROVIDER: 'smtp' });
  });
  afterAll(async () => gw?.close());

  it('sends through nodemailer to the SMTP sandbox with threading and unsubscribe headers', async () => {
    const s = await seedDebtor(gw);
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'past-due-notice',
      channel: 'EMAIL',
    });
    expect(r.status).toBe(202);
    const m = await eventually(
      async () => {
        const x = (await api(gw).get(`/api/v1/messages/${r.body.messageId}`)).body;
        return x.status === 'SENT' ? x : null;
      },
      20_000,
      'SENT',
    );
    expect(m.provider).toBe('smtp');
    const mail = await gw.ctx.sandboxes!.smtp.waitForMessage((x) => JSON.stringify(x).includes(m.to), 10_000);
    const raw = JSON.stringify(mail);
    const conv = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { debtorId: s.debtorId } });
    expect(raw).toContain(`reply+${conv.replyToken}@`);
    expect(raw).toContain(`${m.id}@`);
    expect(raw).toMatch(/List-Unsubscribe=One-Click/i);
    expect(raw).toMatch(/\/unsubscribe\//);
    const parsed = mail as { text?: string; html?: string | false };
    expect(parsed.text).toBeTruthy();
    expect(parsed.html).toBeTruthy();
  });
});
