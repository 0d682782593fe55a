// The service as a newcomer runs it: `npm start` with no DATABASE_URL starts an
// embedded PostgreSQL under DATA_DIR, keeps data between runs, shuts down
// cleanly on SIGTERM, and recovers after being killed with SIGKILL.
import { afterAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from '../support/ports.js';
import { startChildGateway } from '../support/child-gateway.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-lifecycle-'));
fs.chmodSync(dataDir, 0o755);
let pgPort: number;

/** `npm start` as a newcomer runs it: no DATABASE_URL, so the embedded PostgreSQL under DATA_DIR. */
// HTTP port 0: the kernel picks a free one, so no other test can take it between choosing and binding.
const start = () => startChildGateway(0, { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort) });

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  const password = fs.readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim();
  const c = new pg.Client({ host: '127.0.0.1', port: pgPort, user: 'postgres', password, database: 'gateway' });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('service lifecycle with the embedded database', () => {
  it('starts, keeps data, stops cleanly on SIGTERM, and recovers after SIGKILL', async () => {
    pgPort = await freePort();

    // 1st start: initialises the cluster and migrates
    const first = start();
    await first.ready();
    await query("INSERT INTO creditors (id, name, external_ref) VALUES (gen_random_uuid(), 'Acme Finance', 'acme')");
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/"msg":"stopped"/);
    expect(await portOpen(pgPort)).toBe(false); // the embedded database was stopped too

    // 2nd start: same data
    const second = start();
    await second.ready();
    expect(await query('SELECT name FROM creditors')).toEqual([{ name: 'Acme Finance' }]);
    second.child.kill('SIGKILL');
    await second.exited;

    // 3rd start after SIGKILL: the orphaned server / stale lock is handled
    const third = start();
    await third.ready();
    expect(await query('SELECT name FROM creditors')).toEqual([{ name: 'Acme Finance' }]);
    third.child.kill('SIGINT');
    expect(await third.exited).toBe(0);
    expect(await portOpen(pgPort)).toBe(false);
  }, 180_000);
});
