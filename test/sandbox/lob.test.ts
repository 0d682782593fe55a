import { createHmac, createHash, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Configuration, LettersApi, type LetterEditable } from '@lob/lob-typescript-sdk';
import PDFDocument from 'pdfkit';
import { startHarness, LOB_KEY, LOB_SECRET, type Harness } from './harness.js';
import type { ReceivedRequest } from './fake-gateway.js';

let h: Harness;
let letters: LettersApi;

const debtor = {
  name: 'Dee Debtor',
  address_line1: '185 Berry St',
  address_city: 'San Francisco',
  address_state: 'CA',
  address_zip: '94107',
  address_country: 'US',
};
const creditor = {
  company: 'Acme Collections',
  address_line1: '1 Main St',
  address_city: 'Boston',
  address_state: 'MA',
  address_zip: '02108',
};

/** Our own check of Lob's scheme, independent of the sandbox code: hex HMAC-SHA256 over `${timestamp}.${rawBody}`. */
function lobSignatureValid(req: ReceivedRequest, secret = LOB_SECRET, body = req.rawBody.toString('utf8')): boolean {
  const expected = createHmac('sha256', secret)
    .update(`${String(req.headers['lob-signature-timestamp'])}.${body}`)
    .digest();
  const given = Buffer.from(String(req.headers['lob-signature']), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function webhookEvents(letterId: string) {
  return h.gateway
    .requestsTo('/webhooks/lob')
    .map((req) => ({
      req,
      event: JSON.parse(req.rawBody.toString()) as {
        id: string;
        object: string;
        event_type: { id: string };
        body: { id: string; tracking_events: unknown[] };
        reference_id: string;
      },
    }))
    .filter(({ event }) => event.body.id === letterId);
}

async function lobError(promise: Promise<unknown>): Promise<{
  status: number;
  data: { error: { message: string; status_code: number; code: string } };
  message: string;
}> {
  try {
    await promise;
  } catch (err) {
    const e = err as { response: { status: number; data: never }; message: string };
    return { status: e.response.status, data: e.response.data, message: e.message };
  }
  throw new Error('expected the Lob call to fail');
}

function letterInput(overrides: Partial<Record<keyof LetterEditable, unknown>> = {}): LetterEditable {
  return {
    to: debtor,
    from: creditor,
    file: '<html><body><h1>Letter of demand</h1><p>Amount owed: $120.00</p></body></html>',
    color: false,
    use_type: 'operational',
    ...overrides,
  } as unknown as LetterEditable;
}

beforeAll(async () => {
  h = await startHarness();
  letters = new LettersApi(new Configuration({ username: LOB_KEY, basePath: `${h.sandboxes.lob.baseUrl}/v1` }));
});
afterAll(async () => {
  await h.close();
});
beforeEach(async () => {
  await h.sandboxes.callbacks.idle();
  h.sandboxes.lob.reset();
  h.gateway.reset();
});

describe('Lob sandbox — letters through @lob/lob-typescript-sdk', () => {
  it('creates a certified letter and delivers signed tracking webhooks in order', async () => {
    const letter = await letters.create(
      letterInput({ extra_service: 'certified', description: 'Demand 42', metadata: { debt_id: 'debt_42' } }),
    );
    expect(letter.id).toMatch(/^ltr_[0-9a-f]{16}$/);
    expect(letter.extra_service).toBe('certified');
    expect(letter.tracking_number).toMatch(/^\d{22}$/);
    expect(letter.expected_delivery_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(letter.url).toContain(letter.id);
    expect(letter.to?.address_line1).toBe('185 BERRY ST');

    const events = await h.gateway.waitFor('certified delivery', () => {
      const got = webhookEvents(letter.id);
      return got.at(-1)?.event.event_type.id === 'letter.certified.delivered' ? got : undefined;
    });
    expect(events.map((e) => e.event.event_type.id)).toEqual([
      'letter.created',
      'letter.rendered_pdf',
      'letter.rendered_thumbnails',
      'letter.mailed',
      'letter.certified.mailed',
      'letter.certified.in_transit',
      'letter.certified.in_local_area',
      'letter.certified.processed_for_delivery',
      'letter.certified.delivered',
    ]);
    for (const { req, event } of events) {
      expect(event.object).toBe('event');
      expect(event.id).toMatch(/^evt_/);
      expect(event.reference_id).toBe(letter.id);
      expect(lobSignatureValid(req)).toBe(true);
    }
    const last = events.at(-1)!;
    expect(last.event.body.tracking_events).toHaveLength(5);
    expect(lobSignatureValid(last.req, LOB_SECRET, last.req.rawBody.toString().replace('delivered', 'returned'))).toBe(
      false,
    );
    expect(lobSignatureValid(last.req, 'another-secret')).toBe(false);

    const fetched = await letters.get(letter.id);
    expect(fetched.tracking_events).toHaveLength(5);
    expect(fetched.metadata).toEqual({ debt_id: 'debt_42' });
  });

  it('honours Idempotency-Key: the same key returns the same letter and prints once', async () => {
    const first = await letters.create(letterInput(), 'idem-debt-42-step-4');
    const again = await letters.create(letterInput({ description: 'a retry' }), 'idem-debt-42-step-4');
    expect(again.id).toBe(first.id);
    const other = await letters.create(letterInput(), 'idem-debt-43-step-4');
    expect(other.id).not.toBe(first.id);
    expect(h.sandboxes.lob.listLetters()).toHaveLength(2);
  });

  it('answers errors in Lob shape: missing to, bad zip, undeliverable address, bad key', async () => {
    const missing = await lobError(letters.create(letterInput({ to: undefined })));
    expect(missing).toMatchObject({
      status: 422,
      data: { error: { message: 'to is required', status_code: 422, code: 'invalid' } },
      message: 'to is required',
    });
    const badZip = await lobError(letters.create(letterInput({ to: { ...debtor, address_zip: '9410' } })));
    expect(badZip.data.error.message).toMatch(/to\.address_zip/);
    const intlCertified = await lobError(
      letters.create(
        letterInput({ to: { ...debtor, address_country: 'GB', address_zip: 'SW1A 1AA' }, extra_service: 'certified' }),
      ),
    );
    expect(intlCertified.status).toBe(422);

    h.sandboxes.lob.markUndeliverable({ address_line1: '1 Nowhere Rd', address_zip: '10001' });
    const undeliverable = await lobError(
      letters.create(letterInput({ to: { ...debtor, address_line1: '1 nowhere rd', address_zip: '10001' } })),
    );
    expect(undeliverable.data.error).toMatchObject({ status_code: 422, code: 'failed_deliverability_strictness' });

    const wrongKey = new LettersApi(
      new Configuration({ username: 'test_wrong', basePath: `${h.sandboxes.lob.baseUrl}/v1` }),
    );
    const unauthorized = await lobError(wrongKey.create(letterInput()));
    expect(unauthorized).toMatchObject({ status: 401, data: { error: { code: 'unauthorized' } } });

    h.sandboxes.lob.failNextRequests(1, 500);
    expect((await lobError(letters.create(letterInput()))).status).toBe(500);
    expect(h.sandboxes.lob.listLetters()).toHaveLength(0);
  });

  it('accepts an uploaded PDF over multipart and keeps its size and hash', async () => {
    const doc = new PDFDocument();
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
    doc.text('Letter of demand, page 1');
    doc.addPage().text('Page 2');
    doc.end();
    const pdf = await done;

    const form = new FormData();
    for (const [key, value] of Object.entries(debtor)) form.append(`to[${key}]`, value);
    for (const [key, value] of Object.entries(creditor)) form.append(`from[${key}]`, value);
    form.append('color', 'true');
    form.append('use_type', 'operational');
    form.append('extra_service', 'registered');
    form.append('file', new Blob([new Uint8Array(pdf)], { type: 'application/pdf' }), 'demand.pdf');
    const res = await fetch(`${h.sandboxes.lob.baseUrl}/v1/letters`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${LOB_KEY}:`).toString('base64')}` },
      body: form,
    });
    expect(res.status).toBe(200);
    const letter = (await res.json()) as { id: string; color: boolean; tracking_number: string };
    expect(letter.color).toBe(true);
    expect(letter.tracking_number).toMatch(/^RE\d{9}US$/);
    expect(h.sandboxes.lob.getLetter(letter.id)!.file).toEqual({
      kind: 'pdf',
      byteLength: pdf.length,
      sha256: createHash('sha256').update(pdf).digest('hex'),
      pageCount: 2,
      filename: 'demand.pdf',
    });
  });

  it('returns a letter to sender for a configured address', async () => {
    h.sandboxes.lob.markReturnToSender({ address_line1: debtor.address_line1, address_zip: debtor.address_zip });
    const letter = await letters.create(letterInput());
    const events = await h.gateway.waitFor('returned', () => {
      const got = webhookEvents(letter.id);
      return got.at(-1)?.event.event_type.id === 'letter.returned_to_sender' ? got : undefined;
    });
    expect(events.map((e) => e.event.event_type.id)).toEqual([
      'letter.created',
      'letter.rendered_pdf',
      'letter.rendered_thumbnails',
      'letter.mailed',
      'letter.in_transit',
      'letter.in_local_area',
      'letter.returned_to_sender',
    ]);
    expect(events.every((e) => lobSignatureValid(e.req))).toBe(true);
  });
});
