// The admin "API keys" and "Providers" tabs in a real browser (Debian's
// Chromium driven by playwright-core): an admin creates a key, sees it once and
// it works; revokes it after confirming and it stops working; reads the
// providers' modes, secrets (set / not set, never values) and webhook URLs.
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api } from '../support/api.js';
import { ARTIFACTS, describeInBrowser, launchBrowser, signIn, type SignedInPage } from '../support/browser.js';
import { createAgent } from './session.js';

const TWILIO_AUTH_TOKEN = 'admin-tabs-twilio-token-5a6b7c8d';
const LOB_WEBHOOK_SECRET = 'admin-tabs-lob-secret-9e8f7a';

describeInBrowser('the admin API keys and providers tabs')('admin API keys and providers tabs in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let session: SignedInPage;
  let page: Page;

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN,
      LOB_WEBHOOK_SECRET,
    });
    const admin = await createAgent(gw, 'ADMIN', 'Kim');
    browser = await launchBrowser();
    session = await signIn(browser, gw, admin);
    page = session.page;
    // Fail at the step that hangs rather than at the test's timeout.
    page.setDefaultTimeout(10_000);
  }, 60_000);
  afterAll(async () => {
    await session?.close();
    await browser?.close();
    await gw?.close();
  });

  it('creates a key shown once, which works until it is revoked after a confirmation', async () => {
    await page.goto(`${gw.url}/admin.html#api-keys`);
    await page.waitForSelector('#keys-create');
    await page.fill('#keys-new-name', 'billing system');
    await page.selectOption('#keys-new-role', 'ADMIN');
    await page.click('#keys-create-submit');
    const secret = (await page.locator('#keys-created-secret').textContent())!.trim();
    const row = page.locator('#keys-rows tr[data-name="billing system"]');
    await row.waitFor();
    await expect(row.locator('td').nth(1).textContent()).resolves.toBe('admin');
    const prefix = (await row.locator('.keys-prefix').textContent())!.replace('…', '');
    expect(secret.startsWith(prefix)).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-api-keys.png'), fullPage: true });

    // The key shown is the real one: it authenticates with the role chosen.
    expect((await api(gw, secret).get('/api/v1/api-keys')).status).toBe(200);
    await page.reload();
    await page.waitForSelector('#keys-rows tr[data-name="billing system"]');
    // After a reload the key itself is nowhere on the page.
    expect(await page.content()).not.toContain(secret);

    // Dismissing the confirmation keeps the key; accepting revokes it.
    page.once('dialog', (d) => void d.dismiss());
    await row.locator('.keys-revoke').click();
    await expect(row.locator('.keys-state').textContent()).resolves.toBe('active');
    expect((await api(gw, secret).get('/api/v1/api-keys')).status).toBe(200);
    page.once('dialog', (d) => void d.accept());
    await row.locator('.keys-revoke').click();
    await row.locator('.keys-state', { hasText: 'revoked' }).waitFor();
    await expect(row.locator('.keys-revoke').count()).resolves.toBe(0);
    expect((await api(gw, secret).get('/api/v1/api-keys')).status).toBe(401);
    expect(session.pageErrors).toEqual([]);
  }, 30_000);

  it('shows each provider’s mode, sender, secrets set or not, and webhook URLs without secret values', async () => {
    await page.click('#tab-providers');
    await page.waitForSelector('#providers-cards');
    for (const id of ['twilio', 'email', 'lob'])
      await expect(page.locator(`#providers-${id} [data-k="mode"]`).textContent()).resolves.toBe('sandbox');
    await expect(page.locator('#providers-twilio [data-sender="from"] td').textContent()).resolves.toBe(
      gw.ctx.providers.twilio.from,
    );
    await expect(page.locator('#providers-twilio [data-secret="TWILIO_AUTH_TOKEN"] td').textContent()).resolves.toBe(
      'set',
    );
    await expect(page.locator('#providers-twilio [data-secret="TWILIO_ACCOUNT_SID"] td').textContent()).resolves.toBe(
      'not set',
    );
    await expect(page.locator('#providers-lob [data-secret="LOB_WEBHOOK_SECRET"] td').textContent()).resolves.toBe(
      'set',
    );
    const urls = await page.locator('.providers-url').allTextContents();
    expect(urls).toEqual(
      expect.arrayContaining([
        `${gw.ctx.publicBaseUrl}/webhooks/twilio/sms`,
        `${gw.ctx.publicBaseUrl}/webhooks/sendgrid/events`,
        `${gw.ctx.publicBaseUrl}/webhooks/lob`,
      ]),
    );
    // No PUBLIC_BASE_URL in this gateway: the tab says providers cannot reach these addresses.
    await page.locator('#providers-base-warning').waitFor();
    const html = await page.content();
    for (const value of [
      TWILIO_AUTH_TOKEN,
      LOB_WEBHOOK_SECRET,
      gw.ctx.providers.twilio.authToken,
      gw.ctx.providers.lob.apiKey,
      gw.ctx.providers.sendgrid.apiKey,
      gw.ctx.providers.sendgrid.inboundParseSecret,
    ])
      expect(html).not.toContain(value);
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-providers.png'), fullPage: true });
    expect(session.pageErrors).toEqual([]);
  }, 30_000);
});
