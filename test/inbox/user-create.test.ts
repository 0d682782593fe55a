// `npm run user:create`: creates an account in the configured database and prints a generated password once.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { createPrisma } from '../../src/db/client.js';
import { verifyPassword } from '../../src/inbox/auth/passwords.js';

function run(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/user-create.ts', ...args], {
      env: { ...process.env, NODE_OPTIONS: '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end();
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('user:create', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => db?.drop());

  it('creates an admin with a generated password it prints once, and refuses a duplicate', async () => {
    const env = { DATABASE_URL: db.url, LOG_LEVEL: 'silent' };
    const r = await run(['--email', 'Boss@Team.example', '--role', 'admin', '--name', 'The Boss'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const password = /password: (\S+)/.exec(r.stdout)?.[1];
    expect(password).toBeDefined();
    const prisma = createPrisma(db.url);
    try {
      const user = await prisma.user.findUniqueOrThrow({ where: { email: 'boss@team.example' } });
      expect(user.role).toBe('ADMIN');
      expect(user.name).toBe('The Boss');
      expect(user.passwordHash).toMatch(/^\$argon2id\$/);
      expect(await verifyPassword(user.passwordHash, password!)).toBe(true);
    } finally {
      await prisma.$disconnect();
    }
    const again = await run(['--email', 'boss@team.example', '--role', 'agent'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists/);
  }, 60_000);
});
