// Where the sandboxes disagreed with their providers' published specs, and
// the product code that the disagreement hid:
// - Twilio segments: a character is never split across segments (Twilio's own
//   calculator), so ceil(length / 153) undercounts at the boundaries.
// - Lob tracking_events[].details: an object (tracking_event_details) for
//   certified events, null for normal ones (lob-openapi tracking_event_*.yml).
// - Lob remote file URLs: https://….pdf with no query string
//   (lob-openapi shared/attributes/remote_file_url.yml), so the product's signed
//   letter link carries its signature in the path.
// - Lob extra_service: certified for US destinations, registered for
//   international ones, omitted when none is wanted (letter_extra_service.yml).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Configuration, LettersApi, type LetterEditable } from '@lob/lob-typescript-sdk';
import twilio from 'twilio';
import { lobExtraService, lobLetters } from '../../channels/lob/adapter.js';
import { letterPdfUrl, verifyLetterUrl } from '../../src/outbound/files.js';
import { redactUrl } from '../../src/logger.js';
import type { AppContext } from '../../src/context.js';
import { startHarness, LOB_KEY, TWILIO_SID, TWILIO_TOKEN, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());

// Lob's published pattern, copied here so the test does not lean on the sandbox's own copy.
const LOB_REMOTE_FILE_URL = /^https:\/\/[-a-zA-Z0-9@:%._+~#=/]{1,256}\.(html|pdf|png|jpg)+$/;

describe('Twilio sandbox segment count', () => {
  it.each([
    ['GSM-7, an extension character at the 153rd septet', `${'a'.repeat(152)}€${'b'.repeat(152)}`, '3'],
    ['UCS-2, a surrogate pair at the 67th unit', `${'x'.repeat(66)}😀${'y'.repeat(66)}`, '3'],
    ['GSM-7 exactly 160', 'a'.repeat(160), '1'],
    ['GSM-7 161', 'a'.repeat(161), '2'],
  ])('%s', async (_name, body, segments) => {
    const client = twilio(TWILIO_SID, TWILIO_TOKEN);
    client.api.baseUrl = h.sandboxes.twilio.baseUrl;
    const message = await client.messages.create({ to: '+14155550199', from: '+15005550006', body });
    expect(message.numSegments).toBe(segments);
  });
});

describe('Lob sandbox fidelity', () => {
  const letters = () =>
    new LettersApi(new Configuration({ username: LOB_KEY, basePath: `${h.sandboxes.lob.baseUrl}/v1` }));
  const to = {
    name: 'Dee Debtor',
    address_line1: '185 Berry St',
    address_city: 'San Francisco',
    address_state: 'CA',
    address_zip: '94107',
    address_country: 'US',
  };
  const from = {
    company: 'Acme Collections',
    address_line1: '1 Main St',
    address_city: 'Boston',
    address_state: 'MA',
    address_zip: '02108',
  };
  const input = (o: Record<string, unknown>) =>
    ({
      to,
      from,
      file: '<html><body>x</body></html>',
      color: false,
      use_type: 'operational',
      ...o,
    }) as unknown as LetterEditable;

  it('certified tracking events carry a details object; normal ones null', async () => {
    const certified = await letters().create(input({ extra_service: 'certified' }));
    const normal = await letters().create(input({}));
    const done = async (id: string, n: number) => {
      for (let i = 0; i < 200; i++) {
        const l = await letters().get(id);
        if ((l.tracking_events?.length ?? 0) >= n) return l;
        await h.sandboxes.callbacks.idle();
      }
      throw new Error(`letter ${id} did not reach ${n} tracking events`);
    };
    const c = await done(certified.id, 5);
    for (const e of c.tracking_events as unknown as { type: string; details: Record<string, unknown> | null }[]) {
      expect(e.type).toBe('certified');
      expect(e.details).toEqual({ event: expect.any(String), description: expect.any(String), action_required: false });
    }
    expect((c.tracking_events as unknown as { details: { event: string } }[]).map((e) => e.details.event).at(-1)).toBe(
      'delivered',
    );
    const n = await done(normal.id, 3);
    for (const e of n.tracking_events as unknown as { type: string; details: unknown }[])
      expect(e).toMatchObject({ type: 'normal', details: null });
  });

  it("refuses a file URL that is not Lob's remote_file_url form (a query string) and takes the path form", async () => {
    const bad = await letters()
      .create(input({ file: 'https://gw.example.com/files/letters/x.pdf?exp=1&sig=abc' }))
      .then(
        () => null,
        (e: { response: { status: number; data: { error: { message: string } } } }) => e.response,
      );
    expect(bad?.status).toBe(422);
    expect(bad?.data.error.message).toMatch(/file must be a URL/);
    const good = await letters().create(
      input({ file: 'https://gw.example.com/files/letters/signed/1.abc-_/3b0c.pdf' }),
    );
    expect(good.id).toMatch(/^ltr_/);
  });
});

describe("the product against Lob's rules", () => {
  const ctx = { publicBaseUrl: 'https://gw.example.com', secret: 's'.repeat(32) } as AppContext;

  it("signs letter links in the path, in Lob's form, verifiable, and redacted in logs", () => {
    const id = '3b0c9a40-1111-4222-8333-444455556666';
    const url = letterPdfUrl(ctx, id);
    expect(url).toMatch(LOB_REMOTE_FILE_URL);
    const m = /\/signed\/(\d+)\.([A-Za-z0-9_-]+)\/([0-9a-f-]{36})\.pdf$/.exec(url)!;
    expect(m[3]).toBe(id);
    expect(verifyLetterUrl(ctx.secret, id, m[1]!, m[2]!)).toBe(true);
    expect(
      verifyLetterUrl(
        ctx.secret,
        id,
        m[1]!,
        m[2]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
      ),
    ).toBe(false);
    expect(redactUrl(new URL(url).pathname)).toBe('/files/letters/signed/[redacted]');
  });

  it.each([
    [null, 'US', null, undefined],
    ['none', 'US', null, undefined],
    ['certified', 'US', 'certified', undefined],
    ['certified_return_receipt', 'US', 'certified_return_receipt', undefined],
    ['certified', 'GB', 'registered', expect.stringMatching(/US destinations only/)],
    ['registered', 'GB', 'registered', undefined],
    ['registered', 'US', 'certified', expect.stringMatching(/international/)],
  ])('extra service %s to %s → %s', (wanted, country, extraService, substituted) => {
    expect(lobExtraService(wanted, country)).toEqual({ extraService, ...(substituted ? { substituted } : {}) });
  });

  it('sends a UK final notice registered and a past-due notice without extra_service, through the official SDK', async () => {
    const adapter = lobLetters({ apiKey: LOB_KEY, basePath: `${h.sandboxes.lob.baseUrl}/v1` });
    const base = {
      channel: 'LETTER' as const,
      from: { name: 'Acme', line1: '1 Main St', city: 'Boston', region: 'MA', postalCode: '02108', country: 'US' },
      pdf: Buffer.from('%PDF-1.4'),
      pdfUrl: 'https://gw.example.com/files/letters/signed/1.abc/3b0c9a40-1111-4222-8333-444455556666.pdf',
      description: 'test',
      mailType: 'usps_first_class' as const,
    };
    const uk = await adapter.send({
      messageId: '3b0c9a40-1111-4222-8333-444455556601',
      payload: {
        ...base,
        to: { name: 'Uma King', line1: '10 Downing St', city: 'London', postalCode: 'SW1A 2AA', country: 'GB' },
        extraService: 'certified',
      },
    });
    expect(uk.detail).toMatchObject({
      extraService: 'registered',
      extraServiceSubstituted: expect.stringMatching(/US destinations only/),
    });
    const pastDue = await adapter.send({
      messageId: '3b0c9a40-1111-4222-8333-444455556602',
      payload: {
        ...base,
        to: {
          name: 'Dee Debtor',
          line1: '185 Berry St',
          city: 'San Francisco',
          region: 'CA',
          postalCode: '94107',
          country: 'US',
        },
        extraService: 'none' as never,
      },
    });
    const letters = new LettersApi(new Configuration({ username: LOB_KEY, basePath: `${h.sandboxes.lob.baseUrl}/v1` }));
    expect((await letters.get(uk.providerMessageId)).extra_service).toBe('registered');
    expect((await letters.get(pastDue.providerMessageId)).extra_service ?? null).toBeNull();
  });
});
