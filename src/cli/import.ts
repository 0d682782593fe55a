// `npm run import -- file.csv [--format csv|json] [--batch-size 1000]`: runs
// the same import job as POST /api/v1/imports against DATABASE_URL (or the
// embedded PostgreSQL, like db:migrate), with a progress bar over the bytes
// read, rows, bad rows and rows/s. It writes through a bare pg pool (no Prisma
// engine loaded), streaming the file where it lies. Exit code 0 when the file
// was read to the end (bad rows are listed, not fatal), 1 on a file-level
// failure or Ctrl-C, 2 on bad arguments.
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { parseArgs } from 'node:util';
import dotenv from 'dotenv';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig } from '../config.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../logger.js';
import { createImportJob, findImportJob, ImportInterrupted, runImportJob } from '../import/jobs.js';
import { createImportPool, pgImportDb } from '../import/sql.js';
import type { ImportFormat } from '../import/sources.js';
import type { RowError } from '../import/row.js';

function usage(msg: string): never {
  process.stderr.write(`${msg}\nusage: npm run import -- <file> [--format csv|json] [--batch-size N]\n`);
  process.exit(2);
}

dotenv.config({ quiet: true });
const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { format: { type: 'string' }, 'batch-size': { type: 'string' } },
    });
  } catch (e) {
    return usage((e as Error).message);
  }
})();
const file = positionals[0];
if (!file) usage('missing the file to import');
if (!fs.existsSync(file)) usage(`no such file: ${file}`);
const ext = path.extname(file).toLowerCase();
const format = (values.format ??
  (ext === '.csv' ? 'csv' : ext === '.json' || ext === '.ndjson' || ext === '.jsonl' ? 'json' : '')) as ImportFormat;
if (format !== 'csv' && format !== 'json') usage('give --format csv or --format json');
const batchSize = values['batch-size'] ? Number(values['batch-size']) : undefined;
if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000))
  usage('--batch-size must be a whole number from 1 to 10000');

let exitCode = 0;
try {
  const config = loadConfig();
  // The bar owns the terminal; keep the service log quiet unless asked.
  const log = createLogger(process.env.LOG_LEVEL ? config.LOG_LEVEL : 'warn');
  const embedded = config.DATABASE_URL
    ? null
    : await startEmbeddedPostgres({
        dataDir: config.DATA_DIR,
        port: config.EMBEDDED_PG_PORT,
        log,
        owner: 'npm run import',
        ifRunning: 'borrow',
      });
  const url = config.DATABASE_URL ?? embedded!.url;
  const pool = createImportPool(url);
  const db = pgImportDb(pool);
  try {
    await migrate(url, log);
    const size = fs.statSync(file).size;
    const bar = new cliProgress.SingleBar(
      {
        format: ' {bar} {percentage}% | {rows} rows | {failed} bad | {rate} rows/s | {eta_formatted} left',
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(size, 0, { rows: 0, failed: 0, rate: 0 });
    let read = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        read += chunk.length;
        done(null, chunk);
      },
    });
    const source = fs.createReadStream(file, { highWaterMark: 64 * 1024 }).pipe(counter);
    const job = await createImportJob(db, { format, filename: path.basename(file) });
    // Ctrl-C stops after the batch in flight: what is committed stays, and the job says where it stopped.
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    try {
      const summary = await runImportJob({ db, log }, job.id, {
        source,
        batchSize,
        signal: abort.signal,
        onProgress: (p) => bar.update(read, { rows: p.rowsDone, failed: p.rowsFailed, rate: p.rowsPerSecond }),
      });
      if (summary)
        bar.update(size, { rows: summary.rowsDone, failed: summary.rowsFailed, rate: summary.rowsPerSecond });
      bar.stop();
      if (!summary) {
        const row = await findImportJob(db, job.id);
        const fileError = (row?.errors as RowError[] | undefined)?.find((e) => e.field === '(file)');
        process.stderr.write(
          `import ${job.id} failed${fileError ? ` at line ${fileError.line}: ${fileError.reason}` : ''}\n`,
        );
        exitCode = 1;
      } else {
        process.stdout.write(
          `import ${job.id}: ${summary.rowsDone} rows in ${(summary.elapsedMs / 1000).toFixed(1)} s (${summary.rowsPerSecond} rows/s); ` +
            `${summary.rowsDone - summary.rowsFailed} imported, ${summary.rowsFailed} rejected; ` +
            `debtors ${summary.debtorsCreated} new / ${summary.debtorsUpdated} updated, debts ${summary.debtsCreated} new / ${summary.debtsUpdated} updated\n`,
        );
        for (const e of summary.errors.slice(0, 50)) process.stdout.write(`  line ${e.line}: ${e.field} ${e.reason}\n`);
        if (summary.rowsFailed > 50)
          process.stdout.write(
            `  … more rejected rows: GET /api/v1/imports/${job.id} (the first 1000 errors are kept)\n`,
          );
      }
    } catch (e) {
      bar.stop();
      if (e instanceof ImportInterrupted) {
        const row = await findImportJob(db, job.id);
        await db.query(
          `UPDATE import_jobs SET status = 'FAILED', finished_at = now(), errors = errors || $2::jsonb WHERE id = $1::uuid`,
          job.id,
          JSON.stringify([
            {
              line: (row?.linesDone ?? 0) + 1,
              field: '(file)',
              reason: 'interrupted (Ctrl-C); rows before this line are stored',
            },
          ]),
        );
        process.stderr.write(
          `import ${job.id} interrupted after line ${row?.linesDone ?? 0}; rows up to it are stored\n`,
        );
      } else {
        process.stderr.write(`import ${job.id} failed: ${(e as Error).message}\n`);
      }
      exitCode = 1;
    }
  } finally {
    await pool.end();
    await embedded?.stop();
  }
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? e.message : `import failed: ${(e as Error).message}`}\n`);
  exitCode = 1;
}
process.exit(exitCode);
