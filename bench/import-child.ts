// 6. Import, run in its own process so its peak RSS is its own: writes a
// synthetic CSV to a temp file, imports it as an import job exactly as
// `npm run import` does (job row, file stream → csv-parse → validation →
// batched writes through a pg pool, checkpoint per batch), then, as the
// ceiling, reads and validates the same file without writing anything.
//   node --import tsx bench/import-child.ts <databaseUrl> <rows>
// Prints one JSON line on stdout.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { syntheticCsv } from '../src/import/bench.js';
import { createImportJob, runImportJob } from '../src/import/jobs.js';
import { createImportPool, pgImportDb } from '../src/import/sql.js';
import { createLogger } from '../src/logger.js';
import { parseImportRow } from '../src/import/row.js';
import { readRecords } from '../src/import/sources.js';

const [databaseUrl, rowsArg] = process.argv.slice(2);
if (!databaseUrl || !rowsArg || !Number.isInteger(Number(rowsArg)) || Number(rowsArg) <= 0) {
  console.error('usage: import-child.ts <databaseUrl> <rows>');
  process.exit(2);
}
const rows = Number(rowsArg);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-import-'));
const file = path.join(dir, 'debtors.csv');

try {
  await pipeline(Readable.from(syntheticCsv(rows, { prefix: 'IMP' })), fs.createWriteStream(file));
  const fileBytes = fs.statSync(file).size;
  const pool = createImportPool(databaseUrl);
  const db = pgImportDb(pool);
  await db.query('SELECT 1');
  const job = await createImportJob(db, { format: 'csv', filename: 'bench.csv' });

  const startRss = process.memoryUsage.rss();
  let peakRss = startRss;
  const sample = () => void (peakRss = Math.max(peakRss, process.memoryUsage.rss()));
  const sampler = setInterval(sample, 20);
  const t0 = performance.now();
  const summary = await runImportJob({ db, log: createLogger('warn') }, job.id, {
    source: fs.createReadStream(file, { highWaterMark: 64 * 1024 }),
    onProgress: sample,
  });
  if (!summary) throw new Error('bench import failed (see the import job row)');
  const importMs = performance.now() - t0;
  clearInterval(sampler);
  sample();
  const maxRssKb = process.resourceUsage().maxRSS;
  await pool.end();

  // Ceiling: the same file read, parsed and validated, nothing written.
  const t1 = performance.now();
  let valid = 0;
  for await (const rec of readRecords(fs.createReadStream(file), 'csv')) {
    if ('raw' in rec && 'record' in parseImportRow(rec.raw, rec.line)) valid++;
  }
  const parseMs = performance.now() - t1;

  console.log(
    JSON.stringify({
      rows,
      fileBytes,
      rowsDone: summary.rowsDone,
      rowsFailed: summary.rowsFailed,
      debtorsCreated: summary.debtorsCreated,
      debtsCreated: summary.debtsCreated,
      importMs,
      rowsPerSecond: Math.round(summary.rowsDone / (importMs / 1000)),
      startRssBytes: startRss,
      peakRssBytes: peakRss,
      maxRssBytes: maxRssKb * 1024,
      ceilingValidRows: valid,
      ceilingMs: parseMs,
      ceilingRowsPerSecond: Math.round(valid / (parseMs / 1000)),
    }),
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
