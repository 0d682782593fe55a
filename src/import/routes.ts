// REST: POST /api/v1/imports?format=csv|json takes the file as the raw request
// body (text/csv, application/x-ndjson, application/octet-stream, …). The body
// is streamed to DATA_DIR/imports — never held in memory, never more than
// IMPORT_MAX_BYTES (413, the partial file removed) — and kept there as the
// job's source until the import finishes, so a restart resumes it. The request
// is answered 202 {jobId}; the import runs as an Agenda job (src/import/jobs.ts);
// GET /api/v1/imports/:id and the socket event `import.progress` follow it.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import type { Express, Request } from 'express';
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { badRequest, HttpError, notFound } from '../http/errors.js';
import { defineRoutes, mountRoutes } from '../http/api.js';
import { uuid } from '../api/schemas.js';
import {
  createImportJob,
  defineImportJobs,
  enqueueImportJob,
  interruptRunningImports,
  removeQuietly,
  serializeImportJob,
} from './jobs.js';
import { IMPORT_COLUMNS } from './row.js';

/** Shutdown hook (src/modules.ts): imports in this process stop after their batch in flight and resume after the restart. */
export async function waitForRunningImports(timeoutMs: number): Promise<void> {
  await interruptRunningImports(timeoutMs);
}

const mib = (n: number) => `${Math.round((n / 1048576) * 10) / 10} MiB`;

function uploadTooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    'payload_too_large',
    `the file is larger than the import limit of ${limit} bytes (${mib(limit)}, IMPORT_MAX_BYTES); split it or raise the limit`,
    [{ field: '(body)', reason: `exceeds ${limit} bytes` }],
  );
}

class TooLarge extends Error {}

/** Streams the body to `file`, stopping at `limit` bytes; the partial file is removed on any failure. */
async function spool(req: Request, file: string, limit: number): Promise<number> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  let out: fs.WriteStream | null = null;
  try {
    // A small application/json body was already parsed by the JSON body parser; its bytes are kept.
    if (req.rawBody) {
      if (req.rawBody.length > limit) throw new TooLarge();
      await fs.promises.writeFile(file, req.rawBody);
      return req.rawBody.length;
    }
    let bytes = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(bytes > limit ? new TooLarge() : null, chunk);
      },
    });
    out = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
    await pipeline(req, cap, out);
    return bytes;
  } catch (e) {
    // Removed before the caller answers, so a refused upload leaves nothing behind once the client hears 413
    // (after the destroyed write stream has closed: it may still be opening the file).
    const stream = out;
    if (stream && !stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    await fs.promises.rm(file, { force: true });
    throw e;
  }
}

const importRoutes = defineRoutes(
  {
    method: 'post',
    path: '/api/v1/imports',
    tag: 'imports',
    roles: ['ADMIN'],
    summary: `Import debtors, contact points and debts from a CSV or JSON/NDJSON file sent as the raw body (columns: ${IMPORT_COLUMNS.join(', ')}); answers 202 with the job id`,
    query: z.object({ format: z.enum(['csv', 'json']).optional(), filename: z.string().max(200).optional() }),
    responses: {
      202: 'Import job accepted',
      400: 'Unknown format or empty body',
      403: 'Admin only',
      413: 'File larger than IMPORT_MAX_BYTES',
    },
    handler: async (req, res, ctx) => {
      const type = String(req.headers['content-type'] ?? '').toLowerCase();
      const format =
        req.valid.query.format ?? (type.includes('csv') ? 'csv' : type.includes('json') ? 'json' : undefined);
      if (!format)
        throw badRequest('give ?format=csv or ?format=json (or a text/csv or application/x-ndjson content type)', [
          { field: 'format', reason: 'is required' },
        ]);
      const limit = ctx.config.IMPORT_MAX_BYTES;
      const refuse = () => {
        // The rest of the body is not wanted: answer, then drop the connection.
        res.setHeader('Connection', 'close');
        req.resume();
        return uploadTooLarge(limit);
      };
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > limit) throw refuse();

      const dir = path.resolve(ctx.config.DATA_DIR, 'imports');
      const partial = path.join(dir, `upload-${randomUUID()}.part`);
      let bytes: number;
      try {
        bytes = await spool(req, partial, limit);
      } catch (e) {
        if (e instanceof TooLarge) throw refuse();
        throw e;
      }
      if (bytes === 0) {
        removeQuietly(partial);
        throw badRequest('the request body (the file) is empty', [{ field: '(body)', reason: 'is empty' }]);
      }
      const job = await createImportJob(ctx.db, {
        format,
        filename: req.valid.query.filename ?? null,
        createdById: req.principal?.type === 'user' ? req.principal.id : null,
      });
      const file = path.join(dir, `${job.id}.${format}`);
      try {
        await fs.promises.rename(partial, file);
        await ctx.db.importJob.update({ where: { id: job.id }, data: { sourcePath: file } });
        await enqueueImportJob(ctx, job.id);
      } catch (e) {
        removeQuietly(partial);
        removeQuietly(file);
        await ctx.db.importJob.update({
          where: { id: job.id },
          data: {
            status: 'FAILED',
            finishedAt: new Date(),
            sourcePath: null,
            errors: [{ line: 0, field: '(file)', reason: 'could not queue the import' }],
          },
        });
        throw e;
      }
      await audit(
        ctx.db,
        req.principal!,
        { action: 'import.start', entityType: 'import_job', entityId: job.id, data: { format, bytes } },
        req,
      );
      res.status(202).location(`/api/v1/imports/${job.id}`).json({ jobId: job.id, status: 'QUEUED' });
    },
  },
  {
    method: 'get',
    path: '/api/v1/imports/:id',
    tag: 'imports',
    roles: ['ADMIN'],
    summary: 'Import job status: rows done, rows/s, errors so far',
    responses: { 200: 'Import job', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = String(req.params.id);
      if (!uuid.safeParse(id).success) throw notFound('import job');
      const job = await ctx.db.importJob.findUnique({ where: { id } });
      if (!job) throw notFound('import job');
      res.json(serializeImportJob(job));
    },
  },
  {
    method: 'get',
    path: '/api/v1/imports',
    tag: 'imports',
    roles: ['ADMIN'],
    summary: 'Recent import jobs',
    query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
    responses: { 200: 'Import jobs' },
    handler: async (req, res, ctx) => {
      const jobs = await ctx.db.importJob.findMany({ orderBy: { createdAt: 'desc' }, take: req.valid.query.limit });
      res.json({ data: jobs.map((j) => ({ ...serializeImportJob(j), errors: undefined })) });
    },
  },
);

export function registerImportRoutes(app: Express, ctx: AppContext): void {
  // Route registration runs before the scheduler starts, so the job runner is
  // defined here (idempotent), next to the route that queues it.
  defineImportJobs(ctx);
  mountRoutes(app, ctx, importRoutes);
}
