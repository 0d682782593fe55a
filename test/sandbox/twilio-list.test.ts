// The Twilio sandbox's list resources (Read multiple Message / Call resources),
// which crash recovery asks through the official SDK: Twilio's filters, its
// page envelope, newest first, and paging the SDK follows on its own.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import twilio from 'twilio';
import { startHarness, TWILIO_SID, TWILIO_TOKEN, type Harness } from './harness.js';

const FROM = '+15005550006';
let h: Harness;
let client: ReturnType<typeof twilio>;

beforeAll(async () => {
  h = await startHarness();
  client = twilio(TWILIO_SID, TWILIO_TOKEN);
  client.api.baseUrl = h.sandboxes.twilio.baseUrl;
});
afterAll(async () => h.close());
beforeEach(async () => {
  await h.sandboxes.callbacks.idle();
  h.sandboxes.twilio.reset();
});

const get = async (path: string) => {
  const res = await fetch(`${h.sandboxes.twilio.baseUrl}/2010-04-01/Accounts/${TWILIO_SID}${path}`, {
    headers: { authorization: `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('Twilio sandbox — list resources', () => {
  it("lists messages to a number, newest first, in Twilio's page envelope; the SDK pages through them", async () => {
    const to = '+14155550140';
    for (let i = 0; i < 5; i++) await client.messages.create({ to, from: FROM, body: `reminder ${i}` });
    await client.messages.create({ to: '+14155550141', from: FROM, body: 'someone else' });

    const page = await get(`/Messages.json?To=${encodeURIComponent(to)}&PageSize=2`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ page: 0, page_size: 2, start: 0, end: 1, previous_page_uri: null });
    expect(page.body.messages).toHaveLength(2);
    expect(page.body.messages[0]).toMatchObject({
      to,
      direction: 'outbound-api',
      body: expect.stringMatching(/^reminder/),
    });
    expect(page.body.first_page_uri).toMatch(
      new RegExp(`^/2010-04-01/Accounts/${TWILIO_SID}/Messages.json\\?To=%2B14155550140&PageSize=2&Page=0$`),
    );
    expect(page.body.next_page_uri).toMatch(/Page=1&PageToken=/);
    expect(page.body.uri).toBe(page.body.first_page_uri);

    // The helper library follows next_page_uri itself.
    const all = await client.messages.list({ to, pageSize: 2 });
    expect(all.map((m) => m.body).sort()).toEqual([
      'reminder 0',
      'reminder 1',
      'reminder 2',
      'reminder 3',
      'reminder 4',
    ]);
    const created = all.map((m) => m.dateCreated.getTime());
    expect([...created].sort((a, b) => b - a)).toEqual(created);
    expect(await client.messages.list({ to: '+14155550199' })).toEqual([]);
  });

  it('filters by DateSent on a day or with an inequality, as Twilio documents, and refuses a bad one', async () => {
    const to = '+14155550142';
    await client.messages.create({ to, from: FROM, body: 'dated' });
    await h.sandboxes.callbacks.idle(); // sent: it has a date_sent now
    const today = new Date().toISOString().slice(0, 10);
    expect((await get(`/Messages.json?To=${encodeURIComponent(to)}&DateSent=${today}`)).body.messages).toHaveLength(1);
    expect((await get(`/Messages.json?To=${encodeURIComponent(to)}&DateSent%3E=${today}`)).body.messages).toHaveLength(
      1,
    );
    expect(
      (await get(`/Messages.json?To=${encodeURIComponent(to)}&DateSent%3C=2000-01-01`)).body.messages,
    ).toHaveLength(0);
    // What the SDK sends for dateSentAfter: an ISO date-time.
    expect(await client.messages.list({ to, dateSentAfter: new Date(Date.now() + 3600_000) })).toHaveLength(0);
    const bad = await get(`/Messages.json?DateSent=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 20001, status: 400 });
    expect((await get('/Messages.json?PageSize=0')).status).toBe(400);
  });

  it('lists calls to a number from a number, with Status and StartTime filters', async () => {
    const to = '+14155550143';
    h.sandboxes.twilio.setCallScript(to, { answer: 'busy' });
    await client.calls.create({ to, from: FROM, twiml: '<Response><Say>hi</Say></Response>' });
    await client.calls.create({ to, from: FROM, twiml: '<Response><Say>hi again</Say></Response>' });
    await h.sandboxes.callbacks.idle();
    const calls = await client.calls.list({ to, from: FROM });
    expect(calls).toHaveLength(2);
    expect(calls[0]!).toMatchObject({ to, from: FROM, direction: 'outbound-api', status: 'busy' });
    expect(await client.calls.list({ to, status: 'completed' })).toHaveLength(0);
    expect(await client.calls.list({ to, from: '+15005550009' })).toHaveLength(0);
    // A busy call never started: a StartTime filter leaves it out.
    expect(await client.calls.list({ to, startTimeAfter: new Date(0) })).toHaveLength(0);
    const page = await get(`/Calls.json?To=${encodeURIComponent(to)}`);
    expect(page.body).toMatchObject({ page: 0, page_size: 50, next_page_uri: null });
    expect(page.body.calls).toHaveLength(2);
  });
});
