// The importer: reads records from a stream, validates them one by one and
// writes the good ones in batches (one transaction per batch). Used by import
// jobs (src/import/jobs.ts: REST API, web app, CLI) and the benchmark.
//
// Throughput: parsing and validating is CPU work in this process, writing is
// work in PostgreSQL, so the two overlap — while batch N is being written,
// batch N+1 is parsed, with turns of the event loop in between so that the
// batch's statements keep going (see YIELD_EVERY_ROWS). At most one batch is
// in flight, so batches commit in file order (the checkpoint only ever moves
// forward) and memory stays bounded by two batches plus the first `maxErrors`
// row errors, whatever the file size.
//
// Resume: `checkpoint` runs inside each batch's transaction, so a job's
// "lines done" marker commits atomically with the rows it covers; a restarted
// run passes `resumeAfterLine` and skips everything up to it.
import { parseImportRow, type ImportRecord, type RowError } from './row.js';
import { readRecords, type ImportFormat } from './sources.js';
import type { Db } from '../db/client.js';
import { toImportDb, type ImportDb, type ImportTx } from './sql.js';
import { writeBatch } from './writer.js';

export interface ImportCounts {
  /** Rows read so far (good and bad). */
  rowsDone: number;
  rowsFailed: number;
  debtorsCreated: number;
  debtorsUpdated: number;
  debtsCreated: number;
  debtsUpdated: number;
}

export interface ImportProgress extends ImportCounts {
  /** Last source line (CSV/NDJSON line, JSON array element) whose row is committed. */
  linesDone: number;
  /** Rows per second over this run (rows skipped on resume are not counted). */
  rowsPerSecond: number;
  elapsedMs: number;
}

export interface ImportSummary extends ImportProgress {
  /** The first `maxErrors` row errors of this run, in file order. */
  errors: RowError[];
}

export interface ImportOptions {
  format: ImportFormat;
  batchSize?: number;
  maxErrors?: number;
  /** Rows at or before this source line were committed by an earlier run: skip them. */
  resumeAfterLine?: number;
  /** Counts committed by an earlier run, carried on. */
  resumeCounts?: Partial<ImportCounts>;
  /** Errors already kept by an earlier run (count against maxErrors). */
  resumeErrorCount?: number;
  /** Runs inside each batch's transaction after its rows are written: commit a checkpoint atomically with them. */
  checkpoint?: (tx: ImportTx, p: ImportProgress, newErrors: RowError[]) => Promise<void>;
  /** Called after every committed batch. May be async (it is awaited, so it holds back the next commit). */
  onProgress?: (p: ImportProgress, newErrors: RowError[]) => void | Promise<void>;
}

const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_MAX_ERRORS = 1000;

/**
 * How many rows are parsed between turns of the event loop while a batch is
 * being written. Parsed records arrive through promise continuations
 * (microtasks), which never let the event loop reach the network: without a
 * turn, each reply from PostgreSQL waits for a whole source chunk (hundreds of
 * rows, 15-20 ms of parsing; and from a source already read ahead, the whole
 * next batch) before the batch's next statement is sent, so the database
 * idles while rows are parsed instead of working alongside. Ten rows are about
 * half a millisecond of parsing; a turn costs a few microseconds.
 */
const YIELD_EVERY_ROWS = 10;
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What one batch commits: its good rows and where the file stood when it was cut. */
interface Batch {
  records: ImportRecord[];
  linesDone: number;
  rowsDone: number;
  rowsFailed: number;
  newErrors: RowError[];
}

/** Imports `source` through `db`: Prisma's client (in the gateway) or an ImportDb (src/import/sql.ts). */
export async function importStream(
  db: ImportDb | Db,
  source: AsyncIterable<Buffer | string>,
  opts: ImportOptions,
): Promise<ImportSummary> {
  const target = toImportDb(db);
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxErrors = opts.maxErrors ?? DEFAULT_MAX_ERRORS;
  const skipThrough = opts.resumeAfterLine ?? 0;
  const started = Date.now();
  const base = {
    rowsDone: 0,
    rowsFailed: 0,
    debtorsCreated: 0,
    debtorsUpdated: 0,
    debtsCreated: 0,
    debtsUpdated: 0,
    ...opts.resumeCounts,
  };
  // `committed` only changes when a batch commits; `read*` run ahead of it.
  const committed: ImportProgress = { ...base, linesDone: skipThrough, rowsPerSecond: 0, elapsedMs: 0 };
  const errors: RowError[] = [];
  let errorsKept = opts.resumeErrorCount ?? 0;
  let readRows = base.rowsDone;
  let readFailed = base.rowsFailed;
  let lastLine = skipThrough;
  let records: ImportRecord[] = [];
  let pendingErrors: RowError[] = [];
  let rowsSinceCut = 0;
  let cuts = 0;
  let inFlight: Promise<Error | null> | null = null;

  const commit = async (b: Batch): Promise<void> => {
    const progressAt = (counts: ImportCounts): ImportProgress => {
      const elapsedMs = Date.now() - started;
      const rowsThisRun = counts.rowsDone - base.rowsDone;
      return {
        ...counts,
        linesDone: b.linesDone,
        elapsedMs,
        rowsPerSecond: elapsedMs > 0 ? Math.round((rowsThisRun * 1000) / elapsedMs) : rowsThisRun,
      };
    };
    const next = await target.transaction(async (tx) => {
      // The checkpoint commits with the rows: losing the last commits in a
      // crash only means those batches are imported again on resume, so the
      // import does not wait for each commit to reach the disk.
      await tx.$executeRawUnsafe('SET LOCAL synchronous_commit = off');
      const r = b.records.length
        ? await writeBatch(tx, b.records)
        : { debtorsCreated: 0, debtorsUpdated: 0, debtsCreated: 0, debtsUpdated: 0 };
      const p = progressAt({
        rowsDone: b.rowsDone,
        rowsFailed: b.rowsFailed,
        debtorsCreated: committed.debtorsCreated + r.debtorsCreated,
        debtorsUpdated: committed.debtorsUpdated + r.debtorsUpdated,
        debtsCreated: committed.debtsCreated + r.debtsCreated,
        debtsUpdated: committed.debtsUpdated + r.debtsUpdated,
      });
      await opts.checkpoint?.(tx, p, b.newErrors);
      return p;
    });
    Object.assign(committed, next);
    await opts.onProgress?.({ ...committed }, b.newErrors);
  };

  /** Waits for the batch in flight; rethrows its failure. */
  const settle = async () => {
    if (!inFlight) return;
    const failure = await inFlight;
    inFlight = null;
    if (failure) throw failure;
  };

  const cut = async () => {
    await settle();
    const b: Batch = {
      records,
      linesDone: lastLine,
      rowsDone: readRows,
      rowsFailed: readFailed,
      newErrors: pendingErrors,
    };
    records = [];
    pendingErrors = [];
    rowsSinceCut = 0;
    cuts += 1;
    // Held as a value, not a rejection, so a failure while the next batch is
    // being parsed is not an unhandled rejection; settle() rethrows it.
    inFlight = commit(b).then(
      () => null,
      (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
    );
  };

  const reject = (errs: RowError[]) => {
    readFailed += 1;
    for (const e of errs) {
      if (errorsKept >= maxErrors) break;
      errorsKept += 1;
      errors.push(e);
      pendingErrors.push(e);
    }
  };

  try {
    for await (const rec of readRecords(source, opts.format)) {
      if (rec.line <= skipThrough) continue;
      readRows += 1;
      rowsSinceCut += 1;
      lastLine = rec.line;
      if ('error' in rec) {
        reject([{ line: rec.line, field: '(row)', reason: rec.error }]);
      } else {
        const parsed = parseImportRow(rec.raw, rec.line);
        if ('errors' in parsed) reject(parsed.errors);
        else records.push(parsed.record);
      }
      // A batch is cut when it is full, and also every few batches' worth of
      // rows, so that a long run of bad rows still reports progress.
      if (records.length >= batchSize || rowsSinceCut >= batchSize * 4) await cut();
      else if (inFlight && rowsSinceCut % YIELD_EVERY_ROWS === 0) await yieldToIo();
    }
    if (rowsSinceCut > 0 || cuts === 0) await cut();
  } finally {
    // Whatever happened to the source, the batch in flight finishes (or fails)
    // before this returns, so the caller never sees a write after the end.
    if (inFlight) await inFlight;
  }
  await settle();
  return { ...committed, errors };
}
