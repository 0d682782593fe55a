// Starts one real PostgreSQL for the whole test run (embedded, under a temp
// dir), unless TEST_DATABASE_URL names a server to use. Each test file then
// creates its own database on it (test/support/db.ts), so files run in parallel.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { createLogger } from '../../src/logger.js';
import { freePort } from './ports.js';

export async function startTestServer(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) {
    process.env.TEST_PG_SERVER_URL = process.env.TEST_DATABASE_URL;
    return;
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-test-pg-'));
  fs.chmodSync(dataDir, 0o755);
  const port = await freePort();
  const db = await startEmbeddedPostgres({ dataDir, port, database: 'postgres', log: createLogger('warn') });
  process.env.TEST_PG_SERVER_URL = db.url;
  (globalThis as { __testPg?: { stop(): Promise<void>; dataDir: string } }).__testPg = { stop: db.stop, dataDir };
}

export async function stopTestServer(): Promise<void> {
  const pg = (globalThis as { __testPg?: { stop(): Promise<void>; dataDir: string } }).__testPg;
  if (!pg) return;
  await pg.stop();
  fs.rmSync(pg.dataDir, { recursive: true, force: true });
}
