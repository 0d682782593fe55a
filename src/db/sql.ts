// The few statements of the outbound hot path run either inside a Prisma
// transaction (or on the client) or inside a plain pg transaction on the same
// pool (sqlTransaction), which spares Prisma's per-query work where a request
// makes half a dozen round trips. Both sides of `Sql` return what node-pg
// returns for the column types these statements select (text, json, arrays,
// booleans, integers, timestamps), so a statement reads the same either way.
import type pg from 'pg';
import type { Prisma } from '../generated/prisma/client.js';
import { preparedIfHot, sqlPool, type Db } from './client.js';

export interface Sql {
  /** The rows of `text` ($1, $2 … placeholders) run with `values`. */
  rows<T>(text: string, values: readonly unknown[]): Promise<T[]>;
}

/** Anything a hot-path statement can run on: a Prisma client, a Prisma transaction, or an `Sql`. */
export type Queryable = Sql | Prisma.TransactionClient | Db;

export function sqlOf(q: Queryable): Sql {
  if ('rows' in q && typeof q.rows === 'function') return q;
  const prisma = q as Prisma.TransactionClient;
  return { rows: <T>(text: string, values: readonly unknown[]) => prisma.$queryRawUnsafe<T[]>(text, ...values) };
}

/** Statements on node-pg (a pool or one connection of it), prepared once hot as Prisma's are. */
function pgSql(db: Db, on: pg.Pool | pg.PoolClient): Sql {
  return { rows: async <T>(text: string, values: readonly unknown[]) => (await on.query(preparedIfHot(db, text, [...values]))).rows as T[] };
}

/** Each statement on its own (autocommit) on the client's pool: for work that is one statement. */
export function poolSql(db: Db): Sql {
  return pgSql(db, sqlPool(db));
}

export interface SqlTransactionOptions {
  /** Longest wait for a pooled connection (a burst can hold them all). */
  maxWaitMs?: number;
  /** Bound on each statement and on any pause between them, enforced by PostgreSQL. */
  timeoutMs?: number;
}

/**
 * Runs `fn` in a READ COMMITTED transaction on one connection of the client's
 * pool: committed if it resolves, rolled back if it throws (the error is
 * passed on as it is; a unique violation carries code 23505).
 */
export async function sqlTransaction<T>(db: Db, fn: (sql: Sql) => Promise<T>, opts: SqlTransactionOptions = {}): Promise<T> {
  return pgTransaction(sqlPool(db), (client) => fn(pgSql(db, client)), opts);
}

/** The transaction itself, on any node-pg pool (the import writer's own pool uses it too). */
export async function pgTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, opts: SqlTransactionOptions = {}): Promise<T> {
  const client = await connectWithin(pool, opts.maxWaitMs ?? 15_000);
  const timeout = Math.max(1, Math.round(opts.timeoutMs ?? 20_000));
  let broken: Error | undefined;
  try {
    // One round trip: BEGIN and the transaction's time bounds.
    await client.query(`BEGIN; SET LOCAL statement_timeout = ${timeout}; SET LOCAL idle_in_transaction_session_timeout = ${timeout}`);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    // A connection that could not even roll back is closed, not reused.
    client.release(broken);
  }
}

async function connectWithin(pool: pg.Pool, ms: number): Promise<pg.PoolClient> {
  const connecting = pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no database connection free within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([connecting, timedOut]);
  } catch (err) {
    // The connection may still come: give it back when it does.
    void connecting.then((c) => c.release(), () => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
