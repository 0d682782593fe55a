// Consent changes that come from the consumer: STOP/START texts, free-text
// revocations, unsubscribe links, keypad 9 on a call, spam reports and
// carrier opt-out errors (at send time or in a status callback). This is the
// one place they are made: each change is recorded on the contact point's
// channel consent, on the debtor's timeline and in the audit log, and an
// opt-out is announced to outgoing-webhook subscribers (opt_out.recorded).
// Both directions change consent (inbound: replies and callbacks; outbound: a
// carrier refusal at send time, keypad 9 on a call), so it sits below both.
import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../context.js';
import type { Channel, ConsentState } from '../generated/prisma/enums.js';
import { audit } from '../audit.js';
import { appendEvent, ensureConversation } from '../conversations/thread.js';
import { emitOutgoingEvent } from '../webhooks-out/service.js';
import { addFlags, inThread, setConsent, type Tx, type TxOutcome } from './thread-writer.js';

export interface ConsentChange {
  /** Set to announce opt-outs to outgoing-webhook subscribers (inside the same transaction). */
  ctx?: AppContext;
  contactPointIds: string[];
  channel: Channel;
  state: ConsentState;
  source: string;
  /** Timeline the change is shown on (the thread the request arrived in). */
  conversationId: string | null;
  /** The inbound message or request that caused it. */
  cause?: Record<string, unknown>;
}

/** Applies a consent change to each contact point; returns the ids whose state actually changed. */
export async function changeConsent(tx: Tx, change: ConsentChange, out: TxOutcome): Promise<string[]> {
  const changed: string[] = [];
  for (const contactPointId of change.contactPointIds) {
    const r = await setConsent(tx, {
      contactPointId,
      channel: change.channel,
      state: change.state,
      source: change.source,
    });
    if (!r.changed) continue;
    changed.push(contactPointId);
    if (change.ctx && change.state === 'REVOKED') {
      const cp = await tx.contactPoint.findUnique({
        where: { id: contactPointId },
        select: { value: true, debtorId: true, debtor: { select: { externalRef: true } } },
      });
      await emitOutgoingEvent(
        change.ctx,
        'opt_out.recorded',
        {
          channel: change.channel,
          address: cp?.value ?? null,
          contactPointId,
          debtorId: cp?.debtorId ?? null,
          debtorRef: cp?.debtor.externalRef ?? null,
          source: change.source,
          conversationId: change.conversationId,
          ...(change.cause ?? {}),
        },
        { tx },
      );
    }
    await audit(
      tx,
      { type: 'provider', id: change.source },
      {
        action: change.state === 'REVOKED' ? 'consent.revoke' : 'consent.grant',
        entityType: 'contact_point',
        entityId: contactPointId,
        data: {
          channel: change.channel,
          state: change.state,
          previous: r.previous,
          source: change.source,
          ...(change.cause ?? {}),
        },
      },
    );
    if (change.conversationId) {
      out.events.push(
        await appendEvent(tx, change.conversationId, 'consent.changed', {
          contactPointId,
          channel: change.channel,
          state: change.state,
          previous: r.previous,
          source: change.source,
          ...(change.cause ?? {}),
        }),
      );
    }
  }
  return changed;
}

/**
 * Every contact point holding the same phone number or email address as this
 * one, across debtors: an opt-out binds the address (TCPA, Reg F
 * §1006.14(h)), not one debtor's record of it.
 */
export async function sameAddressContactPoints(tx: Tx, contactPointId: string): Promise<string[]> {
  const cp = await tx.contactPoint.findUnique({ where: { id: contactPointId }, select: { kind: true, value: true } });
  if (!cp) return [];
  if (cp.kind === 'ADDRESS') return [contactPointId];
  const rows = await tx.contactPoint.findMany({ where: { kind: cp.kind, value: cp.value }, select: { id: true } });
  return rows.map((r) => r.id);
}

// ── keypad 9 on a call ────────────────────────────────────────────────────

/**
 * Opts a phone number out of calls (Reg F §1006.14(h) "stop calling").
 * Called by the voice flow when the debtor presses 9. Returns whether the
 * consent changed (false when it was already revoked).
 */
export async function optOutOfCalls(ctx: AppContext, contactPointId: string, source: string): Promise<boolean> {
  const cp = await ctx.db.contactPoint.findUnique({ where: { id: contactPointId } });
  if (!cp) throw new Error(`contact point ${contactPointId} not found`);
  return inThread(ctx, async (tx, out) => {
    const conversation = await ensureConversation(tx, cp.debtorId);
    const changed = await changeConsent(
      tx,
      {
        ctx,
        contactPointIds: await sameAddressContactPoints(tx, cp.id),
        channel: 'VOICE',
        state: 'REVOKED',
        source,
        conversationId: conversation.id,
      },
      out,
    );
    await addFlags(
      tx,
      conversation.id,
      ['OPT_OUT'],
      { reason: 'calls opted out', channel: 'VOICE', contactPointId: cp.id, source },
      out,
    );
    return changed.length > 0;
  });
}

// ── one-click unsubscribe links (RFC 8058) ────────────────────────────────

/**
 * The link key, derived from the one app secret (src/secrets.ts) with a
 * purpose label, so a key leaked from one use (e.g. sessions) does not forge
 * unsubscribe links and there is no second secret to configure.
 */
// Derived once per secret: every email and campaign message renders a link.
const derivedKeys = new Map<string, Buffer>();

function unsubscribeKey(secret: string): Buffer {
  let key = derivedKeys.get(secret);
  if (!key) {
    key = createHmac('sha256', secret).update('dunning-gateway/unsubscribe-link/v1').digest();
    if (derivedKeys.size > 8) derivedKeys.clear(); // tests start many gateways with different secrets
    derivedKeys.set(secret, key);
  }
  return key;
}

const legacyKeyCache = new Map<string, Buffer | null>();

/**
 * Links mailed before the key was derived from the app secret were signed with
 * a key generated under DATA_DIR/secrets; they are still honoured (read only,
 * never created) so an unsubscribe link in an old email keeps working.
 */
function legacyUnsubscribeKey(ctx: AppContext): Buffer | null {
  const file = path.resolve(ctx.config.DATA_DIR, 'secrets', 'unsubscribe.key');
  if (!legacyKeyCache.has(file)) {
    let key: Buffer | null = null;
    try {
      key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'utf8');
    } catch {
      key = null;
    }
    legacyKeyCache.set(file, key);
  }
  return legacyKeyCache.get(file) ?? null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function mac(key: Buffer, contactPointId: string): Buffer {
  return createHmac('sha256', key).update(`unsubscribe:v1:${contactPointId.toLowerCase()}`).digest().subarray(0, 18);
}

/** Stateless token naming one email contact point (its debtor's thread follows from it). */
function unsubscribeToken(ctx: AppContext, contactPointId: string): string {
  if (!UUID.test(contactPointId)) throw new Error('contactPointId must be a UUID');
  return `${Buffer.from(contactPointId.replace(/-/g, ''), 'hex').toString('base64url')}.${mac(unsubscribeKey(ctx.secret), contactPointId).toString('base64url')}`;
}

/** The contact point id a token names, or null when the token is malformed or forged. */
export function verifyUnsubscribeToken(ctx: AppContext, token: string): string | null {
  const m = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{24})$/.exec(token);
  if (!m) return null;
  const hex = Buffer.from(m[1]!, 'base64url').toString('hex');
  if (hex.length !== 32) return null;
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const given = Buffer.from(m[2]!, 'base64url');
  const legacy = legacyUnsubscribeKey(ctx);
  for (const key of legacy ? [unsubscribeKey(ctx.secret), legacy] : [unsubscribeKey(ctx.secret)]) {
    const expected = mac(key, id);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return id;
  }
  return null;
}

/** For the outbound email builder: the List-Unsubscribe (and footer) link of one email address. */
export function unsubscribeUrl(ctx: AppContext, opts: { contactPointId: string }): string {
  return `${ctx.publicBaseUrl}/unsubscribe/${unsubscribeToken(ctx, opts.contactPointId)}`;
}
