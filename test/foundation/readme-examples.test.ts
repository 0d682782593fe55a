// The README's API examples run as written after `npm start` in sandbox mode
// (issue 18: they used to answer 401, needing an ADMIN_API_KEY nobody set).
// The shell blocks that call the API are read from README.md itself, not
// copied here, so a README edit that breaks them fails this test.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/ports.js';
import { startChildGateway, type ChildGateway } from '../support/child-gateway.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-readme-'));
fs.chmodSync(dir, 0o755);
let gateway: ChildGateway | null = null;

afterAll(async () => {
  if (gateway && gateway.child.exitCode === null) {
    gateway.child.kill('SIGTERM');
    await gateway.exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Every ```sh block of README.md that calls the API on localhost:3000. */
function readmeApiBlocks(): string[] {
  const readme = fs.readFileSync(path.resolve('README.md'), 'utf8');
  return [...readme.matchAll(/```(?:sh|bash|shell)\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .filter((b) => /curl\b[^\n]*localhost:3000/.test(b));
}

describe('README examples', () => {
  it('the API examples answer 2xx against a fresh sandbox start with no settings', async () => {
    const blocks = readmeApiBlocks();
    expect(blocks.length).toBeGreaterThan(0);
    // A fresh start as a newcomer makes it: DATA_DIR is the default ./.data, here under a temp working directory.
    gateway = startChildGateway(0, { DATA_DIR: path.join(dir, '.data'), EMBEDDED_PG_PORT: String(await freePort()) });
    await gateway.ready();
    // The key is owner-only on disk, and never in the log.
    const keyFile = path.join(dir, '.data', 'sandbox-admin-api-key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(gateway.output()).not.toContain(fs.readFileSync(keyFile, 'utf8').trim());
    const hostPort = gateway.url().replace('http://', '');
    // One shell, the blocks in README order, as a reader pastes them (later blocks use $KEY and the creditor of earlier ones).
    // Only the address differs; every curl fails the script on a non-2xx answer (and prints the body).
    const script = `set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n${blocks.join('\n').replaceAll('localhost:3000', hostPort)}`;
    const child = spawn('bash', ['-c', script], {
      cwd: dir,
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(`exit ${code}\n${out}`).toMatch(/^exit 0\n/);
    expect(out).toMatch(/"decision"/);
  }, 120_000);
});
