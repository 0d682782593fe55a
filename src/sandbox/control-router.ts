/**
 * Read-only inspection of the sandboxes plus the "act as the debtor" actions,
 * for the gateway to mount (e.g. under /sandbox) when it runs in sandbox mode.
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { plugins } from '../../channels/registry.js';
import type { Sandboxes } from './index.js';
import type { SmtpMessage } from './smtp.js';

const inboundEmailSchema = z.object({
  from: z.string().min(3),
  to: z.string().min(3),
  cc: z.string().optional(),
  subject: z.string().max(998),
  text: z.string().optional(),
  html: z.string().optional(),
  inReplyTo: z.string().optional(),
  references: z.union([z.string(), z.array(z.string())]).optional(),
  raw: z.boolean().optional(),
});

const smtpReplySchema = inboundEmailSchema.omit({ raw: true, cc: true });

/** Attachments' bytes stay out of listings; their size and hash identify them. */
function summariseSmtp(message: SmtpMessage) {
  return { ...message, raw: undefined, attachments: message.attachments.map(({ content: _content, ...rest }) => rest) };
}

function validationError(res: Response, error: z.ZodError): void {
  res.status(400).json({
    error: 'invalid request',
    issues: error.issues.map((issue) => ({ field: issue.path.join('.'), reason: issue.message })),
  });
}

export function sandboxControlRouter(sandboxes: Sandboxes): Router {
  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));
  const query = (req: Request, name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined);

  // Each provider's own inspection and "act as the debtor" routes, under /<provider id>/.
  for (const plugin of plugins) {
    const sandbox = (sandboxes as unknown as Record<string, unknown>)[plugin.id];
    if (!plugin.sandbox?.control || !sandbox) continue;
    const sub = express.Router();
    plugin.sandbox.control(sub, sandbox);
    router.use(`/${plugin.id}`, sub);
  }
  router.get('/sendgrid/messages', (req, res) => {
    res.json(sandboxes.sendgrid.listMessages({ to: query(req, 'to') }));
  });
  router.get('/lob/letters', (_req, res) => {
    res.json(sandboxes.lob.listLetters());
  });
  router.get('/lob/letters/:id', (req, res) => {
    const letter = sandboxes.lob.getLetter(req.params.id);
    if (!letter) res.status(404).json({ error: `no letter ${req.params.id}` });
    else res.json(letter);
  });
  router.get('/smtp/messages', (req, res) => {
    res.json(sandboxes.smtp.listMessages({ to: query(req, 'to') }).map(summariseSmtp));
  });
  router.get('/callbacks', (req, res) => {
    const provider = query(req, 'provider');
    const state = query(req, 'state');
    const records = sandboxes.callbacks.list({
      ...(provider && (plugins.some((p) => p.id === provider) || provider === 'sendgrid' || provider === 'lob') ? { provider } : {}),
      ...(state === 'pending' || state === 'delivered' || state === 'failed' ? { state } : {}),
    });
    res.json(records.map((r) => ({ ...r, body: typeof r.body === 'string' ? r.body : `<${r.body.length} bytes>` })));
  });

  router.post('/sendgrid/inbound-email', async (req, res) => {
    const parsed = inboundEmailSchema.safeParse(req.body);
    if (!parsed.success) return validationError(res, parsed.error);
    const { raw, ...input } = parsed.data;
    const result = await sandboxes.sendgrid.simulateInboundEmail(input, { raw: raw ?? false });
    res.json({ status: result.status, delivered: result.delivered, responseBody: result.responseBody });
  });
  router.post('/smtp/reply', async (req, res) => {
    const parsed = smtpReplySchema.safeParse(req.body);
    if (!parsed.success) return validationError(res, parsed.error);
    res.json(await sandboxes.smtp.replyAsDebtor(parsed.data));
  });

  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(502).json({ error: err instanceof Error ? err.message : String(err) });
  });
  return router;
}
