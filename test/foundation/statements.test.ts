// Prepared statements: a text is named only once it keeps coming back, the
// same text always gets the same name, and only so many are ever named (each
// stays on every connection). With preparedStatements off (a transaction
// pooler in front), nothing is named; with it on, the named hot statements
// run on a real database and give the same rows.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { StatementNames } from '../../src/db/statements.js';
import { createPrisma, sqlPool, statement, type Db } from '../../src/db/client.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';

describe('statement names', () => {
  it('names a text after it has run `after` times, the same name each time, a different one per text', () => {
    const names = new StatementNames({ after: 3, max: 10 });
    expect(names.nameFor('SELECT 1')).toBeUndefined();
    expect(names.nameFor('SELECT 1')).toBeUndefined();
    const name = names.nameFor('SELECT 1');
    expect(name).toMatch(/^gw_[0-9a-f]{40}$/);
    expect(names.nameFor('SELECT 1')).toBe(name);
    for (let i = 0; i < 3; i++) names.nameFor('SELECT 2');
    expect(names.nameFor('SELECT 2')).not.toBe(name);
    // Another process names the same text the same way.
    const other = new StatementNames({ after: 1 });
    expect(other.nameFor('SELECT 1')).toBe(name);
  });

  it('never names a batch statement (an array parameter): its plan depends on the array', () => {
    const names = new StatementNames({ after: 1 });
    for (let i = 0; i < 5; i++) expect(names.nameFor('SELECT * FROM unnest($1::int[])', [[1, 2, i]])).toBeUndefined();
    expect(names.nameFor('SELECT $1::int', [1])).toMatch(/^gw_/);
  });

  it('never names more than `max` texts, and forgets counts past `track` distinct texts', () => {
    const names = new StatementNames({ after: 1, max: 5 });
    const named = Array.from({ length: 20 }, (_, i) => names.nameFor(`SELECT ${i}`));
    expect(named.filter(Boolean)).toHaveLength(5);
    expect(names.size).toBe(5);
    expect(names.nameFor('SELECT 0')).toBe(named[0]);

    const counting = new StatementNames({ after: 2, track: 3 });
    counting.nameFor('a');
    for (const t of ['b', 'c', 'd']) counting.nameFor(t); // the fourth distinct text clears the counts
    expect(counting.nameFor('a')).toBeUndefined();
    expect(counting.nameFor('a')).toMatch(/^gw_/);
  });
});

describe('prepared statements on the database', () => {
  let database: TestDatabase;
  let prepared: Db;
  let unprepared: Db;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    // One connection each, so what is prepared on it can be read back from pg_prepared_statements (per session).
    prepared = createPrisma(database.url, { poolSize: 1, intakePoolSize: 0 });
    unprepared = createPrisma(database.url, { poolSize: 1, intakePoolSize: 0, preparedStatements: false });
  });
  afterAll(async () => {
    await prepared?.$disconnect();
    await unprepared?.$disconnect();
    await database?.drop();
  });

  it('names fixed hot statements only when the client prepares', () => {
    expect(statement(prepared, 'x', 'SELECT $1::int', [1])).toEqual({ name: 'x', text: 'SELECT $1::int', values: [1] });
    expect(statement(unprepared, 'x', 'SELECT $1::int', [1])).toEqual({ text: 'SELECT $1::int', values: [1] });
  });

  const preparedOnConnection = async (db: Db) =>
    (
      await db.$queryRaw<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE '%AS marker_n%'`
    )[0]!.n;

  it('prepares a statement Prisma keeps running, on its connection, and answers it the same', async () => {
    for (const db of [prepared, unprepared]) {
      const rows = [];
      for (let i = 0; i < 40; i++)
        rows.push(
          (
            await db.$queryRaw<{ marker_n: number; t: string }[]>`SELECT ${i}::int AS marker_n, 'x' || ${i}::text AS t`
          )[0],
        );
      expect(rows).toEqual(Array.from({ length: 40 }, (_, i) => ({ marker_n: i, t: `x${i}` })));
    }
    expect(await preparedOnConnection(prepared)).toBe(1);
    expect(await preparedOnConnection(unprepared)).toBe(0);
  });

  it('runs a fixed statement under its name on the pool, and unnamed when not preparing', async () => {
    for (const db of [prepared, unprepared]) {
      const client = await sqlPool(db).connect();
      try {
        const doubled = [];
        for (let i = 0; i < 3; i++)
          doubled.push((await client.query(statement(db, 'test_double', 'SELECT $1::int * 2 AS d', [i]))).rows[0].d);
        expect(doubled).toEqual([0, 2, 4]);
        const named = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = 'test_double'`,
        );
        expect(named.rows[0]!.n).toBe(db === prepared ? 1 : 0);
      } finally {
        client.release();
      }
    }
  });
});
