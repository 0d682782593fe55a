// Readable content in Chromium: an email's image and PDF attachments open
// behind the agent's session (and not without it), an HTML-only email shows
// its text and its sanitised HTML in a sandboxed frame with no remote
// content, quoted history is folded, a keypad-1 call raises a callback task
// in the queue; axe-core finds no critical or serious violation on sign-in,
// the open threads (email with attachments, call) and every admin tab.
import path from 'node:path';
import PDFDocument from 'pdfkit';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { startTestGateway, eventually, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api, seedDebtor } from '../support/api.js';
import { ARTIFACTS, CHROMIUM, describeInBrowser, launchBrowser, signIn as signInBrowser } from '../support/browser.js';
import { createAgent, type Agent } from './session.js';
import { axeViolations, screenshotsAt } from './axe.js';

// A 2×2 PNG (red, green, blue, white).
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
  'base64',
);

function pdfBytes(text: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument();
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.text(text);
    doc.end();
  });
}

describeInBrowser('the content browser test')('readable content, callbacks and accessibility in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let ana: Agent;
  let admin: Agent;
  const closers: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    gw = await startTestGateway({
      ADMIN_API_KEY: ADMIN_KEY,
      PROVIDERS: 'sandbox',
      TWILIO_AUTH_TOKEN: 'content-browser-twilio-token',
      LOB_WEBHOOK_SECRET: 'lob-webhook-secret-123',
    });
    ana = await createAgent(gw, 'AGENT', 'Ana');
    admin = await createAgent(gw, 'ADMIN', 'Ada');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const c of closers) await c.close().catch(() => undefined);
    await browser?.close();
    await gw?.close();
  });

  async function signIn(agent: Agent): Promise<Page> {
    const s = await signInBrowser(browser, gw, agent, { width: 1440, height: 900 });
    closers.push(s);
    s.page.on('pageerror', (err) => process.stderr.write(`page error (${agent.email}): ${err.message}\n`));
    s.page.setDefaultTimeout(15_000);
    return s.page;
  }
  const row = (page: Page, name: string) => page.locator('.conv-item', { hasText: name });

  it('the sign-in page has no critical or serious accessibility violation', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    closers.push(context);
    const page = await context.newPage();
    await page.goto(gw.url);
    await page.waitForSelector('#login-email');
    expect(await axeViolations(page, 'sign-in')).toEqual([]);
    await screenshotsAt(page, 'sign-in');
    expect(CHROMIUM).toBeTruthy();
  }, 30_000);

  it('opens an image and a PDF attachment; shows an HTML-only email as text and as sanitised HTML; folds quoted history', async () => {
    const s = await seedDebtor(gw, { fullName: 'Elsa Email' });
    const email = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.emailId! } })).value;
    const to = `statements@${gw.ctx.providers.email.inboundDomain}`;
    const pdf = await pdfBytes('Bank statement: paid 200.00 on 2026-11-02');
    await gw.ctx.sandboxes!.sendgrid.simulateInboundEmail({
      from: `Elsa Email <${email}>`,
      to,
      subject: 'Proof of payment',
      text: 'I paid part of it, see the receipt and the statement.\n\nOn Mon, Nov 2, 2026 at 9:00 AM Acme Collections <billing@acme.example> wrote:\n> Your balance of $1,250.00 is past due.\n> Pay online.',
      attachments: [
        { filename: 'receipt.png', contentType: 'image/png', content: PNG },
        { filename: 'statement.pdf', contentType: 'application/pdf', content: pdf },
      ],
    });
    await gw.ctx.sandboxes!.sendgrid.simulateInboundEmail({
      from: `Elsa Email <${email}>`,
      to,
      subject: 'Re: Proof of payment',
      html: '<html><head><style>p{color:red}</style><script>window.parent.hacked=1</script></head><body><p>Only <b>HTML</b> here: I can pay the rest on Friday.</p><img src="https://tracker.example/pixel.gif" alt="tracker"><blockquote class="gmail_quote">Earlier: your balance is past due.</blockquote></body></html>',
    });
    const conv = await eventually(
      () =>
        gw.ctx.db.conversation.findFirst({
          where: { debtorId: s.debtorId, messages: { some: { subject: 'Re: Proof of payment' } } },
        }),
      15_000,
      'both emails in the thread',
    );

    const page = await signIn(ana);
    await row(page, 'Elsa Email').click();
    await page.waitForSelector('#thread-title:text("Elsa Email")');
    const first = page.locator('.msg.INBOUND', { hasText: 'I paid part of it' });
    // Quoted history folded, not shown in full.
    await expect(first.locator('> .body').textContent()).resolves.toBe(
      'I paid part of it, see the receipt and the statement.',
    );
    expect(await first.locator('details.quoted').getAttribute('open')).toBeNull();
    // The image is shown inline, loaded through the agent's session.
    const img = first.locator('img.attachment-image');
    await img.waitFor();
    await page.waitForFunction(() => {
      const i = document.querySelector('img.attachment-image') as HTMLImageElement | null;
      return Boolean(i && i.complete && i.naturalWidth === 2);
    });
    // The PDF opens in a frame when asked for, and is the file that was sent.
    await first.locator('details.attachment-pdf summary').click();
    const frame = first.locator('iframe.pdf-frame');
    await frame.waitFor();
    const pdfUrl = await frame.getAttribute('src');
    const fetched = await page.evaluate(async (u) => {
      const r = await fetch(u!);
      return { status: r.status, type: r.headers.get('content-type'), bytes: (await r.arrayBuffer()).byteLength };
    }, pdfUrl);
    expect(fetched).toEqual({ status: 200, type: 'application/pdf', bytes: pdf.length });
    // Not without a session.
    expect((await fetch(`${gw.url}${pdfUrl}`)).status).toBe(401);

    // HTML only: its text in the thread, and the HTML in a frame that runs nothing and loads nothing remote.
    const second = page.locator('.msg.INBOUND', { hasText: 'Re: Proof of payment' });
    await expect(second.locator('> .body').textContent()).resolves.toContain(
      'Only HTML here: I can pay the rest on Friday.',
    );
    const emailFrame = second.locator('iframe.email-frame');
    await emailFrame.waitFor();
    expect(await emailFrame.getAttribute('sandbox')).toBe('');
    const html = await page.evaluate(
      async (u) => {
        const r = await fetch(u!);
        return { csp: r.headers.get('content-security-policy'), text: await r.text() };
      },
      await emailFrame.getAttribute('src'),
    );
    expect(html.csp).toMatch(/default-src 'none'/);
    expect(html.text).toContain('<b>HTML</b>');
    expect(html.text).not.toMatch(/<script|tracker\.example|color:red/);
    expect(html.text).toMatch(/<details><summary>Quoted text<\/summary>/);
    const inFrame = page.frameLocator('iframe.email-frame').locator('body');
    await expect(inFrame.textContent()).resolves.toContain('I can pay the rest on Friday.');
    expect(await page.evaluate(() => (window as unknown as { hacked?: number }).hacked)).toBeUndefined();

    expect(await axeViolations(page, 'thread-email')).toEqual([]);
    await screenshotsAt(page, 'thread-email');
    expect(conv.id).toBeTruthy();
  }, 90_000);

  it('a keypad-1 call becomes a callback task in the queue, shown on the call with its keypresses', async () => {
    const s = await seedDebtor(gw, { fullName: 'Carl Caller' });
    const phone = (await gw.ctx.db.contactPoint.findUniqueOrThrow({ where: { id: s.phoneId! } })).value;
    gw.ctx.sandboxes!.twilio.setCallScript(phone, { answer: 'human', digits: ['1'] });
    const r = await api(gw).post('/api/v1/outreach', {
      debtorId: s.debtorId,
      debtId: s.debtId,
      intent: 'past-due-notice',
      channel: 'VOICE',
    });
    expect(r.status).toBe(202);
    const task = await eventually(
      () =>
        gw.ctx.db.inboxTask.findFirst({
          where: { conversation: { debtorId: s.debtorId }, kind: 'callback', doneAt: null },
        }),
      20_000,
      'callback task',
    );
    expect(task.source).toBe('voice:keypad-1');

    const page = await signIn(ana);
    await page.click('button[data-view="callbacks"]');
    await row(page, 'Carl Caller').waitFor();
    await expect(row(page, 'Carl Caller').textContent()).resolves.toMatch(/callback/);
    await row(page, 'Carl Caller').click();
    await page.waitForSelector('#thread-title:text("Carl Caller")');
    await expect(page.locator('.task').textContent()).resolves.toMatch(/Callback requested \(keypad 1 on a call\)/);
    await page.locator('.call .keypresses', { hasText: '1 (speak to an agent)' }).waitFor();
    expect(await axeViolations(page, 'thread-call')).toEqual([]);
    await screenshotsAt(page, 'thread-call');
    await page.click('.task-done');
    await page.locator('.task').waitFor({ state: 'detached' });
    expect((await gw.ctx.db.inboxTask.findUniqueOrThrow({ where: { id: task.id } })).doneAt).not.toBeNull();
    expect(
      (await gw.ctx.db.conversation.findUniqueOrThrow({ where: { id: task.conversationId } })).flags,
    ).not.toContain('CALLBACK_REQUEST');
  }, 90_000);

  it('every admin tab has no critical or serious accessibility violation', async () => {
    const page = await signIn(admin);
    for (const tab of ['users', 'imports', 'campaigns', 'api-keys', 'providers']) {
      await page.goto(`${gw.url}/admin.html#${tab}`);
      await page.waitForSelector(`#tab-${tab}.active`);
      await page.waitForLoadState('networkidle');
      const found = await axeViolations(page, `admin-${tab}`);
      expect({ tab, found }).toEqual({ tab, found: [] });
      await screenshotsAt(page, `admin-${tab}`);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-last.png') });
  }, 90_000);
});
