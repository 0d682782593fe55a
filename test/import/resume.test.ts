// An import survives the gateway being killed: the uploaded file stays on disk,
// each batch commits its checkpoint with its rows, and the next gateway process
// resumes the Agenda job after the checkpoint once the dead runner's lock
// expires. Every good row ends up stored exactly once and the counts are right.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { eventually } from '../support/gateway.js';
import { startChildGateway } from '../support/child-gateway.js';
import { syntheticCsv } from '../../src/import/bench.js';

const ADMIN_API_KEY = 'test-admin-key-0123456789abcdef';
const ROWS = 20_000;
const BAD_EVERY = 97; // rows 97, 194, … have an impossible due date
const BAD = Math.floor(ROWS / BAD_EVERY);
const GOOD = ROWS - BAD;

let database: TestDatabase;
let dataDir: string;

/**
 * The gateway as a child process on the shared test database; the dead runner's Agenda lock expires IMPORT_STALL_TIMEOUT_MS after its last heartbeat.
 * Port 0: the kernel picks a free port for each process, so no parallel test can take it between choosing and binding.
 */
const startGatewayProcess = () =>
  startChildGateway(0, {
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    ADMIN_API_KEY,
    IMPORT_STALL_TIMEOUT_MS: '3000',
  });

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: database.url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

interface JobRow {
  status: string;
  rows_done: number;
  rows_failed: number;
  lines_done: number;
  source_path: string | null;
  errors: { line: number; field: string; reason: string }[];
}

beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-import-resume-'));
});

afterAll(async () => {
  await database?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('import resumes after the gateway is killed', () => {
  it('SIGKILL mid-import → restart → the job completes from its checkpoint, every good row once, counts right', async () => {
    const first = startGatewayProcess();
    let second: ReturnType<typeof startGatewayProcess> | null = null;
    try {
      await first.ready();
      const body = [...syntheticCsv(ROWS, { prefix: 'RS', badEvery: BAD_EVERY })].join('');
      const res = await fetch(`${first.url()}/api/v1/imports?format=csv&filename=resume.csv`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_API_KEY}`, 'content-type': 'text/csv' },
        body,
      });
      expect(res.status).toBe(202);
      const { jobId } = (await res.json()) as { jobId: string };
      const file = path.join(dataDir, 'imports', `${jobId}.csv`);

      // Kill it once some batches are committed and well before the end.
      const atKill = await eventually(
        async () => {
          const [j] = await query<JobRow>('SELECT status::text, rows_done, lines_done FROM import_jobs WHERE id = $1', [
            jobId,
          ]);
          return j && j.lines_done > 0 ? j : null;
        },
        30_000,
        'a first committed batch',
      );
      first.child.kill('SIGKILL');
      await first.exited;
      const [killed] = await query<JobRow>(
        'SELECT status::text, rows_done, rows_failed, lines_done, source_path FROM import_jobs WHERE id = $1',
        [jobId],
      );
      expect(killed!.status).toBe('RUNNING');
      expect(killed!.rows_done).toBeGreaterThanOrEqual(atKill.rows_done);
      expect(killed!.rows_done).toBeLessThan(ROWS); // really cut short
      expect(killed!.source_path).toBe(file);
      expect(fs.existsSync(file)).toBe(true); // the upload outlives the process
      // The checkpoint and the rows it covers committed together.
      const [stored] = await query<{ n: string }>(`SELECT count(*) AS n FROM debtors WHERE external_ref LIKE 'RS-%'`);
      expect(Number(stored!.n)).toBeGreaterThanOrEqual(killed!.rows_done - killed!.rows_failed);

      second = startGatewayProcess();
      await second.ready();
      const done = await eventually(
        async () => {
          const [j] = await query<JobRow>(
            'SELECT status::text, rows_done, rows_failed, lines_done, source_path, errors FROM import_jobs WHERE id = $1',
            [jobId],
          );
          return j && (j.status === 'SUCCEEDED' || j.status === 'FAILED') ? j : null;
        },
        45_000,
        'the resumed import to finish',
      );

      expect(done).toMatchObject({
        status: 'SUCCEEDED',
        rows_done: ROWS,
        rows_failed: BAD,
        lines_done: ROWS + 1,
        source_path: null,
      });
      // Each bad row reported once, with its line (header is line 1), field and reason.
      expect(done.errors).toHaveLength(BAD);
      expect(done.errors.map((e) => e.line)).toEqual(Array.from({ length: BAD }, (_, i) => (i + 1) * BAD_EVERY + 1));
      expect(done.errors.every((e) => e.field === 'due_date' && e.reason.length > 3)).toBe(true);
      // Every good row stored exactly once: one debtor, three contact points, one SMS consent and one debt each.
      const [counts] = await query<{
        debtors: string;
        points: string;
        consents: string;
        debts: string;
        distinct_debts: string;
      }>(`
        SELECT (SELECT count(*) FROM debtors WHERE external_ref LIKE 'RS-%') AS debtors,
               (SELECT count(*) FROM contact_points cp JOIN debtors d ON d.id = cp.debtor_id WHERE d.external_ref LIKE 'RS-%') AS points,
               (SELECT count(*) FROM channel_consents cc JOIN contact_points cp ON cp.id = cc.contact_point_id JOIN debtors d ON d.id = cp.debtor_id WHERE d.external_ref LIKE 'RS-%') AS consents,
               (SELECT count(*) FROM debts WHERE external_ref LIKE 'RS-INV-%') AS debts,
               (SELECT count(DISTINCT external_ref) FROM debts WHERE external_ref LIKE 'RS-INV-%') AS distinct_debts`);
      expect(counts).toEqual({
        debtors: String(GOOD),
        points: String(GOOD * 3),
        consents: String(GOOD),
        debts: String(GOOD),
        distinct_debts: String(GOOD),
      });
      // It resumed after the checkpoint rather than starting over, and cleaned up its file.
      expect(second.output()).toMatch(/import resumed from its checkpoint/);
      const resumedAt = Number(/"linesDone":(\d+),"msg":"import resumed/.exec(second.output())?.[1]);
      expect(resumedAt).toBeGreaterThanOrEqual(killed!.lines_done);
      await eventually(() => !fs.existsSync(file), 5_000, 'the uploaded file to be removed');
    } finally {
      first.child.kill('SIGKILL');
      if (second) {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    }
  }, 120_000); // two gateway starts and a 20,000-row import on a shared machine
});
