// The batch writer and the importer's pipeline through a bare pg pool (the
// CLI's and the benchmark's path): known and new debts mixed in one batch, and
// batches written while the next one is parsed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { importStream } from '../../src/import/importer.js';
import { createImportPool, pgImportDb, type ImportDb } from '../../src/import/sql.js';
import { SYNTHETIC_HEADER, syntheticCsv } from '../../src/import/bench.js';

let database: TestDatabase;
let pool: pg.Pool;
let db: ImportDb;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createImportPool(database.url);
  db = pgImportDb(pool);
});

afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

/** One CSV row in the synthetic layout: debtor ref, debt ref, amount. */
const row = (debtor: string, debt: string, amount: string) =>
  `${debtor},Name ${debtor},en,,,${debtor.toLowerCase()}@example.com,,,,,,,MIX,Mix Creditor,${debt},${amount},USD,2026-01-15\n`;

describe('batch writer', () => {
  it('inserts the new debts and updates the known ones of one batch, keeping balances paid down since', async () => {
    const first = [
      SYNTHETIC_HEADER + '\n',
      row('M-1', 'MIX-1', '100.00'),
      row('M-2', 'MIX-2', '200.00'),
      row('M-3', 'MIX-3', '300.00'),
    ];
    expect(await importStream(db, Readable.from(first), { format: 'csv' })).toMatchObject({
      rowsDone: 3,
      debtsCreated: 3,
      debtsUpdated: 0,
    });
    // A payment lands on MIX-1 after the first import.
    await db.query(`UPDATE debts SET balance = 40 WHERE external_ref = 'MIX-1'`);

    // One batch: MIX-1 re-sent with a new amount, MIX-2 now owed by another (new) debtor, MIX-4 and MIX-5 new.
    const second = [
      SYNTHETIC_HEADER + '\n',
      row('M-1', 'MIX-1', '110.00'),
      row('M-9', 'MIX-2', '200.00'),
      row('M-1', 'MIX-4', '400.00'),
      row('M-2', 'MIX-5', '500.00'),
    ];
    const summary = await importStream(db, Readable.from(second), { format: 'csv', batchSize: 100 });
    expect(summary).toMatchObject({
      rowsDone: 4,
      rowsFailed: 0,
      debtorsCreated: 1,
      debtorsUpdated: 2,
      debtsCreated: 2,
      debtsUpdated: 2,
    });

    const debts = await db.query<{ ref: string; debtor: string; amount: string; balance: string }>(
      `SELECT t.external_ref AS ref, d.external_ref AS debtor, t.original_amount::text AS amount, t.balance::text AS balance
       FROM debts t JOIN debtors d ON d.id = t.debtor_id WHERE t.external_ref LIKE 'MIX-%' ORDER BY t.external_ref`,
    );
    expect(debts).toEqual([
      { ref: 'MIX-1', debtor: 'M-1', amount: '110.0000', balance: '40.0000' }, // amount updated, the payment kept
      { ref: 'MIX-2', debtor: 'M-9', amount: '200.0000', balance: '200.0000' }, // moved to the new debtor, not duplicated
      { ref: 'MIX-3', debtor: 'M-3', amount: '300.0000', balance: '300.0000' },
      { ref: 'MIX-4', debtor: 'M-1', amount: '400.0000', balance: '400.0000' },
      { ref: 'MIX-5', debtor: 'M-2', amount: '500.0000', balance: '500.0000' },
    ]);
  });
});

describe('import pipeline', () => {
  it('gives the database replies a turn while the next batch is parsed, even from a source that never waits', async () => {
    // A source that never waits for I/O feeds the importer through promise
    // continuations only. Unless the importer hands the event loop a turn, a
    // batch's replies from PostgreSQL are read only once the next batch is
    // fully parsed, and the database idles while rows are parsed.
    const ROWS = 6_000;
    const BATCH = 1_000;
    let generated = 0;
    function* source() {
      for (const line of syntheticCsv(ROWS, { prefix: 'TURN' })) {
        generated += 1;
        yield line;
      }
    }
    const seenAtTurn: number[] = [];
    let running = true;
    const turn = () => {
      seenAtTurn.push(generated);
      if (running) setImmediate(turn);
    };
    setImmediate(turn);
    let summary: Awaited<ReturnType<typeof importStream>>;
    try {
      summary = await importStream(db, Readable.from(source()), { format: 'csv', batchSize: BATCH });
    } finally {
      running = false;
    }
    expect(summary).toMatchObject({ rowsDone: ROWS, debtorsCreated: ROWS, debtsCreated: ROWS });
    // Once the first batch is in flight, the loop turns every few dozen rows
    // (plus what the streams read ahead), never a whole batch apart.
    const afterFirstCut = seenAtTurn.filter((n) => n > BATCH + 100);
    const widestGap = afterFirstCut.reduce(
      (widest, n, i) => (i === 0 ? 0 : Math.max(widest, n - afterFirstCut[i - 1]!)),
      0,
    );
    expect(afterFirstCut.length).toBeGreaterThan(ROWS / 100);
    expect(widestGap).toBeLessThan(BATCH / 4);
  });
});
