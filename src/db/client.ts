// Prisma Client over node-postgres through Prisma's driver adapter: no native
// query engine, so it runs on machines that cannot download Prisma's binaries.
//
// Beside it, a small plain pg pool reserved for webhook intake (the raw
// event's INSERT that a provider's 2xx waits for). Under a burst, processing,
// dispatch and the API can hold every connection of Prisma's pool; the
// intake INSERT then queues behind them and the provider sees the wait. Its
// own few connections keep that one statement's latency independent of the
// rest of the load. It lives and dies with the client ($disconnect ends it).
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { StatementNames } from './statements.js';

export type Db = PrismaClient;

/** Connections for webhook intake INSERTs; each is one short statement, so a few serve hundreds per second. */
const INTAKE_POOL_SIZE = 4;

const intakePools = new WeakMap<Db, pg.Pool>();
const mainPools = new WeakMap<Db, pg.Pool>();
/** Clients whose hot statements are prepared (see statements.ts), with the names they give. */
const preparing = new WeakMap<Db, StatementNames>();

/**
 * Ends a pool without letting shutdown hang: pg's end() waits for every
 * checked-out client, and a LISTEN client whose connection the server dropped
 * may never be released by its owner. Past `ms` the remaining sockets are left
 * to the process exit; the caller learns it from the result.
 */
export async function endPool(pool: pg.Pool, ms = 3_000): Promise<'ended' | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed out'>((r) => {
    timer = setTimeout(() => r('timed out'), ms);
    timer.unref();
  });
  try {
    return await Promise.race([pool.end().then(() => 'ended' as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export interface PrismaOptions {
  poolSize?: number;
  intakePoolSize?: number;
  /** Told when an idle pooled connection is dropped by the server (restart, failover, DROP DATABASE … FORCE). */
  onConnectionLost?: (err: Error) => void;
  /**
   * Prepare the statements that keep coming back (default true): PostgreSQL then parses and plans
   * each once per connection. Off behind a pooler that shares server connections between
   * transactions (PgBouncer in transaction mode before 1.21), where a prepared statement may
   * not be on the connection the next query gets.
   */
  preparedStatements?: boolean;
}

export function createPrisma(databaseUrl: string, opts: PrismaOptions = {}): Db {
  // Our own pool under Prisma's adapter: pg-pool re-emits an idle connection's
  // error on the pool, and a pool without an 'error' listener would take the
  // process down on a database restart. The next query simply reconnects.
  const onLost = opts.onConnectionLost ?? (() => undefined);
  // Pipelined connections: statements issued together go out together (sqlTransaction); one at a time, nothing changes.
  const main = new pg.Pool({ connectionString: databaseUrl, max: opts.poolSize ?? 20, pipeline: true });
  main.on('error', onLost);
  const names = opts.preparedStatements === false ? null : new StatementNames();
  // The adapter hands the name to pg's query config, where undefined means unnamed (its type says string only).
  const nameOf = names ? (q: { sql: string; args: unknown[] }) => names.nameFor(q.sql, q.args) as string : undefined;
  const client = new PrismaClient({
    adapter: new PrismaPg(main, nameOf ? { statementNameGenerator: nameOf } : undefined),
  });
  mainPools.set(client, main);
  if (names) preparing.set(client, names);
  const pools = [main];
  const intakeSize = opts.intakePoolSize ?? INTAKE_POOL_SIZE;
  if (intakeSize > 0) {
    // Connections open on first use; idle ones close, and never hold the process open.
    const intake = new pg.Pool({
      connectionString: databaseUrl,
      max: intakeSize,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
    });
    intake.on('error', onLost);
    intakePools.set(client, intake);
    pools.unshift(intake);
  }
  const disconnect = client.$disconnect.bind(client);
  client.$disconnect = async () => {
    await disconnect();
    // A pool handed to the adapter is the caller's to end.
    for (const pool of pools) {
      const r = await endPool(pool).catch((err: Error) => (onLost(err), 'failed'));
      if (r === 'timed out') onLost(new Error('a database pool did not close within 3 s'));
    }
  };
  return client;
}

/** The webhook-intake pool of a client made by createPrisma (undefined for a client made otherwise). */
export function intakePool(db: Db): pg.Pool | undefined {
  return intakePools.get(db);
}

/**
 * The pool under a client made by createPrisma. Hot paths whose work is one
 * hand-written statement run it here directly: the same connections, without
 * the client's per-query overhead.
 */
export function sqlPool(db: Db): pg.Pool {
  const pool = mainPools.get(db);
  if (!pool) throw new Error('sqlPool: this client was not made by createPrisma');
  return pool;
}

/**
 * A fixed hot statement run on sqlPool() or intakePool(): prepared under `name`
 * unless the client runs unprepared (see PrismaOptions.preparedStatements).
 */
export function statement(db: Db, name: string, text: string, values: unknown[]): pg.QueryConfig {
  return preparing.has(db) ? { name, text, values } : { text, values };
}

/** A statement of any text run on this client's pool outside Prisma: prepared once hot, as Prisma's own are. */
export function preparedIfHot(db: Db, text: string, values: unknown[]): pg.QueryConfig {
  const name = preparing.get(db)?.nameFor(text, values);
  return name ? { name, text, values } : { text, values };
}
