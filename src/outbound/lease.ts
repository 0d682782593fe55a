// The lease on a message claimed for sending. A claim (status SENDING) names
// the process that made it (claimed_by), when (claimed_at) and until when that
// process answers for it (lease_until). While the provider call is in flight
// the lease is renewed — one statement per process every third of a lease for
// all its claims at once — so only a claim whose process died (or lost the
// database for a whole lease) runs out. Past lease_until the recovery sweep
// reconciles the message (recovery.ts).
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.js';

export interface Lease {
  claimedBy: string;
  claimedAt: Date;
  leaseUntil: Date;
}

interface Keeper {
  owner: string;
  leaseMs: number;
  /** Claims this process is working on, with how many holds each has. */
  held: Map<string, number>;
  timer: NodeJS.Timeout | null;
}

const keepers = new WeakMap<AppContext, Keeper>();

function keeperOf(ctx: AppContext): Keeper {
  let k = keepers.get(ctx);
  if (!k) {
    // One name per gateway instance (several share a host, and tests run several in one process).
    k = {
      owner: `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
      leaseMs: ctx.config.SEND_LEASE_MS,
      held: new Map(),
      timer: null,
    };
    keepers.set(ctx, k);
  }
  return k;
}

/** This gateway instance's name in claimed_by. */
export function leaseOwner(ctx: AppContext): string {
  return keeperOf(ctx).owner;
}

/** A fresh lease for a claim made now. */
export function newLease(ctx: AppContext, now = new Date()): Lease {
  const k = keeperOf(ctx);
  return { claimedBy: k.owner, claimedAt: now, leaseUntil: new Date(now.getTime() + k.leaseMs) };
}

/**
 * Keeps renewing the lease on `messageId` (claimed by this process) until the
 * returned release is called: from the claim until the provider's answer is
 * recorded. Renewal only extends a claim that is still this process's and
 * still SENDING, so it can never take a message back from recovery.
 */
export function holdLease(ctx: AppContext, messageId: string): () => void {
  const k = keeperOf(ctx);
  k.held.set(messageId, (k.held.get(messageId) ?? 0) + 1);
  if (!k.timer) {
    k.timer = setInterval(() => void renew(ctx, k), Math.max(500, Math.floor(k.leaseMs / 3)));
    k.timer.unref();
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const n = (k.held.get(messageId) ?? 1) - 1;
    if (n > 0) k.held.set(messageId, n);
    else k.held.delete(messageId);
    if (k.held.size === 0 && k.timer) {
      clearInterval(k.timer);
      k.timer = null;
    }
  };
}

/** Claims this process holds right now (recovery never reconciles these). */
export function heldClaims(ctx: AppContext): string[] {
  return [...keeperOf(ctx).held.keys()];
}

async function renew(ctx: AppContext, k: Keeper): Promise<void> {
  const ids = [...k.held.keys()];
  if (!ids.length) return;
  try {
    await ctx.db.$executeRawUnsafe(
      `UPDATE messages SET lease_until = $1::timestamptz WHERE id = ANY($2::uuid[]) AND claimed_by = $3 AND status = 'SENDING'`,
      new Date(Date.now() + k.leaseMs),
      ids,
      k.owner,
    );
  } catch (err) {
    // The next tick tries again; a lease that runs out meanwhile is reconciled, never lost.
    ctx.log.warn({ err, claims: ids.length }, 'could not renew send leases');
  }
}
