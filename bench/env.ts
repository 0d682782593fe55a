// The benchmark's own world: an embedded PostgreSQL in a temp dir, a fresh
// database on it, and the real gateway in this process (sandbox providers,
// loopback only). Everything is torn down by stop().
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { startGateway, type Gateway } from '../src/gateway.js';
import { createLogger } from '../src/logger.js';
// The same helper the tests use: benchmarks and tests are both tooling around the product.
import { freePort } from '../test/support/ports.js';

export const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
// Fixed so the bench can sign Twilio webhooks exactly as the sandbox would.
export const TWILIO_AUTH_TOKEN = 'bench0123456789abcdef0123456789ab';
export const TWILIO_ACCOUNT_SID = `AC${'b'.repeat(32)}`;

export interface BenchEnv {
  gateway: Gateway;
  databaseUrl: string;
  /** A plain pg pool on the same database, for ceilings and checks. */
  pool: pg.Pool;
  /** CPU milliseconds PostgreSQL's processes have used so far; null where /proc cannot tell. */
  postgresCpuMs(): number | null;
  stop(): Promise<void>;
}

/** Fields of /proc/PID/stat after the command name: [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime. */
function procStat(pid: string): string[] | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * The postmaster's CPU with its children's: the live ones read one by one,
 * the ones that exited through the postmaster's cumulative fields. In clock
 * ticks of 1/100 s (USER_HZ on Linux).
 */
function postgresCpuMs(pgDataDir: string): number | null {
  let postmaster: string;
  try {
    postmaster = fs.readFileSync(path.join(pgDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]!.trim();
  } catch {
    return null;
  }
  const own = procStat(postmaster);
  if (!own) return null;
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = procStat(entry);
    if (f && f[1] === postmaster) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks * 10;
}

export async function startBenchEnv(logLevel = process.env.BENCH_LOG_LEVEL ?? 'error'): Promise<BenchEnv> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-'));
  fs.chmodSync(root, 0o755);
  const log = createLogger(logLevel as never);
  const pgDir = path.join(root, 'pg');
  // pg_stat_statements: the sends figure reports the statements each message costs (a count that noise does not move).
  const pgServer = await startEmbeddedPostgres({
    dataDir: pgDir,
    port: await freePort(),
    database: 'postgres',
    log,
    settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' },
  });
  const name = 'bench';
  const admin = new pg.Client({ connectionString: pgServer.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(pgServer.url);
  u.pathname = `/${name}`;
  const databaseUrl = u.toString();

  const config = loadConfig({
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: logLevel,
    DATABASE_URL: databaseUrl,
    DATA_DIR: path.join(root, 'data'),
    PROVIDERS: 'sandbox',
    ADMIN_API_KEY: ADMIN_KEY,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    SHUTDOWN_TIMEOUT_MS: '10000',
    DB_PREPARED_STATEMENTS: process.env.DB_PREPARED_STATEMENTS ?? 'true',
  });
  const gateway = await startGateway(config, createLogger(config.LOG_LEVEL));
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  return {
    gateway,
    databaseUrl,
    pool,
    postgresCpuMs: () => postgresCpuMs(path.join(pgDir, 'pg')),
    stop: async () => {
      await pool.end().catch(() => undefined);
      await gateway.stop().catch(() => undefined);
      await pgServer.stop().catch(() => undefined);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
