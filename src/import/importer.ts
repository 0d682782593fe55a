// The importer: reads records from a stream, validates them one by one and
// writes the good ones in batches (one transaction per batch). Memory stays
// bounded by the batch size plus the first `maxErrors` row errors, whatever
// the file size. Used by the REST API (src/import/routes.ts), the CLI
// (src/cli/import.ts) and the benchmark.
import type { Db } from '../db/client.js';
import { parseImportRow, type ImportRecord, type RowError } from './row.js';
import { readRecords, type ImportFormat } from './sources.js';
import { writeBatch } from './writer.js';

export interface ImportProgress {
  /** Rows read so far (good and bad). */
  rowsDone: number;
  rowsFailed: number;
  rowsPerSecond: number;
  elapsedMs: number;
  debtorsCreated: number;
  debtorsUpdated: number;
  debtsCreated: number;
  debtsUpdated: number;
}

export interface ImportSummary extends ImportProgress {
  /** The first `maxErrors` row errors, in file order. */
  errors: RowError[];
}

export interface ImportOptions {
  format: ImportFormat;
  batchSize?: number;
  maxErrors?: number;
  /** Called after every written batch and once at the end. May be async (it is awaited). */
  onProgress?: (p: ImportProgress, newErrors: RowError[]) => void | Promise<void>;
}

export const DEFAULT_BATCH_SIZE = 500;
export const DEFAULT_MAX_ERRORS = 1000;

export async function importStream(db: Db, source: AsyncIterable<Buffer | string>, opts: ImportOptions): Promise<ImportSummary> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxErrors = opts.maxErrors ?? DEFAULT_MAX_ERRORS;
  const started = Date.now();
  const p: ImportProgress = { rowsDone: 0, rowsFailed: 0, rowsPerSecond: 0, elapsedMs: 0, debtorsCreated: 0, debtorsUpdated: 0, debtsCreated: 0, debtsUpdated: 0 };
  const errors: RowError[] = [];
  let newErrors: RowError[] = [];
  let batch: ImportRecord[] = [];

  const addErrors = (errs: RowError[]) => {
    p.rowsFailed += 1;
    for (const e of errs) {
      if (errors.length < maxErrors) {
        errors.push(e);
        newErrors.push(e);
      }
    }
  };
  const flush = async () => {
    if (batch.length) {
      const rows = batch;
      batch = [];
      const r = await db.$transaction((tx) => writeBatch(tx, rows), { timeout: 120_000, maxWait: 30_000 });
      p.debtorsCreated += r.debtorsCreated;
      p.debtorsUpdated += r.debtorsUpdated;
      p.debtsCreated += r.debtsCreated;
      p.debtsUpdated += r.debtsUpdated;
    }
    p.elapsedMs = Date.now() - started;
    p.rowsPerSecond = p.elapsedMs > 0 ? Math.round((p.rowsDone * 1000) / p.elapsedMs) : p.rowsDone;
    const reported = newErrors;
    newErrors = [];
    await opts.onProgress?.({ ...p }, reported);
  };

  for await (const rec of readRecords(source, opts.format)) {
    p.rowsDone += 1;
    if ('error' in rec) {
      addErrors([{ line: rec.line, field: '(row)', reason: rec.error }]);
    } else {
      const parsed = parseImportRow(rec.raw, rec.line);
      if ('errors' in parsed) addErrors(parsed.errors);
      else batch.push(parsed.record);
    }
    // Flush full batches; also report progress through long runs of bad rows.
    if (batch.length >= batchSize || p.rowsDone % batchSize === 0) await flush();
  }
  await flush();
  return { ...p, errors };
}
