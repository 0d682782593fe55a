// No 5xx on bad input: text PostgreSQL cannot store is refused with a 400
// naming the field, ids are checked before the database, client faults that
// still reach the database come back as 4xx, and nothing is half-committed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { api, ADMIN_KEY } from '../support/api.js';
import { clientFaultOf } from '../../src/http/errors.js';
import { textProblem } from '../../src/http/text.js';

describe('hostile input gets a 4xx, never a 5xx', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const debtor = async (externalRef: string, fullName = 'Dana Debtor') => {
    const r = await api(gw).post('/api/v1/debtors', { externalRef, fullName });
    expect(r.status).toBe(201);
    return r.body as { id: string; externalRef: string };
  };

  it.each([
    ['NUL', 'Ann\u0000Lee', /NUL character \(U\+0000\)/],
    ['a lone high surrogate', 'Ann\ud800', /lone surrogate \(U\+D800\)/],
    ['a lone low surrogate', '\udc00Ann', /lone surrogate \(U\+DC00\)/],
    ['a control character', 'Ann\u0007', /control character U\+0007/],
    ['a non-character', 'Ann\ufffe', /non-character U\+FFFE/],
    ['a plane-end non-character', 'Ann\u{1fffe}', /non-character U\+1FFFE/],
  ])('refuses %s in a text field with a 400 naming it, and stores nothing', async (_what, fullName, reason) => {
    const before = await gw.ctx.db.debtor.count();
    const r = await api(gw).post('/api/v1/debtors', { externalRef: `X-${Math.random()}`, fullName });
    expect(r.status).toBe(400);
    expect(r.body.details).toEqual([{ field: 'fullName', reason: expect.stringMatching(reason) }]);
    expect(await gw.ctx.db.debtor.count()).toBe(before);
  });

  it('names nested fields, keys and query parameters; keeps tabs, newlines, emoji and right-to-left text', async () => {
    const nested = await api(gw).post('/api/v1/debtors', {
      fullName: 'Ok',
      contactPoints: [{ kind: 'EMAIL', value: 'a@example.com', label: 'w\u0000rk' }],
    });
    expect(nested.body.details).toEqual([{ field: 'contactPoints.0.label', reason: expect.stringMatching(/NUL/) }]);
    const key = await api(gw).post('/api/v1/debtors', { fullName: 'Ok', ['bad\u0000key']: 1 });
    expect(key.status).toBe(400);
    expect(key.body.details[0].field).toBe('(key)');
    const q = await api(gw).get('/api/v1/debtors?q=%00');
    expect(q.status).toBe(400);
    expect(q.body.details).toEqual([{ field: 'query.q', reason: expect.stringMatching(/NUL/) }]);
    const fine = await api(gw).post('/api/v1/debtors', { externalRef: 'RTL-1', fullName: 'مرحبا\t👋\nשלום' });
    expect(fine.status).toBe(201);
    expect(fine.body.fullName).toBe('مرحبا\t👋\nשלום');
    expect(textProblem('pair 😀 ok')).toBeNull();
  });

  it('refuses a body nested deeper than the bound instead of exhausting the stack', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) deep = { a: deep };
    const r = await api(gw).post('/api/v1/debtors', { fullName: 'Ok', tags: [deep] });
    expect(r.status).toBe(400);
    expect(r.body.details[0].reason).toMatch(/nested deeper than 32 levels/);
  });

  it("PATCH debtor: unusual but valid externalRefs are stored, a lone surrogate is refused, another debtor's gives 409 like POST", async () => {
    const a = await debtor('PATCH-A');
    const b = await debtor('PATCH-B');
    for (const ref of [' ', 'مرجع 🧾 ‏RTL', '<b>markup</b>', "'; DROP TABLE debtors; --"]) {
      const r = await api(gw).patch(`/api/v1/debtors/${a.id}`, { externalRef: ref });
      expect({ ref, status: r.status }).toEqual({ ref, status: 200 });
      expect(r.body.externalRef).toBe(ref);
    }
    const surrogate = await api(gw).patch(`/api/v1/debtors/${a.id}`, { externalRef: 'x\ud83d' });
    expect(surrogate.status).toBe(400);
    expect(surrogate.body.details[0].field).toBe('externalRef');
    expect((await api(gw).post('/api/v1/debtors', { externalRef: 'PATCH-B', fullName: 'Dup' })).status).toBe(409);
    const taken = await api(gw).patch(`/api/v1/debtors/${a.id}`, { externalRef: 'PATCH-B' });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toBe('conflict');
    expect((await gw.ctx.db.debtor.findUniqueOrThrow({ where: { id: b.id } })).externalRef).toBe('PATCH-B');
  });

  it('PATCH user with a lone surrogate in the name: 400 and nothing committed (no change, no half-written audit)', async () => {
    const created = await api(gw).post('/api/v1/users', { email: 'surrogate@team.example', name: 'Sue' });
    expect(created.status).toBe(201);
    const id = created.body.user.id as string;
    const r = await api(gw).patch(`/api/v1/users/${id}`, { name: 'Sue\udfff' });
    expect(r.status).toBe(400);
    expect(r.body.details).toEqual([{ field: 'name', reason: expect.stringMatching(/lone surrogate/) }]);
    expect((await gw.ctx.db.user.findUniqueOrThrow({ where: { id } })).name).toBe('Sue');
    expect(await gw.ctx.db.auditEvent.count({ where: { action: 'user.update', entityId: id } })).toBe(0);
    const ok = await api(gw).patch(`/api/v1/users/${id}`, { name: 'Sue Ellen' });
    expect(ok.status).toBe(200);
    expect(await gw.ctx.db.auditEvent.count({ where: { action: 'user.update', entityId: id } })).toBe(1);
  });

  it('checks every id parameter before the database: %00, ../ and non-UUIDs are 404, undecodable paths 400', async () => {
    for (const p of [
      '/api/v1/debtors/not-a-uuid',
      '/api/v1/debts/1',
      '/api/v1/conversations/x%27%20OR%201=1--',
      '/api/v1/users/..%2F..%2Fetc',
    ]) {
      const r = await api(gw).get(p);
      expect({ p, status: r.status }).toEqual({ p, status: 404 });
    }
    for (const p of [
      '/webhooks/twilio/voice/answer/%00',
      '/webhooks/twilio/voice/answer/..%2F',
      '/webhooks/twilio/voice/gather/..%2F..%2F',
    ]) {
      const r = await fetch(`${gw.url}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'AnsweredBy=human',
      });
      expect({ p, status: r.status }).toEqual({ p, status: p.includes('%00') ? 400 : 404 });
    }
    for (const p of ['/sandbox/twilio/messages/%E0%A4%A', '/api/v1/debtors/%ZZ', '/%', '/sandbox/lob/letters/%00']) {
      const r = await fetch(`${gw.url}${p}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect({ p, status: r.status }).toEqual({ p, status: 400 });
      expect(((await r.json()) as { error: string }).error).toBe('invalid_path');
    }
  });

  it('turns the client faults PostgreSQL reports into 4xx (the net under validation)', async () => {
    const db = gw.ctx.db;
    const fault = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        return clientFaultOf(err);
      }
      throw new Error('expected the database to refuse');
    };
    const d = await debtor('FAULT-1');
    expect((await fault(db.debtor.create({ data: { fullName: 'nul\u0000' } })))?.status).toBe(400); // 22021
    expect((await fault(db.$queryRawUnsafe(`SELECT $1::uuid`, 'not-a-uuid')))?.status).toBe(400); // 22P02
    expect((await fault(db.$queryRawUnsafe(`SELECT $1::jsonb`, '"\\ud800"')))?.status).toBe(400); // 22P05
    expect((await fault(db.debtor.create({ data: { fullName: 'dup', externalRef: 'FAULT-1' } })))?.status).toBe(409); // 23505
    expect(
      (
        await fault(
          db.contactPoint.create({
            data: { debtorId: '00000000-0000-4000-8000-000000000000', kind: 'EMAIL', value: 'x@example.com' },
          }),
        )
      )?.status,
    ).toBe(409); // 23503
    expect(
      (
        await fault(
          db.debtor.update({ where: { id: '00000000-0000-4000-8000-000000000000' }, data: { fullName: 'x' } }),
        )
      )?.status,
    ).toBe(404); // P2025
    expect(clientFaultOf(new URIError('URI malformed'))?.status).toBe(400);
    expect(clientFaultOf(new Error('a bug of ours'))).toBeNull();
    expect(d.externalRef).toBe('FAULT-1');
  });

  it('answers a malformed JSON body and a wrong content type with 4xx', async () => {
    const bad = await fetch(`${gw.url}/api/v1/debtors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: '{"fullName": "x",',
    });
    expect(bad.status).toBe(400);
    const xml = await fetch(`${gw.url}/api/v1/debtors`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/xml' },
      body: '<debtor/>',
    });
    expect(xml.status).toBe(400);
  });
});
