// The express application: request ids and logs, body limits, JSON errors,
// health endpoints, then every feature's routes (registered in routes.ts).
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { AppContext } from '../context.js';
import { errorHandler, notFoundHandler } from './errors.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

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
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url.split('?')[0] }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );

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
