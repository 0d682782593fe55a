// The debtor page's links: one per debtor, debt and contact point the message
// went to, signed and expiring. The token carries the debt, the contact point
// and the expiry; the MAC also covers the debtor, so a link stops opening
// anything if the debt is ever moved to another debtor, and no edit of the
// token names another debtor's debt. The key is derived from the one app
// secret with its own purpose label (a key leaked from another use forges
// nothing here).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../context.js';
import { derivedKey } from '../secrets.js';

/** How long a link in a message keeps opening the page. */
export const PORTAL_LINK_TTL_DAYS = 45;

const linkKey = (secret: string) => derivedKey(secret, 'dunning-gateway/portal-link/v1');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const uuidBytes = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex');
const uuidOf = (b: Buffer) => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export interface PortalLink {
  debtorId: string;
  debtId: string;
  /** Where the message carrying the link went: the one-time code goes there too. */
  contactPointId: string;
  /** Unix seconds. */
  expiresAt: number;
}

function mac(secret: string, l: PortalLink): Buffer {
  return createHmac('sha256', linkKey(secret))
    .update(
      `portal-link:v1:${l.debtorId.toLowerCase()}:${l.debtId.toLowerCase()}:${l.contactPointId.toLowerCase()}:${l.expiresAt}`,
    )
    .digest()
    .subarray(0, 12);
}

export function portalToken(secret: string, link: PortalLink): string {
  for (const id of [link.debtorId, link.debtId, link.contactPointId])
    if (!UUID.test(id)) throw new Error('portal link ids must be UUIDs');
  const exp = Buffer.alloc(4);
  exp.writeUInt32BE(link.expiresAt);
  return `${Buffer.concat([uuidBytes(link.debtId), uuidBytes(link.contactPointId), exp]).toString('base64url')}.${mac(secret, link).toString('base64url')}`;
}

export type TokenCheck = { ok: true; link: PortalLink } | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

/**
 * Reads a token without trusting it: `debtorOf` looks up the debt's debtor
 * (null when there is no such debt), and only a MAC over that debtor passes.
 * An expired link is told apart from a forged one only after its MAC checks.
 */
export async function checkPortalToken(
  secret: string,
  token: string,
  debtorOf: (debtId: string) => Promise<string | null>,
  now = Date.now(),
): Promise<TokenCheck> {
  const m = /^([A-Za-z0-9_-]{48})\.([A-Za-z0-9_-]{16})$/.exec(token);
  if (!m) return { ok: false, reason: 'malformed' };
  const raw = Buffer.from(m[1]!, 'base64url');
  if (raw.length !== 36) return { ok: false, reason: 'malformed' };
  const debtId = uuidOf(raw.subarray(0, 16));
  const contactPointId = uuidOf(raw.subarray(16, 32));
  const expiresAt = raw.readUInt32BE(32);
  const debtorId = await debtorOf(debtId);
  if (!debtorId) return { ok: false, reason: 'forged' };
  const link = { debtorId, debtId, contactPointId, expiresAt };
  const given = Buffer.from(m[2]!, 'base64url');
  const expected = mac(secret, link);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'forged' };
  if (expiresAt * 1000 < now) return { ok: false, reason: 'expired' };
  return { ok: true, link };
}

/** The gateway's own debtor page for this debt, as sent to this contact point. */
export function portalUrl(
  ctx: AppContext,
  opts: { debtorId: string; debtId: string; contactPointId: string; now: Date },
): string {
  const expiresAt = Math.floor(opts.now.getTime() / 1000) + PORTAL_LINK_TTL_DAYS * 86_400;
  return `${ctx.publicBaseUrl}/pay/${portalToken(ctx.secret, { debtorId: opts.debtorId, debtId: opts.debtId, contactPointId: opts.contactPointId, expiresAt })}`;
}

/**
 * An external portal (PAYMENT_LINK_BASE) gets the debt's id as `?debt=<id>`,
 * added to whatever query the base already has, as .env.example documents.
 */
export function externalPortalUrl(base: string, debtId: string): string {
  const url = new URL(base);
  url.searchParams.set('debt', debtId);
  return url.toString();
}
