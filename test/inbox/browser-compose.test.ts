// The composer, the debtor panel's actions and the admin users tab in a real
// browser (Debian's Chromium driven by playwright-core): an admin creates an
// agent who then signs in; the agent previews and sends a free-text reply that
// reaches delivered; a preview shows a refusal reason before anything is sent;
// a promise entered in the panel appears on the debt.
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { ARTIFACTS, describeInBrowser, launchBrowser, signIn as signInBrowser } from '../support/browser.js';
import { createAgent, type Agent } from './session.js';

describeInBrowser('the composer browser test')('composer, panel actions and admin users in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let ada: Agent;
  const cora = {
    email: `cora.${Math.random().toString(36).slice(2, 8)}@team.example`,
    password: 'cora-initial-password-42',
  };

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'browser-compose-twilio-token',
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
    });
    ada = await createAgent(gw, 'ADMIN', 'Ada');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  /** A page signed in as `who` in its own browser context; page errors are printed, as they were before the shared helper. */
  async function signIn(who: { email: string; password: string }): Promise<Page> {
    const { page } = await signInBrowser(browser, gw, who);
    page.on('pageerror', (err) => process.stderr.write(`page error (${who.email}): ${err.message}\n`));
    return page;
  }

  const phoneOf = async (contactPointId: string) =>
    (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: contactPointId } })).value;
  const textIn = (from: string, body: string) =>
    gw.ctx.sandboxes!.twilio.simulateInboundSms({ from, to: gw.ctx.providers.twilio.from, body });

  it('an admin creates an agent in the users tab, and the agent can sign in', async () => {
    const admin = await signIn(ada);
    await admin.click('#admin-link');
    await admin.waitForSelector('#users-create');
    await admin.fill('#users-new-email', cora.email);
    await admin.fill('#users-new-name', 'Cora');
    await admin.selectOption('#users-new-role', 'AGENT');
    await admin.fill('#users-new-password', cora.password);
    await admin.click('#users-create-submit');
    await admin.locator(`tr[data-email="${cora.email}"]`).waitFor({ timeout: 10_000 });
    await expect(admin.locator(`tr[data-email="${cora.email}"]`).textContent()).resolves.toMatch(/Cora.*active/);
    await admin.screenshot({ path: path.join(ARTIFACTS, 'admin-users.png') });
    const created = await gw.ctx.db.user.findUniqueOrThrow({ where: { email: cora.email } });
    expect(created.role).toBe('AGENT');
    expect(
      await gw.ctx.db.auditEvent.count({ where: { action: 'user.create', entityId: created.id, actorId: ada.id } }),
    ).toBe(1);

    const agent = await signIn(cora);
    await expect(agent.locator('#me').textContent()).resolves.toBe('Cora (agent)');
    // Agents get no admin link, and the admin page refuses them.
    expect(await agent.locator('#admin-link').count()).toBe(0);
    await agent.goto(`${gw.url}/admin.html`);
    await agent.waitForSelector('#admin-denied');
  }, 90_000);

  it('free-text reply previewed then delivered; a refusal shown by the preview; a promise recorded in the panel', async () => {
    const nora = await seedDebtor(gw, { fullName: 'Nora Nightingale' });
    const otto = await seedDebtor(gw, { fullName: 'Otto Optout' });
    await api(gw).patch(`/api/v1/contact-points/${otto.phoneId}`, { consents: { SMS: 'REVOKED' } });
    await textIn(await phoneOf(nora.phoneId!), 'Can we set something up?');
    const page = await signIn(cora);

    // Free text: the preview shows the exact text with the opt-out line, and says it is allowed now.
    await page.locator('.conv-item', { hasText: 'Nora Nightingale' }).click();
    await page.waitForSelector('#thread-title:text("Nora Nightingale")');
    await page.selectOption('#reply-channel', 'SMS');
    await page.selectOption('#reply-mode', 'text');
    await page.fill('#reply-text', 'Hi Nora, yes: 200 now and the rest next month works.');
    await page.click('#reply-preview-btn');
    await page.waitForSelector('#reply-preview[data-outcome="send"]', { timeout: 10_000 });
    const previewText = await page.locator('#preview-text').textContent();
    expect(previewText).toMatch(/^Hi Nora, yes: 200 now and the rest next month works\..*Reply STOP to opt out\.$/s);
    await page.screenshot({ path: path.join(ARTIFACTS, 'composer-preview.png') });
    await page.click('#reply-send');
    const delivered = page.locator('.msg.OUTBOUND[data-status="DELIVERED"]', { hasText: 'Hi Nora, yes: 200 now' });
    await delivered.waitFor({ timeout: 30_000 });
    const sent = await gw.ctx.db.message.findFirstOrThrow({
      where: { debtorId: nora.debtorId, direction: 'OUTBOUND' },
    });
    expect(sent).toMatchObject({ intent: 'free-text', status: 'DELIVERED', body: previewText });

    // A promise to pay entered in the panel appears on the debt, and the debt is promised.
    const due = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    await page.fill('#promise-amount', '200.00');
    await page.fill('#promise-date', due);
    await page.click('#promise-add');
    const promiseRow = page.locator(`[data-debt-promises="${nora.debtId}"]`);
    await promiseRow.waitFor({ timeout: 10_000 }).catch(async (e) => {
      throw new Error(
        `${(e as Error).message}; panel says: ${await page.locator('#panel-action-result').textContent()}`,
      );
    });
    await expect(promiseRow.textContent()).resolves.toContain(`USD 200.00 by ${due}`);
    await expect(page.locator(`tr[data-debt="${nora.debtId}"] .debt-status`).textContent()).resolves.toBe('promised');
    const promise = await gw.ctx.db.promiseToPay.findFirstOrThrow({ where: { debtId: nora.debtId } });
    expect(promise.createdById).toBe((await gw.ctx.db.user.findUniqueOrThrow({ where: { email: cora.email } })).id);
    await page.locator('#side-col').screenshot({ path: path.join(ARTIFACTS, 'panel-promise.png') });

    // A debtor who opted out of texts: the preview shows the refusal and its reason; nothing is sent.
    await textIn(await phoneOf(otto.phoneId!), 'who is this');
    await page.locator('.conv-item', { hasText: 'Otto Optout' }).click();
    await page.waitForSelector('#thread-title:text("Otto Optout")');
    await page.selectOption('#reply-channel', 'SMS');
    await page.selectOption('#reply-mode', 'template');
    await page.selectOption('#reply-intent', 'past-due-notice');
    await page.click('#reply-preview-btn');
    await page.waitForSelector('#reply-preview[data-outcome="refuse"]', { timeout: 10_000 });
    await expect(page.locator('#preview-refusal').textContent()).resolves.toMatch(/consent\.revoked/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'composer-preview-refusal.png') });
    expect(await gw.ctx.db.message.count({ where: { debtorId: otto.debtorId, direction: 'OUTBOUND' } })).toBe(0);
  }, 120_000);
});
