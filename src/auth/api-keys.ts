// API keys: random, shown once, stored only as a sha256 hash. (A fast hash is
// right here: keys carry 190+ bits of entropy, unlike passwords.)
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/client.js';
import type { Role } from '../generated/prisma/enums.js';

const KEY_PREFIX = 'dgw_';

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function generateKey(): string {
  return KEY_PREFIX + randomBytes(24).toString('base64url');
}

export async function createApiKey(db: Db, opts: { name: string; role: Role; createdById?: string }) {
  const key = generateKey();
  const row = await db.apiKey.create({
    data: {
      name: opts.name,
      role: opts.role,
      prefix: key.slice(0, KEY_PREFIX.length + 6),
      hash: hashKey(key),
      createdById: opts.createdById ?? null,
    },
  });
  return { key, apiKey: row };
}

export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
