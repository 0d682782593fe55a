// The tools beside a running gateway, as issue 18 found them: `npm run import`
// on the same DATA_DIR used to stop the gateway's embedded PostgreSQL (every
// API call then 500) while /readyz, a flag set once at start, kept saying
// ready. Now the CLI uses the running gateway's database and leaves it
// running, a second gateway on the same DATA_DIR refuses, and /readyz asks
// the database on every probe.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/ports.js';
import { startChildGateway, type ChildGateway } from '../support/child-gateway.js';
import { eventually } from '../support/gateway.js';
import { syntheticCsv } from '../../src/import/bench.js';

const ADMIN_API_KEY = 'test-admin-key-0123456789abcdef';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-running-'));
fs.chmodSync(dataDir, 0o755);
let gateway: ChildGateway | null = null;
let stoppedPostmaster: number | null = null;

function runCli(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

/** Freezes or thaws the postmaster and its processes (each backend runs in its own session, so not one process group). */
function signalServer(postmaster: number, signal: 'SIGSTOP' | 'SIGCONT'): void {
  const children = execFileSync('pgrep', ['-P', String(postmaster)])
    .toString()
    .trim()
    .split('\n')
    .filter(Boolean)
    .map(Number);
  for (const pid of [postmaster, ...children]) process.kill(pid, signal);
}

const api = (p: string) => fetch(`${gateway!.url()}${p}`, { headers: { authorization: `Bearer ${ADMIN_API_KEY}` } });

afterAll(async () => {
  if (stoppedPostmaster) signalServer(stoppedPostmaster, 'SIGCONT');
  if (gateway && gateway.child.exitCode === null) {
    gateway.child.kill('SIGTERM');
    await gateway.exited;
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('tools that never harm a running gateway', () => {
  it('import beside a running gateway lands its rows and leaves the gateway answering; a 2nd gateway refuses; /readyz follows the database', async () => {
    const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()), ADMIN_API_KEY };
    gateway = startChildGateway(0, env);
    await gateway.ready();
    const lock = JSON.parse(fs.readFileSync(path.join(dataDir, 'embedded-pg.lock'), 'utf8'));
    expect(lock).toMatchObject({ pid: gateway.child.pid, owner: 'gateway', port: Number(env.EMBEDDED_PG_PORT) });

    const csv = path.join(dataDir, 'debtors.csv');
    fs.writeFileSync(csv, [...syntheticCsv(50, { prefix: 'RUN' })].join(''));
    // Even a CLI configured with another port finds the gateway's database through the lock.
    const imported = await runCli('src/cli/import.ts', [csv], { ...env, EMBEDDED_PG_PORT: String(await freePort()) });
    expect(imported.out).not.toMatch(/shutting it down/);
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(/50 imported, 0 rejected/);

    // The gateway still answers, from the same database, with the imported rows.
    expect((await fetch(`${gateway.url()}/readyz`)).status).toBe(200);
    const res = await api('/api/v1/debtors?limit=100');
    expect(res.status).toBe(200);
    expect(JSON.stringify(await res.json())).toContain('RUN-0000049');

    // A second gateway on the same DATA_DIR would stop the database under the first when it stops: it refuses.
    const second = startChildGateway(0, env);
    expect(await second.exited).not.toBe(0);
    expect(second.output()).toMatch(/belongs to a running gateway \(pid \d+/);
    expect((await api('/api/v1/debtors?limit=1')).status).toBe(200);

    // The database stops answering (its whole process group frozen): /readyz says so within seconds, and recovers.
    const postmaster = Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    signalServer(postmaster, 'SIGSTOP');
    stoppedPostmaster = postmaster;
    const down = await eventually(
      async () => {
        const r = await fetch(`${gateway!.url()}/readyz`);
        return r.status === 503
          ? ((await r.json()) as { checks: { database: { ok: boolean; detail?: string } } })
          : null;
      },
      10_000,
      '/readyz 503',
    );
    expect(down.checks.database).toMatchObject({ ok: false, detail: expect.stringMatching(/no answer within/) });
    signalServer(postmaster, 'SIGCONT');
    stoppedPostmaster = null;
    await eventually(async () => (await fetch(`${gateway!.url()}/readyz`)).status === 200, 15_000, '/readyz 200 again');

    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'embedded-pg.lock'))).toBe(false);
  }, 180_000);
});
