/**
 * Local stand-in for Lob's Print & Mail API (letters): Lob's request and error
 * shapes, Idempotency-Key handling, and HMAC-signed tracking webhooks from
 * letter.created through mailing and USPS scans (certified letters included).
 */
import { createHash, createHmac } from 'node:crypto';
import busboy from 'busboy';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { CallbackDispatcher, CallbackRecord } from '../../kit/callback-dispatcher.js';
import { base64UrlToken, prefixedHexId } from '../../kit/ids.js';
import { LobApiError, addressKey, buildAddress, isUsAddress, type LobAddress } from './address.js';

export { LobApiError, type LobAddress } from './address.js';

export type LobExtraService = 'certified' | 'certified_return_receipt' | 'registered';

// Lob's remote_file_url pattern (lob-openapi shared/attributes/remote_file_url.yml): https, no query string, a known extension.
const REMOTE_FILE_URL = /^https:\/\/[-a-zA-Z0-9@:%._+~#=/]{1,256}\.(html|pdf|png|jpg)+$/;
// The one liberty the sandbox takes: a gateway on this machine serves plain http, so loopback http passes the same pattern.
const LOOPBACK_FILE_URL =
  /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/[-a-zA-Z0-9@:%._+~#=/]{1,256}\.(html|pdf|png|jpg)+$/;

// tracking_event_details per certified scan (lob-openapi shared/resources/tracking_events/tracking_event_details.yml).
const CERTIFIED_DETAILS: Record<string, { event: string; description: string; action_required: boolean }> = {
  mailed: {
    event: 'package_accepted',
    description: 'Package has been accepted into the carrier network for delivery.',
    action_required: false,
  },
  in_transit: {
    event: 'package_departed',
    description: 'Package has departed from an intermediate location in the carrier network.',
    action_required: false,
  },
  in_local_area: {
    event: 'package_in_local_area',
    description: 'Package is at a location near the end destination.',
    action_required: false,
  },
  processed_for_delivery: {
    event: 'out_for_delivery',
    description: 'Package is out for delivery.',
    action_required: false,
  },
  delivered: { event: 'delivered', description: 'Package has been delivered.', action_required: false },
  returned_to_sender: {
    event: 'returned_to_sender',
    description: 'Package is to be returned to sender.',
    action_required: false,
  },
};

/** What was printed: kept so tests and the sandbox UI can inspect the artwork sent. */
export type LetterFile =
  | { kind: 'html'; html: string }
  | { kind: 'url'; url: string }
  | { kind: 'template'; templateId: string }
  | { kind: 'pdf'; byteLength: number; sha256: string; pageCount: number; filename: string | null };

/** Lob's tracking_event_details (certified events only; normal events carry null). */
export interface LobTrackingEventDetails {
  event: string;
  description: string;
  notes?: string;
  action_required: boolean;
}

export interface LobTrackingEvent {
  id: string;
  type: string;
  name: string;
  details: LobTrackingEventDetails | null;
  location: string | null;
  time: string;
  date_created: string;
  date_modified: string;
  object: 'tracking_event';
}

export interface LobLetter {
  id: string;
  description: string | null;
  metadata: Record<string, string>;
  to: LobAddress;
  from: LobAddress;
  color: boolean;
  double_sided: boolean;
  address_placement: string;
  return_envelope: boolean;
  perforated_page: number | null;
  custom_envelope: null;
  extra_service: LobExtraService | null;
  mail_type: 'usps_first_class' | 'usps_standard';
  use_type: 'marketing' | 'operational';
  url: string;
  template_id?: string;
  merge_variables: Record<string, unknown> | null;
  carrier: 'USPS';
  tracking_number: string | null;
  tracking_events: LobTrackingEvent[];
  thumbnails: { small: string; medium: string; large: string }[];
  expected_delivery_date: string;
  date_created: string;
  date_modified: string;
  send_date: string;
  object: 'letter';
}

export interface SandboxLetter {
  letter: LobLetter;
  file: LetterFile;
  idempotencyKey: string | null;
  /** Webhook event types sent so far, in order. */
  eventsSent: string[];
}

export interface LobSandboxOptions {
  apiKey: string;
  webhookSecret: string;
  dispatcher: CallbackDispatcher;
  /** The gateway's Lob webhook URL; null disables webhooks. */
  webhookUrl: string | null;
  callbackDelayMs?: number;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const MAX_PDF_BYTES = 20 * 1024 * 1024;

/** Adds business days (Mon–Fri) to a date; Lob quotes delivery that way. */
function addBusinessDays(from: Date, days: number): string {
  const date = new Date(from);
  let added = 0;
  while (added < days) {
    date.setUTCDate(date.getUTCDate() + 1);
    const weekday = date.getUTCDay();
    if (weekday !== 0 && weekday !== 6) added += 1;
  }
  return date.toISOString().slice(0, 10);
}

function randomDigits(count: number): string {
  let digits = '';
  while (digits.length < count) digits += Math.floor(Math.random() * 10).toString();
  return digits;
}

/** Sets `target[a][b]` from a form field named `a[b]`, the bracket notation Lob accepts in form bodies. */
function setBracketPath(target: Record<string, unknown>, name: string, value: unknown): void {
  const parts = name.replace(/\]/g, '').split('[');
  let node = target;
  parts.forEach((part, index) => {
    if (index === parts.length - 1) node[part] = value;
    else {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
  });
}

interface UploadedFile {
  filename: string | null;
  bytes: Buffer;
}

function parseMultipart(req: Request): Promise<{ fields: Record<string, unknown>; file: UploadedFile | null }> {
  return new Promise((resolve, reject) => {
    const fields: Record<string, unknown> = {};
    let file: UploadedFile | null = null;
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: MAX_PDF_BYTES, files: 1 } });
    } catch (err) {
      reject(new LobApiError(400, 'bad_request', `malformed multipart body: ${(err as Error).message}`));
      return;
    }
    parser.on('field', (name, value) => setBracketPath(fields, name, value));
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () =>
        reject(new LobApiError(422, 'invalid', `${name} must be at most ${MAX_PDF_BYTES} bytes`)),
      );
      stream.on('end', () => {
        if (name === 'file') file = { filename: info.filename ?? null, bytes: Buffer.concat(chunks) };
      });
    });
    parser.on('error', (err: Error) =>
      reject(new LobApiError(400, 'bad_request', `malformed multipart body: ${err.message}`)),
    );
    parser.on('close', () => resolve({ fields, file }));
    req.pipe(parser);
  });
}

function parseBoolean(value: unknown, field: string, required: boolean): boolean | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) throw new LobApiError(422, 'invalid', `${field} is required`);
    return undefined;
  }
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new LobApiError(422, 'invalid', `${field} must be a boolean`);
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[], fallback: T | null): T | null {
  if (value === undefined || value === null || value === '' || value === 'null') return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new LobApiError(422, 'invalid', `${field} must be one of [${allowed.join(', ')}]`);
}

export class LobSandbox {
  readonly app: Express;
  private readonly apiKey: string;
  private readonly webhookSecret: string;
  private readonly dispatcher: CallbackDispatcher;
  private webhookUrl: string | null;
  private readonly callbackDelayMs: number;
  private readonly letters = new Map<string, SandboxLetter>();
  private readonly addresses = new Map<string, LobAddress>();
  private readonly byIdempotencyKey = new Map<string, string>();
  private readonly undeliverable = new Set<string>();
  private readonly returnToSender = new Set<string>();
  private faults: { remaining: number; status: 500 | 429 } = { remaining: 0, status: 500 };

  constructor(options: LobSandboxOptions) {
    this.apiKey = options.apiKey;
    this.webhookSecret = options.webhookSecret;
    this.dispatcher = options.dispatcher;
    this.webhookUrl = options.webhookUrl;
    this.callbackDelayMs = options.callbackDelayMs ?? 20;
    this.app = this.buildApp();
  }

  // ---- control ----

  /** Letters to this address are refused (422 failed_deliverability_strictness), as with strict address verification. */
  markUndeliverable(address: { address_line1: string; address_zip?: string }): void {
    this.undeliverable.add(
      addressKey({ address_line1: address.address_line1, address_zip: address.address_zip ?? null }),
    );
  }
  /** Letters to this address are mailed but come back (returned_to_sender). */
  markReturnToSender(address: { address_line1: string; address_zip?: string }): void {
    this.returnToSender.add(
      addressKey({ address_line1: address.address_line1, address_zip: address.address_zip ?? null }),
    );
  }
  failNextRequests(count: number, status: 500 | 429 = 500): void {
    if (!Number.isInteger(count) || count < 0) throw new Error(`count must be a non-negative integer, got ${count}`);
    this.faults = { remaining: count, status };
  }
  setWebhookUrl(url: string | null): void {
    this.webhookUrl = url;
  }
  reset(): void {
    this.letters.clear();
    this.addresses.clear();
    this.byIdempotencyKey.clear();
    this.undeliverable.clear();
    this.returnToSender.clear();
    this.faults = { remaining: 0, status: 500 };
  }

  // ---- inspection ----

  listLetters(): SandboxLetter[] {
    return [...this.letters.values()];
  }
  getLetter(id: string): SandboxLetter | undefined {
    return this.letters.get(id);
  }

  /** Lob's webhook signature: hex HMAC-SHA256 keyed with the webhook secret over `${timestamp}.${rawBody}`. */
  signWebhook(timestamp: string, rawBody: string): string {
    return createHmac('sha256', this.webhookSecret).update(`${timestamp}.${rawBody}`).digest('hex');
  }

  // ---- letters ----

  private resolveAddress(value: unknown, field: string): LobAddress {
    if (value === undefined || value === null || value === '')
      throw new LobApiError(422, 'invalid', `${field} is required`);
    if (typeof value === 'string') {
      const stored = this.addresses.get(value);
      if (!stored) throw new LobApiError(404, 'not_found', `${field} address ${value} not found`);
      return stored;
    }
    return buildAddress(value, field);
  }

  private resolveFile(value: unknown, upload: UploadedFile | null): LetterFile {
    if (upload) {
      if (upload.bytes.subarray(0, 5).toString('latin1') !== '%PDF-')
        throw new LobApiError(422, 'invalid', 'file must be a PDF, an HTML string, a URL or a template id');
      const pageCount = (upload.bytes.toString('latin1').match(/\/Type\s*\/Page(?!s)/g) ?? []).length;
      return {
        kind: 'pdf',
        byteLength: upload.bytes.length,
        sha256: createHash('sha256').update(upload.bytes).digest('hex'),
        pageCount,
        filename: upload.filename,
      };
    }
    if (typeof value !== 'string' || value.trim() === '') throw new LobApiError(422, 'invalid', 'file is required');
    if (/^https?:\/\//i.test(value)) {
      if (!REMOTE_FILE_URL.test(value) && !LOOPBACK_FILE_URL.test(value)) {
        throw new LobApiError(
          422,
          'invalid',
          'file must be a URL of the form https://…(.html|.pdf|.png|.jpg), without a query string',
        );
      }
      return { kind: 'url', url: value };
    }
    if (/^tmpl_[a-zA-Z0-9]+$/.test(value)) return { kind: 'template', templateId: value };
    if (value.includes('<')) {
      if (value.length > 10_000) throw new LobApiError(422, 'invalid', 'file HTML must be at most 10000 characters');
      return { kind: 'html', html: value };
    }
    throw new LobApiError(422, 'invalid', 'file must be a PDF, an HTML string, a URL or a template id');
  }

  private assetUrl(id: string, suffix: string): string {
    const expires = Math.floor(Date.now() / 1000) + 30 * 24 * 3600;
    return `https://lob-assets.com/letters/${id}${suffix}?version=v1&expires=${expires}&signature=${base64UrlToken(24)}`;
  }

  private createLetter(
    body: Record<string, unknown>,
    upload: UploadedFile | null,
    idempotencyKey: string | null,
  ): SandboxLetter {
    const to = this.resolveAddress(body.to, 'to');
    const from = this.resolveAddress(body.from, 'from');
    const file = this.resolveFile(body.file, upload);
    const color = parseBoolean(body.color, 'color', true)!;
    const useType = oneOf(body.use_type, 'use_type', ['marketing', 'operational'] as const, null);
    if (!useType) throw new LobApiError(422, 'invalid', 'use_type is required');
    const mailType = oneOf(
      body.mail_type,
      'mail_type',
      ['usps_first_class', 'usps_standard'] as const,
      'usps_first_class',
    )!;
    const extraService = oneOf(
      body.extra_service,
      'extra_service',
      ['certified', 'certified_return_receipt', 'registered'] as const,
      null,
    );
    if (extraService?.startsWith('certified')) {
      if (!isUsAddress(to))
        throw new LobApiError(422, 'invalid', 'extra_service certified is only available for US destinations');
      if (mailType !== 'usps_first_class')
        throw new LobApiError(422, 'invalid', 'extra_service certified requires mail_type usps_first_class');
    }
    if (extraService === 'registered' && mailType !== 'usps_first_class') {
      throw new LobApiError(422, 'invalid', 'extra_service registered requires mail_type usps_first_class');
    }
    if (this.undeliverable.has(addressKey(to))) {
      throw new LobApiError(422, 'failed_deliverability_strictness', 'to address is undeliverable');
    }
    const metadata = body.metadata ?? {};
    if (
      typeof metadata !== 'object' ||
      metadata === null ||
      Object.values(metadata).some((v) => typeof v !== 'string')
    ) {
      throw new LobApiError(422, 'invalid', 'metadata must be an object of string values');
    }
    if (body.description !== undefined && typeof body.description !== 'string') {
      throw new LobApiError(422, 'invalid', 'description must be a string');
    }

    const id = prefixedHexId('ltr_', 16);
    const now = new Date();
    const nowIso = now.toISOString();
    const letter: LobLetter = {
      id,
      description: (body.description as string | undefined) ?? null,
      metadata: metadata as Record<string, string>,
      to,
      from,
      color,
      double_sided: parseBoolean(body.double_sided, 'double_sided', false) ?? true,
      address_placement: oneOf(
        body.address_placement,
        'address_placement',
        ['top_first_page', 'insert_blank_page', 'bottom_first_page_center', 'bottom_first_page'] as const,
        'top_first_page',
      )!,
      return_envelope: parseBoolean(body.return_envelope, 'return_envelope', false) ?? false,
      perforated_page: null,
      custom_envelope: null,
      extra_service: extraService,
      mail_type: mailType,
      use_type: useType,
      url: this.assetUrl(id, '.pdf'),
      ...(file.kind === 'template' ? { template_id: file.templateId } : {}),
      merge_variables: (body.merge_variables as Record<string, unknown> | undefined) ?? null,
      carrier: 'USPS',
      tracking_number: extraService?.startsWith('certified')
        ? `9207190${randomDigits(15)}`
        : extraService === 'registered'
          ? `RE${randomDigits(9)}US`
          : null,
      tracking_events: [],
      thumbnails: [1, 2].map((page) => ({
        small: this.assetUrl(id, `_thumb_small_${page}.png`),
        medium: this.assetUrl(id, `_thumb_medium_${page}.png`),
        large: this.assetUrl(id, `_thumb_large_${page}.png`),
      })),
      expected_delivery_date: addBusinessDays(now, mailType === 'usps_standard' ? 9 : 5),
      date_created: nowIso,
      date_modified: nowIso,
      send_date: nowIso,
      object: 'letter',
    };
    const record: SandboxLetter = { letter, file, idempotencyKey, eventsSent: [] };
    this.letters.set(id, record);
    if (idempotencyKey) this.byIdempotencyKey.set(idempotencyKey, id);
    this.dispatcher.track(this.runTracking(record));
    return record;
  }

  /** The webhook sequence a real letter produces, ending in delivery or return to sender. */
  private async runTracking(record: SandboxLetter): Promise<void> {
    const { letter } = record;
    const certified = letter.extra_service?.startsWith('certified') ?? false;
    const returned = this.returnToSender.has(addressKey(letter.to));
    const prefix = certified ? 'letter.certified.' : 'letter.';
    const scans: [string, string][] = certified
      ? [
          ['mailed', 'Mailed'],
          ['in_transit', 'In Transit'],
          ['in_local_area', 'In Local Area'],
          ['processed_for_delivery', 'Processed for Delivery'],
        ]
      : [
          ['in_transit', 'In Transit'],
          ['in_local_area', 'In Local Area'],
          ['processed_for_delivery', 'Processed for Delivery'],
        ];
    if (returned) scans.splice(2, scans.length - 2, ['returned_to_sender', 'Returned to Sender']);
    else if (certified) scans.push(['delivered', 'Delivered']);

    for (const type of ['letter.created', 'letter.rendered_pdf', 'letter.rendered_thumbnails', 'letter.mailed']) {
      await wait(this.callbackDelayMs);
      await this.sendEvent(record, type);
    }
    for (const [scan, name] of scans) {
      await wait(this.callbackDelayMs);
      const now = new Date().toISOString();
      letter.tracking_events.push({
        id: prefixedHexId('evnt_', 26),
        type: certified ? 'certified' : 'normal',
        name,
        // Lob: an object for certified events, null for normal ones.
        details: certified
          ? (CERTIFIED_DETAILS[scan] ?? {
              event: 'other',
              description: 'Unrecognized carrier status.',
              action_required: false,
            })
          : null,
        // Lob: the scan's zip code, null for Mailed events.
        location: scan === 'mailed' ? null : letter.to.address_zip,
        time: now,
        date_created: now,
        date_modified: now,
        object: 'tracking_event',
      });
      letter.date_modified = now;
      await this.sendEvent(record, `${prefix}${scan}`);
    }
  }

  private async sendEvent(record: SandboxLetter, eventType: string): Promise<CallbackRecord | null> {
    record.eventsSent.push(eventType);
    if (!this.webhookUrl) return null;
    const rawBody = JSON.stringify({
      id: prefixedHexId('evt_', 26),
      body: record.letter,
      reference_id: record.letter.id,
      event_type: { id: eventType, enabled_for_test: true, resource: 'letters', object: 'event_type' },
      date_created: new Date().toISOString(),
      object: 'event',
    });
    const timestamp = String(Date.now());
    return this.dispatcher.deliver({
      provider: 'lob',
      kind: eventType,
      url: this.webhookUrl,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Lob-Webhooks',
        'Lob-Signature': this.signWebhook(timestamp, rawBody),
        'Lob-Signature-Timestamp': timestamp,
      },
      body: rawBody,
    });
  }

  // ---- HTTP ----

  private authenticate(req: Request): void {
    const match = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const username = match ? Buffer.from(match[1]!, 'base64').toString('utf8').split(':')[0] : undefined;
    if (username !== this.apiKey) {
      throw new LobApiError(
        401,
        'unauthorized',
        'Your API key is not valid. Please sign up on lob.com to get a valid api key.',
      );
    }
    if (this.faults.remaining > 0) {
      this.faults.remaining -= 1;
      if (this.faults.status === 429)
        throw new LobApiError(
          429,
          'rate_limit_exceeded',
          'Rate limit exceeded. Please wait 5 seconds and try your request again.',
        );
      throw new LobApiError(500, 'internal_server_error', 'An internal server error occurred. Please try again later.');
    }
  }

  private async readBody(req: Request): Promise<{ body: Record<string, unknown>; file: UploadedFile | null }> {
    const contentType = req.headers['content-type'] ?? '';
    if (contentType.startsWith('multipart/form-data')) {
      const { fields, file } = await parseMultipart(req);
      return { body: fields, file };
    }
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { body: {}, file: null };
    return { body: body as Record<string, unknown>, file: null };
  }

  private buildApp(): Express {
    const app = express();
    app.disable('x-powered-by');
    const v1 = express.Router();
    v1.use((req, _res, next) => {
      this.authenticate(req);
      next();
    });
    v1.use(express.json({ limit: '5mb' }));
    v1.use(express.urlencoded({ extended: true, limit: '5mb' }));

    v1.post('/letters', async (req: Request, res: Response) => {
      const header = req.headers['idempotency-key'];
      const query = req.query.idempotency_key;
      const key =
        (Array.isArray(header) ? header[0] : header) ?? (typeof query === 'string' ? query : undefined) ?? null;
      if (key !== null && (key.length === 0 || key.length > 256)) {
        throw new LobApiError(422, 'invalid', 'Idempotency-Key must be between 1 and 256 characters');
      }
      const existing = key ? this.byIdempotencyKey.get(key) : undefined;
      if (existing) {
        // Same key, same letter: a retried request must not print twice.
        if (req.headers['content-type']?.startsWith('multipart/form-data')) await parseMultipart(req);
        res.status(200).json(this.letters.get(existing)!.letter);
        return;
      }
      const { body, file } = await this.readBody(req);
      res.status(200).json(this.createLetter(body, file, key).letter);
    });
    v1.get('/letters/:id', (req, res) => {
      const record = this.letters.get(req.params.id);
      if (!record) throw new LobApiError(404, 'not_found', 'letter not found');
      res.json(record.letter);
    });
    v1.get('/letters', (_req, res) => {
      const data = this.listLetters()
        .map((r) => r.letter)
        .reverse();
      res.json({ data, object: 'list', next_url: null, previous_url: null, count: data.length });
    });
    v1.post('/addresses', async (req, res) => {
      const { body } = await this.readBody(req);
      const address = buildAddress(body, 'address');
      this.addresses.set(address.id, address);
      res.json(address);
    });
    v1.get('/addresses/:id', (req, res) => {
      const address = this.addresses.get(req.params.id);
      if (!address) throw new LobApiError(404, 'not_found', 'address not found');
      res.json(address);
    });
    app.use('/v1', v1);

    app.get('/sandbox/letters', (_req, res) => {
      res.json(this.listLetters());
    });
    app.get('/sandbox/letters/:id', (req, res) => {
      const record = this.letters.get(req.params.id);
      if (!record) res.status(404).json({ error: `no letter ${req.params.id}` });
      else res.json(record);
    });

    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      if (err instanceof LobApiError) {
        res.status(err.statusCode).json(err.toBody());
        return;
      }
      const status = (err as { status?: number }).status ?? 500;
      const body = new LobApiError(
        status,
        status === 400 ? 'bad_request' : 'internal_server_error',
        status === 400 ? 'The request body could not be parsed' : 'An internal server error occurred.',
      );
      res.status(status).json(body.toBody());
    });
    return app;
  }
}
