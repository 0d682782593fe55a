// Small helpers: percentiles, bounded polling, concurrency-limited loops.

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export function summarize(samples: number[]): { count: number; p50: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  return {
    count: s.length,
    p50: round(percentile(s, 50)),
    p99: round(percentile(s, 99)),
    max: round(s[s.length - 1] ?? NaN),
  };
}

export const round = (n: number, digits = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

/** Polls `fn` every `everyMs` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function pollUntil(fn: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function runPool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

export const now = () => performance.now();

/** Statements the database ran since `resetStatements` (pg_stat_statements, loaded by the bench's PostgreSQL). */
export interface StatementCount {
  total: number;
  top: { calls: number; query: string }[];
}

export async function resetStatements(pool: import('pg').Pool): Promise<void> {
  await pool.query('SELECT pg_stat_statements_reset()');
}

export async function countStatements(pool: import('pg').Pool, topN = 25): Promise<StatementCount> {
  const total = await pool.query<{ n: string }>(
    `SELECT COALESCE(sum(calls), 0)::text AS n FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%bench\\_%'`,
  );
  const top = await pool.query<{ calls: string; query: string }>(
    `SELECT calls::text AS calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%bench\\_%' ORDER BY pg_stat_statements.calls DESC LIMIT $1`,
    [topN],
  );
  return { total: Number(total.rows[0]!.n), top: top.rows.map((r) => ({ calls: Number(r.calls), query: r.query })) };
}
