// Agent and admin accounts: creation (CLI, admin API, sandbox demo admin).
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../logger.js';
import type { Db } from '../../db/client.js';
import type { Role } from '../../generated/prisma/enums.js';
import { HttpError } from '../../http/errors.js';
import { generatePassword, hashPassword, MIN_PASSWORD_LENGTH } from './passwords.js';
import { createApiKey } from '../../auth/api-keys.js';

export interface CreateUserInput {
  email: string;
  name?: string;
  role: Role;
  /** Omit to generate one; the generated password is returned once. */
  password?: string;
}

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

export async function createUser(
  db: Db,
  input: CreateUserInput,
): Promise<{ user: { id: string; email: string; name: string; role: Role }; password: string; generated: boolean }> {
  const email = normaliseEmail(input.email);
  if (!/^[^\s@]+@[^\s@]+$/.test(email))
    throw new HttpError(400, 'invalid_request', 'email is not an email address', [
      { field: 'email', reason: 'must be an email address' },
    ]);
  const generated = input.password === undefined;
  const password = input.password ?? generatePassword();
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new HttpError(400, 'invalid_request', `password must have at least ${MIN_PASSWORD_LENGTH} characters`, [
      { field: 'password', reason: `at least ${MIN_PASSWORD_LENGTH} characters` },
    ]);
  const existing = await db.user.findUnique({ where: { email }, select: { id: true } });
  if (existing)
    throw new HttpError(409, 'conflict', `a user with email ${email} exists`, [
      { field: 'email', reason: 'already in use' },
    ]);
  const user = await db.user.create({
    data: {
      email,
      name: input.name?.trim() || email.split('@')[0]!,
      role: input.role,
      passwordHash: await hashPassword(password),
    },
    select: { id: true, email: true, name: true, role: true },
  });
  return { user, password, generated };
}

export const DEMO_ADMIN_EMAIL = 'admin@sandbox.local';

/**
 * In sandbox mode, a first start with no accounts creates a demo admin so the
 * inbox can be tried at once. Returns the credentials only when it created them.
 */
export async function ensureDemoAdmin(db: Db): Promise<{ email: string; password: string } | null> {
  if ((await db.user.count()) > 0) return null;
  try {
    const { password } = await createUser(db, { email: DEMO_ADMIN_EMAIL, name: 'Demo Admin', role: 'ADMIN' });
    return { email: DEMO_ADMIN_EMAIL, password };
  } catch (err) {
    // Another process sharing the database created it first.
    if (err instanceof HttpError && err.status === 409) return null;
    throw err;
  }
}

export const DEMO_CREDENTIALS_FILE = 'demo-admin-credentials.txt';
/** Holds only the sandbox admin API key, so the README's examples can read it: KEY=$(cat .data/sandbox-admin-api-key). */
export const DEMO_API_KEY_FILE = 'sandbox-admin-api-key';

/**
 * The sandbox's first start also makes an admin API key, so the README's curl
 * examples work after `npm start` without setting ADMIN_API_KEY. Like every
 * key it is stored hashed; the key itself goes to an owner-only file in
 * DATA_DIR (created 0600 from the first byte), never to the log.
 */
export async function createDemoApiKey(db: Db, dataDir: string): Promise<{ key: string; file: string }> {
  const { key } = await createApiKey(db, { name: 'sandbox demo admin key', role: 'ADMIN' });
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.resolve(dataDir, DEMO_API_KEY_FILE);
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
  return { key, file };
}

/**
 * Tells the person starting the gateway the demo admin's password, once. On a
 * terminal it is printed there. Otherwise stdout is usually the JSON log
 * (collected, shipped, kept), where a password must never be: it is written
 * to DATA_DIR/demo-admin-credentials.txt, readable by the owner only, and the
 * log says where.
 */
export function announceDemoAdmin(
  demo: { email: string; password: string; apiKey?: string },
  opts: {
    baseUrl: string;
    dataDir: string;
    log: Logger;
    out?: NodeJS.WriteStream | { isTTY?: boolean; write(s: string): unknown };
  },
): { printed: true } | { file: string } {
  const out = opts.out ?? process.stdout;
  const textOf = `Sandbox demo admin — sign in at ${opts.baseUrl}/\n  email:    ${demo.email}\n  password: ${demo.password}\n${demo.apiKey ? `  API key:  ${demo.apiKey} (also in ${path.join(opts.dataDir, DEMO_API_KEY_FILE)})\n` : ''}(create more users with npm run user:create)\n`;
  if (out.isTTY) {
    out.write(`\n${textOf.replace('\n(create', '\n(shown once; create')}\n`);
    return { printed: true };
  }
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const file = path.resolve(opts.dataDir, DEMO_CREDENTIALS_FILE);
  // Created owner-only from the first byte (no window with wider permissions); a leftover file is replaced.
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, textOf, { mode: 0o600, flag: 'wx' });
  opts.log.info({ file }, 'sandbox demo admin created; its credentials are in this file (owner-only)');
  return { file };
}
