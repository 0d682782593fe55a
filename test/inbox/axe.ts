// axe-core in the page under test: critical and serious violations fail the
// test, each named with its rule and the elements it found. The engine is
// evaluated through the DevTools protocol, which the page's CSP (no inline
// scripts) does not apply to; sandboxed email frames are not entered.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { ARTIFACTS } from '../support/browser.js';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe on the page as it is; returns the critical and serious violations (and writes all of them to test/artifacts). */
export async function axeViolations(page: Page, screen: string): Promise<AxeFinding[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run: (
            ctx: unknown,
            opts: unknown,
          ) => Promise<{
            violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
          }>;
        };
      }
    ).axe;
    const r = await axe.run(document, { iframes: false, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
    }));
  });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.writeFileSync(path.join(ARTIFACTS, `axe-${screen}.json`), JSON.stringify(result, null, 2));
  return result.filter((v) => v.impact === 'critical' || v.impact === 'serious');
}

/** Screenshots of the page at a phone's width (390) and a desktop's (1440), the viewport put back after. */
export async function screenshotsAt(page: Page, name: string): Promise<void> {
  const before = page.viewportSize();
  for (const width of [390, 1440]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${width}.png`) });
  }
  if (before) await page.setViewportSize(before);
}
