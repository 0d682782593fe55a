// The acceptance, in Chromium: a debtor opens the link from a
// delivered SMS, proves identity with the code, pays part of the balance by
// card in the Stripe sandbox, then chooses a plan for the rest with a saved
// card; the balance drops; the queued reminder goes out with the new balance;
// the first instalment is charged by the job on its date (fixed clock); the
// agent sees the payment live. Screenshots at 390 and 1440 px, axe-core on
// every debtor-facing screen (no critical or serious violations).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { ARTIFACTS, describeInBrowser, launchBrowser, signIn } from '../support/browser.js';
import { createAgent } from '../inbox/session.js';
import { scheduleDispatch } from '../../src/outbound/dispatch.js';
import { runPlanCharges } from '../../src/payments/plans.js';

const AXE = fs.readFileSync(path.resolve('node_modules/axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core on the page as it is: the critical and serious violations (an empty list passes). */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE });
  const violations = (await page.evaluate(
    async () =>
      (
        await (
          window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: unknown[] }> } }
        ).axe.run(document, { resultTypes: ['violations'] })
      ).violations,
  )) as AxeViolation[];
  return violations
    .filter((v) => v.impact === 'critical' || v.impact === 'serious')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describeInBrowser('the debtor page browser test')('debtor page in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let mobile: BrowserContext;
  let desktop: BrowserContext;

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'browser-test-twilio-token',
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
    });
    browser = await launchBrowser();
    // bypassCSP: only so the test can inject axe-core; the page itself runs no script.
    mobile = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, bypassCSP: true });
    desktop = await browser.newContext({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  it('SMS link → code → part payment by card → plan with a saved card → instalment charged on its date, live for the agent', async () => {
    const s = await seedDebtor(gw, { fullName: 'Dana Whitfield' }, { originalAmount: '200.00' });
    await api(gw).put('/api/v1/creditors/acme/portal-settings', {
      verification: ['code', 'postcode'],
      plans: { maxInstalments: 4, minInstalment: '10.00', intervalDays: 30, maxFailedCharges: 3, retryDays: 3 },
    });

    // The reminder that carries the link, delivered by the Twilio sandbox.
    const first = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'friendly-reminder',
      channel: 'SMS',
    });
    const delivered = await eventually(
      async () => {
        const m = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: first.body.messageId } });
        return m.status === 'DELIVERED' ? m : null;
      },
      20_000,
      'the reminder delivered',
    );
    const link = /https?:\/\/\S+\/pay\/[A-Za-z0-9_.-]+/
      .exec(gw.ctx.sandboxes!.twilio.getMessage(delivered.providerMessageId!)!.body)![0]!
      .replace(/[.,]$/, '');
    // A later reminder waits in the outbox (queued now, due in an hour).
    const queued = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'past-due-notice',
      channel: 'SMS',
      notBefore: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(queued.body.outcome).toBe('defer');

    // The agent has the conversation open.
    const agent = await createAgent(gw, 'AGENT', 'Ana');
    const inbox = await signIn(browser, gw, agent);
    // The debtor has written nothing yet: the thread is in the All view, not Unanswered.
    await inbox.page.click('button[data-view="all"]');
    await inbox.page.locator('.conv-item', { hasText: 'Dana Whitfield' }).click();
    await inbox.page.waitForSelector('#thread-title:text("Dana Whitfield")');
    await inbox.page.waitForSelector('#panel-debts td:text("USD 200.00")');

    // The debtor, on a phone.
    const page = await mobile.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(link);
    await page.waitForSelector('h1:text("Confirm it is you")');
    expect(await page.content()).not.toContain('200.00');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-verify-390.png'), fullPage: true });
    await page.click('#send-code');
    await page.waitForSelector('#code');
    const codeMessage = await eventually(
      async () => {
        const m = await gw.ctx.db.message.findFirst({ where: { debtorId: s.debtorId, intent: 'verification-code' } });
        return m?.providerMessageId ? m : null;
      },
      15_000,
      'the code sent',
    );
    const code = /\b(\d{6})\b/.exec(gw.ctx.sandboxes!.twilio.getMessage(codeMessage.providerMessageId!)!.body)![1]!;
    await page.fill('#code', code);
    await page.click('#verify-code');
    await page.waitForSelector('h1:text("Your account with Acme Utilities")');
    expect(await page.textContent('main')).toContain('$200.00');
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-account-390.png'), fullPage: true });
    // No sideways scrolling at phone width (usable at 360 px too).
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.setViewportSize({ width: 390, height: 844 });

    // Part of the balance by card, on the Stripe sandbox's page.
    await page.fill(`#amount-${s.debtId}`, '150.00');
    await page.click('#pay-part');
    await page.waitForSelector('#card');
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-stripe-checkout-390.png'), fullPage: true });
    await page.fill('#card', '4242 4242 4242 4242');
    await page.click('#submit');
    await page.waitForSelector('.notice.success');
    await eventually(
      async () => (await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } })).balance.toFixed(2) === '50.00',
      15_000,
      'the balance after the card payment',
    );
    await page.reload();
    await page.waitForSelector('dd:text("$50.00")');
    // The agent sees it without reloading: the balance in the panel, the thank-you in the thread.
    await inbox.page.waitForSelector('#panel-debts td:text("USD 50.00")', { timeout: 15_000 });
    await inbox.page.waitForSelector('.timeline >> text=received your payment of $150.00', { timeout: 15_000 });

    // A plan for the rest: two instalments, the first today, with a saved card.
    const today = new Date().toISOString().slice(0, 10);
    await page.selectOption(`#plan-count-${s.debtId}`, '2');
    await page.fill(`#plan-first-${s.debtId}`, today);
    await page.click('#plan-submit');
    await page.waitForSelector('h1:text("Save a card")');
    await page.click('#submit');
    await page.waitForSelector('.notice.success');
    const plan = await eventually(
      () => gw.ctx.db.paymentPlan.findFirst({ where: { debtId: s.debtId, status: 'active' } }),
      15_000,
      'the plan active',
    );
    await eventually(
      async () =>
        (await gw.ctx.db.promiseToPay.count({ where: { planId: plan.id, nextChargeAt: { not: null } } })) === 2,
      10_000,
      'its instalments scheduled',
    );
    await page.reload();
    await page.waitForSelector('text=You are on a plan of 2 instalments.');
    expect(await seriousViolations(page)).toEqual([]);
    const wide = await desktop.newPage();
    await wide.goto(link); // a new browser: identity first again
    await wide.waitForSelector('h1:text("Confirm it is you")');
    await wide.fill('#fact-postcode', '60606');
    await wide.click('form:has(#fact-postcode) button');
    await wide.waitForSelector('h1:text("Your account with Acme Utilities")');
    expect(await seriousViolations(wide)).toEqual([]);
    await wide.screenshot({ path: path.join(ARTIFACTS, 'portal-account-1440.png'), fullPage: true });

    // The queued reminder leaves now: the new balance, or (on a plan) not at all.
    await gw.ctx.db.message.update({ where: { id: queued.body.messageId }, data: { scheduledAt: new Date() } });
    await scheduleDispatch(gw.ctx, queued.body.messageId, new Date());
    const reminder = await eventually(
      async () => {
        const m = await gw.ctx.db.message.findUniqueOrThrow({ where: { id: queued.body.messageId } });
        return m.providerMessageId || m.status === 'CANCELLED' ? m : null;
      },
      20_000,
      'the queued reminder settled',
    );
    if (reminder.providerMessageId) {
      const body = gw.ctx.sandboxes!.twilio.getMessage(reminder.providerMessageId)!.body;
      expect(body).toContain('$50.00');
      expect(body).not.toContain('$200.00');
    }

    // The plan job on the first instalment's date (fixed clock) charges it.
    const report = await runPlanCharges(gw.ctx, new Date(`${today}T12:00:00Z`));
    expect(report.charged).toBe(1);
    await eventually(
      async () => (await gw.ctx.db.debt.findUniqueOrThrow({ where: { id: s.debtId } })).balance.toFixed(2) === '25.00',
      15_000,
      'the first instalment recorded',
    );
    await inbox.page.waitForSelector('#panel-debts td:text("USD 25.00")', { timeout: 15_000 });
    await inbox.page.screenshot({ path: path.join(ARTIFACTS, 'portal-agent-sees-payment-1440.png') });
    await page.reload();
    await page.waitForSelector('dd:text("$25.00")');
    await page.screenshot({ path: path.join(ARTIFACTS, 'portal-after-instalment-390.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(inbox.pageErrors).toEqual([]);
    await inbox.close();
  });
});
