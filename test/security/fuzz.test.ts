// Malformed requests for every operation of the OpenAPI document the gateway
// serves (GET /api/openapi.json), and not one 5xx. Derived from the document,
// so a new route is fuzzed the day it is declared. For each operation: every
// path parameter malformed (not a UUID, %00, ../, undecodable %, huge), every
// query parameter wrong (wrong type, out of range, NUL, lone surrogate, huge,
// repeated, not in its enum), and the body: each property missing, of the
// wrong type, NUL, a lone surrogate, a non-character, huge, out of range,
// nested objects' properties likewise, and the whole body empty, an array,
// null, invalid JSON and of the wrong content type. Deterministic (a seeded
// generator, a fixed budget) and bounded (a few thousand requests, a few at
// a time).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestGateway, type TestGateway } from '../support/gateway.js';
import { ADMIN_KEY, api } from '../support/api.js';

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  default?: unknown;
  additionalProperties?: Schema | boolean;
};
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

const SEED = 0x5ec21;
/** Requests per operation at most (the mutations beyond it are sampled by the seeded generator). */
const PER_OPERATION = 40;
const CONCURRENCY = 4;

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HUGE = 'x'.repeat(100_000);
const NUL = 'a\u0000b';
const LONE = 'a\ud800b';
const NONCHAR = 'a\uffffb';
const uuidOf = (rand: () => number) => {
  const h = () => Math.floor(rand() * 16).toString(16);
  const s = Array.from({ length: 32 }, h).join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-8${s.slice(17, 20)}-${s.slice(20, 32)}`;
};

/** First alternative of a union; the schema itself otherwise. */
const pick = (s: Schema): Schema => s.anyOf?.find((x) => x.type !== 'null') ?? s.oneOf?.[0] ?? s.allOf?.[0] ?? s;
const typeOf = (s: Schema) => (Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type);

/** A value the schema would accept, as far as a document can tell (formats and patterns approximated). */
function sample(schema: Schema, rand: () => number, depth = 0): unknown {
  const s = pick(schema);
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  if (s.default !== undefined) return s.default;
  switch (typeOf(s)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {}))
        if ((s.required ?? []).includes(k) && depth < 4) out[k] = sample(v, rand, depth + 1);
      return out;
    }
    case 'array':
      return s.minItems ? Array.from({ length: s.minItems }, () => sample(s.items ?? {}, rand, depth + 1)) : [];
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return true;
    case 'string':
      if (s.format === 'uuid') return uuidOf(rand);
      if (s.format === 'uri') return 'https://example.com/x';
      if (s.format === 'email') return 'fuzz@example.com';
      if (s.format === 'date-time') return '2030-01-01T00:00:00Z';
      if (s.format === 'date') return '2030-01-01';
      return 'x'.repeat(Math.max(1, s.minLength ?? 1));
    default:
      return 'x';
  }
}

/** Values of the wrong kind, or of the right kind but hostile, for one field. */
function badValues(schema: Schema): unknown[] {
  const s = pick(schema);
  const t = typeOf(s);
  const common: unknown[] = [null, NUL, LONE, NONCHAR, HUGE, { $ne: 1 }, ['x']];
  if (t === 'integer' || t === 'number') return [...common, -1, 1e308, -1e308, 2 ** 53 + 1, 0.5, '12', 'NaN', true];
  if (t === 'boolean') return [...common, 'true', 1, 0];
  if (t === 'array') return [...common, 'x', Array.from({ length: 1000 }, () => NUL), [null], [HUGE], [{}]];
  if (t === 'object') return [...common, 'x', 1, [], { [NUL]: 1 }];
  return [
    ...common,
    1,
    true,
    {},
    '',
    ' ',
    '../../etc/passwd',
    '%00',
    '<script>alert(1)</script>',
    "' OR 1=1 --",
    'مرحبا 👋',
  ];
}

interface Probe {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** Every property path of the body schema, one level of nesting deep (array items included). */
function fieldPaths(
  schema: Schema,
  prefix: string[] = [],
  depth = 0,
): { path: string[]; schema: Schema; required: boolean }[] {
  const s = pick(schema);
  const out: { path: string[]; schema: Schema; required: boolean }[] = [];
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    out.push({ path: [...prefix, k], schema: v, required: (s.required ?? []).includes(k) });
    const inner = pick(v);
    if (depth < 1 && typeOf(inner) === 'object') out.push(...fieldPaths(inner, [...prefix, k], depth + 1));
    if (depth < 1 && typeOf(inner) === 'array' && inner.items && typeOf(pick(inner.items)) === 'object')
      out.push(...fieldPaths(inner.items, [...prefix, k, '0'], depth + 1));
  }
  return out;
}

function withValue(base: unknown, path: string[], value: unknown, remove = false): unknown {
  const copy = structuredClone(base) as Record<string, unknown>;
  let cur: Record<string, unknown> = copy;
  for (const [i, key] of path.entries()) {
    if (i === path.length - 1) {
      if (remove) delete cur[key];
      else cur[key] = value;
      break;
    }
    if (cur[key] === undefined || cur[key] === null || typeof cur[key] !== 'object')
      cur[key] = /^\d+$/.test(path[i + 1]!) ? [] : {};
    cur = cur[key] as Record<string, unknown>;
  }
  return copy;
}

function probesFor(
  method: string,
  template: string,
  op: Operation,
  ids: Record<string, string>,
  rand: () => number,
): Probe[] {
  const auth = { authorization: `Bearer ${ADMIN_KEY}` };
  const json = { ...auth, 'content-type': 'application/json' };
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query');
  // The real row where the fixture has one (so a mutation reaches the handler's deeper code), else a random UUID.
  const idFor = (name: string) => {
    const resource =
      template
        .split('/')
        .slice(0, template.split('/').indexOf(`{${name}}`))
        .pop() ?? '';
    return ids[resource] ?? uuidOf(rand);
  };
  const fill = (overrides: Record<string, string> = {}) =>
    template.replace(/\{(\w+)\}/g, (_m, name: string) => overrides[name] ?? idFor(name));
  const bodySchema = op.requestBody?.content['application/json']?.schema;
  const validBody = bodySchema ? sample(bodySchema, rand) : undefined;
  const bodyText = (v: unknown) => JSON.stringify(v);
  const probes: Probe[] = [];
  const add = (label: string, path: string, headers: Record<string, string>, body?: string | Buffer) =>
    probes.push({ label, method: method.toUpperCase(), path, headers, body });

  add('as declared', fill(), bodySchema ? json : auth, bodySchema ? bodyText(validBody) : undefined);
  for (const p of pathParams) {
    for (const v of [
      'not-a-uuid',
      '%00',
      '..%2F..%2Fetc%2Fpasswd',
      '%E0%A4%A',
      '%ED%A0%80',
      'x'.repeat(5000),
      "1'%20OR%20'1'='1",
      '00000000-0000-0000-0000-000000000000',
    ]) {
      add(
        `path ${p.name}=${v.slice(0, 20)}`,
        fill({ [p.name]: v }),
        bodySchema ? json : auth,
        bodySchema ? bodyText(validBody) : undefined,
      );
    }
  }
  for (const p of queryParams) {
    const s = pick(p.schema ?? {});
    const values = [
      encodeURIComponent(NUL),
      'a%ED%A0%80b',
      '%FF',
      encodeURIComponent(HUGE.slice(0, 20_000)),
      'abc',
      '-1',
      '1e309',
      '99999999999999999999999',
      '',
      'null',
      '%25',
      '_',
    ];
    if (s.enum) values.push('NOT_IN_ENUM');
    for (const v of values)
      add(`query ${p.name}=${v.slice(0, 20)}`, `${fill()}?${encodeURIComponent(p.name)}=${v}`, auth);
    add(`query ${p.name} repeated`, `${fill()}?${p.name}=a&${p.name}=b&${p.name}[x]=c`, auth);
  }
  if (bodySchema) {
    for (const f of fieldPaths(bodySchema)) {
      const label = f.path.join('.');
      if (f.required)
        add(`body ${label} missing`, fill(), json, bodyText(withValue(validBody, f.path, undefined, true)));
      for (const v of badValues(f.schema))
        add(
          `body ${label}=${JSON.stringify(v)?.slice(0, 24)}`,
          fill(),
          json,
          bodyText(withValue(validBody, f.path, v)),
        );
    }
    add('body empty', fill(), json, '');
    add('body null', fill(), json, 'null');
    add('body array', fill(), json, '[1,2]');
    add('body number', fill(), json, '42');
    add('body invalid JSON', fill(), json, '{"a": ');
    add('body invalid UTF-8', fill(), json, Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    add('body text/plain', fill(), { ...auth, 'content-type': 'text/plain' }, 'hello');
    add('body form', fill(), { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, 'a=%00&b[c]=d');
    add('body xml', fill(), { ...auth, 'content-type': 'application/xml' }, '<?xml version="1.0"?><a/>');
    add(
      'body multipart',
      fill(),
      { ...auth, 'content-type': 'multipart/form-data; boundary=x' },
      '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--',
    );
    add('body charset', fill(), { ...auth, 'content-type': 'application/json; charset=koi8-r' }, '{}');
  } else if (method !== 'get' && method !== 'delete') {
    add('unexpected body', fill(), json, bodyText({ unexpected: NUL }));
  }
  // Over budget: keep the declared request and a seeded sample of the rest.
  if (probes.length <= PER_OPERATION) return probes;
  const [first, ...rest] = probes;
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  return [first!, ...rest.slice(0, PER_OPERATION - 1)];
}

describe('fuzzing every operation of the OpenAPI document', () => {
  let gw: TestGateway;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    gw = await startTestGateway({ ADMIN_API_KEY: ADMIN_KEY });
    // Real rows, so mutations of a request for an existing resource reach past the lookup.
    const d = await api(gw).post('/api/v1/debtors', {
      externalRef: 'FUZZ-1',
      fullName: 'Fuzz Debtor',
      contactPoints: [{ kind: 'EMAIL', value: 'fuzz@example.com', consents: { EMAIL: 'GRANTED' } }],
    });
    ids.debtors = d.body.id;
    ids['contact-points'] = d.body.contactPoints[0].id;
    const debt = await api(gw).post('/api/v1/debts', {
      externalRef: 'FUZZ-INV-1',
      creditor: { externalRef: 'FUZZ-C', name: 'Fuzz Creditor' },
      debtorId: d.body.id,
      originalAmount: '100.00',
      currency: 'USD',
      dueDate: '2026-01-01',
    });
    ids.debts = debt.body.id;
    const user = await api(gw).post('/api/v1/users', { email: 'fuzz.user@team.example', name: 'Fuzz User' });
    ids.users = user.body.user.id;
    const conversation = await gw.ctx.db.conversation.create({
      data: { debtorId: d.body.id, replyToken: 'fuzz-reply-token' },
    });
    ids.conversations = conversation.id;
    const sub = await gw.ctx.db.webhookSubscription.create({
      data: { url: 'https://hooks.example/fuzz', secret: 'x'.repeat(32), events: ['*'], active: false },
    });
    ids['webhook-subscriptions'] = sub.id;
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('answers no malformed request with a 5xx', async () => {
    const doc = (await (await fetch(`${gw.url}/api/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const rand = mulberry32(SEED);
    const probes: Probe[] = [];
    const operations = Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.entries(ops).map(([m, op]) => ({ p, m, op })),
    );
    // Reads first, then the rest, each in document order: a deterministic sequence.
    operations.sort((a, b) => Number(a.m !== 'get') - Number(b.m !== 'get'));
    for (const { p, m, op } of operations) probes.push(...probesFor(m, p, op, ids, rand));
    expect(operations.length).toBeGreaterThan(40);

    const failures: string[] = [];
    const statuses: Record<number, number> = {};
    let next = 0;
    const worker = async () => {
      while (next < probes.length) {
        const probe = probes[next++]!;
        const res = await fetch(`${gw.url}${probe.path}`, {
          method: probe.method,
          headers: probe.headers,
          body: typeof probe.body === 'string' || probe.body === undefined ? probe.body : new Uint8Array(probe.body),
          redirect: 'manual',
        }).catch((err: Error) => ({ status: 599, text: async () => err.message }));
        const text = await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status >= 500)
          failures.push(
            `${probe.method} ${probe.path.slice(0, 120)} [${probe.label}] → ${res.status} ${text.slice(0, 200)}`,
          );
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    if (process.env.FUZZ_STATS)
      process.stdout.write(
        `${operations.length} operations, ${probes.length} requests, statuses ${JSON.stringify(statuses)}\n`,
      );
    expect(probes.length).toBeGreaterThan(1000);
    expect(failures).toEqual([]);
  }, 120_000);
});
