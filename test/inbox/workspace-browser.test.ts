// The agent workspace in Chromium with two agents (issue 16's acceptance):
// the core job by keyboard alone (keystrokes counted), a webhook's row in
// the other agent's queue (time measured and reported), the collision
// warning with the draft kept, a plan offer and a dispute answer sent from
// the composer with their variables, a flag cleared by one agent vanishing
// live for the other, every one of 300 conversations reachable, snooze to a
// chosen time, and a conversation read and answered at 390 × 844.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, seedDebtor } from '../support/api.js';
import { ARTIFACTS, describeInBrowser, launchBrowser, signIn as signInBrowser } from '../support/browser.js';
import { createAgent, login, type Agent } from './session.js';
import { seedConversations } from './seed-queue.js';
import { axeViolations, screenshotsAt } from './axe.js';

describeInBrowser('the workspace browser test')('agent workspace in a browser (two agents)', () => {
  let gw: TestGateway;
  let browser: Browser;
  let ana: Agent;
  let ben: Agent;
  const measured: Record<string, unknown> = {};
  const pages: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'workspace-browser-twilio-token',
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
      INBOX_FIRST_RESPONSE_SLA_MINUTES: '15',
    });
    ana = await createAgent(gw, 'AGENT', 'Ana');
    ben = await createAgent(gw, 'AGENT', 'Ben');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    fs.writeFileSync(path.join(ARTIFACTS, 'workspace-measurements.json'), JSON.stringify(measured, null, 2));
    process.stdout.write(`workspace measurements: ${JSON.stringify(measured)}\n`);
    for (const p of pages) await p.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  async function signIn(agent: Agent, viewport = { width: 1440, height: 900 }): Promise<Page> {
    const s = await signInBrowser(browser, gw, agent, viewport);
    pages.push(s);
    s.page.on('pageerror', (err) => process.stderr.write(`page error (${agent.email}): ${err.message}\n`));
    s.page.setDefaultTimeout(15_000);
    return s.page;
  }
  const phoneOf = async (contactPointId: string) =>
    (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: contactPointId } })).value;
  const textIn = async (phoneId: string, body: string) => {
    const r = await gw.ctx.sandboxes!.twilio.simulateInboundSms({
      from: await phoneOf(phoneId),
      to: gw.ctx.providers.twilio.from,
      body,
    });
    expect(r.delivered).toBe(true);
  };
  const conversationOf = (debtorId: string) =>
    eventually(
      () => gw.ctx.db.conversation.findFirst({ where: { debtorId, messages: { some: { direction: 'INBOUND' } } } }),
      10_000,
      'conversation',
    );
  const row = (page: Page, name: string) => page.locator('.conv-item', { hasText: name });

  it('does the core job by keyboard alone: open the oldest unanswered, answer, resolve and move on', async () => {
    const oldest = await seedDebtor(gw, { fullName: 'Olive Oldest' });
    await textIn(oldest.phoneId!, 'Can you confirm my balance please?');
    await conversationOf(oldest.debtorId);
    const newer = await seedDebtor(gw, { fullName: 'Nell Newer' });
    await textIn(newer.phoneId!, 'Is there a late fee?');
    await conversationOf(newer.debtorId);

    const page = await signIn(ana);
    // Signed in: the queue (unanswered, oldest first) has the keyboard on its first row.
    await page.waitForFunction(() => document.activeElement?.classList.contains('conv-item'));
    await expect(page.locator('.conv-item').first().textContent()).resolves.toContain('Olive Oldest');
    const axe = await axeViolations(page, 'queue');
    expect(axe).toEqual([]);
    await screenshotsAt(page, 'queue');

    let keystrokes = 0;
    const press = async (key: string) => {
      keystrokes += 1;
      await page.keyboard.press(key);
    };
    await press('Enter');
    await page.waitForSelector('#thread-title:text("Olive Oldest")');
    await press('r');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('reply-text');
    // The reply's own words are typing, not commands: not counted.
    await page.keyboard.type('Hi Olive, your balance is 1,250.00 as of today.');
    await press('Control+Enter');
    await page.waitForSelector('#reply-result');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('thread-title');
    await press('e');
    await page.waitForSelector('#thread-title:text("Nell Newer")');
    measured.coreJobKeystrokes = keystrokes;
    expect(keystrokes).toBeLessThanOrEqual(5);

    const c = await gw.ctx.db.conversation.findFirstOrThrow({ where: { debtorId: oldest.debtorId } });
    expect(c.status).toBe('RESOLVED');
    expect(c.waitingSince).toBeNull();
    const sent = await gw.ctx.db.message.findFirstOrThrow({
      where: { debtorId: oldest.debtorId, direction: 'OUTBOUND' },
    });
    expect(sent.body).toMatch(/^Hi Olive, your balance is 1,250\.00 as of today\./);
    // The resolved row stays where it was (dimmed) rather than the list jumping.
    await row(page, 'Olive Oldest').and(page.locator('.gone')).waitFor();
    // The ? sheet lists the shortcuts.
    await page.keyboard.press('?');
    await expect(page.locator('#help-dialog').textContent()).resolves.toMatch(/Resolve and open the next/);
    await page.keyboard.press('Escape');
  }, 90_000);

  it("shows a webhook's conversation in the other agent's queue; holds the list still while it is in use", async () => {
    const b = await signIn(ben);
    const a = await signIn(ana);
    await b.mouse.move(700, 500);
    // Ben's tab is in the background with notifications allowed: the browser's own Notification is watched, not replaced.
    await b.context().grantPermissions(['notifications'], { origin: gw.url });
    await b.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      const Real = window.Notification;
      const shown: string[] = [];
      (window as unknown as { shownNotifications: string[] }).shownNotifications = shown;
      window.Notification = new Proxy(Real, {
        construct(target, args: [string, NotificationOptions?]) {
          shown.push(args[0]);
          return new target(...args);
        },
      });
    });
    const s = await seedDebtor(gw, { fullName: 'Wendy Webhook' });
    const t0 = Date.now();
    await textIn(s.phoneId!, 'Hello, I got your letter');
    // The sandbox returns once the gateway answered the signed webhook.
    measured.webhookAnsweredMs = Date.now() - t0;
    await row(b, 'Wendy Webhook').waitFor({ timeout: 15_000 });
    measured.webhookToRowMs = Date.now() - t0;
    await b.waitForFunction(() =>
      (window as unknown as { shownNotifications: string[] }).shownNotifications.includes('New reply in the inbox'),
    );

    // Ana's pointer rests on her list: a new arrival is announced, not slid in under the pointer.
    await a.hover('#conv-list');
    const before = await a.locator('.conv-item').allTextContents();
    const other = await seedDebtor(gw, { fullName: 'Hugo Held' });
    await textIn(other.phoneId!, 'Question about fees');
    await a.locator('#queue-new', { hasText: '1 new — show' }).waitFor();
    expect(await a.locator('.conv-item').allTextContents()).toEqual(before);
    await a.click('#queue-new');
    await row(a, 'Hugo Held').waitFor();
    // Unread counts per view and the tab title.
    // The counts refresh after the row is placed (a separate request): wait for them.
    await eventually(
      async () => /unread/.test((await a.locator('#count-unanswered').textContent()) ?? ''),
      10_000,
      'unread count in the view',
    );
    await eventually(async () => /^\(\d+\) Inbox/.test(await a.title()), 10_000, 'unread count in the title');
  }, 60_000);

  it('a stale reply shows the collision warning with the other reply, and keeps the draft', async () => {
    const s = await seedDebtor(gw, { fullName: 'Colin Collision' });
    await textIn(s.phoneId!, 'Can someone call me?');
    const c = await conversationOf(s.debtorId);
    const a = await signIn(ana);
    const b = await signIn(ben);
    for (const p of [a, b]) {
      await row(p, 'Colin Collision').click();
      await p.waitForSelector('#thread-title:text("Colin Collision")');
    }
    await a.keyboard.press('r');
    await a.keyboard.type('Hi Colin, I can call you at 3pm.');
    // Ben answers first, from his composer, while Ana is still writing.
    await b.selectOption('#reply-channel', 'SMS');
    await b.selectOption('#reply-intent', 'friendly-reminder');
    await b.click('#reply-send');
    await b.waitForSelector('#reply-result');
    await a.locator('.msg.OUTBOUND').first().waitFor();
    await a.keyboard.press('Control+Enter');
    const warning = a.locator('#reply-conflict');
    await warning.waitFor();
    await expect(warning.textContent()).resolves.toMatch(
      /someone else replied.*Ben by SMS: Hi Colin Collision, a friendly reminder/s,
    );
    await expect(a.inputValue('#reply-text')).resolves.toBe('Hi Colin, I can call you at 3pm.');
    expect(await gw.ctx.db.message.count({ where: { conversationId: c.id, direction: 'OUTBOUND' } })).toBe(1);
    await screenshotsAt(a, 'collision-warning');
    // Having read it, Ana sends hers after all.
    await a.focus('#reply-text');
    await a.keyboard.press('Control+Enter');
    await a.waitForSelector('#reply-result');
    await eventually(
      async () => (await gw.ctx.db.message.count({ where: { conversationId: c.id, direction: 'OUTBOUND' } })) === 2,
      10_000,
      'second reply',
    );
  }, 60_000);

  it('sends a payment-plan offer and a dispute answer from the composer, filling their variables with a live preview', async () => {
    const plan = await seedDebtor(gw, { fullName: 'Pat Plan' });
    await textIn(plan.phoneId!, 'Can I pay in parts?');
    await conversationOf(plan.debtorId);
    const page = await signIn(ana);
    await row(page, 'Pat Plan').click();
    await page.waitForSelector('#thread-title:text("Pat Plan")');
    await page.selectOption('#reply-channel', 'SMS');
    await page.selectOption('#reply-intent', 'payment-plan-offer');
    await page.waitForSelector('#var-installmentCount');
    await page.fill('#var-installmentCount', '5');
    await page.fill('#var-installmentAmount', '250.00');
    await page.fill('#var-firstInstallmentDate', '2027-01-15');
    const preview = page.locator('#reply-preview[data-outcome="send"] #preview-text', {
      hasText: '5 payments of $250.00',
    });
    await preview.waitFor().catch(async (e) => {
      throw new Error(`${(e as Error).message}; preview box says: ${await page.locator('#preview-box').textContent()}`);
    });
    await expect(preview.textContent()).resolves.toMatch(/January 15, 2027/);
    expect(await page.locator('#preview-missing').count()).toBe(0);
    await screenshotsAt(page, 'composer-plan-offer');
    await page.click('#reply-send');
    await page.waitForSelector('#reply-result');
    const offer = await gw.ctx.db.message.findFirstOrThrow({
      where: { debtorId: plan.debtorId, direction: 'OUTBOUND' },
    });
    expect(offer).toMatchObject({ intent: 'payment-plan-offer' });
    expect(offer.body).toContain('5 payments of $250.00');

    // A dispute pauses collection (DISPUTE_UNDER_REVIEW): the verification is what may still go, with what was checked.
    const dis = await seedDebtor(gw, { fullName: 'Dora Dispute' });
    await textIn(dis.phoneId!, 'I dispute this debt, it is not mine');
    await eventually(
      async () =>
        (await gw.ctx.db.debtor.findUniqueOrThrow({ where: { id: dis.debtorId } })).restrictions.includes(
          'DISPUTE_UNDER_REVIEW',
        ),
      10_000,
      'dispute restriction',
    );
    await page.click('button[data-view="disputes"]');
    await row(page, 'Dora Dispute').click();
    await page.waitForSelector('#thread-title:text("Dora Dispute")');
    await page.selectOption('#reply-channel', 'SMS');
    await page.selectOption('#reply-intent', 'friendly-reminder');
    await page.locator('#reply-preview[data-outcome="refuse"]').waitFor();
    await page.selectOption('#reply-intent', 'dispute-verification');
    await page.fill('#var-verificationNote', 'We checked the signed service agreement of March 2026.');
    await page
      .locator('#reply-preview[data-outcome="send"] #preview-text', { hasText: 'signed service agreement' })
      .waitFor();
    await page.click('#reply-send');
    await page.waitForSelector('#reply-result');
    const answer = await gw.ctx.db.message.findFirstOrThrow({
      where: { debtorId: dis.debtorId, direction: 'OUTBOUND' },
    });
    expect(answer.intent).toBe('dispute-verification');
    expect(answer.body).toContain('We checked the signed service agreement of March 2026.');
  }, 90_000);

  it('a flag cleared by one agent (with a reason) disappears live for the other, and the activity says who', async () => {
    const s = await seedDebtor(gw, { fullName: 'Fay Flagged' });
    await textIn(s.phoneId!, 'wrong number, I do not know this person');
    const c = await conversationOf(s.debtorId);
    await eventually(
      async () =>
        (await gw.ctx.db.conversation.findUniqueOrThrow({ where: { id: c.id } })).flags.includes('NEEDS_REVIEW'),
      10_000,
      'flagged',
    );
    const a = await signIn(ana);
    const b = await signIn(ben);
    for (const p of [a, b]) {
      await p.click('button[data-view="all"]');
      await row(p, 'Fay Flagged').click();
      await p.waitForSelector('#thread-title:text("Fay Flagged")');
    }
    await b.locator('.thread-head [data-flag="NEEDS_REVIEW"]').waitFor();
    await a.click('#clear-flag-NEEDS_REVIEW');
    await a.fill('#clear-flag-NEEDS_REVIEW-reason', 'checked the number with the debtor');
    await a.click('#clear-flag-NEEDS_REVIEW-confirm');
    await b.locator('.thread-head [data-flag="NEEDS_REVIEW"]').waitFor({ state: 'detached' });
    await b
      .locator('.event', { hasText: 'cleared the flag needs review — “checked the number with the debtor”' })
      .waitFor();
    await expect(b.locator('.event', { hasText: 'cleared the flag needs review' }).textContent()).resolves.toMatch(
      /^Ana /,
    );
    const axe = await axeViolations(b, 'thread-sms');
    expect(axe).toEqual([]);
    await screenshotsAt(b, 'thread-sms');
  }, 60_000);

  it('snoozes to a chosen time from the keyboard', async () => {
    const s = await seedDebtor(gw, { fullName: 'Sam Snooze' });
    await textIn(s.phoneId!, 'Please contact me next week');
    const c = await conversationOf(s.debtorId);
    const page = await signIn(ana);
    await row(page, 'Sam Snooze').click();
    await page.waitForSelector('#thread-title:text("Sam Snooze")');
    await page.focus('#thread-title');
    await page.keyboard.press('s');
    await page.waitForSelector('#snooze-dialog[open]');
    const when = new Date(Date.now() + 3 * 86_400_000);
    when.setSeconds(0, 0);
    const local = await page.evaluate((iso) => {
      const d = new Date(iso);
      return new Date(d.getTime() - d.getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
    }, when.toISOString());
    await page.fill('#snooze-until', local);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#snoozed-until');
    const after = await gw.ctx.db.conversation.findUniqueOrThrow({ where: { id: c.id } });
    expect(after.status).toBe('SNOOZED');
    expect(after.snoozedUntil!.getTime()).toBe(when.getTime());
  }, 60_000);

  it('at 390 × 844 the list and the thread are two screens; a conversation is read and answered', async () => {
    const s = await seedDebtor(gw, { fullName: 'Mia Mobile' });
    await textIn(s.phoneId!, 'Texting from my phone: can I pay Friday?');
    await conversationOf(s.debtorId);
    const page = await signIn(ana, { width: 390, height: 844 });
    await page.click('button[data-view="all"]');
    await row(page, 'Mia Mobile').click();
    await page.waitForSelector('#thread-title:text("Mia Mobile")');
    expect(await page.locator('#queue-col').isVisible()).toBe(false);
    const msg = page.locator('.msg.INBOUND', { hasText: 'can I pay Friday?' });
    await msg.waitFor();
    const box = (await msg.boundingBox())!;
    expect(box.width).toBeGreaterThan(200);
    await page.screenshot({ path: path.join(ARTIFACTS, 'mobile-thread-390.png'), fullPage: true });
    await page.selectOption('#reply-mode', 'text');
    await page.fill('#reply-text', 'Yes, Friday works. Thank you!');
    await page.click('#reply-send');
    await page.waitForSelector('#reply-result');
    expect(await gw.ctx.db.message.count({ where: { debtorId: s.debtorId, direction: 'OUTBOUND' } })).toBe(1);
    await page.click('#back-to-list');
    expect(await page.locator('#queue-col').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'mobile-queue-390.png') });
  }, 60_000);

  it('keeps a stable session API for a second agent (sanity: Ben sees Ana’s claim in his list)', async () => {
    const s = await seedDebtor(gw, { fullName: 'Cleo Claimed' });
    await textIn(s.phoneId!, 'hi');
    const c = await conversationOf(s.debtorId);
    const b = await signIn(ben);
    await b.mouse.move(700, 500);
    await row(b, 'Cleo Claimed').waitFor();
    const anaApi = await login(gw, ana);
    expect((await anaApi.call('POST', `/api/v1/inbox/conversations/${c.id}/claim`, {})).status).toBe(200);
    await row(b, 'Cleo Claimed').locator('.conv-assignee:text("@Ana")').waitFor();
  }, 60_000);
  it('reaches every one of 300 conversations from the list, by "load more" and by the keyboard', async () => {
    const seeded = await seedConversations(gw, 300);
    const page = await signIn(ana);
    await page.click('button[data-view="all"]');
    await page.locator('.conv-item').first().waitFor();
    // The keyboard reads on past the first page.
    await page.locator('.conv-item').first().focus();
    for (let i = 0; i < 55; i++) await page.keyboard.press('j');
    await eventually(async () => (await page.locator('.conv-item').count()) > 55, 10_000, 'the next page read on by j');
    await page.waitForFunction(
      () =>
        Array.prototype.indexOf.call(document.querySelectorAll('#conv-list .conv-item'), document.activeElement) >= 54,
    );
    while (await page.locator('#load-more').count()) {
      const n = await page.locator('.conv-item').count();
      await page.click('#load-more');
      await eventually(
        async () => (await page.locator('.conv-item').count()) > n || (await page.locator('#load-more').count()) === 0,
        10_000,
        'next page',
      );
    }
    const ids = await page.locator('.conv-item').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.id));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of seeded.conversationIds) expect(ids).toContain(id);
    await expect(page.locator('.end').textContent()).resolves.toMatch(/^All \d+ shown\.$/);
    // Search finds an invoice reference.
    await page.keyboard.press('/');
    await page.keyboard.type(seeded.invoiceRefs[123]!);
    await eventually(async () => (await page.locator('.conv-item').count()) === 1, 10_000, 'search by invoice');
    await expect(page.locator('.conv-item').textContent()).resolves.toContain(seeded.debtorNames[123]!);
  }, 120_000);
});
