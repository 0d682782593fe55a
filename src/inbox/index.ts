// The web inbox feature: sign-in (session cookie + CSRF), the inbox API, the
// debtor panel, presence, the static web app at /, and in sandbox mode the
// sandbox control panel at /sandbox (signed-in users only).
import { anySandbox } from '../providers.js';
import path from 'node:path';
import fs from 'node:fs';
import express, { type Express, type Request, type Response, type NextFunction } from 'express';
import type { AppContext, ModuleHandle } from '../context.js';
import { addPrincipalResolver, authenticate, requireRole } from '../auth/principal.js';
import { addSocketAuthResolver } from '../http/sockets.js';
import { mountRoutes } from '../http/api.js';
import { PROJECT_ROOT } from '../paths.js';
import { sandboxControlRouter } from '../sandbox/control-router.js';
import { authRoutes } from './auth/routes.js';
import { resolveSessionPrincipal, resolveSocketSession } from './auth/sessions.js';
import { announceDemoAdmin, createDemoApiKey, ensureDemoAdmin } from './auth/users.js';
import { inboxRoutes, reopenDueSnoozes } from './conversations.js';
import { panelRoutes } from './panel.js';
import { composeRoutes } from './compose.js';
import { queueRoutes } from './queue.js';
import { attachPresence } from './presence.js';

export const WEB_DIR = path.join(PROJECT_ROOT, 'src', 'inbox', 'web');
const SOCKET_IO_CLIENT = path.join(PROJECT_ROOT, 'node_modules', 'socket.io-client', 'dist', 'socket.io.min.js');
const SNOOZE_SWEEP_MS = 30_000;

/** Route module (src/modules.ts): session auth, the inbox API, the web app and the sandbox panel. */
export function registerInboxRoutes(app: Express, ctx: AppContext): void {
  addPrincipalResolver(resolveSessionPrincipal);
  addSocketAuthResolver(resolveSocketSession);
  mountRoutes(app, ctx, [...authRoutes, ...queueRoutes, ...inboxRoutes, ...composeRoutes, ...panelRoutes]);

  // Act as the debtor through the provider sandboxes. They start after the
  // routes are registered, so the router is built on first use.
  let sandboxRouter: express.Router | null = null;
  app.use(
    '/sandbox',
    authenticate(ctx),
    requireRole('ADMIN', 'AGENT'),
    (req: Request, res: Response, next: NextFunction) => {
      if (!ctx.sandboxes)
        return res.status(404).json({ error: 'not_found', message: 'no provider runs in sandbox mode' });
      sandboxRouter ??= sandboxControlRouter(ctx.sandboxes);
      sandboxRouter(req, res, next);
    },
  );

  app.get('/vendor/socket.io.min.js', (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=3600');
    res.type('application/javascript').send(fs.readFileSync(SOCKET_IO_CLIENT));
  });
  const staticFiles = express.static(WEB_DIR, { index: 'index.html', fallthrough: true, maxAge: 0 });
  app.use((req, res, next) => {
    if (req.path.startsWith('/api/')) return next();
    // The app's own scripts only; no inline code, no third-party origins.
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'",
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    staticFiles(req, res, next);
  });
}

/** Background part: presence, the snooze sweep, and the sandbox demo admin. */
export async function startInbox(ctx: AppContext): Promise<ModuleHandle> {
  attachPresence(ctx);
  const sandbox = anySandbox(ctx.providers);
  if (sandbox && ctx.config.NODE_ENV !== 'test') {
    const demo = await ensureDemoAdmin(ctx.db);
    // Told once, on a terminal or in an owner-only file, never in the log: the first start creates it, later starts find users.
    if (demo)
      announceDemoAdmin(
        { ...demo, apiKey: (await createDemoApiKey(ctx.db, ctx.config.DATA_DIR)).key },
        { baseUrl: ctx.publicBaseUrl, dataDir: ctx.config.DATA_DIR, log: ctx.log },
      );
  }
  const timer = setInterval(() => {
    reopenDueSnoozes(ctx).catch((err) => ctx.log.warn({ err }, 'snooze sweep failed'));
  }, SNOOZE_SWEEP_MS);
  timer.unref();
  return { stop: async () => clearInterval(timer) };
}
