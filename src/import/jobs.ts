// Import jobs: an ImportJob row per file, progress written to it after each
// batch and pushed live over socket.io to `import:<jobId>` and the admin room.
import fs from 'node:fs';
import type { Server as SocketServer } from 'socket.io';
import type { Db } from '../db/client.js';
import type { Logger } from '../logger.js';
import { DEFAULT_MAX_ERRORS, importStream, type ImportProgress, type ImportSummary } from './importer.js';
import type { RowError } from './row.js';
import type { ImportFormat } from './sources.js';

import { ADMIN_ROOM, importRoom } from '../conversations/live.js';

export interface ImportJobDeps {
  db: Db;
  log: Logger;
  io?: SocketServer;
}

export interface ImportProgressEvent extends Partial<ImportProgress> {
  jobId: string;
  status: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  rowsDone: number;
  rowsFailed: number;
  newErrors?: RowError[];
  error?: string;
}

function publish(io: SocketServer | undefined, ev: ImportProgressEvent): void {
  if (!io) return;
  io.to(importRoom(ev.jobId)).to(ADMIN_ROOM).emit('import.progress', ev);
}

export async function createImportJob(db: Db, data: { format: ImportFormat; filename?: string | null; createdById?: string | null }) {
  return db.importJob.create({ data: { format: data.format, filename: data.filename ?? null, createdById: data.createdById ?? null } });
}

/** Runs one import job to completion; the job row ends SUCCEEDED or FAILED (never left RUNNING by an error). */
export async function runImportJob(deps: ImportJobDeps, jobId: string, source: AsyncIterable<Buffer | string>, format: ImportFormat, opts: { batchSize?: number; onProgress?: (p: ImportProgress) => void } = {}): Promise<ImportSummary> {
  const { db, io, log } = deps;
  await db.importJob.update({ where: { id: jobId }, data: { status: 'RUNNING', startedAt: new Date() } });
  publish(io, { jobId, status: 'RUNNING', rowsDone: 0, rowsFailed: 0 });
  const errors: RowError[] = [];
  let last: ImportProgress | null = null;
  try {
    const summary = await importStream(db, source, {
      format,
      batchSize: opts.batchSize,
      maxErrors: DEFAULT_MAX_ERRORS,
      onProgress: async (p, newErrors) => {
        last = p;
        errors.push(...newErrors);
        await db.importJob.update({
          where: { id: jobId },
          data: { rowsDone: p.rowsDone, rowsFailed: p.rowsFailed, ...(newErrors.length ? { errors: errors as unknown as object } : {}) },
        });
        publish(io, { jobId, status: 'RUNNING', ...p, newErrors });
        opts.onProgress?.(p);
      },
    });
    await db.importJob.update({ where: { id: jobId }, data: { status: 'SUCCEEDED', finishedAt: new Date(), rowsDone: summary.rowsDone, rowsFailed: summary.rowsFailed, errors: summary.errors as unknown as object } });
    publish(io, { jobId, ...summary, errors: undefined, status: 'SUCCEEDED' } as ImportProgressEvent);
    log.info({ jobId, rowsDone: summary.rowsDone, rowsFailed: summary.rowsFailed, ms: summary.elapsedMs }, 'import finished');
    return summary;
  } catch (e) {
    // A file-level failure (unreadable CSV, broken JSON array, database down):
    // rows written before it stay; the job says where it stopped and why.
    const reason = (e as Error).message;
    const progress = last as ImportProgress | null;
    const fileError = { line: (progress?.rowsDone ?? 0) + 1, field: '(file)', reason };
    await db.importJob
      .update({ where: { id: jobId }, data: { status: 'FAILED', finishedAt: new Date(), errors: [...errors, fileError] as unknown as object } })
      .catch((err) => log.error({ err, jobId }, 'could not record import failure'));
    publish(io, { jobId, status: 'FAILED', rowsDone: progress?.rowsDone ?? 0, rowsFailed: progress?.rowsFailed ?? 0, error: reason });
    log.warn({ jobId, err: reason }, 'import failed');
    throw e;
  }
}

/** The job as the API shows it, with rows/s over the run so far. */
export function serializeImportJob(j: { id: string; format: string; filename: string | null; status: string; rowsDone: number; rowsFailed: number; errors: unknown; startedAt: Date | null; finishedAt: Date | null; createdAt: Date }) {
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
