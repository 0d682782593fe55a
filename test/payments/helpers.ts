// Driving the debtor page and the Stripe sandbox's hosted checkout from tests.
import { expect } from '@jest/globals';
import { eventually, type TestGateway } from '../support/gateway.js';
import { api, seedDebtor, type SeededDebtor } from '../support/api.js';
import { paymentSandboxes } from '../../src/payments/module.js';
import { PageClient } from '../portal/client.js';

export const stripeSandbox = (gw: TestGateway) => paymentSandboxes(gw.ctx).stripe!;

/** A debtor whose page is opened by postcode (the creditor allows it), verified, with its client. */
export async function verifiedDebtor(
  gw: TestGateway,
  debt: Record<string, unknown> = {},
): Promise<{ s: SeededDebtor; page: PageClient; path: string }> {
  const s = await seedDebtor(gw, {}, debt);
  const set = await api(gw).put('/api/v1/creditors/acme/portal-settings', {
    verification: ['postcode'],
    plans: { maxInstalments: 6, minInstalment: '10.00', intervalDays: 30, maxFailedCharges: 2, retryDays: 3 },
  });
  expect(set.status).toBe(200);
  const { portalUrl } = await import('../../src/portal/links.js');
  const link = portalUrl(gw.ctx, {
    debtorId: s.debtorId,
    debtId: s.debtId,
    contactPointId: s.phoneId!,
    now: new Date(),
  });
  const path = new URL(link).pathname;
  const page = new PageClient(gw.url);
  await page.get(path);
  await page.post(`${path}/verify`, { method: 'postcode', value: '60606' });
  expect(page.html).toContain('Your account with');
  return { s, page, path };
}

/** Submits the sandbox's hosted checkout page with a card; returns where the browser is sent next. */
export async function payOnCheckout(
  checkoutUrl: string,
  card: string,
): Promise<{ status: number; location: string | null; html: string }> {
  const res = await fetch(checkoutUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ card }),
    redirect: 'manual',
  });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

export async function paymentsOf(gw: TestGateway, debtId: string) {
  return gw.ctx.db.payment.findMany({ where: { debtId }, orderBy: { createdAt: 'asc' } });
}

export const waitFor = eventually;
