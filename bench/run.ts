// `npm run bench [-- --scale 0.1] [-- --only router,sends,…]`
// Runs every benchmark next to its ceiling (measured in the same run on the
// same machine), prints a table and writes bench/results.json. Not part of
// `npm test`. Traffic stays on 127.0.0.1; every load is bounded in count and time.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBenchEnv, type BenchEnv } from './env.js';
import { benchRouter } from './router.js';
import { benchSends } from './sends.js';
import { benchWave } from './wave.js';
import { benchInbound } from './inbound.js';
import { benchLive } from './live.js';
import { benchImportRun } from './import.js';
import { renderTable, type Row } from './table.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECTIONS = ['router', 'import', 'sends', 'inbound', 'live', 'wave'] as const;
type Section = (typeof SECTIONS)[number];

function parseArgs(argv: string[]): { scale: number; only: Set<Section>; out: string } {
  let scale = 1;
  let only = new Set<Section>(SECTIONS);
  let out = path.join(here, 'results.json');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a.startsWith('--scale')) {
      scale = Number(value());
      if (!Number.isFinite(scale) || scale <= 0 || scale > 1) throw new Error('--scale must be a number in (0, 1]');
    } else if (a.startsWith('--only')) {
      const names = value()
        .split(',')
        .map((s) => s.trim());
      const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
      if (bad.length) throw new Error(`--only: unknown section(s) ${bad.join(', ')}; known: ${SECTIONS.join(', ')}`);
      only = new Set(names as Section[]);
    } else if (a.startsWith('--out')) out = path.resolve(value());
    else
      throw new Error(
        `unknown argument ${a}; usage: npm run bench -- [--scale 0.1] [--only ${SECTIONS.join(',')}] [--out file]`,
      );
  }
  return { scale, only, out };
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: path.join(here, '..'),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryMB: Math.round(os.totalmem() / 1024 / 1024),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

/** A ratio with two significant digits (0.028, 0.53, 1.2). */
const ratio = (n: number) => (Number.isFinite(n) ? String(Number(n.toPrecision(2))) : '—');
const fmt = (n: number | undefined, unit = '') =>
  n === undefined || !Number.isFinite(n) ? '—' : `${n.toLocaleString('en-US', { maximumFractionDigits: 1 })}${unit}`;

async function main(): Promise<void> {
  const { scale, only, out } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const results: Record<string, unknown> = {};
  const rows: Row[] = [];
  const log = (s: string) => console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${s}`);

  const section = async <T>(name: Section, run: () => Promise<T> | T, toRows: (r: T) => Row[]) => {
    if (!only.has(name)) return;
    log(`${name}…`);
    const t0 = Date.now();
    try {
      const r = await run();
      results[name] = { ...(r as object), durationMs: Date.now() - t0 };
      rows.push(...toRows(r));
    } catch (err) {
      log(`${name} failed: ${(err as Error).stack ?? err}`);
      results[name] = { error: (err as Error).message };
      rows.push({
        name,
        measured: 'error',
        ceiling: '—',
        ratio: '—',
        target: '—',
        met: 'no',
        note: (err as Error).message.slice(0, 80),
      });
    }
  };

  await section(
    'router',
    () => benchRouter(scale),
    (r) => [
      {
        name: `Router decisions/s (${fmt(r.debtors)} debtors, warm)`,
        measured: fmt(r.warmDecisionsPerSecond),
        ceiling: `${fmt(r.ceilingLoopsPerSecond)} loops/s`,
        ratio: ratio(r.warmDecisionsPerSecond / r.ceilingLoopsPerSecond),
        target: '≥ 50,000/s',
        met: r.warmDecisionsPerSecond >= r.target ? 'yes' : 'no',
        note: `cold ${fmt(r.coldDecisionsPerSecond)}/s`,
      },
    ],
  );

  let env: BenchEnv | null = null;
  const needsEnv = [...only].some((s) => s !== 'router');
  try {
    if (needsEnv) {
      log('starting embedded PostgreSQL and the gateway (sandbox providers)…');
      env = await startBenchEnv();
    }
    const e = () => env!;
    await section(
      'import',
      () => benchImportRun(e().databaseUrl, scale),
      (r) => [
        {
          name: `Import rows/s (${fmt(r.rows)} rows CSV)`,
          measured: fmt(r.rowsPerSecond),
          ceiling: `${fmt(r.ceilingRowsPerSecond)} parse+validate/s`,
          ratio: ratio(r.rowsPerSecond / r.ceilingRowsPerSecond),
          target: '≥ 5,000/s',
          met: r.rowsPerSecond >= 5_000 && r.rowsFailed === 0 ? 'yes' : 'no',
          note: `${fmt(r.rowsDone)} rows, ${fmt(r.rowsFailed)} failed`,
        },
        {
          name: 'Import peak RSS',
          measured: `${fmt(r.peakRssMB)} MB`,
          ceiling: '—',
          ratio: '—',
          target: '≤ 300 MB',
          met: r.peakRssMB <= 300 ? 'yes' : 'no',
          note: `process max RSS ${fmt(r.maxRssMB)} MB`,
        },
      ],
    );
    await section(
      'sends',
      () => benchSends(e(), scale),
      (r) => [
        {
          name: `End-to-end SMS sends/s (${fmt(r.messages)}, ${r.concurrency} concurrent)`,
          measured: fmt(r.sendsPerSecond),
          ceiling: `${fmt(r.ceilingSendsPerSecond)} SDK→sandbox/s (mean of ${fmt(r.ceilingBeforeSendsPerSecond)} before, ${fmt(r.ceilingAfterSendsPerSecond)} after)`,
          ratio: ratio(r.ratioToCeiling),
          target: '≥ 1,000/s and ≥ 0.5× ceiling',
          met: r.sendsPerSecond >= 1_000 && r.ratioToCeiling >= 0.5 && r.delivered === r.messages ? 'yes' : 'no',
          note: `${fmt(r.delivered)}/${fmt(r.messages)} delivered${r.timedOut ? ' (timed out)' : ''}, ${fmt(r.statementsPerMessage)} SQL statements/msg; CPU ms/msg: gateway ${r.cpuMsPerMessage} (ceiling ${r.ceilingCpuMsPerMessage}), PostgreSQL ${r.postgresCpuMsPerMessage ?? '?'}, caller ${r.callerCpuMsPerMessage}`,
        },
      ],
    );
    await section(
      'inbound',
      () => benchInbound(e(), scale),
      (r) => [
        {
          name: `Inbound SMS webhook p50 / p99 (${r.rate}/s × ${r.durationSeconds}s)`,
          measured: `${fmt(r.gateway.p50Ms)} / ${fmt(r.gateway.p99Ms)} ms`,
          ceiling: `${fmt(r.ceiling.p50Ms)} / ${fmt(r.ceiling.p99Ms)} ms`,
          ratio: ratio(r.gateway.p99Ms / Math.max(0.1, r.ceiling.p99Ms)),
          target: 'p99 ≤ 50 ms, 0 errors',
          met:
            r.gateway.p99Ms <= 50 &&
            r.gateway.errors + r.gateway.non2xx + r.gateway.timeouts === 0 &&
            r.persisted.exactlyOnce
              ? 'yes'
              : 'no',
          note: `${fmt(r.gateway.ok2xx)} ok, ${r.gateway.errors + r.gateway.non2xx + r.gateway.timeouts} errors, exactly once: ${r.persisted.exactlyOnce ? 'yes' : 'no'}, ${fmt(r.statementsPerMessage)} SQL statements/msg`,
        },
      ],
    );
    await section(
      'live',
      () => benchLive(e(), scale),
      (r) => [
        {
          name: `Live inbox event p50 / p99 (${r.rate}/s, ${fmt(r.sent)} msgs)`,
          measured: `${fmt(r.p50Ms)} / ${fmt(r.p99Ms)} ms`,
          ceiling: `${fmt(r.ceiling.p50Ms)} / ${fmt(r.ceiling.p99Ms)} ms ack RTT`,
          ratio: ratio(r.p99Ms / Math.max(0.1, r.ceiling.p99Ms)),
          target: 'p99 ≤ 100 ms',
          met: r.p99Ms <= 100 && r.eventsMatched === r.sent ? 'yes' : 'no',
          note: `${fmt(r.eventsMatched)}/${fmt(r.sent)} events, ${r.failedRequests} failed`,
        },
      ],
    );
    await section(
      'wave',
      () => benchWave(e(), scale),
      (r) => [
        {
          name: `Wave planning (${fmt(r.debtors)} debtors)`,
          measured: `${fmt(r.totalMs / 1000)} s, ${fmt(r.rowsPerSecond)} rows/s`,
          ceiling: `${fmt(r.ceilingMs / 1000)} s COPY, ${fmt(r.ceilingRowsPerSecond)} rows/s`,
          ratio: ratio(r.rowsPerSecond / r.ceilingRowsPerSecond),
          target: '100k ≤ 60 s',
          met: r.complete && r.projectedFullScaleSeconds <= 60 ? 'yes' : 'no',
          note: `${fmt(r.outboxRows)} outbox rows; 100k projected ${fmt(r.projectedFullScaleSeconds)} s`,
        },
      ],
    );
  } finally {
    if (env) {
      log('stopping the gateway and PostgreSQL…');
      await env.stop();
    }
  }

  const report = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    scale,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: machine(),
    results,
  };
  fs.writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(renderTable(rows));
  console.log(
    `\nscale ${scale} · ${report.machine.cpus} CPUs (${report.machine.cpuModel}) · ${report.machine.memoryMB} MB · Node ${report.machine.node} · commit ${report.commit?.slice(0, 10) ?? 'unknown'} · ${report.durationSeconds} s`,
  );
  console.log(`results: ${path.relative(process.cwd(), out)}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
