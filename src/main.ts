// Entry point of `npm start`: read and validate configuration, start the
// gateway, and shut down cleanly on SIGTERM / SIGINT.
import dotenv from 'dotenv';
import { ConfigError, loadConfig } from './config.js';
import { startGateway } from './gateway.js';
import { createLogger } from './logger.js';

dotenv.config({ quiet: true });

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (e) {
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
  throw e;
}

const log = createLogger(config.LOG_LEVEL);
let gateway: Awaited<ReturnType<typeof startGateway>> | null = null;
let shuttingDown = false;

async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info({ signal }, 'signal received');
  const force = setTimeout(() => {
    log.error('shutdown took too long; exiting');
    process.exit(1);
  }, config!.SHUTDOWN_TIMEOUT_MS + 10_000);
  force.unref();
  try {
    await gateway?.stop();
    process.exit(0);
  } catch (err) {
    log.error({ err }, 'error during shutdown');
    process.exit(1);
  }
}
// While stopping, an idle pooled connection may still see the embedded
// database's "terminating connection due to administrator command" (57P01)
// before its pool is closed; that is the shutdown we asked for, not a crash.
process.on('uncaughtException', (err: Error & { code?: string }) => {
  if (shuttingDown && err.code === '57P01') {
    log.debug({ err: err.message }, 'connection closed by database shutdown');
    return;
  }
  log.fatal({ err }, 'uncaught exception');
  process.exit(1);
});
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  gateway = await startGateway(config, log);
  if (shuttingDown) await gateway.stop();
} catch (err) {
  log.fatal({ err }, 'failed to start');
  process.exit(1);
}
