// Call recordings end to end: the Twilio sandbox records a call (the call's
// Record option, or a <Record> verb), posts the signed recording status
// callback, and serves the audio behind the account's basic auth; the gateway
// downloads it and keeps it as an attachment of the call's message. A failed
// download leaves the raw event for the retry job.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import twilio from 'twilio';
import { eventually } from '../support/gateway.js';
import { silentMp3 } from '../../channels/twilio/sandbox/recordings.js';
import {
  basicAuth,
  seedDebtor,
  seedOutbound,
  startInboundGateway,
  TWILIO_SID,
  TWILIO_TOKEN,
  type InboundGateway,
} from './helpers.js';

describe('call recordings', () => {
  let gw: InboundGateway;
  let client: ReturnType<typeof twilio>;
  let phoneSeq = 0;

  beforeAll(async () => {
    gw = await startInboundGateway({ PROVIDERS: 'sandbox' });
    client = twilio(TWILIO_SID, TWILIO_TOKEN);
    client.api.baseUrl = gw.ctx.sandboxes!.twilio.baseUrl;
  });
  afterAll(async () => gw?.close());

  const sandbox = () => gw.ctx.sandboxes!.twilio;
  const recordingCallback = () => `${gw.url}/webhooks/twilio/voice/recording`;

  /** Places a call at the sandbox and records it as our outbound call message, as dispatch does. */
  async function placeCall(options: { twiml: string; record?: boolean }) {
    phoneSeq += 1;
    const to = `+1415555${String(2000 + phoneSeq)}`;
    const { debtor, phone } = await seedDebtor(gw, { phone: to });
    const call = await client.calls.create({
      to,
      from: gw.ctx.providers.twilio.from,
      twiml: options.twiml,
      ...(options.record
        ? { record: true, recordingStatusCallback: recordingCallback(), recordingStatusCallbackEvent: ['completed'] }
        : {}),
    });
    const message = await seedOutbound(gw, debtor.id, phone!.id, 'VOICE', { providerMessageId: call.sid });
    return { call, message };
  }

  const withAttachments = (id: string) =>
    eventually(
      async () => {
        // Prisma reads the message and its attachments in two queries: wait until both show the commit.
        const row = await gw.ctx.db.message.findUniqueOrThrow({ where: { id }, include: { attachments: true } });
        return row.attachments.length > 0 && (row.callOutcome as { recording?: unknown } | null)?.recording
          ? row
          : null;
      },
      15_000,
      'recording attachment',
    );

  it('stores the recording of a call created with Record=true as an attachment of the call', async () => {
    const { call, message } = await placeCall({
      twiml: '<Response><Say>Hello, this is a reminder call.</Say></Response>',
      record: true,
    });
    const m = await withAttachments(message.id);
    const [recording] = sandbox().recordings.list({ callSid: call.sid });
    expect(recording).toMatchObject({ source: 'OutboundAPI', status: 'completed' });
    expect(m.attachments).toHaveLength(1);
    const expected = silentMp3(recording!.durationSec);
    expect(m.attachments[0]).toMatchObject({
      contentType: 'audio/mpeg',
      size: expected.length,
      filename: `call-recording-${recording!.sid}.mp3`,
    });
    expect(fs.readFileSync(m.attachments[0]!.path).equals(expected)).toBe(true);
    expect(m.callOutcome).toMatchObject({
      recording: { sid: recording!.sid, status: 'completed', durationSec: recording!.durationSec, url: recording!.url },
    });
    const event = await gw.ctx.db.conversationEvent.findFirstOrThrow({
      where: { conversationId: m.conversationId, type: 'call.recording' },
    });
    expect(event.payload).toMatchObject({
      messageId: m.id,
      recordingSid: recording!.sid,
      attachment: { id: m.attachments[0]!.id },
    });

    // The sandbox serves it like Twilio: only with the account's credentials.
    expect((await fetch(`${recording!.url}.mp3`)).status).toBe(401);
    expect(
      (await fetch(`${recording!.url}.mp3`, { headers: { authorization: basicAuth(TWILIO_SID, 'wrong-token') } }))
        .status,
    ).toBe(401);
    const wav = await fetch(recording!.url, { headers: { authorization: basicAuth(TWILIO_SID, TWILIO_TOKEN) } });
    expect(wav.status).toBe(200);
    expect(wav.headers.get('content-type')).toMatch(/audio\/x-wav/);
    expect(
      Buffer.from(await wav.arrayBuffer())
        .subarray(0, 4)
        .toString('ascii'),
    ).toBe('RIFF');
  });

  it('stores the message left at a <Record> verb, with its duration capped by maxLength', async () => {
    const twiml = `<Response><Say>Please leave a message after the tone.</Say><Record maxLength="3" playBeep="true" recordingStatusCallback="${recordingCallback()}"/></Response>`;
    const { call, message } = await placeCall({ twiml });
    const m = await withAttachments(message.id);
    const [recording] = sandbox().recordings.list({ callSid: call.sid });
    expect(recording).toMatchObject({ source: 'RecordVerb', durationSec: 3 });
    expect(m.attachments[0]!.size).toBe(silentMp3(3).length);
    expect(m.callOutcome).toMatchObject({ recording: { sid: recording!.sid, durationSec: 3, source: 'RecordVerb' } });
  });

  it('keeps the event when the download fails, retries it, and stores the audio once', async () => {
    const { call, message } = await placeCall({ twiml: '<Response><Say>Short call.</Say></Response>', record: true });
    // The next REST request to the sandbox — the gateway's download — answers 500.
    sandbox().failNextRequests(1);
    const failed = await eventually(
      async () => {
        const e = await gw.ctx.db.inboundEvent.findFirst({
          where: {
            provider: 'twilio',
            kind: 'voice-recording',
            status: 'FAILED',
            lastError: { contains: 'answered 500' },
          },
        });
        return e ?? null;
      },
      15_000,
      'failed download kept',
    );
    expect(Buffer.from(failed.body).toString()).toContain(`CallSid=${call.sid}`);
    const done = await eventually(
      async () => {
        const e = await gw.ctx.db.inboundEvent.findUniqueOrThrow({ where: { id: failed.id } });
        return e.status === 'PROCESSED' ? e : null;
      },
      20_000,
      'retried by the job',
    );
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    const m = await withAttachments(message.id);
    expect(m.attachments).toHaveLength(1);
    expect(sandbox().recordings.list({ callSid: call.sid })).toHaveLength(1);
    expect(
      await gw.ctx.db.messageStatusEvent.count({
        where: { messageId: message.id, providerStatus: 'recording:completed' },
      }),
    ).toBe(1);
  });
});
