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

/** Each statement on its own (autocommit) on the client's pool, prepared once hot as Prisma's are: for work that is one statement. */
export function poolSql(db: Db): Sql {
  const pool = sqlPool(db);
  return {
    rows: async <T>(text: string, values: readonly unknown[]) =>
      (await pool.query(preparedIfHot(db, text, [...values]))).rows as T[],
  };
}

export interface SqlTransactionOptions {
  /** Longest wait for a pooled connection (a burst can hold them all). */
  maxWaitMs?: number;
  /** Bound on each statement and on any pause between them, enforced by PostgreSQL. */
  timeoutMs?: number;
}

/** The statements of one sqlTransaction. */
export interface TxSql extends Sql {
  /**
   * COMMIT, sent right behind the statements already issued: issue the last
   * statement, call commit() without awaiting either, and await both — one
   * round trip. Rejects when the transaction did not commit (an earlier
   * statement failed and PostgreSQL rolled it back instead).
   */
  commit(): Promise<void>;
}

/**
 * Runs `fn` in a READ COMMITTED transaction on one connection of the client's
 * pool: committed if it resolves (unless it already committed), rolled back if
 * it throws (the error is passed on as it is; a unique violation carries code
 * 23505).
 *
 * The pool's connections pipeline (createPrisma): statements issued together
 * without awaiting one another go out in one write and come back in one round
 * trip, and PostgreSQL still runs them one after the other — each later
 * statement sees what the earlier ones did or waited for (a row lock, then a
 * read under it). BEGIN is not awaited either: the first statements ride in its
 * round trip, and none of their results is handed back before BEGIN's.
 */
export function sqlTransaction<T>(
  db: Db,
  fn: (sql: TxSql) => Promise<T>,
  opts: SqlTransactionOptions = {},
): Promise<T> {
  return transactionOn(
    sqlPool(db),
    (text, values) => preparedIfHot(db, text, values),
    (tx) => fn(tx),
    opts,
  );
}

/** The transaction itself, on any node-pg pool (the import writer's own pool uses it too, through the connection). */
export function pgTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  opts: SqlTransactionOptions = {},
): Promise<T> {
  return transactionOn(
    pool,
    (text, values) => ({ text, values }),
    (_tx, client) => fn(client),
    opts,
  );
}

async function transactionOn<T>(
  pool: pg.Pool,
  config: (text: string, values: unknown[]) => pg.QueryConfig,
  fn: (sql: TxSql, client: pg.PoolClient) => Promise<T>,
  opts: SqlTransactionOptions,
): Promise<T> {
  const client = await connectWithin(pool, opts.maxWaitMs ?? 15_000);
  const send = writesTogether(client);
  let broken: Error | undefined;
  let committed = false;
  const begun = send(() => client.query(beginWithBounds(opts.timeoutMs)));
  // Its failure reaches the caller through the statements' results (and the final COMMIT).
  begun.catch(() => undefined);
  // The first statement error, kept as it arrives (before COMMIT's answer, which comes after it).
  let failed: unknown;
  const tx: TxSql = {
    rows: async <T>(text: string, values: readonly unknown[]) => {
      const issued = send(() => client.query(config(text, [...values])));
      issued.catch((e: unknown) => (failed ??= e));
      const [, result] = await Promise.all([begun, issued]);
      return result.rows as T[];
    },
    commit: async () => {
      const [, result] = await Promise.all([begun, send(() => client.query('COMMIT'))]);
      // COMMIT in a failed transaction rolls back and says so, without an error of its own: the
      // caller gets the statement's error (a unique violation stays one), whichever it awaits first.
      if (result.command !== 'COMMIT')
        throw failed ?? new Error('the transaction was rolled back: one of its statements failed');
      committed = true;
    },
  };
  try {
    const result = await fn(tx, client);
    if (!committed) await tx.commit();
    return result;
  } catch (err) {
    if (!committed) await client.query('ROLLBACK').catch((e: Error) => (broken = e));
    throw err;
  } finally {
    // A connection that could not even roll back is closed, not reused.
    client.release(broken);
  }
}

/** One round trip: BEGIN and the transaction's time bounds. */
function beginWithBounds(timeoutMs = 20_000): string {
  const timeout = Math.max(1, Math.round(timeoutMs));
  return `BEGIN; SET LOCAL statement_timeout = ${timeout}; SET LOCAL idle_in_transaction_session_timeout = ${timeout}`;
}

/**
 * Statements issued in the same turn of the event loop leave in one socket
 * write. node-pg writes each on its own; every write wakes the PostgreSQL
 * backend, which on a busy machine may take this thread's core, so the socket
 * is corked until the turn ends and the backend is woken once for the burst.
 * Through node-pg's connection stream, which it has no public handle for;
 * without it, writes go one by one.
 */
function writesTogether(client: pg.PoolClient): <R>(issue: () => R) => R {
  const stream = (client as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void } } })
    .connection?.stream;
  if (!stream?.cork || !stream.uncork) return (issue) => issue();
  let corked = false;
  return (issue) => {
    if (!corked) {
      corked = true;
      stream.cork!();
      process.nextTick(() => {
        corked = false;
        stream.uncork!();
      });
    }
    return issue();
  };
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
    void connecting.then(
      (c) => c.release(),
      () => undefined,
    );
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
