// Starts the whole service in one process: HTTP + socket.io first (so /healthz
// answers and /readyz says 503 while the rest starts), then the database
// (embedded unless DATABASE_URL is set), migrations, Prisma, and the scheduler.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Server as SocketServer } from 'socket.io';
import type { Env } from './config.js';
import { probedCheck, Readiness, type AppContext, type ModuleHandle } from './context.js';
import { createPrisma, type Db } from './db/client.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { createHttpApp } from './http/app.js';
import { attachDatabaseAdapter, type DatabaseAdapter } from './http/sockets.js';
import { routeModules, startModules } from './modules.js';
import type { Logger } from './logger.js';
import { resolveProviders } from './providers.js';
import { appSecret } from './secrets.js';
import { loadTemplates } from './templates/index.js';
import { createScheduler, schedulerBackend, stopScheduler, type Scheduler } from './scheduler/agenda.js';

export interface Gateway {
  url: string;
  ctx: AppContext;
  stop(): Promise<void>;
}

export async function startGateway(config: Env, log: Logger): Promise<Gateway> {
  const providers = resolveProviders(config);
  // Every template is validated before anything starts: a bad one stops the start.
  const templates = loadTemplates();
  const secret = appSecret(config);
  const readiness = new Readiness();
  let dbReady = false;
  let schedulerReady = false;
  // Asked of the database itself on each probe (cached a second, bounded): a database stopped under us shows as 503 at once.
  readiness.register(
    'database',
    probedCheck(
      async () => {
        if (!dbReady || !db) return { ok: false, detail: 'starting' };
        await db.$queryRaw`SELECT 1`;
        return { ok: true };
      },
      { cacheMs: 1000, timeoutMs: 2000 },
    ),
  );
  readiness.register('scheduler', () => ({
    ok: schedulerReady,
    detail: schedulerReady
      ? schedulerBackend({ databaseUrl: '', mongodbUrl: config.MONGODB_URL, name: '' })
      : 'starting',
  }));

  // The real app is mounted once the context is complete; until then a
  // minimal app answers the health endpoints.
  let handler: express.Express | null = null;
  const early = express();
  early.get('/healthz', (_req, res) => res.json({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }));
  early.use((_req, res) =>
    res.status(503).json({
      error: 'starting',
      message: 'service is starting',
      status: 'not_ready',
      checks: { database: { ok: dbReady }, scheduler: { ok: schedulerReady } },
    }),
  );
  const server = http.createServer((req, res) => (handler ?? early)(req, res));
  const io = new SocketServer(server, { serveClient: false, cors: { origin: false } });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const localUrl = `http://${addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1' : addr.address}:${addr.port}`;
  log.info({ url: localUrl }, 'listening');

  let embedded: EmbeddedDatabase | null = null;
  let db: Db | null = null;
  let liveAdapter: DatabaseAdapter | null = null;
  let scheduler: Scheduler | null = null;
  let modules: ModuleHandle[] = [];
  let stopping: Promise<void> | null = null;

  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down');
      // 1. stop accepting connections; in-flight requests finish
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      io.disconnectSockets(true);
      for (const m of [...modules].reverse()) await m.stop().catch((err) => log.warn({ err }, 'module stop failed'));
      // 2. let running jobs finish within the bound
      if (scheduler) await stopScheduler(scheduler, config.SHUTDOWN_TIMEOUT_MS, log);
      await Promise.race([closed, new Promise((r) => setTimeout(r, config.SHUTDOWN_TIMEOUT_MS).unref())]);
      server.closeAllConnections();
      await new Promise<void>((r) => io.close(() => r()));
      if (liveAdapter) await liveAdapter.close().catch((err) => log.warn({ err }, 'live events pool close failed'));
      if (db) await db.$disconnect();
      if (embedded) await embedded.stop();
      log.info('stopped');
    })());

  try {
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      embedded = await startEmbeddedPostgres({
        dataDir: config.DATA_DIR,
        port: config.EMBEDDED_PG_PORT,
        log,
        owner: 'gateway',
        ifRunning: 'refuse',
      });
      databaseUrl = embedded.url;
      log.info({ port: config.EMBEDDED_PG_PORT, dataDir: config.DATA_DIR }, 'embedded PostgreSQL started');
    }
    await migrate(databaseUrl, log);
    // Live events reach clients of every gateway on this database (its attachments table comes with the migrations).
    liveAdapter = await attachDatabaseAdapter(io, databaseUrl, log);
    db = createPrisma(databaseUrl, {
      preparedStatements: config.DB_PREPARED_STATEMENTS,
      onConnectionLost: (err) => log.warn({ err: err.message }, 'database connection lost; the next query reconnects'),
    });
    await db.$queryRaw`SELECT 1`;
    dbReady = true;

    scheduler = createScheduler({ databaseUrl, mongodbUrl: config.MONGODB_URL, name: `gateway-${process.pid}`, log });
    const ctx: AppContext = {
      config,
      log,
      readiness,
      db,
      scheduler,
      io,
      publicBaseUrl: config.PUBLIC_BASE_URL ?? localUrl,
      providers,
      templates,
      secret,
    };
    handler = createHttpApp(ctx, routeModules);
    modules = await startModules(ctx);
    await scheduler.start();
    schedulerReady = true;
    log.info({ scheduler: schedulerBackend({ databaseUrl, mongodbUrl: config.MONGODB_URL, name: '' }) }, 'ready');
    return { url: localUrl, ctx, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
