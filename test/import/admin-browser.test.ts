// The admin imports tab in a real browser (Debian's Chromium driven by
// playwright-core): an admin uploads a CSV with good and bad rows, watches the
// counters move live over socket.io until the job is done, and reads the
// rejected rows with their line, field and reason.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY } from '../support/api.js';
import { ARTIFACTS, describeInBrowser, launchBrowser, signIn } from '../support/browser.js';
import { createAgent, type Agent } from '../inbox/session.js';
import { syntheticCsv } from '../../src/import/bench.js';

const ROWS = 12_000;
const BAD_EVERY = 600; // rows 600, 1200, … carry an impossible due date
const BAD = Math.floor(ROWS / BAD_EVERY);

describeInBrowser('the imports browser test')('admin imports tab in a browser', () => {
  let gw: TestGateway;
  let browser: Browser;
  let admin: Agent;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-import-browser-'));

  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY, DATA_DIR: path.join(dir, 'data') });
    admin = await createAgent(gw, 'ADMIN', 'Ida');
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a CSV, shows progress live to done, and lists the bad rows', async () => {
    const file = path.join(dir, 'debtors-november.csv');
    fs.writeFileSync(file, [...syntheticCsv(ROWS, { prefix: 'WB', badEvery: BAD_EVERY })].join(''));

    const { page, pageErrors, close } = await signIn(browser, gw, admin);
    await page.goto(`${gw.url}/admin.html#imports`);
    await page.waitForSelector('#imports-form');
    await expect(page.locator('#imports-format summary').textContent()).resolves.toContain('CSV');

    // Every value the "rows done" counter takes, to tell live progress from a final reload.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __rowsSeen: string[] }).__rowsSeen = seen;
      const el = document.getElementById('imports-live-rows')!;
      new MutationObserver(() => seen.push(el.textContent ?? '')).observe(el, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });

    await page.setInputFiles('#imports-file', file);
    await page.click('#imports-upload');
    await page.waitForSelector('#imports-live-title:text("debtors-november.csv")', { timeout: 15_000 });
    await page.waitForSelector('#imports-live-status:text("SUCCEEDED")', { timeout: 50_000 });

    await expect(page.locator('#imports-live-rows').textContent()).resolves.toBe(String(ROWS));
    await expect(page.locator('#imports-live-failed').textContent()).resolves.toBe(String(BAD));
    expect(Number(await page.locator('#imports-live-rate').textContent())).toBeGreaterThan(0);
    const seen = await page.evaluate(() => (window as unknown as { __rowsSeen: string[] }).__rowsSeen.map(Number));
    expect(seen.some((n) => n > 0 && n < ROWS)).toBe(true); // intermediate counts arrived over the socket

    // The rejected rows: line (the header is line 1), field, reason — each once.
    const rows = page.locator('#imports-errors tr');
    await expect(rows.count()).resolves.toBe(BAD);
    const firstCells = await rows.first().locator('td').allTextContents();
    expect(firstCells[0]).toBe(String(BAD_EVERY + 1));
    expect(firstCells[1]).toBe('due_date');
    expect(firstCells[2]!.length).toBeGreaterThan(3);
    const lines = (await page.locator('#imports-errors tr td:first-child').allTextContents()).map(Number);
    expect(lines).toEqual(Array.from({ length: BAD }, (_, i) => (i + 1) * BAD_EVERY + 1));

    // The job is in the list of past imports, finished, and the stored data matches.
    const listed = page.locator('#imports-jobs tr', { hasText: 'debtors-november.csv' });
    await expect(listed.locator('.imports-job-status').textContent()).resolves.toBe('SUCCEEDED');
    expect(await gw.ctx.db.debtor.count({ where: { externalRef: { startsWith: 'WB-' } } })).toBe(ROWS - BAD);
    await page.screenshot({ path: path.join(ARTIFACTS, 'admin-imports.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await close();
  });
});
