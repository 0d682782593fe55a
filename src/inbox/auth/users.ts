// Agent and admin accounts: creation (CLI, admin API, sandbox demo admin).
import type { Db } from '../../db/client.js';
import type { Role } from '../../generated/prisma/enums.js';
import { HttpError } from '../../http/errors.js';
import { generatePassword, hashPassword, MIN_PASSWORD_LENGTH } from './passwords.js';

export interface CreateUserInput {
  email: string;
  name?: string;
  role: Role;
  /** Omit to generate one; the generated password is returned once. */
  password?: string;
}

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

export async function createUser(db: Db, input: CreateUserInput): Promise<{ user: { id: string; email: string; name: string; role: Role }; password: string; generated: boolean }> {
  const email = normaliseEmail(input.email);
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new HttpError(400, 'invalid_request', 'email is not an email address', [{ field: 'email', reason: 'must be an email address' }]);
  const generated = input.password === undefined;
  const password = input.password ?? generatePassword();
  if (password.length < MIN_PASSWORD_LENGTH) throw new HttpError(400, 'invalid_request', `password must have at least ${MIN_PASSWORD_LENGTH} characters`, [{ field: 'password', reason: `at least ${MIN_PASSWORD_LENGTH} characters` }]);
  const existing = await db.user.findUnique({ where: { email }, select: { id: true } });
  if (existing) throw new HttpError(409, 'conflict', `a user with email ${email} exists`, [{ field: 'email', reason: 'already in use' }]);
  const user = await db.user.create({
    data: { email, name: input.name?.trim() || email.split('@')[0]!, role: input.role, passwordHash: await hashPassword(password) },
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
