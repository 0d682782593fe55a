// The admin campaigns tab in a real browser (Debian's Chromium driven by
// playwright-core): an admin sees the API's field errors next to the form,
// creates a one-step SMS campaign over debts seeded through the API, starts it
// and watches the per-step counts move live (socket events, no reload) until
// the texts are delivered; a reply shows up live too; the CSV export matches.
// A second campaign goes through pause, resume and cancel with the buttons
// its status offers.
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor, type SeededDebtor } from '../support/api.js';
import { ARTIFACTS, describeInBrowser, launchBrowser, signIn, type SignedInPage } from '../support/browser.js';
import { createAgent, type Agent } from '../inbox/session.js';

const TAG = 'browser-wave';

describeInBrowser('the admin campaigns browser test')('admin campaigns tab in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Agent;
  let session: SignedInPage;
  let page: Page;
  const consenting: SeededDebtor[] = [];
  let optedOut: SeededDebtor;

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'campaigns-browser-twilio-token',
    });
    admin = await createAgent(gw, 'ADMIN', 'Cam');
    // The audience: three debts carrying the tag; one debtor has revoked SMS consent. One debt outside the audience.
    for (const name of ['Ava Archer', 'Ben Baker'])
      consenting.push(await seedDebtor(gw, { fullName: name }, { tags: [TAG] }));
    optedOut = await seedDebtor(gw, { fullName: 'Otis Optout' }, { tags: [TAG] });
    expect(
      (await api(gw).patch(`/api/v1/contact-points/${optedOut.phoneId}`, { consents: { SMS: 'REVOKED' } })).status,
    ).toBe(200);
    await seedDebtor(gw, { fullName: 'Nell Notinit' }, { tags: ['other'] });
    browser = await launchBrowser();
    session = await signIn(browser, gw, admin);
    page = session.page;
    await page.goto(`${gw.url}/admin.html#campaigns`);
    await page.waitForSelector('#campaigns-form', { state: 'attached' });
  }, 60_000);
  afterAll(async () => {
    await session?.close();
    await browser?.close();
    await gw?.close();
  });

  const cell = (step: string, key: string) =>
    page.locator(`#campaigns-results tr[data-step="${step}"] td[data-k="${key}"]`);
  /** The count in a results cell (cells with reasons list them below the count). */
  const firstNumber = async (step: string, key: string) =>
    Number(await cell(step, key).evaluate((td) => td.firstChild?.textContent ?? ''));

  async function fillCampaign(
    name: string,
    step: { channel?: string; offsetDays?: string; from?: string; to?: string },
    throttleSms: string,
  ) {
    if (!(await page.locator('#campaigns-new').evaluate((d) => (d as HTMLDetailsElement).open)))
      await page.click('#campaigns-new-toggle');
    await page.fill('#campaigns-name', name);
    await page.fill('#campaigns-tags', TAG);
    await page.fill('#campaigns-dpd-min', '1');
    await page.fill('#campaigns-step-0-offset', step.offsetDays ?? '0');
    await page.selectOption('#campaigns-step-0-intent', 'past-due-notice');
    await page.selectOption('#campaigns-step-0-channel', step.channel ?? 'SMS');
    await page.fill('#campaigns-step-0-from', step.from ?? '');
    await page.fill('#campaigns-step-0-to', step.to ?? '');
    await page.fill('#campaigns-throttle-SMS', throttleSms);
  }

  it('shows the API’s field errors next to the form and creates nothing', async () => {
    await fillCampaign('Backwards window', { from: '18:00', to: '09:00' }, '0');
    await page.click('#campaigns-create');
    const windowError = page.locator('[data-error-for="steps.0.window.to"] .error');
    await windowError.waitFor({ timeout: 10_000 });
    await expect(windowError.textContent()).resolves.toBe('from must be before to (same day)');
    await expect(page.locator('[data-error-for="throttle.SMS"] .error').textContent()).resolves.toBe(
      'must be at least 1 per minute',
    );
    await expect(page.locator('#campaigns-throttle-SMS').getAttribute('aria-invalid')).resolves.toBe('true');
    const listed = await page
      .locator('#campaigns-form-errors li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-field')).sort());
    expect(listed).toEqual(['steps.0.window.to', 'throttle.SMS']);
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-campaigns-errors.png'), fullPage: true });
    expect(await gw.ctx.db.campaign.count()).toBe(0);
  }, 30_000);

  it('creates a one-step SMS campaign, starts it, and the counts move live to delivered', async () => {
    // The corrected form: no window, a real throttle; the earlier errors go away on submit.
    await fillCampaign('November SMS wave', {}, '60');
    await page.click('#campaigns-create');
    await page.waitForSelector('#campaigns-detail-name:text("November SMS wave")', { timeout: 10_000 });
    await expect(page.locator('#campaigns-form-errors li').count()).resolves.toBe(0);
    await expect(page.locator('#campaigns-detail-status').textContent()).resolves.toBe('DRAFT');
    await expect(page.locator('#campaigns-pause').count()).resolves.toBe(0);
    const stored = await gw.ctx.db.campaign.findFirstOrThrow({
      where: { name: 'November SMS wave' },
      include: { steps: true },
    });
    expect(stored).toMatchObject({
      status: 'DRAFT',
      audience: { tags: [TAG], daysPastDue: { min: 1 } },
      throttle: { SMS: 60 },
      stopConditions: ['PAID', 'PROMISE', 'DISPUTE', 'CEASE', 'OPTED_OUT_ALL'],
    });
    expect(stored.steps).toMatchObject([
      { position: 1, offsetDays: 0, anchor: 'ENROLLMENT', intent: 'past-due-notice', channel: 'SMS', window: null },
    ]);
    await expect(
      page.locator(`#campaigns-rows tr[data-campaign="${stored.id}"] .campaigns-row-status`).textContent(),
    ).resolves.toBe('DRAFT');
    // The draft's preview: the three debts the start below enrols.
    await page.locator('#campaigns-preview-count:text("3 debt(s)")').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-campaigns-preview.png'), fullPage: true });

    // From here on the page is never reloaded: this marker would vanish with a new document.
    await page.evaluate(() => {
      (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    await page.click('#campaigns-start');
    await page.locator('#campaigns-enrolled:text("3")').waitFor({ timeout: 20_000 });
    await page
      .locator('#campaigns-results tr[data-step="1"] td[data-k="delivered"]:text("2")')
      .waitFor({ timeout: 30_000 });
    // One step and nothing left to plan: the campaign completes, and the status changes on screen.
    await page.locator('#campaigns-detail-status:text("COMPLETED")').waitFor({ timeout: 30_000 });
    expect(await firstNumber('1', 'runs')).toBe(3);
    expect(await firstNumber('1', 'queued')).toBe(2);
    expect(await firstNumber('1', 'sent')).toBe(2);
    expect(await firstNumber('1', 'failed')).toBe(0);
    // The debtor without SMS consent is not texted, and the reason is shown.
    const notSent = (await firstNumber('1', 'refused')) + (await firstNumber('1', 'suppressed'));
    expect(notSent).toBe(1);
    await expect(
      page.locator('#campaigns-results tr[data-step="1"] .campaigns-reasons').allTextContents(),
    ).resolves.toEqual([expect.stringMatching(/\w+ 1$/)]);
    await expect(
      page.locator('#campaigns-start, #campaigns-pause, #campaigns-resume, #campaigns-cancel').count(),
    ).resolves.toBe(0);
    // The list row carries the same headline counts.
    const row = page.locator(`#campaigns-rows tr[data-campaign="${stored.id}"]`);
    await expect(row.locator('.campaigns-row-enrolled').textContent()).resolves.toBe('3');
    await row.locator('.campaigns-row-delivered:text("2")').waitFor({ timeout: 10_000 });
    await expect(row.locator('.campaigns-row-status').textContent()).resolves.toBe('COMPLETED');

    // What the page shows is what was stored.
    const messages = await gw.ctx.db.message.findMany({ where: { campaignId: stored.id } });
    expect(messages.map((m) => [m.channel, m.status])).toEqual([
      ['SMS', 'DELIVERED'],
      ['SMS', 'DELIVERED'],
    ]);
    expect(new Set(messages.map((m) => m.debtorId))).toEqual(new Set(consenting.map((d) => d.debtorId)));

    // A reply arriving from outside the page is counted live.
    expect(await firstNumber('1', 'replied')).toBe(0);
    const phone = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: consenting[0]!.phoneId! } })).value;
    await gw.ctx.sandboxes!.twilio.simulateInboundSms({
      from: phone,
      to: gw.ctx.providers.twilio.from,
      body: 'I can pay half on Friday',
    });
    await page
      .locator('#campaigns-results tr[data-step="1"] td[data-k="replied"]:text("1")')
      .waitFor({ timeout: 15_000 });
    await row.locator('.campaigns-row-replied:text("1")').waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-campaigns.png'), fullPage: true });

    // The CSV export link: one row for the step and a total row, with the same numbers.
    const href = await page.locator('#campaigns-csv').getAttribute('href');
    const csv = await page.request.get(`${gw.url}${href}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');
    const [header, ...lines] = (await csv.text()).trim().split('\n');
    const columns = header!.split(',');
    const records = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [columns[i], v])));
    expect(records.map((r) => [r.step, r.intent, r.channel, r.runs, r.sent, r.delivered, r.replied])).toEqual([
      ['1', 'past-due-notice', 'SMS', '3', '2', '2', '1'],
      ['total', '', '', '3', '2', '2', '1'],
    ]);
    expect(records[1]!.enrolled).toBe('3');
  }, 90_000);

  it('offers pause, resume and cancel according to the status', async () => {
    // A step five days out: enrolled now, nothing due yet, so the campaign stays active.
    await fillCampaign('Later reminder', { offsetDays: '5', channel: '' }, '');
    await page.click('#campaigns-create');
    await page.waitForSelector('#campaigns-detail-name:text("Later reminder")', { timeout: 10_000 });
    const id = (await gw.ctx.db.campaign.findFirstOrThrow({ where: { name: 'Later reminder' } })).id;
    await page.click('#campaigns-start');
    await page.locator('#campaigns-detail-status:text("ACTIVE")').waitFor({ timeout: 10_000 });
    await page.locator('#campaigns-enrolled:text("3")').waitFor({ timeout: 20_000 });
    await expect(page.locator('.campaigns-actions button').allTextContents()).resolves.toEqual([
      'Pause',
      'Cancel campaign',
    ]);

    await page.click('#campaigns-pause');
    await page.locator('#campaigns-detail-status:text("PAUSED")').waitFor({ timeout: 10_000 });
    await expect(page.locator('.campaigns-actions button').allTextContents()).resolves.toEqual([
      'Resume',
      'Cancel campaign',
    ]);
    expect((await gw.ctx.db.campaign.findUniqueOrThrow({ where: { id } })).status).toBe('PAUSED');

    await page.click('#campaigns-resume');
    await page.locator('#campaigns-detail-status:text("ACTIVE")').waitFor({ timeout: 10_000 });

    // Cancelling asks first; declining changes nothing.
    page.once('dialog', (d) => void d.dismiss());
    await page.click('#campaigns-cancel');
    expect((await gw.ctx.db.campaign.findUniqueOrThrow({ where: { id } })).status).toBe('ACTIVE');
    await expect(page.locator('#campaigns-detail-status').textContent()).resolves.toBe('ACTIVE');
    page.once('dialog', (d) => void d.accept());
    await page.click('#campaigns-cancel');
    await page.locator('#campaigns-detail-status:text("CANCELLED")').waitFor({ timeout: 10_000 });
    await page.locator('#campaigns-stopped:text("3")').waitFor({ timeout: 10_000 });
    await expect(page.locator('.campaigns-actions button').count()).resolves.toBe(0);
    expect((await gw.ctx.db.campaign.findUniqueOrThrow({ where: { id } })).status).toBe('CANCELLED');
    expect(
      await gw.ctx.db.campaignEnrollment.count({
        where: { campaignId: id, status: 'STOPPED', stopReason: 'CANCELLED' },
      }),
    ).toBe(3);
    await expect(
      page.locator(`#campaigns-rows tr[data-campaign="${id}"] .campaigns-row-status`).textContent(),
    ).resolves.toBe('CANCELLED');
    expect(session.pageErrors).toEqual([]);
  }, 60_000);
});
