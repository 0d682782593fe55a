// `npm run db:migrate`: apply pending migrations and exit (the service also
// does this itself at start).
import dotenv from 'dotenv';
import { ConfigError, loadConfig } from '../config.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../logger.js';

dotenv.config({ quiet: true });
try {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  const embedded = config.DATABASE_URL
    ? null
    : await startEmbeddedPostgres({
        dataDir: config.DATA_DIR,
        port: config.EMBEDDED_PG_PORT,
        log,
        owner: 'npm run db:migrate',
        ifRunning: 'borrow',
      });
  try {
    const result = await migrate(config.DATABASE_URL ?? embedded!.url, log);
    process.stdout.write(
      `${result.applied.length} migration(s) applied, ${result.alreadyApplied.length} already applied\n`,
    );
  } finally {
    await embedded?.stop();
  }
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? e.message : `migration failed: ${(e as Error).message}`}\n`);
  process.exit(1);
}
