// A local stand-in for Stripe, in the shape of the Twilio/SendGrid/Lob
// sandboxes: it speaks Stripe's wire format (form-encoded requests with
// bracketed keys, Bearer secret keys, Idempotency-Key replays, JSON objects
// with Stripe's ids and fields, Stripe's error envelope), so the official
// `stripe` SDK works against it unchanged (`new Stripe(key, { host, port,
// protocol: 'http' })`). It serves a hosted checkout page where the "debtor"
// completes a payment with Stripe's test cards (success, declined, 3-D Secure
// required), and delivers webhooks signed as Stripe signs them:
// `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
//
// Covered: Checkout Sessions (payment and setup mode), PaymentIntents
// (off-session confirm with a saved card), Customers, SetupIntents, Refunds;
// events checkout.session.completed, payment_intent.succeeded,
// payment_intent.payment_failed, setup_intent.succeeded, charge.succeeded,
// charge.refunded, charge.dispute.created. Test cards (Stripe's numbers):
// 4242 4242 4242 4242 succeeds; 4000 0000 0000 0002 is declined;
// 4000 0027 6000 3184 needs 3-D Secure (on the page; off-session it fails
// with authentication_required); 4000 0000 0000 0341 saves fine and its later
// charges are declined.
import { createHmac, randomBytes } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
// The dispatcher (retries, kept-alive connections, records) is the gateway's shared sandbox kit, handed in.
import type { CallbackDispatcher } from '../kit/callback-dispatcher.js';

const API_VERSION = '2026-10-28.endive';

type Obj = Record<string, unknown> & { id: string; object: string };
type CardBehaviour = 'succeeds' | 'declined' | 'requires_3ds' | 'charges_declined';

const TEST_CARDS: Record<string, CardBehaviour> = {
  '4242424242424242': 'succeeds',
  '4000000000000002': 'declined',
  '4000002760003184': 'requires_3ds',
  '4000000000000341': 'charges_declined',
};

export interface StripeSandboxOptions {
  /** The secret key the SDK must present (sk_test_…). */
  secretKey: string;
  /** The webhook endpoint's signing secret (whsec_…). */
  webhookSecret: string;
  /** Where events are delivered (the gateway's /webhooks/stripe). */
  webhookUrl: string;
  dispatcher: CallbackDispatcher;
  /** Clock for `created` and the signature timestamp. */
  now?: () => Date;
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

class StripeError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message ?? 'stripe error'));
  }
}

const invalid = (message: string, param?: string) =>
  new StripeError(400, { type: 'invalid_request_error', message, ...(param ? { param } : {}) });
const missing = (what: string, objId: string) =>
  new StripeError(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    message: `No such ${what}: '${objId}'`,
    param: 'id',
  });

export class StripeSandbox {
  readonly app: Express;
  readonly dispatcher: CallbackDispatcher;
  /** Set once listening: the base of the hosted pages (e.g. http://127.0.0.1:PORT). */
  baseUrl = '';
  private readonly objects = new Map<string, Obj>();
  private readonly events: Obj[] = [];
  private readonly idempotency = new Map<string, { params: string; status: number; body: unknown }>();
  private readonly behaviour = new Map<string, CardBehaviour>();
  private readonly now: () => Date;

  constructor(private readonly options: StripeSandboxOptions) {
    this.dispatcher = options.dispatcher;
    this.now = options.now ?? (() => new Date());
    this.app = express();
    this.app.disable('x-powered-by');
    // Stripe's form encoding: metadata[k]=v, line_items[0][price_data][currency]=usd.
    this.app.use(express.urlencoded({ extended: true, limit: '1mb' }));
    this.routes();
  }

  private created = () => Math.floor(this.now().getTime() / 1000);

  get(objId: string): Obj | undefined {
    return this.objects.get(objId);
  }

  list(object: string): Obj[] {
    return [...this.objects.values()].filter((o) => o.object === object);
  }

  /** Every event generated, oldest first (as in the Dashboard's event list). */
  eventLog(): Obj[] {
    return [...this.events];
  }

  private put<T extends Obj>(o: T): T {
    this.objects.set(o.id, o);
    return o;
  }

  // ── the API (what the SDK calls) ─────────────────────────────────────────

  private routes(): void {
    const app = this.app;
    const api = (fn: (req: Request) => Obj | Promise<Obj>) => async (req: Request, res: Response) => {
      res.setHeader('Request-Id', id('req'));
      res.setHeader('Stripe-Version', API_VERSION);
      const auth = req.headers.authorization ?? '';
      const key = auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (key !== this.options.secretKey) {
        res.status(401).json({
          error: {
            type: 'invalid_request_error',
            message: `Invalid API Key provided: ${key ? `${key.slice(0, 8)}${'*'.repeat(4)}${key.slice(-4)}` : '(none)'}`,
          },
        });
        return;
      }
      const idem = req.method === 'POST' ? req.header('idempotency-key') : undefined;
      const params = JSON.stringify(req.body ?? {});
      if (idem) {
        const seen = this.idempotency.get(`${req.path}\u0000${idem}`);
        if (seen) {
          if (seen.params !== params) {
            res.status(400).json({
              error: {
                type: 'idempotency_error',
                message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idem}' if you meant to execute a different request.`,
              },
            });
            return;
          }
          res.setHeader('Idempotent-Replayed', 'true');
          res.status(seen.status).json(seen.body);
          return;
        }
      }
      let status = 200;
      let body: unknown;
      try {
        body = await fn(req);
      } catch (e) {
        if (!(e instanceof StripeError)) throw e;
        status = e.status;
        body = { error: e.body };
      }
      if (idem && status !== 401) this.idempotency.set(`${req.path}\u0000${idem}`, { params, status, body });
      res.status(status).json(body);
    };

    app.post(
      '/v1/customers',
      api((req) =>
        this.put({
          id: id('cus'),
          object: 'customer',
          created: this.created(),
          email: req.body.email ?? null,
          name: req.body.name ?? null,
          metadata: req.body.metadata ?? {},
          livemode: false,
        }),
      ),
    );
    app.get(
      '/v1/customers/:id',
      api((req) => this.must(String(req.params.id), 'customer')),
    );
    app.post(
      '/v1/checkout/sessions',
      api((req) => this.createSession(req.body as Record<string, any>)),
    );
    app.get(
      '/v1/checkout/sessions/:id',
      api((req) => this.must(String(req.params.id), 'checkout.session')),
    );
    app.post(
      '/v1/payment_intents',
      api((req) => this.createIntent(req.body as Record<string, any>)),
    );
    app.get(
      '/v1/payment_intents/:id',
      api((req) => this.must(String(req.params.id), 'payment_intent')),
    );
    app.get(
      '/v1/setup_intents/:id',
      api((req) => this.must(String(req.params.id), 'setup_intent')),
    );
    app.get(
      '/v1/payment_methods/:id',
      api((req) => this.must(String(req.params.id), 'payment_method')),
    );
    app.get(
      '/v1/charges/:id',
      api((req) => this.must(String(req.params.id), 'charge')),
    );
    app.post(
      '/v1/refunds',
      api((req) => this.refund(req.body as Record<string, any>)),
    );
    app.get(
      '/v1/events/:id',
      api(
        (req) =>
          this.events.find((e) => e.id === req.params.id) ??
          (() => {
            throw missing('event', String(req.params.id));
          })(),
      ),
    );

    // ── the hosted checkout page (the "debtor" pays here) ──
    app.get('/checkout/:id', (req, res) => this.checkoutPage(res, String(req.params.id)));
    app.post('/checkout/:id', (req, res) => this.checkoutSubmit(req, res, String(req.params.id)));
    app.get('/checkout/:id/authenticate', (req, res) => this.authenticatePage(res, String(req.params.id)));
    app.post('/checkout/:id/authenticate', (req, res) => this.authenticateSubmit(req, res, String(req.params.id)));

    // ── sandbox controls (what a Dashboard or the card network would do) ──
    app.post('/sandbox/payment_intents/:id/dispute', (req, res) => {
      try {
        res.json(this.dispute(String(req.params.id), String(req.body?.reason ?? 'fraudulent')));
      } catch (e) {
        if (e instanceof StripeError) res.status(e.status).json({ error: e.body });
        else throw e;
      }
    });
    app.post('/sandbox/events/:id/resend', async (req, res) => {
      const event = this.events.find((e) => e.id === req.params.id);
      if (!event) return void res.status(404).json({ error: { message: 'no such event' } });
      const record = await this.deliver(event);
      res.json({ delivered: record.state === 'delivered', status: record.responseStatus ?? null });
    });
    app.post('/sandbox/payment_methods/:id', (req, res) => {
      const pm = this.objects.get(String(req.params.id));
      const b = String(req.body?.behaviour ?? '') as CardBehaviour;
      if (
        !pm ||
        pm.object !== 'payment_method' ||
        !['succeeds', 'declined', 'requires_3ds', 'charges_declined'].includes(b)
      )
        return void res.status(400).json({ error: { message: 'unknown payment method or behaviour' } });
      this.behaviour.set(pm.id, b);
      res.json({ id: pm.id, behaviour: b });
    });
    app.use((req, res) =>
      res.status(404).json({
        error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${req.path}).` },
      }),
    );
  }

  private must(objId: string, object: string): Obj {
    const o = this.objects.get(objId);
    if (!o || o.object !== object) throw missing(object.replace(/^checkout\./, 'checkout ').replace(/_/g, ' '), objId);
    return o;
  }

  private createSession(b: Record<string, any>): Obj {
    const mode = b.mode ?? 'payment';
    if (!['payment', 'setup'].includes(mode))
      throw invalid(`Invalid mode: ${mode} (the sandbox covers payment and setup)`, 'mode');
    if (!b.success_url) throw invalid('Missing required param: success_url.', 'success_url');
    let amount: number | null = null;
    let currency: string | null = b.currency ? String(b.currency).toLowerCase() : null;
    if (mode === 'payment') {
      const items = Array.isArray(b.line_items) ? b.line_items : Object.values(b.line_items ?? {});
      if (!items.length) throw invalid('Missing required param: line_items.', 'line_items');
      amount = 0;
      for (const [i, item] of items.entries()) {
        const unit = Number(item?.price_data?.unit_amount);
        const qty = Number(item?.quantity ?? 1);
        if (!Number.isInteger(unit) || unit < 1)
          throw invalid('Invalid integer: unit_amount', `line_items[${i}][price_data][unit_amount]`);
        if (!item?.price_data?.currency)
          throw invalid('Missing required param: currency.', `line_items[${i}][price_data][currency]`);
        currency = String(item.price_data.currency).toLowerCase();
        amount += unit * qty;
      }
    } else if (!currency) {
      throw invalid('Missing required param: currency.', 'currency');
    }
    if (b.customer && !this.objects.has(String(b.customer))) throw missing('customer', String(b.customer));
    const sid = `cs_test_${randomBytes(24).toString('base64url').replace(/[-_]/g, 'a')}`;
    return this.put({
      id: sid,
      object: 'checkout.session',
      mode,
      status: 'open',
      payment_status: mode === 'setup' ? 'no_payment_required' : 'unpaid',
      amount_total: amount,
      amount_subtotal: amount,
      currency,
      customer: b.customer ?? null,
      customer_email: b.customer_email ?? null,
      client_reference_id: b.client_reference_id ?? null,
      locale: b.locale ?? null,
      metadata: b.metadata ?? {},
      payment_intent: null,
      setup_intent: null,
      success_url: b.success_url,
      cancel_url: b.cancel_url ?? null,
      url: `${this.baseUrl}/checkout/${sid}`,
      created: this.created(),
      expires_at: this.created() + 24 * 3600,
      livemode: false,
      payment_intent_data: b.payment_intent_data ?? null,
      setup_intent_data: b.setup_intent_data ?? null,
      line_items_description:
        (Array.isArray(b.line_items) ? b.line_items : Object.values(b.line_items ?? {}))[0]?.price_data?.product_data
          ?.name ?? null,
    });
  }

  private paymentMethod(card: string, customer: string | null): Obj {
    const digits = card.replace(/\D/g, '');
    const pm = this.put({
      id: id('pm'),
      object: 'payment_method',
      type: 'card',
      customer,
      card: {
        brand: digits.startsWith('4') ? 'visa' : 'unknown',
        last4: digits.slice(-4),
        exp_month: 12,
        exp_year: new Date().getUTCFullYear() + 3,
        country: 'US',
      },
      created: this.created(),
      livemode: false,
      metadata: {},
    });
    this.behaviour.set(pm.id, TEST_CARDS[digits] ?? 'succeeds');
    return pm;
  }

  /** A PaymentIntent confirmed with a payment method: succeeds, or fails as the card does. */
  private confirm(
    pi: Obj,
    pm: Obj,
    offSession: boolean,
    authenticated = false,
  ): 'succeeded' | 'requires_action' | 'failed' {
    const behaviour = this.behaviour.get(pm.id) ?? 'succeeds';
    pi.payment_method = pm.id;
    if (behaviour === 'requires_3ds' && !authenticated) {
      if (!offSession) {
        pi.status = 'requires_action';
        pi.next_action = { type: 'use_stripe_sdk' };
        return 'requires_action';
      }
      this.fail(
        pi,
        'authentication_required',
        'This payment requires authentication, which the customer must complete on-session.',
      );
      return 'failed';
    }
    if (behaviour === 'declined' || (behaviour === 'charges_declined' && offSession)) {
      this.fail(pi, 'card_declined', 'Your card was declined.', 'generic_decline');
      return 'failed';
    }
    const charge = this.put({
      id: id('ch'),
      object: 'charge',
      amount: pi.amount,
      amount_captured: pi.amount,
      amount_refunded: 0,
      captured: true,
      currency: pi.currency,
      customer: pi.customer ?? null,
      payment_intent: pi.id,
      payment_method: pm.id,
      paid: true,
      refunded: false,
      status: 'succeeded',
      disputed: false,
      metadata: pi.metadata,
      created: this.created(),
      livemode: false,
      refunds: { object: 'list', data: [], has_more: false, total_count: 0, url: '/v1/refunds' },
    });
    Object.assign(pi, {
      status: 'succeeded',
      amount_received: pi.amount,
      latest_charge: charge.id,
      last_payment_error: null,
      next_action: null,
    });
    this.emit('charge.succeeded', charge);
    this.emit('payment_intent.succeeded', pi);
    return 'succeeded';
  }

  private fail(pi: Obj, code: string, message: string, declineCode?: string): void {
    const charge =
      code === 'card_declined'
        ? this.put({
            id: id('ch'),
            object: 'charge',
            amount: pi.amount,
            amount_refunded: 0,
            captured: false,
            currency: pi.currency,
            payment_intent: pi.id,
            paid: false,
            refunded: false,
            status: 'failed',
            failure_code: code,
            failure_message: message,
            metadata: pi.metadata,
            created: this.created(),
            livemode: false,
          })
        : null;
    Object.assign(pi, {
      status: 'requires_payment_method',
      latest_charge: charge?.id ?? null,
      next_action: null,
      last_payment_error: {
        type: 'card_error',
        code,
        ...(declineCode ? { decline_code: declineCode } : {}),
        message,
        payment_method: { id: pi.payment_method },
      },
    });
    if (charge) this.emit('charge.failed', charge);
    this.emit('payment_intent.payment_failed', pi);
  }

  private newIntent(
    amount: number,
    currency: string,
    customer: string | null,
    metadata: Record<string, string>,
    description: string | null,
  ): Obj {
    return this.put({
      id: id('pi'),
      object: 'payment_intent',
      amount,
      amount_received: 0,
      currency,
      customer,
      metadata,
      description,
      status: 'requires_payment_method',
      payment_method: null,
      latest_charge: null,
      last_payment_error: null,
      next_action: null,
      client_secret: `${id('pi')}_secret_${randomBytes(12).toString('hex')}`,
      created: this.created(),
      livemode: false,
      setup_future_usage: null,
    });
  }

  private createIntent(b: Record<string, any>): Obj {
    const amount = Number(b.amount);
    if (!Number.isInteger(amount) || amount < 1) throw invalid('Invalid integer: amount', 'amount');
    if (!b.currency) throw invalid('Missing required param: currency.', 'currency');
    const pi = this.newIntent(
      amount,
      String(b.currency).toLowerCase(),
      b.customer ?? null,
      b.metadata ?? {},
      b.description ?? null,
    );
    if (b.confirm === 'true' || b.confirm === true) {
      const pm = this.objects.get(String(b.payment_method ?? ''));
      if (!pm || pm.object !== 'payment_method') throw missing('payment_method', String(b.payment_method ?? ''));
      if (b.customer && pm.customer !== b.customer)
        throw invalid(
          `The provided PaymentMethod ${pm.id} is not attached to customer ${b.customer}.`,
          'payment_method',
        );
      const outcome = this.confirm(pi, pm, b.off_session === 'true' || b.off_session === true);
      if (outcome === 'failed') {
        const err = pi.last_payment_error as Record<string, unknown>;
        throw new StripeError(402, {
          ...err,
          charge: pi.latest_charge,
          payment_intent: pi,
          doc_url: `https://stripe.com/docs/error-codes/${err.code}`,
        });
      }
    }
    return pi;
  }

  private refund(b: Record<string, any>): Obj {
    const pi = b.payment_intent ? this.objects.get(String(b.payment_intent)) : undefined;
    const charge = this.objects.get(String(b.charge ?? pi?.latest_charge ?? ''));
    if (!charge || charge.object !== 'charge' || charge.status !== 'succeeded')
      throw b.payment_intent
        ? missing('payment_intent', String(b.payment_intent))
        : missing('charge', String(b.charge ?? ''));
    const left = Number(charge.amount) - Number(charge.amount_refunded);
    const amount = b.amount !== undefined ? Number(b.amount) : left;
    if (!Number.isInteger(amount) || amount < 1 || amount > left) {
      throw new StripeError(400, {
        type: 'invalid_request_error',
        code: 'charge_already_refunded',
        message: `Charge ${charge.id} has already been refunded.`,
      });
    }
    const refund = this.put({
      id: id('re'),
      object: 'refund',
      amount,
      charge: charge.id,
      payment_intent: charge.payment_intent,
      currency: charge.currency,
      status: 'succeeded',
      reason: b.reason ?? null,
      metadata: b.metadata ?? {},
      created: this.created(),
    });
    charge.amount_refunded = Number(charge.amount_refunded) + amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    (charge.refunds as { data: unknown[]; total_count: number }).data.unshift(refund);
    (charge.refunds as { total_count: number }).total_count += 1;
    this.emit('charge.refunded', charge);
    return refund;
  }

  /** The card holder disputes the charge with their bank (a chargeback). */
  dispute(paymentIntentId: string, reason = 'fraudulent'): Obj {
    const pi = this.objects.get(paymentIntentId);
    const charge = pi ? this.objects.get(String(pi.latest_charge ?? '')) : undefined;
    if (!pi || !charge || charge.status !== 'succeeded') throw missing('payment_intent', paymentIntentId);
    charge.disputed = true;
    const dispute = this.put({
      id: id('dp'),
      object: 'dispute',
      amount: charge.amount,
      charge: charge.id,
      payment_intent: pi.id,
      currency: charge.currency,
      reason,
      status: 'needs_response',
      metadata: {},
      created: this.created(),
      livemode: false,
    });
    this.emit('charge.dispute.created', dispute);
    return dispute;
  }

  // ── the hosted page ──────────────────────────────────────────────────────

  private sessionOr404(res: Response, sid: string): Obj | null {
    const s = this.objects.get(sid);
    if (!s || s.object !== 'checkout.session') {
      res.status(404).type('html').send(this.page('Not found', '<h1>This checkout page does not exist</h1>'));
      return null;
    }
    return s;
  }

  private page(title: string, body: string): string {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${esc(title)} · Stripe sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:0 auto;padding:1rem;color:#1a1f36}main{border:1px solid #e3e8ee;border-radius:.5rem;padding:1.25rem}label{display:block;font-weight:600;margin:.75rem 0 .25rem}input{font:inherit;width:100%;padding:.6rem;box-sizing:border-box}button{font:inherit;width:100%;padding:.75rem;margin-top:1rem;background:#533afd;color:#fff;border:0;border-radius:.375rem;font-weight:600}.err{color:#a4161a}.muted{color:#545969}</style></head>
<body><main>${body}</main><p class="muted">Stripe sandbox (test mode). Test cards: 4242 4242 4242 4242 succeeds · 4000 0000 0000 0002 is declined · 4000 0027 6000 3184 asks for 3-D Secure · 4000 0000 0000 0341 saves but later charges fail.</p></body></html>`;
  }

  private checkoutPage(res: Response, sid: string, error?: string): void {
    const s = this.sessionOr404(res, sid);
    if (!s) return;
    if (s.status !== 'open') return void res.redirect(303, String(s.success_url));
    const amount =
      s.amount_total === null
        ? ''
        : new Intl.NumberFormat('en', { style: 'currency', currency: String(s.currency).toUpperCase() }).format(
            Number(s.amount_total) / 100,
          );
    res.type('html').send(
      this.page(
        'Checkout',
        `<h1>${s.mode === 'setup' ? 'Save a card' : `Pay ${esc(amount)}`}</h1><p>${esc(s.line_items_description ?? '')}</p>${error ? `<p class="err" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/checkout/${esc(sid)}"><label for="card">Card number</label><input id="card" name="card" inputmode="numeric" autocomplete="cc-number" value="4242 4242 4242 4242"><label for="exp">Expiry</label><input id="exp" name="exp" value="12 / 34" autocomplete="cc-exp"><label for="cvc">CVC</label><input id="cvc" name="cvc" value="123" autocomplete="cc-csc">
<button type="submit" id="submit">${s.mode === 'setup' ? 'Save card' : 'Pay'}</button></form>${s.cancel_url ? `<p><a href="${esc(s.cancel_url)}">Cancel and go back</a></p>` : ''}`,
      ),
    );
  }

  private customerFor(s: Obj): string {
    if (s.customer) return String(s.customer);
    const c = this.put({
      id: id('cus'),
      object: 'customer',
      created: this.created(),
      email: s.customer_email ?? null,
      name: null,
      metadata: {},
      livemode: false,
    });
    s.customer = c.id;
    return c.id;
  }

  private checkoutSubmit(req: Request, res: Response, sid: string): void {
    const s = this.sessionOr404(res, sid);
    if (!s) return;
    if (s.status !== 'open') return void res.redirect(303, String(s.success_url));
    const card = String(req.body?.card ?? '').replace(/\D/g, '');
    if (!/^\d{13,19}$/.test(card)) {
      this.checkoutPage(res, sid, 'Your card number is incomplete.');
      return;
    }
    if (s.mode === 'setup') {
      const customer = this.customerFor(s);
      const pm = this.paymentMethod(card, customer);
      if (this.behaviour.get(pm.id) === 'declined') {
        this.checkoutPage(res, sid, 'Your card was declined.');
        return;
      }
      if (this.behaviour.get(pm.id) === 'requires_3ds') {
        s.pending_payment_method = pm.id;
        return void res.redirect(303, `/checkout/${sid}/authenticate`);
      }
      this.completeSetup(res, s, pm);
      return;
    }
    let pi = s.payment_intent ? this.objects.get(String(s.payment_intent)) : undefined;
    if (!pi) {
      const data = (s.payment_intent_data ?? {}) as { metadata?: Record<string, string>; description?: string };
      pi = this.newIntent(
        Number(s.amount_total),
        String(s.currency),
        (s.customer as string) ?? null,
        { ...(s.metadata as object), ...(data.metadata ?? {}) },
        data.description ?? null,
      );
      s.payment_intent = pi.id;
    }
    const pm = this.paymentMethod(card, (s.customer as string) ?? null);
    const outcome = this.confirm(pi, pm, false);
    if (outcome === 'requires_action') return void res.redirect(303, `/checkout/${sid}/authenticate`);
    if (outcome === 'failed') {
      this.checkoutPage(res, sid, String((pi.last_payment_error as { message: string }).message));
      return;
    }
    this.completePayment(res, s);
  }

  private completePayment(res: Response, s: Obj): void {
    Object.assign(s, { status: 'complete', payment_status: 'paid' });
    this.emit('checkout.session.completed', s);
    res.redirect(303, String(s.success_url));
  }

  private completeSetup(res: Response, s: Obj, pm: Obj): void {
    const data = (s.setup_intent_data ?? {}) as { metadata?: Record<string, string> };
    const si = this.put({
      id: id('seti'),
      object: 'setup_intent',
      customer: s.customer,
      payment_method: pm.id,
      status: 'succeeded',
      usage: 'off_session',
      metadata: { ...(s.metadata as object), ...(data.metadata ?? {}) },
      created: this.created(),
      livemode: false,
    });
    Object.assign(s, { status: 'complete', setup_intent: si.id });
    this.emit('setup_intent.succeeded', si);
    this.emit('checkout.session.completed', s);
    res.redirect(303, String(s.success_url));
  }

  private authenticatePage(res: Response, sid: string): void {
    const s = this.sessionOr404(res, sid);
    if (!s) return;
    res.type('html').send(
      this.page(
        '3-D Secure',
        `<h1>Confirm this ${s.mode === 'setup' ? 'card' : 'payment'}</h1><p>Your bank asks you to confirm it is you (3-D Secure test page).</p>
<form method="post" action="/checkout/${esc(sid)}/authenticate"><input type="hidden" name="result" value="complete"><button type="submit" id="complete-auth">Complete authentication</button></form>
<form method="post" action="/checkout/${esc(sid)}/authenticate"><input type="hidden" name="result" value="fail"><button type="submit" id="fail-auth" style="background:#545969">Fail authentication</button></form>`,
      ),
    );
  }

  private authenticateSubmit(req: Request, res: Response, sid: string): void {
    const s = this.sessionOr404(res, sid);
    if (!s) return;
    const ok = req.body?.result === 'complete';
    if (s.mode === 'setup') {
      const pm = this.objects.get(String(s.pending_payment_method ?? ''));
      if (!pm) {
        this.checkoutPage(res, sid);
        return;
      }
      if (!ok) {
        this.checkoutPage(
          res,
          sid,
          'We are unable to authenticate your payment method. Please choose a different payment method and try again.',
        );
        return;
      }
      this.behaviour.set(pm.id, 'succeeds'); // authenticated once for off-session use (a mandate with the bank)
      this.completeSetup(res, s, pm);
      return;
    }
    const pi = this.objects.get(String(s.payment_intent ?? ''));
    if (!pi || pi.status !== 'requires_action') {
      this.checkoutPage(res, sid);
      return;
    }
    if (!ok) {
      this.fail(
        pi,
        'payment_intent_authentication_failure',
        'We are unable to authenticate your payment method. Please choose a different payment method and try again.',
      );
      this.checkoutPage(res, sid, String((pi.last_payment_error as { message: string }).message));
      return;
    }
    this.confirm(pi, this.objects.get(String(pi.payment_method))!, false, true);
    this.completePayment(res, s);
  }

  // ── events and webhooks ──────────────────────────────────────────────────

  private emit(type: string, object: Obj): void {
    const event: Obj = {
      id: id('evt'),
      object: 'event',
      api_version: API_VERSION,
      created: this.created(),
      type,
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object: structuredClone(object) },
    };
    this.events.push(event);
    this.dispatcher.track(this.deliver(event));
  }

  /** Signs and posts one event, as Stripe does (retried by the dispatcher while the gateway fails). */
  deliver(event: Obj) {
    const body = JSON.stringify(event);
    return this.dispatcher.deliver({
      provider: 'stripe',
      kind: String(event.type),
      url: this.options.webhookUrl,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
        'stripe-signature': signStripePayload(body, this.options.webhookSecret, this.created()),
      },
      body,
    });
  }
}

/** The Stripe-Signature header for a payload: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>">. */
export function signStripePayload(payload: string, secret: string, timestamp: number): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex')}`;
}
