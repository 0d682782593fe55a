// Proving who is at the debtor's page before anything about a debt is shown
// (a link can reach the wrong person: Reg F §1006.6(d), FCA CONC 7.9).
// Two kinds of proof, as the creditor configures (settings.ts):
// - a one-time code sent to the contact point the link went to, through the
//   gateway's own outbound path (router, outbox, provider — so consent and
//   suppression apply, and the sandboxes deliver it);
// - a fact on file: date of birth, postcode, account reference.
// Failures are counted per debtor by one UPDATE … RETURNING under the row's
// lock, so parallel guesses cannot pass the limit; at the limit the page is
// locked for the creditor's lock time. Every attempt is audited.
import { createHash, randomInt } from 'node:crypto';
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { requestOutreach } from '../outbound/service.js';
import type { PortalSettings, VerificationMethod } from './settings.js';

export const CODE_TTL_MS = 10 * 60_000;
/** A new code no sooner than this after the last one (a button pressed twice sends one). */
export const CODE_RESEND_MS = 60_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** The code is hashed with the debtor's id, so equal codes of two debtors never share a hash. */
const codeHash = (debtorId: string, code: string) => sha256(`portal-code:v1:${debtorId}:${code}`);

export type AttemptOutcome =
  | { ok: true }
  | { ok: false; locked: false; left: number }
  | { ok: false; locked: true; until: Date };

async function ensureRow(ctx: AppContext, debtorId: string): Promise<void> {
  await ctx.db
    .$executeRaw`INSERT INTO portal_access (debtor_id, updated_at) VALUES (${debtorId}::uuid, now()) ON CONFLICT (debtor_id) DO NOTHING`;
}

/** When the page is locked for this debtor, until when; else null. */
export async function lockedUntil(ctx: AppContext, debtorId: string, now: Date): Promise<Date | null> {
  const row = await ctx.db.portalAccess.findUnique({ where: { debtorId }, select: { lockedUntil: true } });
  return row?.lockedUntil && row.lockedUntil > now ? row.lockedUntil : null;
}

/**
 * Records one attempt atomically. `ok` is known beforehand for a fact; for a
 * code it is decided inside the statement (hash and expiry), so a code is used
 * once: a success clears it. A lock that has run out starts a fresh count.
 */
async function recordAttempt(
  ctx: AppContext,
  debtorId: string,
  settings: PortalSettings,
  now: Date,
  check: { ok: boolean } | { codeHash: string },
): Promise<AttemptOutcome> {
  await ensureRow(ctx, debtorId);
  const okSql = 'ok' in check ? (check.ok ? 'true' : 'false') : `(code_hash = $5 AND code_expires_at > $2)`;
  const rows = await ctx.db.$queryRawUnsafe<
    { ok: boolean; failed_attempts: number; locked_until: Date | null; was_locked: boolean }[]
  >(
    `WITH cur AS (SELECT debtor_id, locked_until IS NOT NULL AND locked_until > $2 AS was_locked,
         CASE WHEN locked_until IS NOT NULL AND locked_until <= $2 THEN 0 ELSE failed_attempts END AS failed,
         ${okSql} AS ok
       FROM portal_access WHERE debtor_id = $1::uuid FOR UPDATE)
     UPDATE portal_access p SET
       failed_attempts = CASE WHEN cur.was_locked THEN p.failed_attempts WHEN cur.ok THEN 0 ELSE cur.failed + 1 END,
       locked_until = CASE WHEN cur.was_locked THEN p.locked_until WHEN cur.ok THEN NULL
                           WHEN cur.failed + 1 >= $3 THEN $2::timestamptz + make_interval(mins => $4) ELSE NULL END,
       code_hash = CASE WHEN cur.ok AND NOT cur.was_locked THEN NULL ELSE p.code_hash END,
       updated_at = $2
     FROM cur WHERE p.debtor_id = cur.debtor_id
     RETURNING cur.ok AND NOT cur.was_locked AS ok, p.failed_attempts, p.locked_until, cur.was_locked`,
    debtorId,
    now,
    settings.maxFailedAttempts,
    settings.lockMinutes,
    ...('codeHash' in check ? [check.codeHash] : []),
  );
  const r = rows[0]!;
  if (r.ok) return { ok: true };
  if (r.locked_until && r.locked_until > now) return { ok: false, locked: true, until: r.locked_until };
  return { ok: false, locked: false, left: Math.max(0, settings.maxFailedAttempts - r.failed_attempts) };
}

/** Digits and letters only, lower-cased: "SW1A 1AA" and "sw1a1aa" are one postcode. */
const folded = (s: string) =>
  s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');

/** Whether the given fact matches what is on file (false when nothing is on file: no proof). */
async function factMatches(
  ctx: AppContext,
  debtorId: string,
  debtId: string,
  method: Exclude<VerificationMethod, 'code'>,
  value: string,
): Promise<boolean> {
  const given = folded(value);
  if (!given || given.length > 100) return false;
  if (method === 'date_of_birth') {
    const d = await ctx.db.debtor.findUnique({ where: { id: debtorId }, select: { dateOfBirth: true } });
    return !!d?.dateOfBirth && folded(d.dateOfBirth.toISOString().slice(0, 10)) === given;
  }
  if (method === 'postcode') {
    const points = await ctx.db.contactPoint.findMany({
      where: { debtorId, kind: 'ADDRESS', postalCode: { not: null } },
      select: { postalCode: true },
    });
    // A US ZIP+4 on file also matches its five digits.
    return points.some((p) => {
      const f = folded(p.postalCode!);
      return f === given || (/^\d{9}$/.test(f) && f.slice(0, 5) === given);
    });
  }
  const debt = await ctx.db.debt.findUnique({ where: { id: debtId }, select: { externalRef: true } });
  return !!debt && folded(debt.externalRef) === given;
}

export interface VerifyInput {
  debtorId: string;
  debtId: string;
  method: VerificationMethod;
  value: string;
  ip?: string;
}

export async function verifyIdentity(
  ctx: AppContext,
  settings: PortalSettings,
  input: VerifyInput,
  now: Date,
): Promise<AttemptOutcome> {
  let outcome: AttemptOutcome;
  if (!settings.verification.includes(input.method))
    outcome = await recordAttempt(ctx, input.debtorId, settings, now, { ok: false });
  else if (input.method === 'code') {
    const code = input.value.replace(/\s+/g, '');
    outcome = await recordAttempt(ctx, input.debtorId, settings, now, {
      codeHash: /^\d{6}$/.test(code) ? codeHash(input.debtorId, code) : 'x'.repeat(64),
    });
  } else {
    const ok = await factMatches(ctx, input.debtorId, input.debtId, input.method, input.value);
    outcome = await recordAttempt(ctx, input.debtorId, settings, now, { ok });
  }
  await audit(
    ctx.db,
    { type: 'debtor', id: input.debtorId },
    {
      action: outcome.ok ? 'portal.verify.succeeded' : outcome.locked ? 'portal.verify.locked' : 'portal.verify.failed',
      entityType: 'debtor',
      entityId: input.debtorId,
      data: {
        method: input.method,
        debtId: input.debtId,
        ...(outcome.ok
          ? {}
          : outcome.locked
            ? { lockedUntil: outcome.until.toISOString() }
            : { attemptsLeft: outcome.left }),
      },
    },
    ipRequest(input.ip),
  );
  return outcome;
}

/** audit() reads the request's ip and id; the page passes only the ip. */
const ipRequest = (ip?: string) => (ip ? ({ ip, id: '' } as unknown as import('express').Request) : undefined);

export type SendCodeOutcome =
  | { sent: true; to: string }
  | { sent: false; reason: 'unavailable' | 'too_soon' | 'refused' | 'locked' };

/** "+1 ••• ••• 0142", "j•••@example.net": enough for the visitor to know where to look, too little to learn the address. */
export function maskAddress(kind: string, value: string): string {
  if (kind === 'EMAIL') {
    const [local = '', domain = ''] = value.split('@');
    return `${local.slice(0, 1)}•••@${domain}`;
  }
  return `••• ${value.slice(-4)}`;
}

/**
 * Sends a fresh code to the contact point the link went to (SMS to a phone,
 * email to an address); a letter's link has no such point, and the visitor
 * proves a fact instead. The code goes out as the reply to the debtor's own
 * request (the router's reply exception: once, on that medium, at once) and
 * does not count as a collection attempt.
 */
export async function sendCode(
  ctx: AppContext,
  link: { debtorId: string; debtId: string; contactPointId: string },
  now: Date,
  ip?: string,
): Promise<SendCodeOutcome> {
  const cp = await ctx.db.contactPoint.findFirst({
    where: { id: link.contactPointId, debtorId: link.debtorId },
    select: { id: true, kind: true, value: true, isMobile: true },
  });
  if (!cp || cp.kind === 'ADDRESS') return { sent: false, reason: 'unavailable' };
  if (await lockedUntil(ctx, link.debtorId, now)) return { sent: false, reason: 'locked' };
  await ensureRow(ctx, link.debtorId);
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  // Claims the send: only one request per resend interval gets a row back.
  const claimed = await ctx.db.$queryRaw<{ debtor_id: string }[]>`
    UPDATE portal_access SET code_hash = ${codeHash(link.debtorId, code)}, code_contact_point_id = ${cp.id}::uuid,
      code_expires_at = ${new Date(now.getTime() + CODE_TTL_MS)}, code_sent_at = ${now}, updated_at = ${now}
    WHERE debtor_id = ${link.debtorId}::uuid AND (code_sent_at IS NULL OR code_sent_at <= ${new Date(now.getTime() - CODE_RESEND_MS)})
    RETURNING debtor_id::text`;
  if (!claimed.length) return { sent: false, reason: 'too_soon' };
  const channel = cp.kind === 'EMAIL' ? 'EMAIL' : 'SMS';
  const r = await requestOutreach(
    ctx,
    {
      debtorId: link.debtorId,
      debtId: link.debtId,
      intent: 'verification-code',
      channel,
      vars: { verificationCode: code },
      replyTo: { channel, receivedAt: now, contactPointId: cp.id },
    },
    { type: 'system', id: 'portal' },
  );
  const sent = r.outcome !== 'refuse';
  if (sent) await ctx.db.message.update({ where: { id: r.messageId }, data: { countsAsAttempt: false } });
  else
    await ctx.db.portalAccess.update({
      where: { debtorId: link.debtorId },
      data: { codeHash: null, codeSentAt: null },
    });
  await audit(
    ctx.db,
    { type: 'debtor', id: link.debtorId },
    {
      action: sent ? 'portal.code.sent' : 'portal.code.refused',
      entityType: 'debtor',
      entityId: link.debtorId,
      data: {
        channel,
        contactPointId: cp.id,
        debtId: link.debtId,
        ...(sent ? { messageId: r.messageId } : { reasons: r.decision.reasons.map((x) => x.rule) }),
      },
    },
    ipRequest(ip),
  );
  return sent ? { sent: true, to: maskAddress(cp.kind, cp.value) } : { sent: false, reason: 'refused' };
}
