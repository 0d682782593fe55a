// A local stand-in for GoCardless (Bacs, SEPA and ACH direct debit), in the
// shape of the other sandboxes: the API's wire format (JSON wrapped in the
// resource's key, Bearer token, GoCardless-Version header, Idempotency-Key
// with 409 idempotent_creation_conflict, GoCardless's error envelope and id
// prefixes), a hosted Billing Request Flow page where the "debtor" sets up a
// mandate, and webhooks delivered as GoCardless sends them: a batch
// {"events": [...]} signed in Webhook-Signature as the hex HMAC-SHA256 of the
// raw body with the endpoint secret (verified by the SDK's webhooks.parse).
// A payment moves pending_submission → submitted → confirmed → paid_out, and
// can fail or be charged back days later: the /sandbox/payments/:id/<action>
// controls play the bank's part (as GoCardless's scenario simulators do).
import { createHmac, randomBytes } from 'node:crypto';
import express, { type Express, type Request, type Response } from 'express';
import type { CallbackDispatcher } from '../kit/callback-dispatcher.js';

type Obj = Record<string, unknown> & { id: string };

export interface GoCardlessSandboxOptions {
  accessToken: string;
  webhookSecret: string;
  webhookUrl: string;
  dispatcher: CallbackDispatcher;
}

const gcId = (prefix: string) => `${prefix}${randomBytes(8).toString('hex').toUpperCase().slice(0, 12)}`;
const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const SCHEMES: Record<string, string> = {
  GBP: 'bacs',
  EUR: 'sepa_core',
  USD: 'ach',
  SEK: 'autogiro',
  DKK: 'betalingsservice',
  AUD: 'becs',
  NZD: 'becs_nz',
  CAD: 'pad',
};

class GcError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly errors: { field?: string; message: string; reason?: string; links?: Record<string, string> }[] = [],
  ) {
    super(message);
  }
}

export class GoCardlessSandbox {
  readonly app: Express;
  baseUrl = '';
  private readonly resources = new Map<string, Map<string, Obj>>();
  private readonly idempotency = new Map<string, string>();
  readonly events: Obj[] = [];

  readonly dispatcher: CallbackDispatcher;

  constructor(private readonly options: GoCardlessSandboxOptions) {
    this.dispatcher = options.dispatcher;
    this.app = express();
    this.app.disable('x-powered-by');
    this.app.use(express.json({ limit: '1mb', type: ['application/json', 'application/vnd.api+json'] }));
    this.app.use(express.urlencoded({ extended: false }));
    this.routes();
  }

  private table(type: string): Map<string, Obj> {
    let t = this.resources.get(type);
    if (!t) this.resources.set(type, (t = new Map()));
    return t;
  }

  get(type: string, id: string): Obj | undefined {
    return this.table(type).get(id);
  }

  list(type: string): Obj[] {
    return [...this.table(type).values()];
  }

  private routes(): void {
    const app = this.app;
    const api =
      (type: string, fn: (body: Record<string, any>, req: Request) => Obj) => (req: Request, res: Response) => {
        const requestId = gcId('RQ');
        res.setHeader('x-request-id', requestId);
        const fail = (e: GcError) =>
          res.status(e.status).json({
            error: {
              message: e.message,
              documentation_url: `https://developer.gocardless.com/api-reference#${e.type}`,
              type: e.type,
              request_id: requestId,
              code: e.status,
              errors: e.errors,
            },
          });
        if (req.headers.authorization !== `Bearer ${this.options.accessToken}`)
          return void fail(
            new GcError(401, 'invalid_api_usage', 'Access token not found', [
              { reason: 'access_token_not_found', message: 'Access token not found' },
            ]),
          );
        if (!req.headers['gocardless-version'])
          return void fail(
            new GcError(400, 'invalid_api_usage', 'GoCardless-Version header missing', [
              { reason: 'missing_version_header', message: 'GoCardless-Version header missing' },
            ]),
          );
        if (req.method === 'POST') {
          const key = req.header('idempotency-key');
          const seen = key ? this.idempotency.get(`${type}:${key}`) : undefined;
          if (seen) {
            return void fail(
              new GcError(409, 'invalid_state', 'A resource has already been created with this idempotency key', [
                {
                  reason: 'idempotent_creation_conflict',
                  message: 'A resource has already been created with this idempotency key',
                  links: { conflicting_resource_id: seen },
                },
              ]),
            );
          }
          try {
            const body = (req.body ?? {})[type];
            if (!body || typeof body !== 'object')
              throw new GcError(400, 'invalid_api_usage', `Request body must be an object with the key "${type}"`);
            const created = fn(body, req);
            if (key) this.idempotency.set(`${type}:${key}`, created.id);
            res.status(201).json({ [type]: created });
          } catch (e) {
            if (e instanceof GcError) fail(e);
            else throw e;
          }
          return;
        }
        try {
          res.json({ [type]: fn({}, req) });
        } catch (e) {
          if (e instanceof GcError) fail(e);
          else throw e;
        }
      };
    const find = (type: string) =>
      api(type, (_b, req) => {
        const o = this.table(type).get(String(req.params.id));
        if (!o)
          throw new GcError(404, 'invalid_api_usage', 'Resource not found', [
            { reason: 'resource_not_found', message: 'Resource not found' },
          ]);
        return o;
      });

    app.post(
      '/billing_requests',
      api('billing_requests', (b) => this.createBillingRequest(b)),
    );
    app.get('/billing_requests/:id', find('billing_requests'));
    app.post(
      '/billing_request_flows',
      api('billing_request_flows', (b) => this.createFlow(b)),
    );
    app.post(
      '/payments',
      api('payments', (b) => this.createPayment(b)),
    );
    app.get('/payments/:id', find('payments'));
    app.get('/mandates/:id', find('mandates'));
    app.get('/customers/:id', find('customers'));
    app.post(
      '/refunds',
      api('refunds', (b) => this.createRefund(b)),
    );

    app.get('/flow/:id', (req, res) => this.flowPage(res, String(req.params.id)));
    app.post('/flow/:id', (req, res) => this.flowSubmit(req, res, String(req.params.id)));
    app.post('/sandbox/payments/:id/:action', (req, res) => {
      try {
        res.json({ payments: this.simulate(String(req.params.id), String(req.params.action)) });
      } catch (e) {
        res.status(e instanceof GcError ? e.status : 500).json({ error: { message: (e as Error).message } });
      }
    });
  }

  private now = () => new Date().toISOString();

  private createBillingRequest(b: Record<string, any>): Obj {
    const currency = String(b.mandate_request?.currency ?? b.payment_request?.currency ?? '');
    if (!SCHEMES[currency])
      throw new GcError(422, 'validation_failed', 'Validation failed', [
        {
          field: 'mandate_request.currency',
          message: 'is not a supported currency',
          request_pointer: '/billing_requests/mandate_request/currency',
        } as never,
      ]);
    const meta = b.metadata ?? {};
    if (Object.keys(meta).length > 3)
      throw new GcError(422, 'validation_failed', 'Validation failed', [
        { field: 'metadata', message: 'can have at most 3 keys' },
      ]);
    const br: Obj = {
      id: gcId('BRQ'),
      object_type: 'billing_request',
      status: 'pending',
      created_at: this.now(),
      metadata: meta,
      mandate_request: { currency, scheme: b.mandate_request?.scheme ?? SCHEMES[currency], verify: 'recommended' },
      payment_request: null,
      actions: [],
      links: {
        creditor: 'CR000SANDBOX',
        mandate_request: gcId('MRQ'),
        ...(b.links?.customer ? { customer: b.links.customer } : {}),
      },
    };
    this.table('billing_requests').set(br.id, br);
    return br;
  }

  private createFlow(b: Record<string, any>): Obj {
    const brId = String(b.links?.billing_request ?? '');
    if (!this.table('billing_requests').has(brId))
      throw new GcError(422, 'validation_failed', 'Validation failed', [
        { field: 'links.billing_request', message: 'does not exist' },
      ]);
    const flow: Obj = {
      id: gcId('BRF'),
      authorisation_url: `${this.baseUrl}/flow/${'x'}`,
      redirect_uri: b.redirect_uri ?? null,
      exit_uri: b.exit_uri ?? null,
      created_at: this.now(),
      expires_at: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      lock_customer_details: false,
      lock_bank_account: false,
      language: b.language ?? null,
      links: { billing_request: brId },
    };
    flow.authorisation_url = `${this.baseUrl}/flow/${flow.id}`;
    this.table('billing_request_flows').set(flow.id, flow);
    return flow;
  }

  private flowPage(res: Response, id: string, error?: string): void {
    const flow = this.table('billing_request_flows').get(id);
    const br = flow
      ? this.table('billing_requests').get(String((flow.links as { billing_request: string }).billing_request))
      : undefined;
    if (!flow || !br)
      return void res
        .status(404)
        .type('html')
        .send('<!doctype html><html lang="en"><title>Not found</title><h1>This page does not exist</h1></html>');
    const scheme = (br.mandate_request as { scheme: string }).scheme;
    res
      .type('html')
      .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Set up a Direct Debit · GoCardless sandbox</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:0 auto;padding:1rem}label{display:block;font-weight:600;margin:.75rem 0 .25rem}input{font:inherit;width:100%;padding:.6rem;box-sizing:border-box}button{font:inherit;width:100%;padding:.75rem;margin-top:1rem;background:#1c1b18;color:#fff;border:0;border-radius:.375rem}.err{color:#a4161a}</style></head>
<body><main><h1>Set up a Direct Debit</h1><p>Scheme: ${esc(scheme)}</p>${error ? `<p class="err" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/flow/${esc(id)}"><label for="name">Account holder name</label><input id="name" name="account_holder_name" value="Test Payer" required>
<label for="account">Account number${scheme === 'sepa_core' ? ' (IBAN)' : ''}</label><input id="account" name="account_number" value="${scheme === 'sepa_core' ? 'DE89370400440532013000' : '55779911'}" required>
${scheme === 'bacs' ? '<label for="sort">Sort code</label><input id="sort" name="branch_code" value="200000" required>' : ''}
<button type="submit" id="confirm-mandate">Set up Direct Debit</button></form>${flow.exit_uri ? `<p><a href="${esc(flow.exit_uri)}">Cancel</a></p>` : ''}</main></body></html>`);
  }

  private flowSubmit(req: Request, res: Response, id: string): void {
    const flow = this.table('billing_request_flows').get(id);
    const br = flow
      ? this.table('billing_requests').get(String((flow.links as { billing_request: string }).billing_request))
      : undefined;
    if (!flow || !br) return void res.status(404).send('not found');
    if (br.status === 'fulfilled') return void res.redirect(303, String(flow.redirect_uri));
    const account = String(req.body?.account_number ?? '').replace(/\s+/g, '');
    if (account.length < 6) {
      this.flowPage(res, id, 'Enter a valid account number.');
      return;
    }
    const links = br.links as Record<string, string>;
    const customer: Obj = {
      id: links.customer ?? gcId('CU'),
      created_at: this.now(),
      given_name: String(req.body?.account_holder_name ?? ''),
      metadata: {},
    };
    this.table('customers').set(customer.id, customer);
    const bank: Obj = {
      id: gcId('BA'),
      account_number_ending: account.slice(-2),
      account_holder_name: customer.given_name,
      currency: (br.mandate_request as { currency: string }).currency,
      links: { customer: customer.id },
    };
    this.table('customer_bank_accounts').set(bank.id, bank);
    const mandate: Obj = {
      id: gcId('MD'),
      created_at: this.now(),
      scheme: (br.mandate_request as { scheme: string }).scheme,
      status: 'pending_submission',
      reference: `SANDBOX-${gcId('')}`,
      metadata: {},
      links: { customer: customer.id, customer_bank_account: bank.id, creditor: 'CR000SANDBOX' },
    };
    this.table('mandates').set(mandate.id, mandate);
    Object.assign(links, {
      customer: customer.id,
      customer_bank_account: bank.id,
      mandate_request_mandate: mandate.id,
    });
    br.status = 'fulfilled';
    this.emit([
      {
        resource_type: 'mandates',
        action: 'created',
        links: { mandate: mandate.id },
        details: { origin: 'api', cause: 'mandate_created', description: 'Mandate created via the API.' },
        resource_metadata: mandate.metadata,
      },
      {
        resource_type: 'billing_requests',
        action: 'fulfilled',
        links: { billing_request: br.id, mandate_request_mandate: mandate.id, customer: customer.id },
        details: {
          origin: 'api',
          cause: 'billing_request_fulfilled',
          description: 'This billing request has been fulfilled, and the resources have been created.',
        },
        resource_metadata: br.metadata,
      },
    ]);
    res.redirect(303, String(flow.redirect_uri));
  }

  private createPayment(b: Record<string, any>): Obj {
    const amount = Number(b.amount);
    const mandate = this.table('mandates').get(String(b.links?.mandate ?? ''));
    const errors = [
      ...(!Number.isInteger(amount) || amount < 1
        ? [{ field: 'amount', message: 'must be a whole number of pence/cents above zero' }]
        : []),
      ...(!mandate ? [{ field: 'links.mandate', message: 'does not exist' }] : []),
    ];
    if (errors.length) throw new GcError(422, 'validation_failed', 'Validation failed', errors);
    if (['cancelled', 'failed', 'expired'].includes(String(mandate!.status)))
      throw new GcError(422, 'invalid_state', 'Mandate is not usable', [
        { reason: 'mandate_is_inactive', message: 'The mandate is not active' },
      ]);
    const meta = b.metadata ?? {};
    if (Object.keys(meta).length > 3)
      throw new GcError(422, 'validation_failed', 'Validation failed', [
        { field: 'metadata', message: 'can have at most 3 keys' },
      ]);
    const payment: Obj = {
      id: gcId('PM'),
      amount,
      amount_refunded: 0,
      currency: b.currency ?? 'GBP',
      status: 'pending_submission',
      description: b.description ?? null,
      created_at: this.now(),
      charge_date: b.charge_date ?? new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10),
      reference: b.reference ?? null,
      metadata: meta,
      retry_if_possible: false,
      scheme: mandate!.scheme,
      links: { mandate: mandate!.id, creditor: 'CR000SANDBOX' },
    };
    this.table('payments').set(payment.id, payment);
    this.emit([
      {
        resource_type: 'payments',
        action: 'created',
        links: { payment: payment.id },
        details: { origin: 'api', cause: 'payment_created', description: 'Payment created via the API.' },
        resource_metadata: meta,
      },
    ]);
    return payment;
  }

  private createRefund(b: Record<string, any>): Obj {
    const payment = this.table('payments').get(String(b.links?.payment ?? ''));
    if (!payment)
      throw new GcError(422, 'validation_failed', 'Validation failed', [
        { field: 'links.payment', message: 'does not exist' },
      ]);
    const amount = Number(b.amount);
    if (!['confirmed', 'paid_out'].includes(String(payment.status)))
      throw new GcError(422, 'invalid_state', 'Payment cannot be refunded', [
        { reason: 'refund_payment_invalid_state', message: 'Only confirmed or paid out payments can be refunded' },
      ]);
    if (!Number.isInteger(amount) || amount < 1 || amount + Number(payment.amount_refunded) > Number(payment.amount))
      throw new GcError(422, 'invalid_state', 'Refund amount too high', [
        { reason: 'total_amount_confirmation_invalid', message: 'The refund would exceed the payment' },
      ]);
    const refund: Obj = {
      id: gcId('RF'),
      amount,
      currency: payment.currency,
      created_at: this.now(),
      metadata: b.metadata ?? {},
      status: 'created',
      links: { payment: payment.id },
    };
    this.table('refunds').set(refund.id, refund);
    payment.amount_refunded = Number(payment.amount_refunded) + amount;
    this.emit([
      {
        resource_type: 'refunds',
        action: 'created',
        links: { refund: refund.id, payment: payment.id },
        details: { origin: 'api', cause: 'payment_refunded', description: 'The refund has been created.' },
        resource_metadata: refund.metadata,
      },
    ]);
    return refund;
  }

  /** The bank's part: submit, confirm, pay out, fail (also after confirmation, as Bacs allows), charge back. */
  simulate(paymentId: string, action: string): Obj {
    const payment = this.table('payments').get(paymentId);
    if (!payment) throw new GcError(404, 'invalid_api_usage', 'Resource not found');
    const allowed: Record<string, string[]> = {
      submit: ['pending_submission'],
      confirm: ['submitted', 'pending_submission'],
      paid_out: ['confirmed'],
      fail: ['pending_submission', 'submitted', 'confirmed', 'paid_out'],
      charge_back: ['confirmed', 'paid_out'],
    };
    if (!allowed[action]) throw new GcError(400, 'invalid_api_usage', `unknown action ${action}`);
    if (!allowed[action]!.includes(String(payment.status)))
      throw new GcError(422, 'invalid_state', `cannot ${action} a payment that is ${String(payment.status)}`);
    const next: Record<string, [string, string, string]> = {
      submit: ['submitted', 'submitted', 'Payment submitted to the banks. As a result, it can no longer be cancelled.'],
      confirm: [
        'confirmed',
        'payment_confirmed',
        'Enough time has passed since the payment was submitted for the banks to return an error, so this payment is now confirmed.',
      ],
      paid_out: ['paid_out', 'payment_paid_out', 'The payment has been paid out by GoCardless.'],
      fail: ['failed', 'insufficient_funds', "The customer's account had insufficient funds to make this payment."],
      charge_back: [
        'charged_back',
        'authorisation_disputed',
        'The customer has disputed that the amount taken differs from the amount they were notified of.',
      ],
    };
    const [status, cause, description] = next[action]!;
    payment.status = status;
    this.emit([
      {
        resource_type: 'payments',
        action: status,
        links: { payment: payment.id },
        details: {
          origin: action === 'confirm' || action === 'submit' || action === 'paid_out' ? 'gocardless' : 'bank',
          cause,
          description,
          scheme: payment.scheme,
          ...(action === 'fail' ? { reason_code: 'ARUDD-1' } : {}),
        },
        resource_metadata: payment.metadata,
      },
    ]);
    return payment;
  }

  /** One webhook with these events, signed as GoCardless signs them. */
  emit(events: Record<string, unknown>[]) {
    const full: Record<string, unknown>[] = events.map((e) => ({
      id: gcId('EV'),
      created_at: this.now(),
      metadata: {},
      ...e,
    }));
    this.events.push(...(full as Obj[]));
    const body = JSON.stringify({ events: full, meta: { webhook_id: gcId('WB') } });
    const record = this.options.dispatcher.deliver({
      provider: 'gocardless',
      kind: full.map((e) => `${e.resource_type}.${e.action}`).join(','),
      url: this.options.webhookUrl,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'gocardless-webhook-service/1.1',
        'webhook-signature': signGoCardlessBody(body, this.options.webhookSecret),
      },
      body,
    });
    this.options.dispatcher.track(record);
    return record;
  }
}

/** GoCardless's Webhook-Signature: the hex HMAC-SHA256 of the raw body, keyed with the endpoint secret. */
export function signGoCardlessBody(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}
