// The writer speaks plain SQL with positional parameters, through either of two
// connections: Prisma's (inside the gateway, where Prisma owns the pool) or a
// bare node-postgres pool (the CLI and the benchmark, which then never load
// Prisma's query engine: about 70 MB less resident memory for a lone import).
// Both run each batch as one transaction.
import pg from 'pg';
import type { Db } from '../db/client.js';
import { pgTransaction } from '../db/sql.js';

/** What a batch needs from its transaction; Prisma's transaction client has exactly this shape. */
export interface ImportTx {
  $queryRawUnsafe<T = unknown>(sql: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(sql: string, ...values: unknown[]): Promise<number>;
}

export interface ImportDb {
  transaction<T>(fn: (tx: ImportTx) => Promise<T>): Promise<T>;
  /** One statement outside a batch (job-row bookkeeping). */
  query<T = unknown>(sql: string, ...values: unknown[]): Promise<T[]>;
}

const TX_TIMEOUT_MS = 120_000;

function prismaImportDb(db: Db): ImportDb {
  return {
    transaction: (fn) => db.$transaction((tx) => fn(tx), { timeout: TX_TIMEOUT_MS, maxWait: 30_000 }),
    query: <T>(sql: string, ...values: unknown[]) => db.$queryRawUnsafe<T[]>(sql, ...values),
  };
}

export function pgImportDb(pool: pg.Pool): ImportDb {
  return {
    query: async <T>(sql: string, ...values: unknown[]) => (await pool.query(sql, values)).rows as T[],
    transaction: (fn) =>
      pgTransaction(
        pool,
        (client) =>
          fn({
            $queryRawUnsafe: async <T>(sql: string, ...values: unknown[]) =>
              (await client.query(sql, values)).rows as T,
            $executeRawUnsafe: async (sql: string, ...values: unknown[]) =>
              (await client.query(sql, values)).rowCount ?? 0,
          }),
        { timeoutMs: TX_TIMEOUT_MS, maxWaitMs: 30_000 },
      ),
  };
}

/** Prisma's client or an ImportDb, as an ImportDb. */
export function toImportDb(db: Db | ImportDb): ImportDb {
  return 'transaction' in db && 'query' in db ? (db as ImportDb) : prismaImportDb(db as Db);
}

/** A small pool for one import: one connection writes, one spare for job-row reads. */
export function createImportPool(databaseUrl: string): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl, max: 2, application_name: 'gateway-import' });
}
