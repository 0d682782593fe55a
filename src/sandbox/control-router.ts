/**
 * Read-only inspection of the sandboxes plus the "act as the debtor" actions,
 * for the gateway to mount (e.g. under /sandbox) when it runs in sandbox mode.
 * Each provider's own routes (channels/<provider>: sandbox.control) sit under
 * /<provider id>/; the record of every callback the sandboxes sent is shared.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { plugins } from '../../channels/registry.js';
import type { Sandboxes } from './index.js';

export function sandboxControlRouter(sandboxes: Sandboxes): Router {
  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));
  const query = (req: Request, name: string) =>
    typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined;

  // Each provider's own inspection and "act as the debtor" routes, under /<provider id>/.
  for (const plugin of plugins) {
    const sandbox = (sandboxes as unknown as Record<string, unknown>)[plugin.id];
    if (!plugin.sandbox?.control || !sandbox) continue;
    const sub = express.Router();
    plugin.sandbox.control(sub, sandbox);
    router.use(`/${plugin.id}`, sub);
  }
  router.get('/callbacks', (req, res) => {
    const provider = query(req, 'provider');
    const state = query(req, 'state');
    const records = sandboxes.callbacks.list({
      ...(provider && plugins.some((p) => p.id === provider) ? { provider } : {}),
      ...(state === 'pending' || state === 'delivered' || state === 'failed' ? { state } : {}),
    });
    res.json(records.map((r) => ({ ...r, body: typeof r.body === 'string' ? r.body : `<${r.body.length} bytes>` })));
  });

  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(502).json({ error: err instanceof Error ? err.message : String(err) });
  });
  return router;
}
