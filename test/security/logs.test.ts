// No secret in a log line: URL secrets (the SendGrid Inbound Parse path
// token, signed-link signatures, unsubscribe tokens) and credential headers
// are redacted in every request log line, and the sandbox demo admin's
// password never reaches the log stream (a file readable by the owner only,
// when stdout is not a terminal).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startChildGateway, type ChildGateway } from '../support/child-gateway.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { eventually } from '../support/gateway.js';
import { announceDemoAdmin, DEMO_CREDENTIALS_FILE } from '../../src/inbox/auth/users.js';
import { createLogger, redactUrl } from '../../src/logger.js';

const PARSE_SECRET = 'parse-path-secret-0f3e9a7c51';
const ADMIN_KEY = 'admin-key-that-must-not-be-logged-5b1d';
const SIG = 'c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw';
const UNSUB = 'unsubscribe-token-that-must-not-leak-77';

describe('secrets in logs', () => {
  let db: TestDatabase;
  let gw: ChildGateway;
  let dataDir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'logs-test-'));
    // Not NODE_ENV=test: the sandbox demo admin is created as on a first `npm start`, with stdout a pipe (not a TTY).
    gw = startChildGateway(0, {
      NODE_ENV: 'development',
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      PROVIDERS: 'sandbox',
      SENDGRID_INBOUND_SECRET: PARSE_SECRET,
      ADMIN_API_KEY: ADMIN_KEY,
    });
    await gw.ready();
  }, 90_000);
  afterAll(async () => {
    gw?.child.kill('SIGTERM');
    await gw?.exited;
    await db?.drop();
  });

  it('redacts URL secrets and credential headers from every request log line', async () => {
    const url = gw.url();
    await fetch(`${url}/webhooks/sendgrid/inbound/${PARSE_SECRET}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    await fetch(`${url}/files/letters/00000000-0000-4000-8000-000000000000.pdf?exp=9999999999&sig=${SIG}`);
    await fetch(`${url}/unsubscribe/${UNSUB}`);
    await fetch(`${url}/api/v1/debtors?q=x&token=${SIG}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}`, cookie: `dgw_session=${SIG}` },
    });
    const lines = await eventually(
      () => {
        const all = gw
          .output()
          .split('\n')
          .filter((l) => l.startsWith('{'));
        return all.some((l) => l.includes('/api/v1/debtors?q=x')) ? all : null;
      },
      10_000,
      'request log lines',
    );
    const requestLines = lines.filter((l) => l.includes('"req"'));
    expect(requestLines.length).toBeGreaterThanOrEqual(4);
    for (const secret of [PARSE_SECRET, SIG, UNSUB, ADMIN_KEY]) expect(gw.output()).not.toContain(secret);
    const urls = requestLines.map((l) => (JSON.parse(l) as { req: { url: string } }).req.url);
    expect(urls).toEqual(
      expect.arrayContaining([
        '/webhooks/sendgrid/inbound/[redacted]',
        '/files/letters/00000000-0000-4000-8000-000000000000.pdf?exp=9999999999&sig=[redacted]',
        '/unsubscribe/[redacted]',
        '/api/v1/debtors?q=x&token=[redacted]',
      ]),
    );
  });

  it('writes the demo admin credentials to an owner-only file in DATA_DIR and says where, never into the log', () => {
    const file = path.join(dataDir, DEMO_CREDENTIALS_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const password = /password: (\S+)/.exec(fs.readFileSync(file, 'utf8'))?.[1];
    expect(password).toMatch(/^\S{20,}$/);
    expect(gw.output()).not.toContain(password!);
    const line = gw
      .output()
      .split('\n')
      .find((l) => l.includes('demo admin created'));
    expect(JSON.parse(line!)).toMatchObject({ level: 30, file: path.resolve(file) });
  });

  it('prints the demo credentials when stdout is a terminal, and writes no file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-tty-'));
    let printed = '';
    const r = announceDemoAdmin(
      { email: 'admin@sandbox.local', password: 'terminal-only-password' },
      {
        baseUrl: 'http://127.0.0.1:3000',
        dataDir: dir,
        log: createLogger('silent'),
        out: { isTTY: true, write: (s: string) => (printed += s) },
      },
    );
    expect(r).toEqual({ printed: true });
    expect(printed).toContain('password: terminal-only-password');
    expect(fs.existsSync(path.join(dir, DEMO_CREDENTIALS_FILE))).toBe(false);
  });

  it('redacts secret URLs, paths and credential headers in any object a module logs', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) });
    log.warn(
      {
        path: `/webhooks/sendgrid/inbound/${PARSE_SECRET}`,
        err: { headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-twilio-signature': SIG } },
        hook: { url: `https://hooks.example/x?token=${UNSUB}` },
      },
      'refused',
    );
    const out = lines.join('');
    for (const secret of [PARSE_SECRET, ADMIN_KEY, SIG, UNSUB]) expect(out).not.toContain(secret);
    expect(JSON.parse(out)).toMatchObject({
      path: '/webhooks/sendgrid/inbound/[redacted]',
      hook: { url: 'https://hooks.example/x?token=[redacted]' },
      err: { headers: { authorization: '[redacted]' } },
    });
  });

  it('redactUrl keeps what is not secret', () => {
    expect(redactUrl('/api/v1/debtors?limit=5&q=a%25')).toBe('/api/v1/debtors?limit=5&q=a%25');
    expect(redactUrl('https://user:pw@hooks.example/x?signature=abc&id=1')).toBe(
      'https://[redacted]@hooks.example/x?signature=[redacted]&id=1',
    );
    expect(redactUrl('/webhooks/sendgrid/inbound')).toBe('/webhooks/sendgrid/inbound');
  });
});
