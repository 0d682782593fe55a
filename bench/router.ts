// 1. Router decisions/s: the pure decision function over synthetic debtors
// (src/router/bench.ts builds them: several contact points, histories, mixed
// jurisdictions and zones). Ceiling: the same loop shape — per-decision
// snapshot copy with a fresh clock — calling a trivial function instead of
// the router, i.e. what iteration alone costs on this machine right now.
import { runRouterBenchmark } from '../src/router/bench.js';

export interface RouterFigures {
  debtors: number;
  decisions: number;
  warmDecisionsPerSecond: number;
  coldDecisionsPerSecond: number;
  decisionsPerCpuSecond: number;
  outcomes: Record<string, number>;
  ceilingLoopsPerSecond: number;
  target: number;
}

function iterationCeiling(count: number): number {
  // Objects of a similar shape (nested arrays of a few entries) so the copy costs the same.
  const population = Array.from({ length: Math.min(count, 100_000) }, (_, i) => ({
    debtor: { id: `d-${i}`, jurisdiction: null, timeZone: null, restrictions: [], locale: 'en' },
    contactPoints: [{ id: `p-${i}` }, { id: `e-${i}` }, { id: `a-${i}` }],
    preferences: null,
    debts: [{ id: `t-${i}` }],
    history: Array.from({ length: i % 14 }, (_, h) => ({ at: new Date(h) })),
    now: new Date(0),
  }));
  let sink = 0;
  const trivial = (s: (typeof population)[number]) => s.contactPoints.length + s.history.length + (s.now.getTime() & 1);
  const loop = () => {
    for (let i = 0; i < count; i++) {
      const base = population[i % population.length]!;
      sink += trivial({ ...base, now: new Date(1_750_000_000_000 + i) });
    }
  };
  loop(); // warm-up
  const t0 = process.hrtime.bigint();
  loop();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (sink === -1) console.log(sink); // keep the loop observable
  return Math.round(count / (ms / 1000));
}

export function benchRouter(scale: number): RouterFigures {
  const debtors = Math.max(1_000, Math.round(100_000 * scale));
  const warm = runRouterBenchmark({ debtors, decisionsPerDebtor: 1, mode: 'warm' });
  const cold = runRouterBenchmark({ debtors, decisionsPerDebtor: 1, mode: 'cold' });
  return {
    debtors,
    decisions: warm.decisions,
    warmDecisionsPerSecond: warm.decisionsPerSecond,
    coldDecisionsPerSecond: cold.decisionsPerSecond,
    decisionsPerCpuSecond: warm.decisionsPerCpuSecond,
    outcomes: warm.outcomes,
    ceilingLoopsPerSecond: iterationCeiling(debtors),
    target: 50_000,
  };
}
