// Messages per minute per channel. Two limits apply to every campaign message:
//   - the campaign's own throttle (Campaign.throttle, e.g. {"SMS":60});
//   - the provider's limit, shared by every campaign and every process
//     (PROVIDER_RATE_LIMITS="SMS=600,EMAIL=1200"), counted over all outbound
//     messages of the channel, whoever planned them.
// Counting is by the minute a message is scheduled in. Durability across
// processes: the counts live in the messages table, and a wave batch that
// plans on a provider-limited channel holds a transaction-scoped advisory
// lock on that channel (see lockThrottledChannels), so two batches — of any
// campaigns, in any process — never read the same count and both take the
// last slot of a minute.
//
// Spreading: the k-th message (0-based) of a minute goes at
// minute + k·60/rate seconds, so a wave of N messages is spread over at least
// N/rate minutes instead of being fired in a burst at each minute's start.
import type { Prisma } from '../generated/prisma/client.js';
import type { AppContext } from '../context.js';
import type { Db } from '../db/client.js';
import type { Channel } from '../router/index.js';
import { CHANNELS, parseChannelRates, type ChannelRates } from './rates.js';

const MINUTE_MS = 60_000;
/** How many minutes of counts one query loads ahead (a wave spreads over consecutive minutes). */
const PREFETCH_MINUTES = 60;

/** The providers' per-channel limits (PROVIDER_RATE_LIMITS, validated at start by src/config.ts). */
export function providerRateLimits(ctx: Pick<AppContext, 'config'>): ChannelRates {
  return parseChannelRates(ctx.config.PROVIDER_RATE_LIMITS);
}

type Tx = Prisma.TransactionClient;
/** The ledger also reads outside a transaction (the single-enrolment path, without the channel lock). */
type Reader = Prisma.TransactionClient | Db;
type Scope = 'campaign' | 'provider';

/** Advisory-lock key space of the throttle (one key per channel). */
const channelLockKey = (channel: Channel) => `throttle:channel:${channel}`;

/** Takes the channel locks in a fixed order (deadlock-free); call before any row lock. */
export async function lockThrottledChannels(tx: Tx, rates: ChannelRates): Promise<void> {
  for (const channel of CHANNELS) {
    if (rates[channel]) await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${channelLockKey(channel)}))`;
  }
}

/**
 * The per-minute ledger of one planning transaction: counts what is already
 * scheduled (loaded lazily, PREFETCH_MINUTES at a time) plus what this
 * transaction takes. Valid only while the transaction holds the locks.
 */
export class MinuteLedger {
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly tx: Reader,
    private readonly campaignId: string,
    private readonly campaignRates: ChannelRates,
    private readonly providerRates: ChannelRates,
  ) {}

  limited(channel: Channel): boolean {
    return Boolean(this.campaignRates[channel] || this.providerRates[channel]);
  }

  private limits(channel: Channel): [Scope, number][] {
    const out: [Scope, number][] = [];
    const c = this.campaignRates[channel];
    const p = this.providerRates[channel];
    if (c) out.push(['campaign', c]);
    if (p) out.push(['provider', p]);
    return out;
  }

  private async load(scope: Scope, channel: Channel, minute: number): Promise<void> {
    const from = new Date(minute);
    const to = new Date(minute + PREFETCH_MINUTES * MINUTE_MS);
    const rows =
      scope === 'campaign'
        ? await this.tx.$queryRaw<{ m: Date; n: number }[]>`
            SELECT date_trunc('minute', scheduled_at) AS m, count(*)::int AS n FROM messages
             WHERE campaign_id = ${this.campaignId}::uuid AND channel = ${channel}::"Channel" AND direction = 'OUTBOUND'
               AND status <> 'CANCELLED' AND scheduled_at >= ${from} AND scheduled_at < ${to}
             GROUP BY 1`
        : await this.tx.$queryRaw<{ m: Date; n: number }[]>`
            SELECT date_trunc('minute', scheduled_at) AS m, count(*)::int AS n FROM messages
             WHERE channel = ${channel}::"Channel" AND direction = 'OUTBOUND'
               AND status <> 'CANCELLED' AND scheduled_at >= ${from} AND scheduled_at < ${to}
             GROUP BY 1`;
    for (let i = 0; i < PREFETCH_MINUTES; i++) {
      const key = `${scope}|${channel}|${minute + i * MINUTE_MS}`;
      if (!this.counts.has(key)) this.counts.set(key, 0);
    }
    for (const r of rows) this.counts.set(`${scope}|${channel}|${new Date(r.m).getTime()}`, Number(r.n));
  }

  private async count(scope: Scope, channel: Channel, minute: number): Promise<number> {
    const key = `${scope}|${channel}|${minute}`;
    if (!this.counts.has(key)) await this.load(scope, channel, minute);
    return this.counts.get(key)!;
  }

  /** The earliest time ≥ t with room under every limit of the channel, spread inside its minute. */
  async slot(channel: Channel, t: Date): Promise<Date> {
    const limits = this.limits(channel);
    if (!limits.length) return t;
    let minute = Math.floor(t.getTime() / MINUTE_MS) * MINUTE_MS;
    for (;;) {
      let offset = 0;
      let full = false;
      for (const [scope, rate] of limits) {
        const used = await this.count(scope, channel, minute);
        if (used >= rate) full = true;
        offset = Math.max(offset, Math.floor((used * MINUTE_MS) / rate));
      }
      if (!full) return new Date(Math.max(t.getTime(), minute + offset));
      minute += MINUTE_MS;
    }
  }

  /** True when the minute of t still has room under every limit. */
  async hasRoom(channel: Channel, t: Date): Promise<boolean> {
    const minute = Math.floor(t.getTime() / MINUTE_MS) * MINUTE_MS;
    for (const [scope, rate] of this.limits(channel))
      if ((await this.count(scope, channel, minute)) >= rate) return false;
    return true;
  }

  /** Records a message planned at t (counted against every limit of its channel). */
  async take(channel: Channel, t: Date): Promise<void> {
    const minute = Math.floor(t.getTime() / MINUTE_MS) * MINUTE_MS;
    for (const [scope] of this.limits(channel)) {
      const n = await this.count(scope, channel, minute);
      this.counts.set(`${scope}|${channel}|${minute}`, n + 1);
    }
  }
}
