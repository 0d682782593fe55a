// Starts the real gateway in-process on a test database and an ephemeral port.
import { loadConfig } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from './db.js';

export interface TestGateway extends Gateway {
  database: TestDatabase;
  close(): Promise<void>;
}

export async function startTestGateway(env: Record<string, string> = {}): Promise<TestGateway> {
  const database = await createTestDatabase({ migrate: false });
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: database.url,
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...env,
  });
  const gw = await startGateway(config, createLogger(config.LOG_LEVEL)).catch(async (err: unknown) => {
    // startGateway stopped what it had started; the database goes too.
    await database.drop().catch(() => undefined);
    throw err;
  });
  return {
    ...gw,
    database,
    close: async () => {
      await gw.stop();
      await database.drop();
    },
  };
}

/** Polls `fn` until it returns a truthy value (bounded; no fixed sleeps). */
export async function eventually<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
