// REST: POST /api/v1/imports?format=csv|json takes the file as the raw request
// body (text/csv, application/x-ndjson, application/octet-stream, …). The body
// is streamed to a spool file under DATA_DIR/imports — never held in memory —
// then the request is answered 202 {jobId} and the import runs in the
// background; GET /api/v1/imports/:id and the socket room import:<id> follow it.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import type { Express, Request } from 'express';
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { badRequest, notFound } from '../http/errors.js';
import { defineRoutes, mountRoutes } from '../http/api.js';
import { uuid } from '../api/schemas.js';
import { createImportJob, removeQuietly, runImportJob, serializeImportJob } from './jobs.js';

/** Imports running in this process, so shutdown can wait for them. */
const running = new Set<Promise<unknown>>();

export async function waitForRunningImports(timeoutMs: number): Promise<void> {
  if (!running.size) return;
  await Promise.race([Promise.allSettled([...running]), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
}

async function spool(req: Request, file: string): Promise<number> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  // A small application/json body was already parsed by the JSON body parser; its bytes are kept.
  if (req.rawBody) {
    await fs.promises.writeFile(file, req.rawBody);
    return req.rawBody.length;
  }
  let bytes = 0;
  req.on('data', (c: Buffer) => (bytes += c.length));
  await pipeline(req, fs.createWriteStream(file));
  return bytes;
}

export const importRoutes = defineRoutes(
  {
    method: 'post', path: '/api/v1/imports', tag: 'imports', roles: ['ADMIN'],
    summary: 'Import debtors, contact points and debts from a CSV or JSON/NDJSON file sent as the raw body; answers 202 with the job id',
    query: z.object({ format: z.enum(['csv', 'json']).optional(), filename: z.string().max(200).optional() }),
    responses: { 202: 'Import job accepted', 400: 'Unknown format or empty body', 403: 'Admin only' },
    handler: async (req, res, ctx) => {
      const type = String(req.headers['content-type'] ?? '').toLowerCase();
      const format = req.valid.query.format ?? (type.includes('csv') ? 'csv' : type.includes('json') ? 'json' : undefined);
      if (!format) throw badRequest('give ?format=csv or ?format=json (or a text/csv or application/x-ndjson content type)', [{ field: 'format', reason: 'is required' }]);
      const job = await createImportJob(ctx.db, { format, filename: req.valid.query.filename ?? null, createdById: req.principal?.type === 'user' ? req.principal.id : null });
      const file = path.resolve(ctx.config.DATA_DIR, 'imports', `${job.id}.${format}`);
      let bytes: number;
      try {
        bytes = await spool(req, file);
      } catch (e) {
        removeQuietly(file);
        await ctx.db.importJob.update({ where: { id: job.id }, data: { status: 'FAILED', finishedAt: new Date(), errors: [{ line: 0, field: '(file)', reason: `upload failed: ${(e as Error).message}` }] } });
        throw e;
      }
      if (bytes === 0) {
        removeQuietly(file);
        await ctx.db.importJob.update({ where: { id: job.id }, data: { status: 'FAILED', finishedAt: new Date(), errors: [{ line: 0, field: '(file)', reason: 'empty body' }] } });
        throw badRequest('the request body (the file) is empty', [{ field: '(body)', reason: 'is empty' }]);
      }
      await audit(ctx.db, req.principal!, { action: 'import.start', entityType: 'import_job', entityId: job.id, data: { format, bytes } }, req);
      const run = runImportJob({ db: ctx.db, log: ctx.log, io: ctx.io }, job.id, fs.createReadStream(file, { highWaterMark: 64 * 1024 }), format)
        .catch(() => undefined) // recorded on the job row
        .finally(() => {
          removeQuietly(file);
          running.delete(run);
        });
      running.add(run);
      res.status(202).location(`/api/v1/imports/${job.id}`).json({ jobId: job.id, status: 'QUEUED' });
    },
  },
  {
    method: 'get', path: '/api/v1/imports/:id', tag: 'imports', roles: ['ADMIN'], summary: 'Import job status: rows done, rows/s, errors so far',
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
    method: 'get', path: '/api/v1/imports', tag: 'imports', roles: ['ADMIN'], summary: 'Recent import jobs',
    query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }),
    responses: { 200: 'Import jobs' },
    handler: async (req, res, ctx) => {
      const jobs = await ctx.db.importJob.findMany({ orderBy: { createdAt: 'desc' }, take: req.valid.query.limit });
      res.json({ data: jobs.map((j) => ({ ...serializeImportJob(j), errors: undefined })) });
    },
  },
);

export function registerImportRoutes(app: Express, ctx: AppContext): void {
  mountRoutes(app, ctx, importRoutes);
}
