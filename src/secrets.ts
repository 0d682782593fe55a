// The service's own signing key (unsubscribe links, session tokens). From
// APP_SECRET; otherwise generated once and kept in DATA_DIR/app-secret so
// links stay valid across restarts. Several processes must share APP_SECRET.
import { randomBytes } from 'node:crypto';
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
