// Import jobs: an ImportJob row per file. The uploaded file is kept on disk
// (ImportJob.sourcePath) until the job finishes; the import runs as an Agenda
// job, and every batch commits, in the same transaction, a checkpoint
// (linesDone, counts, new row errors) on the job row. A gateway that dies in
// the middle leaves the Agenda job locked: once the lock expires (the runner
// touches it while alive) the next gateway process picks it up and resumes
// after the checkpoint. A graceful shutdown stops the import between batches
// and the Agenda job is retried after the restart the same way.
//
// Progress is pushed live as `import.progress` to `import:<jobId>` and the
// admin room.
import fs from 'node:fs';
import type { Server as SocketServer } from 'socket.io';
import type { Job } from 'agenda';
import type { AppContext } from '../context.js';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import { ADMIN_ROOM, importRoom } from '../conversations/live.js';
import { DEFAULT_MAX_ERRORS, importStream, type ImportProgress, type ImportSummary } from './importer.js';
import type { RowError } from './row.js';
import type { ImportFormat } from './sources.js';
import { toImportDb, type ImportDb } from './sql.js';

const IMPORT_JOB = 'import-run';

export interface ImportJobDeps {
  /** Prisma's client (the gateway) or a bare pg pool through pgImportDb (the CLI, the benchmark). */
  db: Db | ImportDb;
  log: Logger;
  io?: SocketServer;
}

export interface ImportJobRow {
  id: string;
  format: string;
  filename: string | null;
  status: ImportJobStatus;
  rowsDone: number;
  rowsFailed: number;
  linesDone: number;
  errors: unknown;
  sourcePath: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdAt: Date;
}

const JOB_COLUMNS = `id::text, format, filename, status::text AS status, rows_done AS "rowsDone", rows_failed AS "rowsFailed", lines_done AS "linesDone",
  errors, source_path AS "sourcePath", started_at AS "startedAt", finished_at AS "finishedAt", created_at AS "createdAt"`;

export async function findImportJob(db: Db | ImportDb, jobId: string): Promise<ImportJobRow | null> {
  const rows = await toImportDb(db).query<ImportJobRow>(
    `SELECT ${JOB_COLUMNS} FROM import_jobs WHERE id = $1::uuid`,
    jobId,
  );
  return rows[0] ?? null;
}

export type ImportJobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface ImportProgressEvent extends Partial<ImportProgress> {
  jobId: string;
  status: ImportJobStatus;
  rowsDone: number;
  rowsFailed: number;
  newErrors?: RowError[];
  error?: string;
}

/** Thrown when an import stops between batches because the process is shutting down; the job resumes later. */
export class ImportInterrupted extends Error {
  constructor(jobId: string) {
    super(`import ${jobId} interrupted by shutdown; it resumes from its checkpoint`);
    this.name = 'ImportInterrupted';
  }
}

/** Thrown when another runner moved the job's checkpoint: this one must stop without writing. */
class CheckpointLost extends Error {}

function publish(io: SocketServer | undefined, ev: ImportProgressEvent): void {
  if (!io) return;
  io.to(importRoom(ev.jobId)).to(ADMIN_ROOM).emit('import.progress', ev);
}

export async function createImportJob(
  db: Db | ImportDb,
  data: { format: ImportFormat; filename?: string | null; createdById?: string | null; sourcePath?: string | null },
): Promise<ImportJobRow> {
  const rows = await toImportDb(db).query<ImportJobRow>(
    `INSERT INTO import_jobs (id, format, filename, created_by_id, source_path) VALUES (gen_random_uuid(), $1, $2, $3::uuid, $4) RETURNING ${JOB_COLUMNS}`,
    data.format,
    data.filename ?? null,
    data.createdById ?? null,
    data.sourcePath ?? null,
  );
  return rows[0]!;
}

export interface RunImportOptions {
  batchSize?: number;
  /** Aborted → the import stops after the batch in flight and throws ImportInterrupted. */
  signal?: AbortSignal;
  /** Called after every committed batch (the CLI's progress bar, the Agenda lock heartbeat). */
  onProgress?: (p: ImportProgress) => void | Promise<void>;
  /** The source when it is not the job's sourcePath (the CLI streams the user's file directly). */
  source?: AsyncIterable<Buffer | string>;
}

/**
 * Runs (or resumes) one import job to its end: SUCCEEDED, or FAILED with the
 * reason as a "(file)" error. Returns null when the job had already finished.
 * Rejects only with ImportInterrupted or an infrastructure error (database
 * gone), leaving the job RUNNING so it can be resumed from its checkpoint.
 */
export async function runImportJob(
  deps: ImportJobDeps,
  jobId: string,
  opts: RunImportOptions = {},
): Promise<ImportSummary | null> {
  const { io, log } = deps;
  const db = toImportDb(deps.db);
  const job = await findImportJob(db, jobId);
  if (!job) throw new Error(`import job ${jobId} not found`);
  if (job.status === 'SUCCEEDED' || job.status === 'FAILED') {
    if (job.sourcePath) removeQuietly(job.sourcePath);
    return null;
  }
  const format = job.format as ImportFormat;
  const keptErrors = Array.isArray(job.errors) ? (job.errors as unknown as RowError[]) : [];
  const fail = async (reason: string, line: number) => {
    const [row] = await db.query<ImportJobRow>(
      `UPDATE import_jobs SET status = 'FAILED', finished_at = now(), source_path = NULL, errors = errors || $2::jsonb WHERE id = $1::uuid RETURNING ${JOB_COLUMNS}`,
      jobId,
      JSON.stringify([{ line, field: '(file)', reason }]),
    );
    if (job.sourcePath) removeQuietly(job.sourcePath);
    publish(io, {
      jobId,
      status: 'FAILED',
      rowsDone: row?.rowsDone ?? 0,
      rowsFailed: row?.rowsFailed ?? 0,
      linesDone: row?.linesDone ?? 0,
      error: reason,
    });
    log.warn({ jobId, err: reason }, 'import failed');
  };

  let source = opts.source;
  if (!source) {
    if (!job.sourcePath || !fs.existsSync(job.sourcePath)) {
      await fail('the uploaded file is no longer on disk; upload it again', job.linesDone + 1);
      return null;
    }
    source = fs.createReadStream(job.sourcePath, { highWaterMark: 64 * 1024 });
  }

  const resuming = job.linesDone > 0;
  await db.query(
    `UPDATE import_jobs SET status = 'RUNNING', started_at = COALESCE(started_at, now()) WHERE id = $1::uuid`,
    jobId,
  );
  publish(io, {
    jobId,
    status: 'RUNNING',
    rowsDone: job.rowsDone,
    rowsFailed: job.rowsFailed,
    linesDone: job.linesDone,
  });
  if (resuming) log.info({ jobId, linesDone: job.linesDone }, 'import resumed from its checkpoint');

  let lastLinesDone = job.linesDone;
  let last: ImportProgress | null = null;
  try {
    const summary = await importStream(db, source, {
      format,
      batchSize: opts.batchSize,
      maxErrors: DEFAULT_MAX_ERRORS,
      resumeAfterLine: job.linesDone,
      resumeCounts: { rowsDone: job.rowsDone, rowsFailed: job.rowsFailed },
      resumeErrorCount: keptErrors.length,
      checkpoint: async (tx, p, newErrors) => {
        // Guarded by the previous checkpoint: if another runner moved it (a
        // lock that expired while this one was stalled), this batch rolls back.
        const moved = await tx.$executeRawUnsafe(
          `UPDATE import_jobs SET lines_done = $2, rows_done = $3, rows_failed = $4, errors = errors || $5::jsonb
           WHERE id = $1::uuid AND lines_done = $6 AND status = 'RUNNING'`,
          jobId,
          p.linesDone,
          p.rowsDone,
          p.rowsFailed,
          JSON.stringify(newErrors),
          lastLinesDone,
        );
        if (moved !== 1) throw new CheckpointLost(`import ${jobId}: checkpoint moved by another runner`);
        lastLinesDone = p.linesDone;
      },
      onProgress: async (p, newErrors) => {
        last = p;
        publish(io, { jobId, status: 'RUNNING', ...p, newErrors });
        await opts.onProgress?.(p);
        if (opts.signal?.aborted) throw new ImportInterrupted(jobId);
      },
    });
    await db.query(
      `UPDATE import_jobs SET status = 'SUCCEEDED', finished_at = now(), source_path = NULL WHERE id = $1::uuid`,
      jobId,
    );
    if (job.sourcePath) removeQuietly(job.sourcePath);
    const { errors: _all, ...counts } = summary;
    publish(io, { jobId, ...counts, status: 'SUCCEEDED' });
    log.info(
      { jobId, rowsDone: summary.rowsDone, rowsFailed: summary.rowsFailed, ms: summary.elapsedMs, resumed: resuming },
      'import finished',
    );
    return summary;
  } catch (e) {
    if (e instanceof ImportInterrupted || e instanceof CheckpointLost) throw e;
    if (isInfrastructureError(e)) throw e;
    // A file-level failure (unreadable CSV, broken JSON array): rows committed
    // before it stay; the job says where it stopped and why.
    const progress = last as ImportProgress | null;
    await fail((e as Error).message, (progress?.linesDone ?? lastLinesDone) + 1);
    return null;
  }
}

/** Database or network trouble: not the file's fault, so the job is retried rather than failed. */
function isInfrastructureError(e: unknown): boolean {
  const err = e as { code?: string; name?: string; message?: string };
  if (typeof err?.code === 'string' && /^(ECONN|ETIMEDOUT|EPIPE|57P|08|53)/.test(err.code)) return true;
  return /Connection terminated|connection.*closed|Client has encountered a connection error|Transaction API error|Can't reach database|pool.*(ended|timeout)|timed out fetching a new connection/i.test(
    err?.message ?? '',
  );
}

/** The job as the API shows it, with rows/s over the run so far. */
export function serializeImportJob(j: {
  id: string;
  format: string;
  filename: string | null;
  status: string;
  rowsDone: number;
  rowsFailed: number;
  linesDone: number;
  errors: unknown;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdAt: Date;
}) {
  const end = j.finishedAt ?? new Date();
  const ms = j.startedAt ? Math.max(1, end.getTime() - j.startedAt.getTime()) : 0;
  return {
    id: j.id,
    format: j.format,
    filename: j.filename,
    status: j.status,
    rowsDone: j.rowsDone,
    rowsFailed: j.rowsFailed,
    rowsOk: j.rowsDone - j.rowsFailed,
    linesDone: j.linesDone,
    rowsPerSecond: ms ? Math.round((j.rowsDone * 1000) / ms) : 0,
    errors: j.errors,
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
  };
}

export function removeQuietly(file: string): void {
  fs.promises.unlink(file).catch(() => undefined);
}

// ───────────────────────────── Agenda ─────────────────────────────

/** Imports running in this process, so shutdown can stop them between batches. */
const running = new Map<string, { abort: AbortController; done: Promise<unknown> }>();
const defined = new WeakSet<object>();

/**
 * Defines the Agenda job that runs imports. A runner touches its lock after
 * batches; when it stops touching (the process died), the lock expires after
 * IMPORT_STALL_TIMEOUT_MS and the next process resumes the job. Failures that
 * are not the file's fault (shutdown, database down) are retried with backoff.
 */
export function defineImportJobs(ctx: AppContext): void {
  if (defined.has(ctx.scheduler)) return;
  defined.add(ctx.scheduler);
  const lockLifetime = ctx.config.IMPORT_STALL_TIMEOUT_MS;
  ctx.scheduler.define<{ importJobId: string }>(
    IMPORT_JOB,
    async (job: Job<{ importJobId: string }>) => {
      const jobId = job.attrs.data.importJobId;
      const abort = new AbortController();
      let lastTouch = Date.now();
      const done = runImportJob({ db: ctx.db, log: ctx.log, io: ctx.io }, jobId, {
        signal: abort.signal,
        onProgress: async (p) => {
          // Heartbeat: keeps the lock while alive; throws once Agenda gave the job up.
          if (Date.now() - lastTouch > lockLifetime / 4) {
            lastTouch = Date.now();
            await job.touch(p.rowsDone);
          }
        },
      });
      running.set(jobId, { abort, done: done.catch(() => undefined) });
      try {
        await done;
      } finally {
        running.delete(jobId);
      }
    },
    {
      concurrency: 2,
      lockLifetime,
      backoff: (c) => (c.attempt <= 20 ? Math.min(60_000, 1_000 * 2 ** (c.attempt - 1)) : null),
    },
  );
}

/** Queues the import of a job whose file is on disk. One Agenda job per import job. */
export async function enqueueImportJob(ctx: AppContext, jobId: string): Promise<void> {
  await ctx.scheduler
    .create(IMPORT_JOB, { importJobId: jobId })
    .unique({ 'data.importJobId': jobId }, { insertOnly: true })
    .schedule(new Date())
    .save();
}

/** Shutdown: stops this process's imports after their batch in flight (checkpoint committed) and waits, bounded. */
export async function interruptRunningImports(timeoutMs: number): Promise<void> {
  if (!running.size) return;
  for (const r of running.values()) r.abort.abort();
  await Promise.race([
    Promise.allSettled([...running.values()].map((r) => r.done)),
    new Promise((r) => setTimeout(r, timeoutMs).unref()),
  ]);
}
