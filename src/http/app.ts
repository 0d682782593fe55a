// The express application: request ids and logs, body limits, JSON errors,
// health endpoints, then every feature's routes (registered in routes.ts).
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { AppContext } from '../context.js';
import { errorHandler, HttpError, notFoundHandler } from './errors.js';
import { textProblem } from './text.js';
import { requestSerializer } from '../logger.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Route parameters that name a row by its UUID: checked before any handler (or the database) sees them. */
export const ID_PARAMS = ['id', 'messageId', 'debtorId', 'debtId', 'conversationId', 'jobId', 'campaignId'];

export type RouteModule = (app: Express, ctx: AppContext) => void;

export function createHttpApp(ctx: AppContext, modules: RouteModule[] = []): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.TRUST_PROXY);
  app.use(
    pinoHttp({
      logger: ctx.log,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Health probes every few seconds would drown the log.
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
      serializers: {
        req: requestSerializer,
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );

  // A path that cannot be percent-decoded, or decodes to control characters (%00), names nothing we serve.
  app.use((req, _res, next) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(req.path);
    } catch {
      return next(new HttpError(400, 'invalid_path', 'the request path is not valid percent-encoding'));
    }
    const problem = textProblem(decoded);
    next(problem ? new HttpError(400, 'invalid_path', `the request path ${problem}`) : undefined);
  });
  for (const name of ID_PARAMS) {
    app.param(name, (_req, _res, next, value: string) => {
      next(
        UUID.test(value)
          ? undefined
          : new HttpError(404, 'not_found', `no such ${name}: it must be a UUID`, [
              { field: name, reason: 'must be a UUID' },
            ]),
      );
    });
  }

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await ctx.readiness.check();
    const ready = Object.values(checks).every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });

  for (const register of modules) register(app, ctx);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
