// Inbound media is fetched only from the provider's own media hosts (the
// sandbox's, in sandbox mode, and origins listed in INBOUND_MEDIA_ORIGINS),
// with the provider's credentials only to those, and every redirect checked
// the same way.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually } from '../support/gateway.js';
import {
  inboundSms,
  postTwilio,
  seedDebtor,
  startInboundGateway,
  TWILIO_SID,
  TWILIO_TOKEN,
  type InboundGateway,
} from '../inbound/helpers.js';
import { mediaPolicy } from '../../src/net/media-policy.js';
import { guardedFetch, ResponseTooLargeError, type FetchPolicy } from '../../src/net/guarded-fetch.js';
import { TWILIO_MEDIA_HOSTS } from '../../channels/twilio/media-hosts.js';

interface Hit {
  url: string;
  authorization?: string;
}

async function server(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const hits: Hit[] = [];
  const s = http.createServer((req, res) => {
    hits.push({ url: req.url!, authorization: req.headers.authorization });
    handler(req, res);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return {
    hits,
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    close: () => new Promise((r) => (s.closeAllConnections(), s.close(r))),
  };
}

const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 3)]);
const BASIC = `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`;

describe('SSRF with credentials through inbound media', () => {
  let gw: InboundGateway;
  let internal: Awaited<ReturnType<typeof server>>;
  let storage: Awaited<ReturnType<typeof server>>;
  let media: Awaited<ReturnType<typeof server>>;

  beforeAll(async () => {
    // An internal service the gateway can reach but must never be made to call.
    internal = await server((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg));
    // A second trusted origin, as a provider's storage host would be.
    storage = await server((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(jpeg));
    // The trusted media origin: redirects to the storage origin or to the internal service.
    media = await server((req, res) => {
      if (req.url === '/to-storage') res.writeHead(302, { location: `${storage.url}/file.jpg` }).end();
      else if (req.url === '/to-internal') res.writeHead(302, { location: `${internal.url}/admin` }).end();
      else if (req.url === '/to-metadata')
        res.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' }).end();
      else res.writeHead(404).end();
    });
    gw = await startInboundGateway({ INBOUND_MEDIA_ORIGINS: `${media.url},${storage.url}` });
  });
  afterAll(async () => {
    await gw?.close();
    for (const s of [internal, storage, media]) await s?.close();
  });

  async function mms(phone: string, urls: string[]) {
    await seedDebtor(gw, { phone });
    const extra: Record<string, string> = { NumMedia: String(urls.length) };
    urls.forEach((u, i) => {
      Object.assign(extra, { [`MediaUrl${i}`]: u, [`MediaContentType${i}`]: 'image/jpeg' });
    });
    const params = inboundSms(phone, 'see attached', extra);
    expect((await postTwilio(gw, '/webhooks/twilio/sms', params)).status).toBe(200);
    const msg = await eventually(
      () =>
        gw.ctx.db.message.findUnique({
          where: { providerMessageId: params.MessageSid! },
          include: { attachments: true },
        }),
      10_000,
      'MMS message',
    );
    const created = await gw.ctx.db.conversationEvent.findFirstOrThrow({
      where: {
        conversationId: msg.conversationId,
        type: 'message.created',
        payload: { path: ['message', 'id'], equals: msg.id },
      },
    });
    return {
      msg,
      skipped: ((created.payload as { skippedAttachments?: { reason: string }[] }).skippedAttachments ?? []).map(
        (s) => s.reason,
      ),
    };
  }

  it('does not fetch a media URL on an internal host, and sends it no credentials; the message itself lands', async () => {
    const { msg, skipped } = await mms('+14155550301', [
      `${internal.url}/secret`,
      'http://169.254.169.254/latest/meta-data/',
      'https://attacker.example/x.jpg',
    ]);
    expect(msg.body).toBe('see attached');
    expect(msg.attachments).toHaveLength(0);
    expect(skipped).toEqual([
      expect.stringMatching(/^media URL refused: 127\.0\.0\.1:\d+ is not one of Twilio's media hosts$/),
      "media URL refused: 169.254.169.254 is not one of Twilio's media hosts",
      "media URL refused: attacker.example is not one of Twilio's media hosts",
    ]);
    expect(internal.hits).toEqual([]);
  });

  it('follows a redirect between trusted origins, and refuses one to an internal host before connecting', async () => {
    const { msg, skipped } = await mms('+14155550302', [
      `${media.url}/to-storage`,
      `${media.url}/to-internal`,
      `${media.url}/to-metadata`,
    ]);
    expect(msg.attachments).toHaveLength(1);
    expect(msg.attachments[0]).toMatchObject({ contentType: 'image/jpeg', size: jpeg.length });
    expect(storage.hits).toEqual([{ url: '/file.jpg', authorization: BASIC }]);
    expect(media.hits.every((h) => h.authorization === BASIC)).toBe(true);
    expect(skipped).toEqual([
      expect.stringMatching(/^media URL refused: 127\.0\.0\.1:\d+ is not one of Twilio's media hosts$/),
      "media URL refused: 169.254.169.254 is not one of Twilio's media hosts",
    ]);
    expect(internal.hits).toEqual([]);
  });

  it("live Twilio rules: https to Twilio's declared hosts at public addresses; credentials to the API hosts only", () => {
    const policy = mediaPolicy({
      provider: 'Twilio',
      hosts: TWILIO_MEDIA_HOSTS,
      trustedOrigins: () => [],
      authorization: () => BASIC,
    });
    const u = (s: string) => new URL(s);
    const api = u('https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1');
    expect(policy.refuseUrl(api)).toBeNull();
    expect(
      policy.refuseUrl(u('https://api.dublin.ie1.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1.mp3')),
    ).toBeNull();
    expect(policy.headersFor!(api)).toEqual({ authorization: BASIC });
    // Storage hosts Twilio redirects to: fetched, but without the account's credentials.
    for (const storageUrl of [
      'https://mms.twiliocdn.com/AC1/abc',
      'https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC1/abc',
    ]) {
      expect(policy.refuseUrl(u(storageUrl))).toBeNull();
      expect(policy.headersFor!(u(storageUrl))).toEqual({});
    }
    expect(policy.refuseUrl(u('http://api.twilio.com/x'))).toMatch(/https only/);
    expect(policy.refuseUrl(u('https://s3-external-1.amazonaws.com/someone-elses-bucket/x'))).toMatch(
      /not one of Twilio's media hosts/,
    );
    expect(policy.refuseUrl(u('https://api.twilio.com.attacker.example/x'))).toMatch(/not one of Twilio's media hosts/);
    expect(policy.refuseUrl(u('https://twilio.com@attacker.example/x'))).toMatch(/not one of Twilio's media hosts/);
    // Even a declared name must resolve to a public address (a poisoned resolver, a split-horizon DNS).
    expect(policy.refuseAddress('10.0.0.7', 'api.twilio.com')).toMatch(/internal address \(private\)/);
    expect(policy.refuseAddress('54.172.60.1', 'api.twilio.com')).toBeNull();
  });

  it('bounds time and size: a host that never answers times out, an endless body stops at the limit', async () => {
    const stall = await server(() => undefined); // accepts, never answers
    const endless = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg' }); // chunked: no length announced
      const timer = setInterval(() => res.write(Buffer.alloc(4096, 1)), 1);
      res.on('close', () => clearInterval(timer));
    });
    const loopbackOk: FetchPolicy = { refuseUrl: () => null, refuseAddress: () => null };
    try {
      await expect(
        guardedFetch(`${stall.url}/x`, { policy: loopbackOk, timeoutMs: 300, maxBytes: 1000 }),
      ).rejects.toMatchObject({ name: 'TimeoutError' });
      await expect(
        guardedFetch(`${endless.url}/x`, { policy: loopbackOk, timeoutMs: 5000, maxBytes: 50_000 }),
      ).rejects.toBeInstanceOf(ResponseTooLargeError);
    } finally {
      await stall.close();
      await endless.close();
    }
  });
});
