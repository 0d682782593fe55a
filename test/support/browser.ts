// Browser tests drive Debian's Chromium with playwright-core (no browser
// download at install). This holds what every browser test repeats: where the
// binary and the screenshots live, skipping when there is no Chromium, the
// launch flags, and signing in through the inbox's login form.
import fs from 'node:fs';
import path from 'node:path';
import { describe } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots for people to look at (git-ignored). */
export const ARTIFACTS = path.resolve('test/artifacts');
export const haveChromium = fs.existsSync(CHROMIUM);

/** `describe`, or `describe.skip` with a note on stderr when there is no Chromium to drive. */
export function describeInBrowser(what: string): typeof describe | typeof describe.skip {
  if (haveChromium) return describe;
  process.stderr.write(
    `skipping ${what}: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n`,
  );
  return describe.skip;
}

/** Headless Chromium without the background traffic (updates, sync) a test machine has no use for. */
export async function launchBrowser(): Promise<Browser> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface SignedInPage {
  page: Page;
  /** Uncaught errors the page threw; a test usually ends by expecting none. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** A fresh browser context signed in through the inbox's login form, waiting until its socket is live. */
export async function signIn(
  browser: Browser,
  gw: { url: string },
  who: { email: string; password: string },
  viewport = { width: 1400, height: 900 },
): Promise<SignedInPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(gw.url);
  await page.fill('#login-email', who.email);
  await page.fill('#login-password', who.password);
  await page.click('#login-submit');
  await page.waitForSelector('#conn:text("live")');
  return { page, pageErrors, close: () => context.close() };
}
