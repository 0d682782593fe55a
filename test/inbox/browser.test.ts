// The agent inbox in a real browser (Debian's Chromium driven by playwright-core):
// two agents, live updates, claim, reply through the router to delivered,
// presence, notes, and a refusal shown before anything is sent.
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { ARTIFACTS, describeInBrowser, launchBrowser, signIn as signInBrowser } from '../support/browser.js';
import { createAgent, type Agent } from './session.js';

describeInBrowser('the inbox browser test')('agent inbox in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let ana: Agent;
  let ben: Agent;

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'browser-test-twilio-token',
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
    });
    ana = await createAgent(gw, 'AGENT', 'Ana');
    ben = await createAgent(gw, 'AGENT', 'Ben');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  /** A page signed in as `agent` in its own browser context; page errors are printed, as they were before the shared helper. */
  async function signIn(agent: Agent): Promise<Page> {
    const { page } = await signInBrowser(browser, gw, agent);
    page.on('pageerror', (err) => process.stderr.write(`page error (${agent.email}): ${err.message}\n`));
    return page;
  }

  const phoneOf = async (contactPointId: string) =>
    (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: contactPointId } })).value;
  const gatewayNumber = () => gw.ctx.providers.twilio.from;

  it('inbound SMS appears live; claim, reply to delivered, presence, notes, refusal', async () => {
    const maria = await seedDebtor(gw, { fullName: 'Maria Lopez' });
    const olsen = await seedDebtor(gw, { fullName: 'Olaf Olsen' });
    await api(gw).patch(`/api/v1/contact-points/${olsen.phoneId}`, { consents: { SMS: 'REVOKED' } });

    const a = await signIn(ana);
    // An inbound SMS through the signed Twilio webhook shows up in A's list without a reload.
    const sent = await gw.ctx.sandboxes!.twilio.simulateInboundSms({
      from: await phoneOf(maria.phoneId!),
      to: gatewayNumber(),
      body: 'Can I pay half next week?',
    });
    expect(sent.delivered).toBe(true);
    const item = a.locator('.conv-item', { hasText: 'Maria Lopez' });
    await item.waitFor({ timeout: 15_000 });
    await expect(item.textContent()).resolves.toContain('Can I pay half next week?');
    await a.screenshot({ path: path.join(ARTIFACTS, 'inbox-list.png') });

    // B opens the same conversation, then A does: B sees that A is viewing.
    const b = await signIn(ben);
    await b.locator('.conv-item', { hasText: 'Maria Lopez' }).click();
    await b.waitForSelector('#thread-title:text("Maria Lopez")');
    await item.click();
    await a.waitForSelector('#thread-title:text("Maria Lopez")');
    await b.waitForSelector('#presence:text("Ana is viewing")', { timeout: 10_000 });

    // A claims it: B's list and thread show it live.
    await a.click('#claim');
    await a.waitForSelector('#thread-assignee:text("Assigned to Ana")');
    await b.waitForSelector('#thread-assignee:text("Assigned to Ana")', { timeout: 10_000 });
    await b
      .locator('.conv-item', { hasText: 'Maria Lopez' })
      .locator('.conv-assignee:text("@Ana")')
      .waitFor({ timeout: 10_000 });

    // A types (B sees it), then replies by SMS through the router; the thread shows it reach delivered.
    await a.fill('#note-body', 'Offered half now');
    await b.waitForSelector('#presence:text("Ana is typing")', { timeout: 10_000 });
    await a.selectOption('#reply-channel', 'SMS');
    await a.selectOption('#reply-intent', 'friendly-reminder');
    await a.click('#reply-send');
    const outbound = a.locator('.msg.OUTBOUND');
    await a.waitForSelector('.msg.OUTBOUND, #composer-notice .refusal, #composer-notice .warn', { timeout: 15_000 });
    expect(await a.locator('#composer-notice').textContent()).not.toMatch(/refused|Someone else|error/i);
    await a.locator('.msg.OUTBOUND[data-status="DELIVERED"]').first().waitFor({ timeout: 30_000 });
    await expect(outbound.first().locator('.routing').textContent()).resolves.toMatch(/SMS/);
    const msg = await gw.ctx.db.message.findFirstOrThrow({
      where: { debtorId: maria.debtorId, direction: 'OUTBOUND' },
    });
    expect(msg.status).toBe('DELIVERED');
    expect(msg.createdById).toBeTruthy();
    await a.screenshot({ path: path.join(ARTIFACTS, 'inbox-thread.png') });
    await a.locator('#side-col').screenshot({ path: path.join(ARTIFACTS, 'inbox-debtor-panel.png') });
    await expect(a.locator('#panel-debts').textContent()).resolves.toMatch(/1250\.00/);
    await expect(a.locator('#panel-allowance').textContent()).resolves.toMatch(/calls: \d of 7 left this week/);

    // A's note reaches B live, shown as a note.
    await a.click('#note-add');
    await b.locator('.note', { hasText: 'Offered half now' }).waitFor({ timeout: 10_000 });
    expect(
      await gw.ctx.db.auditEvent.count({
        where: { action: { in: ['conversation.claim', 'conversation.reply', 'note.create'] }, actorId: ana.id },
      }),
    ).toBe(3);

    // A debtor who opted out of texts: the refusal and its reason are shown and nothing is sent.
    await gw.ctx.sandboxes!.twilio.simulateInboundSms({
      from: await phoneOf(olsen.phoneId!),
      to: gatewayNumber(),
      body: 'who is this',
    });
    await a.locator('.conv-item', { hasText: 'Olaf Olsen' }).click();
    await a.waitForSelector('#thread-title:text("Olaf Olsen")');
    await a.selectOption('#reply-channel', 'SMS');
    await a.click('#reply-send');
    const refusal = a.locator('#reply-refusal');
    await refusal.waitFor({ timeout: 10_000 }).catch(async (e) => {
      await a.screenshot({ path: path.join(ARTIFACTS, 'inbox-refusal-failed.png') });
      throw new Error(`${(e as Error).message}; composer says: ${await a.locator('#composer-notice').textContent()}`);
    });
    await expect(refusal.textContent()).resolves.toMatch(/consent\.revoked/);
    expect(await gw.ctx.db.message.count({ where: { debtorId: olsen.debtorId, direction: 'OUTBOUND' } })).toBe(0);
    await a.screenshot({ path: path.join(ARTIFACTS, 'inbox-refusal.png') });
  }, 120_000);

  it('the "mine" view lists only the conversations the agent holds', async () => {
    // The live list also filters: "mine" shows only what Ana holds.
    const a = await signIn(ana);
    await a.click('button[data-view="mine"]');
    await eventually(async () => (await a.locator('.conv-item').count()) === 1 || null, 10_000, 'mine filter');
    await expect(a.locator('.conv-item').first().textContent()).resolves.toContain('Maria Lopez');
  }, 60_000);
});
