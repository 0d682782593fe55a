// REST: send or schedule outreach by intent, read messages with their status
// history and routing decision, letter PDFs, API keys, and the OpenAPI document.
import fs from 'node:fs';
import path from 'node:path';
import type { Express, Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { createApiKey } from '../auth/api-keys.js';
import { defineRoutes, mountRoutes, openApiDocument } from '../http/api.js';
import { HttpError, notFound } from '../http/errors.js';
import { outreachInput, uuid } from '../api/schemas.js';
import { explain, type Decision } from '../router/index.js';
import { requestOutreach } from './service.js';
import { explainRoute, type ProviderRoute } from './failover.js';
import { withIdempotency } from './idempotency.js';
import { verifyLetterUrl } from './files.js';
import type { Intent } from '../templates/index.js';
import { reviewRoutes } from './review-routes.js';

/** A decision as stored (JSON): its send time is a string again, as explain() expects a Date. */
function storedDecision(json: unknown): Decision {
  const d = json as Decision & { sendAt?: Date | string };
  return (typeof d.sendAt === 'string' ? { ...d, sendAt: new Date(d.sendAt) } : d) as Decision;
}

/** The router's explanation, then which provider carried the message and every failover on the way. */
function explainWithProviders(decision: unknown): string {
  const routes = (decision as { providerRoutes?: ProviderRoute[] }).providerRoutes ?? [];
  return [explain(storedDecision(decision)), ...routes.map(explainRoute)].join(' ');
}

function decisionView(d: Decision) {
  return { ...d, explanation: explain(d) };
}

export const outboundRoutes = defineRoutes(
  {
    method: 'post',
    path: '/api/v1/outreach',
    tag: 'outreach',
    summary: 'Send or schedule a message by intent; the router picks channel, contact point and time',
    body: outreachInput,
    headers: { 'Idempotency-Key': 'Retries with the same key return the first result and never send twice' },
    responses: {
      202: 'Accepted: the decision and the queued message',
      400: 'Invalid input',
      404: 'Debtor or debt not found',
      409: 'Same Idempotency-Key in progress',
      422: 'Refused by the router (reasons name the rules), or a template error',
    },
    handler: async (req, res, ctx) => {
      const b = req.valid.body;
      const notBefore = b.notBefore ? new Date(b.notBefore) : undefined;
      const notAfter = b.notAfter ? new Date(b.notAfter) : undefined;
      if (notBefore && notAfter && notAfter <= notBefore)
        throw new HttpError(400, 'invalid_request', 'notAfter must be after notBefore', [
          { field: 'notAfter', reason: 'must be after notBefore' },
        ]);
      await withIdempotency(ctx, req, res, async (idempotencyKey) => {
        const r = await requestOutreach(
          ctx,
          {
            debtorId: b.debtorId,
            debtId: b.debtId,
            intent: b.intent as Intent,
            channel: b.channel,
            notBefore,
            notAfter,
            locale: b.locale,
            vars: b.vars,
            idempotencyKey,
          },
          req.principal!,
        );
        if (r.outcome === 'refuse') {
          throw new HttpError(
            422,
            'refused',
            `refused: ${r.decision.reasons
              .filter((x) => x.rule !== 'timezone.resolved' && x.rule !== 'jurisdiction.resolved')
              .map((x) => x.rule)
              .join(', ')}`,
            { decision: decisionView(r.decision) } as never,
          );
        }
        return {
          status: 202,
          body: { outcome: r.outcome, messageId: r.messageId, decision: decisionView(r.decision) },
        };
      });
    },
  },
  {
    method: 'get',
    path: '/api/v1/messages/:id',
    tag: 'outreach',
    summary: 'Read a message with its status history and routing decision',
    responses: { 200: 'Message', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = String(req.params.id);
      if (!uuid.safeParse(id).success) throw notFound('message');
      const m = await ctx.db.message.findUnique({
        where: { id },
        include: { statusEvents: { orderBy: { id: 'asc' } }, attachments: true },
      });
      if (!m) throw notFound('message');
      res.json({
        id: m.id,
        conversationId: m.conversationId,
        debtorId: m.debtorId,
        debtId: m.debtId,
        campaignId: m.campaignId,
        direction: m.direction,
        channel: m.channel,
        status: m.status,
        intent: m.intent,
        templateId: m.templateId,
        locale: m.locale,
        to: m.toAddress,
        from: m.fromAddress,
        subject: m.subject,
        body: m.body,
        segments: m.segments,
        encoding: m.encoding,
        provider: m.provider,
        providerMessageId: m.providerMessageId,
        errorCode: m.errorCode,
        errorMessage: m.errorMessage,
        attempts: m.attempts,
        scheduledAt: m.scheduledAt,
        sentAt: m.sentAt,
        deliveredAt: m.deliveredAt,
        callOutcome: m.callOutcome,
        pdf: m.pdfPath ? `/api/v1/messages/${m.id}/pdf` : null,
        decision: m.decision ? { ...(m.decision as object), explanation: explainWithProviders(m.decision) } : null,
        statusHistory: m.statusEvents.map((e) => ({
          status: e.status,
          providerStatus: e.providerStatus,
          errorCode: e.errorCode,
          at: e.occurredAt,
          detail: e.detail,
        })),
        attachments: m.attachments.map((a) => ({
          id: a.id,
          filename: a.filename,
          contentType: a.contentType,
          size: a.size,
        })),
        createdAt: m.createdAt,
      });
    },
  },
  {
    method: 'get',
    path: '/api/v1/messages/:id/pdf',
    tag: 'outreach',
    summary: 'The PDF of a letter',
    responses: { 200: 'application/pdf', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = String(req.params.id);
      const m = uuid.safeParse(id).success ? await ctx.db.message.findUnique({ where: { id } }) : null;
      if (!m?.pdfPath) throw notFound('letter PDF');
      res.type('application/pdf').send(fs.readFileSync(path.resolve(ctx.config.DATA_DIR, m.pdfPath)));
    },
  },
  {
    method: 'post',
    path: '/api/v1/api-keys',
    tag: 'admin',
    summary: 'Create an API key (shown once)',
    roles: ['ADMIN'],
    body: z.object({ name: z.string().min(1).max(100), role: z.enum(['ADMIN', 'AGENT']).default('AGENT') }),
    responses: { 201: 'Created; the key is in the response only this once', 400: 'Invalid input', 403: 'Admins only' },
    handler: async (req, res, ctx) => {
      const { key, apiKey } = await createApiKey(ctx.db, {
        name: req.valid.body.name,
        role: req.valid.body.role,
        createdById: req.principal!.type === 'user' ? req.principal!.id : undefined,
      });
      await audit(
        ctx.db,
        req.principal!,
        {
          action: 'api_key.create',
          entityType: 'api_key',
          entityId: apiKey.id,
          data: { name: apiKey.name, role: apiKey.role },
        },
        req,
      );
      res.status(201).json({ id: apiKey.id, name: apiKey.name, role: apiKey.role, prefix: apiKey.prefix, key });
    },
  },
  {
    method: 'get',
    path: '/api/v1/api-keys',
    tag: 'admin',
    summary: 'List API keys',
    roles: ['ADMIN'],
    responses: { 200: 'Keys (without secrets)' },
    handler: async (_req, res, ctx) => {
      const keys = await ctx.db.apiKey.findMany({ orderBy: { createdAt: 'desc' } });
      res.json({
        data: keys.map((k) => ({
          id: k.id,
          name: k.name,
          role: k.role,
          prefix: k.prefix,
          createdAt: k.createdAt,
          lastUsedAt: k.lastUsedAt,
          revokedAt: k.revokedAt,
        })),
      });
    },
  },
  {
    method: 'delete',
    path: '/api/v1/api-keys/:id',
    tag: 'admin',
    summary: 'Revoke an API key',
    roles: ['ADMIN'],
    responses: { 200: 'Revoked', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = String(req.params.id);
      const k = uuid.safeParse(id).success ? await ctx.db.apiKey.findUnique({ where: { id } }) : null;
      if (!k) throw notFound('API key');
      await ctx.db.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
      await audit(ctx.db, req.principal!, { action: 'api_key.revoke', entityType: 'api_key', entityId: id }, req);
      res.json({ id, revoked: true });
    },
  },
);

export function registerOutboundRoutes(app: Express, ctx: AppContext): void {
  app.get('/api/openapi.json', (_req, res) => res.json(openApiDocument(ctx)));
  // Signed, expiring link the print provider fetches the letter from: the signature in the path (letterPdfUrl),
  // or, for links handed out before, in the query (?exp=&sig=).
  const sendLetter = async (
    messageId: string | undefined,
    exp: string | undefined,
    sig: string | undefined,
    res: Response,
  ) => {
    if (!messageId || !exp || !sig || !verifyLetterUrl(ctx.secret, messageId, exp, sig))
      throw new HttpError(403, 'forbidden', 'invalid or expired link');
    const msg = await ctx.db.message.findUnique({ where: { id: messageId } });
    if (!msg?.pdfPath) throw notFound('letter');
    res.type('application/pdf').send(fs.readFileSync(path.resolve(ctx.config.DATA_DIR, msg.pdfPath)));
  };
  app.get('/files/letters/signed/:token/:file', async (req, res, next) => {
    try {
      const token = /^(\d+)\.([A-Za-z0-9_-]+)$/.exec(req.params.token);
      await sendLetter(/^([0-9a-f-]{36})\.pdf$/.exec(req.params.file)?.[1], token?.[1], token?.[2], res);
    } catch (e) {
      next(e);
    }
  });
  app.get('/files/letters/:file', async (req, res, next) => {
    try {
      const { exp, sig } = req.query as Record<string, string>;
      await sendLetter(/^([0-9a-f-]{36})\.pdf$/.exec(req.params.file)?.[1], exp, sig, res);
    } catch (e) {
      next(e);
    }
  });
  mountRoutes(app, ctx, outboundRoutes);
  mountRoutes(app, ctx, reviewRoutes);
}
