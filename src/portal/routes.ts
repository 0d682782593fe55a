// The debtor's page: GET /pay/<signed token> and the forms it posts.
// Nothing about a debt is rendered before the visitor is verified (identity.ts);
// a malformed, forged or expired link gets a page saying so (never a stack
// trace, and never whether the debt exists). Every form carries a CSRF token.
import { senderNumber } from '../providers.js';
import type { Express, Request, Response } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import fs from 'node:fs';
import path from 'node:path';
import type { AppContext } from '../context.js';
import { HttpError, notFound } from '../http/errors.js';
import { defineRoutes, mountRoutes } from '../http/api.js';
import { audit } from '../audit.js';
import { Prisma } from '../generated/prisma/client.js';
import { minorDigits } from '../domain/debtors.js';
import { startCheckout, providerForDebt } from '../payments/checkout.js';
import { allPaymentProviders } from '../payments/providers.js';
import { checkPortalToken, type PortalLink } from './links.js';
import { maskAddress, lockedUntil, sendCode, verifyIdentity, CODE_TTL_MS } from './identity.js';
import { pageLocale, translator, type Translator } from './i18n.js';
import { sendPage } from './html.js';
import { accountPage, lockedPage, refusalPage, verifyPage, type Flash } from './pages.js';
import {
  checkPreCsrf,
  checkSessionCsrf,
  createSession,
  endSession,
  ensureNonce,
  preCsrfToken,
  sessionFor,
  cookieOf,
  type PortalSessionRow,
} from './sessions.js';
import { portalSettingsOf, portalSettingsSchema, VERIFICATION_METHODS, type VerificationMethod } from './settings.js';
import { loadAccount } from './view.js';
import { startCardUpdate, startPlan, PlanInputError } from '../payments/plans.js';
import {
  dispute,
  noteAction,
  optOut,
  ownDebt,
  parseAmount,
  PortalInputError,
  promiseToPay,
  requestCallback,
  setPreferences,
  type Visitor,
} from './actions.js';

const LANG_COOKIE = 'portal_lang';
/** Identity attempts (codes asked for, codes and facts tried) per address per 15 minutes; the per-debtor lock is the real guard. */
const IP_POINTS = 30;
const CODE_SENDS_PER_HOUR = 5;

interface Resolved {
  token: string;
  link: PortalLink;
  debtor: { id: string; locale: string };
  tr: Translator;
  action: string;
  langHref: (l: string) => string;
  settings: ReturnType<typeof portalSettingsOf>;
}

export function registerPortalRoutes(app: Express, ctx: AppContext): void {
  registerPortalSettingsRoutes(app, ctx);
  const ipLimiter = new RateLimiterMemory({ points: IP_POINTS, duration: 15 * 60 });
  const codeLimiter = new RateLimiterMemory({ points: CODE_SENDS_PER_HOUR, duration: 3600 });
  const phone = () => ctx.config.AGENT_PHONE_NUMBER ?? senderNumber(ctx.providers, 'VOICE') ?? '';
  const formTargets = () => [...new Set(allPaymentProviders(ctx).flatMap((p) => p.checkoutOrigins))];

  /** Reads and checks the link; on failure the refusal page is already sent. */
  async function resolve(req: Request, res: Response): Promise<Resolved | null> {
    const token = String(req.params.token ?? '');
    const requested = typeof req.query.lang === 'string' ? req.query.lang : undefined;
    if (requested && ['en', 'es'].includes(requested))
      res.cookie(LANG_COOKIE, requested, {
        httpOnly: true,
        sameSite: 'lax',
        path: '/pay',
        secure: ctx.publicBaseUrl.startsWith('https:'),
      });
    const chosen =
      requested ?? cookieOf(req, LANG_COOKIE) ?? req.headers.cookie?.match(/(?:^|;\s*)portal_lang=(en|es)\b/)?.[1];
    const check = await checkPortalToken(
      ctx.secret,
      token,
      async (debtId) =>
        (await ctx.db.debt.findUnique({ where: { id: debtId }, select: { debtorId: true } }))?.debtorId ?? null,
    );
    if (!check.ok) {
      const tr = translator(pageLocale(chosen, 'en'));
      sendPage(
        res,
        check.reason === 'expired' ? 410 : 404,
        refusalPage(tr, check.reason === 'expired' ? 'expired' : 'invalid', phone()),
      );
      return null;
    }
    const debtor = await ctx.db.debtor.findUnique({
      where: { id: check.link.debtorId },
      select: { id: true, locale: true },
    });
    const debt = await ctx.db.debt.findUnique({
      where: { id: check.link.debtId },
      select: { creditor: { select: { portalSettings: true } } },
    });
    if (!debtor || !debt) {
      sendPage(res, 404, refusalPage(translator(pageLocale(chosen, 'en')), 'invalid', phone()));
      return null;
    }
    const tr = translator(pageLocale(chosen, debtor.locale));
    const action = `/pay/${token}`;
    return {
      token,
      link: check.link,
      debtor,
      tr,
      action,
      langHref: (l) => `${action}?lang=${l}`,
      settings: portalSettingsOf(debt.creditor.portalSettings),
    };
  }

  async function showVerify(
    req: Request,
    res: Response,
    r: Resolved,
    now: Date,
    flash?: Flash,
    status = 200,
  ): Promise<void> {
    const until = await lockedUntil(ctx, r.debtor.id, now);
    if (until) return sendPage(res, 423, lockedPage(r.tr, until, phone(), r.langHref));
    const nonce = ensureNonce(ctx, req, res);
    const cp = await ctx.db.contactPoint.findFirst({
      where: { id: r.link.contactPointId, debtorId: r.debtor.id },
      select: { kind: true, value: true },
    });
    const access = await ctx.db.portalAccess.findUnique({ where: { debtorId: r.debtor.id } });
    const codeSent =
      !!access?.codeSentAt &&
      !!access.codeHash &&
      access.codeContactPointId === r.link.contactPointId &&
      access.codeSentAt.getTime() + CODE_TTL_MS > now.getTime();
    sendPage(
      res,
      status,
      verifyPage({
        tr: r.tr,
        action: r.action,
        csrf: preCsrfToken(ctx, nonce, r.token),
        methods: r.settings.verification,
        codeTo: cp && cp.kind !== 'ADDRESS' ? maskAddress(cp.kind, cp.value) : null,
        codeSent,
        flash,
        langHref: r.langHref,
        phone: phone(),
      }),
    );
  }

  async function showAccount(
    res: Response,
    r: Resolved,
    session: PortalSessionRow,
    now: Date,
    flash?: Flash,
    status = 200,
  ): Promise<void> {
    const view = await loadAccount(ctx, r.debtor.id, r.link.debtId, now);
    if (!view) return sendPage(res, 404, refusalPage(r.tr, 'invalid', phone()));
    const debts = await ctx.db.debt.findMany({
      where: { id: { in: view.debts.map((d) => d.id) } },
      include: { creditor: true },
    });
    const payable = new Set(debts.filter((d) => providerForDebt(ctx, d)).map((d) => d.id));
    sendPage(
      res,
      status,
      accountPage({
        tr: r.tr,
        action: r.action,
        csrf: session.csrfToken,
        view,
        flash,
        phone: phone(),
        canPay: (d) => payable.has(d.id),
        langHref: r.langHref,
        formTargets: formTargets(),
        today: now.toISOString().slice(0, 10),
        plansEnabled: true,
      }),
      formTargets(),
    );
  }

  /** Runs a handler; anything unexpected becomes a plain page, never a stack trace or JSON. */
  const page = (fn: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      await fn(req, res);
    } catch (err) {
      if (res.headersSent) return;
      const tr = translator('en');
      if (err instanceof HttpError && err.status === 404)
        return sendPage(res, 404, refusalPage(tr, 'invalid', phone()));
      ctx.log.error({ err }, 'debtor page failed');
      sendPage(
        res,
        500,
        refusalPage(tr, 'invalid', phone()).replace(tr.t('invalid_title'), tr.t('code_failed', { phone: phone() })),
      );
    }
  };

  const limited = async (req: Request, res: Response, r: Resolved): Promise<boolean> => {
    try {
      await ipLimiter.consume(req.ip ?? 'unknown');
      return false;
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      res.setHeader('Retry-After', String(Math.ceil(e.msBeforeNext / 1000)));
      await showVerify(req, res, r, new Date(), { text: r.tr.t('rate_limited'), kind: 'error' }, 429);
      return true;
    }
  };

  app.get(
    '/pay/:token',
    page(async (req, res) => {
      const now = new Date();
      const r = await resolve(req, res);
      if (!r) return;
      const session = await sessionFor(ctx, req, r.debtor.id, now);
      const checkout = req.query.checkout;
      const flash: Flash | undefined =
        checkout === 'success'
          ? { text: r.tr.t('pay_success'), kind: 'success' }
          : checkout === 'cancel'
            ? { text: r.tr.t('pay_cancelled'), kind: 'info' }
            : undefined;
      if (!session) return showVerify(req, res, r, now, flash);
      return showAccount(res, r, session, now, flash);
    }),
  );

  app.post(
    '/pay/:token/code',
    page(async (req, res) => {
      const now = new Date();
      const r = await resolve(req, res);
      if (!r) return;
      if (!checkPreCsrf(ctx, req, r.token, req.body?.csrf))
        return showVerify(req, res, r, now, { text: r.tr.t('form_expired'), kind: 'error' }, 403);
      if (!r.settings.verification.includes('code')) return showVerify(req, res, r, now, undefined, 400);
      if (await limited(req, res, r)) return;
      try {
        await codeLimiter.consume(r.debtor.id);
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw e;
        return showVerify(req, res, r, now, { text: r.tr.t('rate_limited'), kind: 'error' }, 429);
      }
      const out = await sendCode(ctx, r.link, now, req.ip);
      const flash: Flash = out.sent
        ? { text: r.tr.t('code_sent', { to: out.to }), kind: 'success' }
        : out.reason === 'too_soon'
          ? { text: r.tr.t('code_wait'), kind: 'info' }
          : out.reason === 'unavailable'
            ? { text: r.tr.t('code_unavailable', { phone: phone() }), kind: 'error' }
            : { text: r.tr.t('code_failed', { phone: phone() }), kind: 'error' };
      return showVerify(req, res, r, now, flash, out.sent || out.reason === 'too_soon' ? 200 : 422);
    }),
  );

  app.post(
    '/pay/:token/verify',
    page(async (req, res) => {
      const now = new Date();
      const r = await resolve(req, res);
      if (!r) return;
      if (!checkPreCsrf(ctx, req, r.token, req.body?.csrf))
        return showVerify(req, res, r, now, { text: r.tr.t('form_expired'), kind: 'error' }, 403);
      if (await limited(req, res, r)) return;
      const method = String(req.body?.method ?? '');
      const value = typeof req.body?.value === 'string' ? req.body.value : '';
      if (!(VERIFICATION_METHODS as readonly string[]).includes(method) || value.length > 200)
        return showVerify(req, res, r, now, { text: r.tr.t('verify_failed', { left: '?' }), kind: 'error' }, 400);
      const outcome = await verifyIdentity(
        ctx,
        r.settings,
        { debtorId: r.debtor.id, debtId: r.link.debtId, method: method as VerificationMethod, value, ip: req.ip },
        now,
      );
      if (outcome.ok) {
        await createSession(ctx, res, { debtorId: r.debtor.id, debtId: r.link.debtId, verifiedBy: method }, now);
        res.redirect(303, r.action);
        return;
      }
      if (outcome.locked) return sendPage(res, 423, lockedPage(r.tr, outcome.until, phone(), r.langHref));
      return showVerify(
        req,
        res,
        r,
        now,
        { text: r.tr.t('verify_failed', { left: outcome.left }), kind: 'error' },
        401,
      );
    }),
  );

  app.post(
    '/pay/:token/actions/:action',
    page(async (req, res) => {
      const now = new Date();
      const r = await resolve(req, res);
      if (!r) return;
      const session = await sessionFor(ctx, req, r.debtor.id, now);
      if (!session) return showVerify(req, res, r, now, { text: r.tr.t('session_expired'), kind: 'info' }, 401);
      if (!checkSessionCsrf(session, req.body?.csrf))
        return showAccount(res, r, session, now, { text: r.tr.t('form_expired'), kind: 'error' }, 403);
      const v: Visitor = { debtorId: r.debtor.id, ip: req.ip };
      const body = (req.body ?? {}) as Record<string, unknown>;
      const debtId = typeof body.debt === 'string' ? body.debt : r.link.debtId;
      const t = r.tr.t.bind(r.tr);
      try {
        switch (req.params.action) {
          case 'sign-out':
            await endSession(ctx, req, res);
            return showVerify(req, res, r, now);
          case 'pay': {
            const debt = await ownDebt(ctx, v, debtId);
            const digits = minorDigits(debt.currency);
            const amount = parseAmount(body.amount, digits, new Prisma.Decimal(1), Prisma.Decimal.max(debt.balance, 0));
            const started = await startCheckout(ctx, debt, {
              kind: 'payment',
              amount,
              returnUrl: `${ctx.publicBaseUrl}${r.action}`,
              locale: r.tr.lang,
            });
            if (!started)
              return showAccount(
                res,
                r,
                session,
                now,
                { text: t('pay_unavailable', { phone: phone() }), kind: 'error' },
                422,
              );
            await noteAction(ctx, v, 'payment_started', {
              debtId: debt.id,
              amount: amount.toFixed(digits),
              currency: debt.currency,
              providerPaymentId: started.providerPaymentId,
            });
            res.redirect(303, started.url);
            return;
          }
          case 'plan': {
            const debt = await ownDebt(ctx, v, debtId);
            const started = await startPlan(
              ctx,
              v.debtorId,
              debt,
              { count: body.count, first: body.first, returnUrl: `${ctx.publicBaseUrl}${r.action}`, locale: r.tr.lang },
              now,
            );
            res.redirect(303, started.url);
            return;
          }
          case 'plan-card': {
            const debt = await ownDebt(ctx, v, debtId);
            const started = await startCardUpdate(ctx, v.debtorId, debt, `${ctx.publicBaseUrl}${r.action}`, r.tr.lang);
            res.redirect(303, started.url);
            return;
          }
          case 'promise': {
            const p = await promiseToPay(
              ctx,
              v,
              { debtId, date: body.date, amount: body.amount, maxDays: r.settings.maxPromiseDays },
              now,
            );
            const debt = await ownDebt(ctx, v, debtId);
            return showAccount(res, r, session, now, {
              text: t('promise_recorded', {
                amount: new Intl.NumberFormat(r.tr.lang, { style: 'currency', currency: debt.currency }).format(
                  Number(p.amount),
                ),
                date: p.date,
              }),
              kind: 'success',
            });
          }
          case 'dispute': {
            const d = await dispute(ctx, v, { debtId, reason: body.reason });
            return showAccount(res, r, session, now, { text: t('dispute_recorded', { ref: d.ref }), kind: 'success' });
          }
          case 'preferences': {
            const p = await setPreferences(ctx, v, {
              channel: body.channel,
              from: body.from,
              to: body.to,
              locale: body.locale,
            });
            const next = p.locale ? { ...r, tr: translator(p.locale) } : r;
            if (p.locale)
              res.cookie(LANG_COOKIE, p.locale, {
                httpOnly: true,
                sameSite: 'lax',
                path: '/pay',
                secure: ctx.publicBaseUrl.startsWith('https:'),
              });
            return showAccount(res, next, session, now, { text: next.tr.t('prefs_saved'), kind: 'success' });
          }
          case 'opt-out': {
            const o = await optOut(ctx, v, { channel: body.channel });
            return showAccount(res, r, session, now, {
              text: t('optout_done', { channel: t(`channel_${o.channel}`) }),
              kind: 'success',
            });
          }
          case 'callback':
            await requestCallback(ctx, v, { when: body.when });
            return showAccount(res, r, session, now, { text: t('callback_done'), kind: 'success' });
          default:
            throw new HttpError(404, 'not_found', 'no such action');
        }
      } catch (err) {
        if (err instanceof PlanInputError)
          return showAccount(res, r, session, now, { text: t(err.key, err.vars), kind: 'error' }, 422);
        if (err instanceof PortalInputError)
          return showAccount(res, r, session, now, { text: t(err.key, err.vars), kind: 'error' }, 422);
        if (err instanceof HttpError && err.status < 500 && err.status !== 404)
          return showAccount(res, r, session, now, { text: err.message, kind: 'error' }, err.status);
        throw err;
      }
    }),
  );

  app.get(
    '/pay/:token/letters/:file',
    page(async (req, res) => {
      const now = new Date();
      const r = await resolve(req, res);
      if (!r) return;
      const session = await sessionFor(ctx, req, r.debtor.id, now);
      if (!session) return showVerify(req, res, r, now, { text: r.tr.t('session_expired'), kind: 'info' }, 401);
      const m = /^([0-9a-f-]{36})\.pdf$/.exec(String(req.params.file));
      const msg = m
        ? await ctx.db.message.findUnique({
            where: { id: m[1]! },
            select: { debtorId: true, channel: true, pdfPath: true },
          })
        : null;
      if (!msg || msg.debtorId !== r.debtor.id || msg.channel !== 'LETTER' || !msg.pdfPath)
        throw new HttpError(404, 'not_found', 'no such letter');
      res.setHeader('Cache-Control', 'no-store');
      res.type('application/pdf').send(fs.readFileSync(path.resolve(ctx.config.DATA_DIR, msg.pdfPath)));
    }),
  );

  // What fails before a handler runs (a path express cannot decode, a body too large): a page, not JSON.
  app.use('/pay', (err: unknown, _req: Request, res: Response, next: (e?: unknown) => void) => {
    if (res.headersSent) return next(err);
    const status = (err as { status?: number }).status;
    sendPage(
      res,
      status && status >= 400 && status < 500 ? status : 500,
      refusalPage(translator('en'), 'invalid', phone()),
    );
  });
}

// ── the creditor's settings (admin API) ───────────────────────────────────

export const portalSettingsRoutes = defineRoutes(
  {
    method: 'get',
    path: '/api/v1/creditors/:ref/portal-settings',
    tag: 'debtor page',
    roles: ['ADMIN'],
    summary:
      "A creditor's debtor-page settings (identity checks, plan limits, payment provider), with defaults filled in",
    responses: { 200: 'Settings', 404: 'No such creditor' },
    handler: async (req, res, ctx) => {
      const c = await ctx.db.creditor.findUnique({ where: { externalRef: String(req.params.ref) } });
      if (!c) throw notFound('creditor');
      res.json({ creditorRef: c.externalRef, settings: portalSettingsOf(c.portalSettings) });
    },
  },
  {
    method: 'put',
    path: '/api/v1/creditors/:ref/portal-settings',
    tag: 'debtor page',
    roles: ['ADMIN'],
    summary: "Sets a creditor's debtor-page settings; absent keys take their defaults",
    body: portalSettingsSchema,
    responses: { 200: 'Saved', 400: 'Invalid settings', 404: 'No such creditor' },
    handler: async (req, res, ctx) => {
      const c = await ctx.db.creditor.findUnique({ where: { externalRef: String(req.params.ref) } });
      if (!c) throw notFound('creditor');
      const settings = req.valid.body;
      await ctx.db.creditor.update({ where: { id: c.id }, data: { portalSettings: settings } });
      await audit(
        ctx.db,
        req.principal!,
        { action: 'creditor.portal_settings', entityType: 'creditor', entityId: c.id, data: settings },
        req,
      );
      res.json({ creditorRef: c.externalRef, settings });
    },
  },
);

export function registerPortalSettingsRoutes(app: Express, ctx: AppContext): void {
  mountRoutes(app, ctx, portalSettingsRoutes);
}
