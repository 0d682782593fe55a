import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { eventually, startTestGateway, type TestGateway } from '../support/gateway.js';
import { importStream } from '../../src/import/importer.js';

const ADMIN_API_KEY = 'test-admin-key-0123456789abcdef';
const auth = { authorization: `Bearer ${ADMIN_API_KEY}` };

const HEADER =
  'debtor_external_ref,full_name,locale,phone,phone_consent_sms,email,email_consent,address_line1,city,region,postal_code,country,creditor_ref,creditor_name,debt_ref,amount,currency,due_date';
const GOOD_AND_BAD = [
  HEADER,
  'D-1,Ada Lovelace,en,(415) 555-2671,yes,ADA@Example.com,GRANTED,1 Main St,San Francisco,CA,94105,US,ACME,Acme Corp,INV-1,120.50,USD,2026-01-15', // line 2
  'D-2,,en,+14155552672,,bob@example.com,,,,,,,ACME,Acme Corp,INV-2,80,USD,2026-01-20', // line 3: no name
  'D-3,Cy Young,en,not-a-phone,,,,,,,,,ACME,Acme Corp,INV-3,10,USD,2026-02-01', // line 4: bad phone
  'D-4,Dee Dee,en,,,dee@example.com,,,,,,,ACME,Acme Corp,INV-4,12.3456,USD,2026-13-01', // line 5: bad date
  '"D-5","Eve, Jr.",en,+442079460958,GRANTED,eve@example.co.uk,,"10 Downing St",London,,SW1A 2AA,GB,ACME,Acme Corp,INV-5,99.99,GBP,2026-01-31', // line 6
  'D-6,Fay,en,,,,,,,,,,ACME,Acme Corp,INV-6,-5,USD,2026-01-31', // line 7: negative amount
  'D-1,Ada Lovelace,en,+14155552671,,,,,,,,,ACME,Acme Corp,INV-7,30,USD,2026-03-01', // line 8: second debt, same debtor
].join('\n');

async function postImport(gw: TestGateway, body: string, contentType: string, format?: string) {
  const res = await fetch(`${gw.url}/api/v1/imports${format ? `?format=${format}` : ''}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': contentType },
    body,
  });
  return res;
}

async function finished(gw: TestGateway, jobId: string) {
  return eventually(
    async () => {
      const r = await fetch(`${gw.url}/api/v1/imports/${jobId}`, { headers: auth });
      const j = (await r.json()) as { status: string };
      return j.status === 'SUCCEEDED' || j.status === 'FAILED' ? (j as Record<string, unknown>) : null;
    },
    30_000,
    'import job to finish',
  );
}

const MAX_BYTES = 64 * 1024;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-import-'));
const importsDir = path.join(dataDir, 'imports');
const filesIn = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir) : []);

describe('bulk import', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY, DATA_DIR: dataDir, IMPORT_MAX_BYTES: String(MAX_BYTES) });
  });
  afterAll(async () => {
    await gw?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps good rows, reports bad rows with line, field and reason, and re-imports without duplicates', async () => {
    const res = await postImport(gw, GOOD_AND_BAD, 'text/csv', 'csv');
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    const job = await finished(gw, jobId);
    expect(job).toMatchObject({ status: 'SUCCEEDED', rowsDone: 7, rowsFailed: 4, rowsOk: 3 });
    const errors = job.errors as { line: number; field: string; reason: string }[];
    expect(errors.map((e) => [e.line, e.field])).toEqual([
      [3, 'full_name'],
      [4, 'phone'],
      [5, 'due_date'],
      [7, 'amount'],
    ]);
    expect(errors.every((e) => e.reason.length > 3)).toBe(true);
    // The uploaded file is kept only while the job runs.
    await eventually(() => filesIn(importsDir).length === 0, 5_000, 'the uploaded file to be removed');

    const db = gw.ctx.db;
    const ada = await db.debtor.findUniqueOrThrow({
      where: { externalRef: 'D-1' },
      include: { contactPoints: { include: { consents: true } }, debts: true },
    });
    expect(ada.jurisdiction).toBe('US-CA');
    const phone = ada.contactPoints.find((c) => c.kind === 'PHONE')!;
    expect(phone.value).toBe('+14155552671'); // national number normalised with the address country
    expect(phone.consents.find((c) => c.channel === 'SMS')?.state).toBe('GRANTED');
    expect(ada.contactPoints.find((c) => c.kind === 'EMAIL')!.value).toBe('ada@example.com');
    expect(ada.contactPoints.find((c) => c.kind === 'ADDRESS')!.value).toBe('1 main st, san francisco, ca, 94105, us');
    expect(ada.debts.map((d) => [d.externalRef, d.balance.toFixed(2)]).sort()).toEqual([
      ['INV-1', '120.50'],
      ['INV-7', '30.00'],
    ]);
    const eve = await db.debtor.findUniqueOrThrow({ where: { externalRef: 'D-5' }, include: { debts: true } });
    expect(eve.fullName).toBe('Eve, Jr.');
    expect(eve.jurisdiction).toBe('GB');
    expect(eve.debts[0]!.currency).toBe('GBP');
    expect(await db.debtor.count({ where: { externalRef: { in: ['D-2', 'D-3', 'D-4', 'D-6'] } } })).toBe(0);

    // A debtor opted out by text since: a re-import saying "yes" must not re-grant it.
    const sms = phone.consents.find((c) => c.channel === 'SMS')!;
    await db.channelConsent.update({ where: { id: sms.id }, data: { state: 'REVOKED', source: 'sms:STOP' } });
    // A payment recorded since: a re-import without a balance column keeps it.
    await db.debt.updateMany({ where: { externalRef: 'INV-1' }, data: { balance: '20.50' } });

    const before = {
      debtors: await db.debtor.count(),
      points: await db.contactPoint.count(),
      debts: await db.debt.count(),
      creditors: await db.creditor.count(),
      consents: await db.channelConsent.count(),
    };
    const again = await postImport(gw, GOOD_AND_BAD, 'text/csv');
    expect(again.status).toBe(202);
    const job2 = await finished(gw, ((await again.json()) as { jobId: string }).jobId);
    expect(job2).toMatchObject({ status: 'SUCCEEDED', rowsDone: 7, rowsFailed: 4 });
    const after = {
      debtors: await db.debtor.count(),
      points: await db.contactPoint.count(),
      debts: await db.debt.count(),
      creditors: await db.creditor.count(),
      consents: await db.channelConsent.count(),
    };
    expect(after).toEqual(before);
    expect((await db.channelConsent.findUniqueOrThrow({ where: { id: sms.id } })).state).toBe('REVOKED');
    expect((await db.debt.findFirstOrThrow({ where: { externalRef: 'INV-1' } })).balance.toFixed(2)).toBe('20.50');
  });

  it('imports NDJSON with line numbers and a JSON array with element numbers', async () => {
    const ndjson = [
      JSON.stringify({
        debtor_external_ref: 'J-1',
        full_name: 'Jay',
        email: 'jay@example.com',
        creditor_ref: 'ACME',
        debt_ref: 'J-INV-1',
        amount: 50,
        currency: 'usd',
        due_date: '2026-02-02',
      }),
      '',
      '{"debtor_external_ref": "J-2", broken',
      JSON.stringify({
        debtor_external_ref: 'J-3',
        full_name: 'Kay',
        phone: '+919876543210',
        phone_consent_sms: true,
        preferred_channels: 'sms;email',
      }),
      JSON.stringify({ debtor_external_ref: 'J-4', full_name: 'Lee', currency: 'USD' }),
    ].join('\n');
    const res = await postImport(gw, ndjson, 'application/x-ndjson');
    expect(res.status).toBe(202);
    const job = await finished(gw, ((await res.json()) as { jobId: string }).jobId);
    expect(job).toMatchObject({ status: 'SUCCEEDED', rowsDone: 4, rowsFailed: 2 });
    const errs = job.errors as { line: number; field: string }[];
    expect(errs[0]).toMatchObject({ line: 3, field: '(row)' });
    expect(
      errs
        .filter((e) => e.line === 5)
        .map((e) => e.field)
        .sort(),
    ).toEqual(['amount', 'creditor_ref', 'debt_ref', 'due_date']);
    const kay = await gw.ctx.db.debtor.findUniqueOrThrow({
      where: { externalRef: 'J-3' },
      include: { preferences: true },
    });
    expect(kay.jurisdiction).toBe('IN');
    expect(kay.preferences?.channelOrder).toEqual(['SMS', 'EMAIL']);

    const array = JSON.stringify(
      [
        { debtor_external_ref: 'A-1', full_name: 'Arr One', email: 'one@example.com' },
        { debtor_external_ref: 'A-2', full_name: 'Arr Two', email: 'not-an-email' },
        'not an object',
      ],
      null,
      2,
    );
    const res2 = await postImport(gw, array, 'application/octet-stream', 'json');
    const job2 = await finished(gw, ((await res2.json()) as { jobId: string }).jobId);
    expect(job2).toMatchObject({ status: 'SUCCEEDED', rowsDone: 3, rowsFailed: 2 });
    expect((job2.errors as { line: number; field: string }[]).map((e) => [e.line, e.field])).toEqual([
      [2, 'email'],
      [3, '(row)'],
    ]);
  });

  it('is admin only and requires a format', async () => {
    expect(
      (
        await fetch(`${gw.url}/api/v1/imports?format=csv`, {
          method: 'POST',
          headers: { 'content-type': 'text/csv' },
          body: HEADER,
        })
      ).status,
    ).toBe(401);
    const r = await postImport(gw, HEADER, 'application/octet-stream');
    expect(r.status).toBe(400);
    expect(((await r.json()) as { details: { field: string }[] }).details[0]!.field).toBe('format');
  });

  it('refuses a file over IMPORT_MAX_BYTES with 413 naming the limit, and keeps nothing of it', async () => {
    const jobsBefore = await gw.ctx.db.importJob.count();
    const big = `${HEADER}\n${'D-9,Big Row,en,,,,,,,,,,,,,,,\n'.repeat(Math.ceil((MAX_BYTES * 2) / 30))}`;
    // Declared length over the limit: refused before reading.
    const declared = await postImport(gw, big, 'text/csv', 'csv');
    expect(declared.status).toBe(413);
    const body = (await declared.json()) as { message: string; details: { field: string; reason: string }[] };
    expect(body.message).toContain(String(MAX_BYTES));
    expect(body.message).toContain('IMPORT_MAX_BYTES');
    // No length declared (chunked upload): cut off while streaming, the partial file removed.
    const bytes = new TextEncoder().encode(big);
    const chunked = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 8192) c.enqueue(bytes.subarray(i, i + 8192));
        c.close();
      },
    });
    const streamed = await fetch(`${gw.url}/api/v1/imports?format=csv`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/csv' },
      body: chunked,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { message: string }).message).toContain(String(MAX_BYTES));
    expect(filesIn(importsDir)).toEqual([]);
    expect(await gw.ctx.db.importJob.count()).toBe(jobsBefore);
    // Just under the limit is fine.
    const ok = await postImport(gw, `${HEADER}\nD-8,Small,en,,,,,,,,,,,,,,,\n`, 'text/csv', 'csv');
    expect(ok.status).toBe(202);
    await finished(gw, ((await ok.json()) as { jobId: string }).jobId);
  });

  it('imports 5,000 rows in batches with progress reports', async () => {
    function* rows() {
      yield `${HEADER}\n`;
      for (let i = 0; i < 5000; i++) {
        const n = String(i).padStart(5, '0');
        yield `B-${n},Bulk ${n},en,+1415555${String(i % 10000).padStart(4, '0')},yes,bulk${n}@example.com,,${i} Market St,San Francisco,CA,94105,US,BULK,Bulk Co,B-INV-${n},${(i % 900) + 100}.25,USD,2026-01-${String((i % 28) + 1).padStart(2, '0')}\n`;
      }
    }
    const progress: number[] = [];
    const summary = await importStream(gw.ctx.db, Readable.from(rows()), {
      format: 'csv',
      batchSize: 500,
      onProgress: (p) => void progress.push(p.rowsDone),
    });
    expect(summary).toMatchObject({ rowsDone: 5000, rowsFailed: 0, debtorsCreated: 5000, debtsCreated: 5000 });
    expect(progress.length).toBeGreaterThanOrEqual(10); // one report per 500-row batch
    expect(await gw.ctx.db.debt.count({ where: { creditor: { externalRef: 'BULK' } } })).toBe(5000);
  });
});
