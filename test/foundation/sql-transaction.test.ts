// sqlTransaction: the outbound hot path's plain pg transaction on Prisma's
// pool. It commits what its function wrote, rolls everything back when the
// function throws (passing the error on, a unique violation recognisable as
// one), bounds each statement and the wait for a connection, and gives every
// connection back — a broken one closed instead of reused. Statements issued
// together are pipelined and still run in order; COMMIT can ride with the last.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { createPrisma, sqlPool, type Db } from '../../src/db/client.js';
import { sqlOf, sqlTransaction } from '../../src/db/sql.js';
import { isUniqueViolation } from '../../src/db/errors.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { eventually } from '../support/gateway.js';

describe('sqlTransaction', () => {
  let database: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    db = createPrisma(database.url, { poolSize: 2, intakePoolSize: 0 });
    await db.$executeRawUnsafe('CREATE TABLE t (k text PRIMARY KEY, v int NOT NULL)');
  });
  afterAll(async () => {
    await db?.$disconnect();
    await database?.drop();
  });

  const values = async () =>
    (await db.$queryRawUnsafe<{ k: string; v: number }[]>('SELECT k, v FROM t ORDER BY k')).map((r) => `${r.k}=${r.v}`);

  it('commits what the function wrote and returns its result', async () => {
    const r = await sqlTransaction(db, async (sql) => {
      await sql.rows('INSERT INTO t (k, v) VALUES ($1, $2)', ['a', 1]);
      return (await sql.rows<{ n: number }>('SELECT count(*)::int AS n FROM t', []))[0]!.n;
    });
    expect(r).toBe(1);
    expect(await values()).toEqual(['a=1']);
  });

  it('rolls back everything when the function throws, and passes the error on', async () => {
    const boom = new Error('refused after writing');
    await expect(
      sqlTransaction(db, async (sql) => {
        await sql.rows('INSERT INTO t (k, v) VALUES ($1, $2)', ['b', 2]);
        await sql.rows('UPDATE t SET v = 10 WHERE k = $1', ['a']);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await values()).toEqual(['a=1']);
  });

  it('reports a duplicate key as a unique violation and keeps nothing of that transaction', async () => {
    const err = await sqlTransaction(db, async (sql) => {
      await sql.rows('INSERT INTO t (k, v) VALUES ($1, $2)', ['c', 3]);
      await sql.rows('INSERT INTO t (k, v) VALUES ($1, $2)', ['a', 4]);
    }).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    expect(isUniqueViolation(new Error('other'))).toBe(false);
    expect(await values()).toEqual(['a=1']);
  });

  it('bounds each statement, and the connection serves the next transaction', async () => {
    const err = await sqlTransaction(db, (sql) => sql.rows('SELECT pg_sleep(2)', []), { timeoutMs: 200 }).catch(
      (e: unknown) => e as Error,
    );
    expect(String(err)).toMatch(/statement timeout/);
    for (let i = 0; i < 3; i++)
      expect(await sqlTransaction(db, (sql) => sql.rows<{ one: number }>('SELECT 1 AS one', []))).toEqual([{ one: 1 }]);
    expect(sqlPool(db).totalCount).toBeLessThanOrEqual(2);
  });

  it('gives up waiting for a connection after maxWait, and takes one once they are free', async () => {
    const held = await Promise.all([sqlPool(db).connect(), sqlPool(db).connect()]);
    try {
      await expect(sqlTransaction(db, (sql) => sql.rows('SELECT 1', []), { maxWaitMs: 100 })).rejects.toThrow(
        /no database connection free within 100 ms/,
      );
    } finally {
      for (const c of held) c.release();
    }
    expect(await sqlTransaction(db, (sql) => sql.rows<{ two: number }>('SELECT 2 AS two', []))).toEqual([{ two: 2 }]);
    // The connection that arrived after the give-up went back to the pool: every connection is idle again.
    await eventually(
      async () => sqlPool(db).waitingCount === 0 && sqlPool(db).idleCount === sqlPool(db).totalCount,
      2_000,
      'every connection back in the pool',
    );
  });

  it('runs statements issued together one after the other: a read behind a lock sees what the lock waited for', async () => {
    // Another transaction holds the row lock and changes the row; ours asks for the lock and the read in one go.
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query("SELECT k FROM t WHERE k = 'a' FOR UPDATE");
      await other.query("UPDATE t SET v = 5 WHERE k = 'a'");
      const ours = sqlTransaction(db, async (sql) => {
        const [, read] = await Promise.all([
          sql.rows("SELECT k FROM t WHERE k = 'a' FOR UPDATE", []),
          sql.rows<{ v: number }>("SELECT v FROM t WHERE k = 'a'", []),
        ]);
        return read[0]!.v;
      });
      // Ours is waiting on the lock (not done) until the other commits.
      await eventually(
        async () =>
          (
            await other.query<{ n: number }>(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
            )
          ).rows[0]!.n === 1,
        5_000,
        'our lock waits',
      );
      await other.query('COMMIT');
      // The read started after the lock was granted, so it sees the committed change (a read in the lock's own statement would not).
      expect(await ours).toBe(5);
    } finally {
      await other.end();
    }
    await db.$executeRawUnsafe("UPDATE t SET v = 1 WHERE k = 'a'");
  });

  it('commits together with the last statement, and a failure there keeps nothing and is the error passed on', async () => {
    await sqlTransaction(db, async (sql) => {
      await Promise.all([sql.rows('INSERT INTO t (k, v) VALUES ($1, $2)', ['d', 4]), sql.commit()]);
    });
    expect(await values()).toEqual(['a=1', 'd=4']);
    const err = await sqlTransaction(db, async (sql) => {
      await sql.rows('INSERT INTO t (k, v) VALUES ($1, $2)', ['e', 5]);
      // The duplicate and COMMIT go out together: PostgreSQL answers COMMIT with a rollback.
      await Promise.all([sql.rows('INSERT INTO t (k, v) VALUES ($1, $2)', ['d', 6]), sql.commit()]);
    }).catch((e: unknown) => e);
    expect(isUniqueViolation(err)).toBe(true);
    expect(await values()).toEqual(['a=1', 'd=4']);
    // The connection is clean for the next transaction.
    expect(await sqlTransaction(db, (sql) => sql.rows<{ three: number }>('SELECT 3 AS three', []))).toEqual([
      { three: 3 },
    ]);
    await db.$executeRawUnsafe("DELETE FROM t WHERE k = 'd'");
  });

  it('runs the same statements on a Prisma client through sqlOf', async () => {
    expect(await sqlOf(db).rows<{ k: string }>('SELECT k FROM t WHERE v = $1', [1])).toEqual([{ k: 'a' }]);
    await db.$transaction(async (tx) =>
      expect(await sqlOf(tx).rows<{ n: number }>('SELECT count(*)::int AS n FROM t', [])).toEqual([{ n: 1 }]),
    );
  });
});
