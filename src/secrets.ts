// The service's own signing key (unsubscribe links, session tokens). From
// APP_SECRET; otherwise generated once and kept in DATA_DIR/app-secret so
// links stay valid across restarts. Several processes must share APP_SECRET.
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Env } from './config.js';

export function appSecret(env: Env): string {
  if (env.APP_SECRET) return env.APP_SECRET;
  const file = path.resolve(env.DATA_DIR, 'app-secret');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const s = randomBytes(32).toString('base64url');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, s + '\n', { mode: 0o600, flag: 'wx' });
    return fs.readFileSync(file, 'utf8').trim();
  }
}

const derived = new Map<string, Buffer>();

/**
 * A key for one use of the app secret (`purpose` names it, e.g.
 * "dunning-gateway/portal-link/v1"): a key leaked from one use forges nothing
 * in another, and there is no second secret to configure. Cached, as some
 * uses run on every message.
 */
export function derivedKey(secret: string, purpose: string): Buffer {
  const id = `${purpose}\u0000${secret}`;
  let key = derived.get(id);
  if (!key) {
    key = createHmac('sha256', secret).update(purpose).digest();
    if (derived.size > 32) derived.clear(); // tests start many gateways with different secrets
    derived.set(id, key);
  }
  return key;
}
