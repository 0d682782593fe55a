// Micro benchmark of the router: synthetic debtors with realistic contact points,
// consents, preferences and histories; returns decisions per second.
//
//   npx tsx src/router/bench.ts [debtors] [decisionsPerDebtor]
//
// Generation is deterministic (seeded) and excluded from the timing.

import { pathToFileURL } from 'node:url';
import { createRouter } from './router.js';
import type {
  Channel,
  ConsentState,
  ContactPointSnapshot,
  ContactRestriction,
  DebtSnapshot,
  HistoryEntry,
  PreferencesSnapshot,
  RouteRequest,
  RouterConfigOverrides,
  RouterSnapshot,
} from './types.js';

export interface RouterBenchOptions {
  debtors?: number;
  decisionsPerDebtor?: number;
  seed?: number;
  /**
   * 'warm': a debtor's snapshots share their contactPoints array, so zone resolution is
   * memoised as when a caller keeps per-debtor snapshots. 'cold': every decision gets fresh
   * arrays (a DB layer that reloads everything), so every decision resolves zones again.
   */
  mode?: 'warm' | 'cold';
  config?: RouterConfigOverrides;
}

export interface RouterBenchResult {
  decisions: number;
  elapsedMs: number;
  /** Wall-clock rate: what a caller sees on this machine right now. */
  decisionsPerSecond: number;
  cpuMs: number;
  /** Rate per second of CPU time consumed: less sensitive to other load on the machine. */
  decisionsPerCpuSecond: number;
  outcomes: Record<'send' | 'defer' | 'refuse', number>;
  mode: 'warm' | 'cold';
}

// mulberry32: small, fast, deterministic (tests draw their random histories from it too).
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Place {
  country: string;
  region: string | null;
  postalCode: string;
  phonePrefix: string;
}

const PLACES: Place[] = [
  { country: 'US', region: 'NY', postalCode: '12207', phonePrefix: '+1518' },
  { country: 'US', region: 'NY', postalCode: '10001', phonePrefix: '+1212' },
  { country: 'US', region: 'MA', postalCode: '02108', phonePrefix: '+1617' },
  { country: 'US', region: 'WA', postalCode: '98101', phonePrefix: '+1206' },
  { country: 'US', region: 'IL', postalCode: '60601', phonePrefix: '+1312' },
  { country: 'US', region: 'TX', postalCode: '75201', phonePrefix: '+1214' },
  { country: 'US', region: 'CO', postalCode: '80202', phonePrefix: '+1303' },
  { country: 'US', region: 'AZ', postalCode: '85004', phonePrefix: '+1602' },
  { country: 'US', region: 'CA', postalCode: '94105', phonePrefix: '+1415' },
  { country: 'US', region: 'FL', postalCode: '33101', phonePrefix: '+1305' },
  { country: 'US', region: 'FL', postalCode: '32501', phonePrefix: '+1850' },
  { country: 'US', region: 'HI', postalCode: '96813', phonePrefix: '+1808' },
  { country: 'US', region: 'AK', postalCode: '99501', phonePrefix: '+1907' },
  { country: 'IN', region: null, postalCode: '400001', phonePrefix: '+9198' },
  { country: 'GB', region: null, postalCode: 'SW1A 1AA', phonePrefix: '+447700' },
];

const INTENTS = ['payment_reminder', 'past_due_notice', 'final_notice', 'payment_received', 'collection_ending'];
const CHANNELS: Channel[] = ['SMS', 'EMAIL', 'VOICE', 'LETTER'];
const RESTRICTIONS: ContactRestriction[] = [
  'CEASE_COMMUNICATION',
  'DISPUTE_UNDER_REVIEW',
  'BANKRUPTCY',
  'ATTORNEY_REPRESENTED',
];
const BASE_NOW = Date.UTC(2026, 5, 10, 12, 0, 0);
const DAY = 86_400_000;

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function consent(rand: () => number): ConsentState {
  const r = rand();
  return r < 0.65 ? 'GRANTED' : r < 0.9 ? 'UNKNOWN' : 'REVOKED';
}

function digits(rand: () => number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += String(Math.floor(rand() * 10));
  return out;
}

export interface SyntheticDebtor {
  snapshot: RouterSnapshot;
  requests: RouteRequest[];
}

function syntheticDebtor(rand: () => number, index: number, decisions: number): SyntheticDebtor {
  const id = `debtor-${index}`;
  const home = pick(rand, PLACES);
  // One in ten has a phone from elsewhere (moved, kept the number): zones disagree.
  const phonePlace = rand() < 0.1 ? pick(rand, PLACES) : home;
  // Digits after the prefix: NANP exchange must not start with 0/1; IN and GB mobiles as issued.
  const subscriber = (): string =>
    phonePlace.country === 'US' ? `2${digits(rand, 6)}` : digits(rand, phonePlace.country === 'IN' ? 8 : 6);
  const contactPoints: ContactPointSnapshot[] = [];
  const phones = rand() < 0.3 ? 2 : 1;
  for (let p = 0; p < phones; p++) {
    const isMobile = rand() < 0.8 ? true : rand() < 0.5 ? false : null;
    contactPoints.push({
      id: `${id}-phone-${p}`,
      kind: 'PHONE',
      value: `${phonePlace.phonePrefix}${subscriber()}`,
      isMobile,
      isWork: p === 1 && rand() < 0.5,
      employerForbidsContact: rand() < 0.05,
      country: null,
      region: null,
      postalCode: null,
      timeZone: null,
      valid: rand() < 0.95,
      consents: { SMS: consent(rand), VOICE: consent(rand) },
    });
  }
  if (rand() < 0.8) {
    contactPoints.push({
      id: `${id}-email`,
      kind: 'EMAIL',
      value: `debtor${index}@example.com`,
      isMobile: null,
      isWork: rand() < 0.1,
      employerForbidsContact: false,
      usedByDebtor: rand() < 0.5,
      country: null,
      region: null,
      postalCode: null,
      timeZone: null,
      valid: rand() < 0.97,
      consents: { EMAIL: rand() < 0.9 ? 'UNKNOWN' : consent(rand) },
    });
  }
  if (rand() < 0.9) {
    contactPoints.push({
      id: `${id}-address`,
      kind: 'ADDRESS',
      value: `${index} Example Street, ${home.postalCode}`,
      isMobile: null,
      isWork: false,
      employerForbidsContact: false,
      country: home.country,
      region: home.region,
      postalCode: home.postalCode,
      timeZone: null,
      valid: rand() < 0.95,
      consents: {},
    });
  }
  const debts: DebtSnapshot[] = [];
  const debtCount = 1 + Math.floor(rand() * 3);
  for (let d = 0; d < debtCount; d++) {
    debts.push({
      id: `${id}-debt-${d}`,
      status: rand() < 0.05 ? 'PAID' : 'OPEN',
      restrictions: rand() < 0.02 ? [pick(rand, RESTRICTIONS)] : [],
      jurisdiction: null,
      lastPhoneConversationAt: rand() < 0.1 ? new Date(BASE_NOW - Math.floor(rand() * 10 * DAY)) : null,
    });
  }
  const history: HistoryEntry[] = [];
  const entries = Math.floor(rand() * 14);
  for (let h = 0; h < entries; h++) {
    const channel = pick(rand, CHANNELS);
    const outbound = rand() < 0.85;
    history.push({
      at: new Date(BASE_NOW - Math.floor(rand() * 10 * DAY)),
      channel,
      debtId: rand() < 0.9 ? pick(rand, debts).id : null,
      direction: outbound ? 'OUTBOUND' : 'INBOUND',
      countsAsAttempt: outbound && rand() < 0.9,
      kind: channel === 'VOICE' ? (rand() < 0.3 ? 'voicemail' : 'call') : undefined,
      contactPointId: pick(rand, contactPoints)?.id ?? null,
    });
  }
  const preferences: PreferencesSnapshot | null =
    rand() < 0.4
      ? {
          channelOrder: [...CHANNELS].sort(() => rand() - 0.5).slice(0, 1 + Math.floor(rand() * 3)),
          inconvenientTimes: rand() < 0.25 ? [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '17:00' }] : [],
          contactLimits: rand() < 0.25 ? { ALL: { max: 4, days: 7 } } : {},
        }
      : null;
  const snapshot: RouterSnapshot = {
    debtor: {
      id,
      jurisdiction: null,
      timeZone: rand() < 0.05 ? 'America/New_York' : null,
      restrictions: rand() < 0.02 ? [pick(rand, RESTRICTIONS)] : [],
      locale: 'en',
    },
    contactPoints,
    preferences,
    debts,
    history,
    now: new Date(BASE_NOW),
  };
  const requests: RouteRequest[] = [];
  for (let r = 0; r < decisions; r++) {
    const channel = rand() < 0.3 ? pick(rand, CHANNELS) : undefined;
    requests.push({
      debtorId: id,
      debtId: pick(rand, debts).id,
      intent: rand() < 0.85 ? (INTENTS[0] as string) : pick(rand, INTENTS),
      ...(channel ? { channel } : {}),
      ...(rand() < 0.2 ? { notAfter: new Date(BASE_NOW + Math.floor(rand() * 3 * DAY)) } : {}),
    });
  }
  return { snapshot, requests };
}

export interface SyntheticWorkload {
  population: SyntheticDebtor[];
  /** One decision clock per request, in population order (debtor by debtor). */
  clocks: Float64Array;
}

/**
 * The benchmark's deterministic workload: `debtors` synthetic debtors with
 * `decisionsPerDebtor` requests each, and a clock per request. Exported so tests can
 * check verdicts over the very data the benchmark measures.
 */
export function syntheticWorkload(debtors: number, perDebtor: number, seed = 42): SyntheticWorkload {
  const rand = prng(seed);
  const population: SyntheticDebtor[] = [];
  for (let i = 0; i < debtors; i++) population.push(syntheticDebtor(rand, i, perDebtor));
  // Each decision gets its own clock spread over three days, so quiet hours and limits vary.
  const clocks = new Float64Array(debtors * perDebtor);
  for (let i = 0; i < clocks.length; i++) clocks[i] = BASE_NOW + Math.floor(rand() * 3 * DAY);
  return { population, clocks };
}

/** Generate `debtors` synthetic debtors, route `decisionsPerDebtor` requests each, return the rate. */
export function runRouterBenchmark(options: RouterBenchOptions = {}): RouterBenchResult {
  const debtors = options.debtors ?? 10_000;
  const perDebtor = options.decisionsPerDebtor ?? 5;
  const mode = options.mode ?? 'warm';
  const router = createRouter(options.config);
  const { population, clocks } = syntheticWorkload(debtors, perDebtor, options.seed ?? 42);

  // The per-decision snapshot is built inside the loop, as a caller would: 'warm' reuses the
  // debtor's arrays (zone resolution memoised), 'cold' copies them (resolved every time).
  const decideAll = (count: number, outcomes?: Record<'send' | 'defer' | 'refuse', number>): number => {
    let done = 0;
    for (let i = 0; i < population.length && done < count; i++) {
      const { snapshot, requests } = population[i]!;
      for (let r = 0; r < requests.length && done < count; r++) {
        const now = new Date(clocks[done]!);
        const perDecision: RouterSnapshot =
          mode === 'warm'
            ? { ...snapshot, now }
            : { ...snapshot, now, debtor: { ...snapshot.debtor }, contactPoints: snapshot.contactPoints.slice() };
        const decision = router.decide(requests[r]!, perDecision);
        if (outcomes) outcomes[decision.outcome]++;
        done++;
      }
    }
    return done;
  };

  const outcomes = { send: 0, defer: 0, refuse: 0 };
  // Warm up the JIT and the per-zone offset caches outside the timing.
  decideAll(Math.min(20_000, clocks.length));
  decideAll(Math.min(20_000, clocks.length));
  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  const decisions = decideAll(clocks.length, outcomes);
  const cpu = process.cpuUsage(cpuStarted);
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  // CPU time (user + system, all threads incl. GC helpers) tells the cost apart from a busy machine.
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    decisions,
    elapsedMs,
    decisionsPerSecond: Math.round(decisions / (elapsedMs / 1000)),
    cpuMs,
    decisionsPerCpuSecond: Math.round(decisions / (cpuMs / 1000)),
    outcomes,
    mode,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const debtors = Number(process.argv[2] ?? 10_000);
  const perDebtor = Number(process.argv[3] ?? 5);
  for (const mode of ['warm', 'cold'] as const) {
    console.log(JSON.stringify(runRouterBenchmark({ debtors, decisionsPerDebtor: perDebtor, mode })));
  }
}
