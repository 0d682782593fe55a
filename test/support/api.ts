// Small helpers for driving the real HTTP API in tests.
import { eventually, type TestGateway } from './gateway.js';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export function api(gw: { url: string }, key = ADMIN_KEY) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  };
  return {
    get: (p: string) => call('GET', p),
    post: (p: string, b?: unknown, h?: Record<string, string>) => call('POST', p, b ?? {}, h),
    patch: (p: string, b: unknown) => call('PATCH', p, b),
    put: (p: string, b: unknown) => call('PUT', p, b),
    delete: (p: string) => call('DELETE', p),
  };
}

export interface SeededDebtor {
  debtorId: string;
  debtId: string;
  phoneId?: string;
  emailId?: string;
  addressId?: string;
}

const ZONES = [
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'Pacific/Honolulu',
  'Pacific/Pago_Pago',
  'Pacific/Auckland',
  'Asia/Tokyo',
  'Asia/Shanghai',
  'Asia/Dubai',
  'Europe/Berlin',
  'Europe/London',
  'Atlantic/Azores',
  'America/Sao_Paulo',
];

/** A time zone where it is now between 10:00 and 17:00, so sends are not deferred by quiet hours whatever the wall clock. */
export function middayZone(now = new Date()): string {
  for (const tz of ZONES) {
    const h = Number(new Intl.DateTimeFormat('en-US', { timeZone: tz, hour: 'numeric', hourCycle: 'h23' }).format(now));
    if (h >= 10 && h < 17) return tz;
  }
  throw new Error('no midday zone found');
}

/** A US debtor in Chicago with a consenting mobile, an email and a postal address. */
export async function seedDebtor(
  gw: TestGateway | { url: string },
  overrides: Record<string, unknown> = {},
  debt: Record<string, unknown> = {},
): Promise<SeededDebtor> {
  const a = api(gw);
  const suffix = Math.random().toString(36).slice(2, 8);
  const d = await a.post('/api/v1/debtors', {
    fullName: 'Jordan Rivera',
    timeZone: middayZone(),
    externalRef: `D-${suffix}`,
    contactPoints: [
      {
        kind: 'PHONE',
        value: `+1312555${String(Math.floor(1000 + Math.random() * 8999))}`,
        isMobile: true,
        consents: { SMS: 'GRANTED', VOICE: 'GRANTED' },
      },
      { kind: 'EMAIL', value: `jordan.${suffix}@example.net` },
      { kind: 'ADDRESS', line1: '233 S Wacker Dr', city: 'Chicago', region: 'IL', postalCode: '60606', country: 'US' },
    ],
    ...overrides,
  });
  if (d.status !== 201) throw new Error(`seed debtor failed: ${d.status} ${JSON.stringify(d.body)}`);
  const t = await a.post('/api/v1/debts', {
    externalRef: `INV-${suffix}`,
    creditor: { externalRef: 'acme', name: 'Acme Utilities' },
    debtorId: d.body.id,
    originalAmount: '1250.00',
    currency: 'USD',
    dueDate: '2026-10-01',
    ...debt,
  });
  if (t.status !== 201) throw new Error(`seed debt failed: ${t.status} ${JSON.stringify(t.body)}`);
  const cps = d.body.contactPoints as { id: string; kind: string }[];
  return {
    debtorId: d.body.id,
    debtId: t.body.id,
    phoneId: cps.find((c) => c.kind === 'PHONE')?.id,
    emailId: cps.find((c) => c.kind === 'EMAIL')?.id,
    addressId: cps.find((c) => c.kind === 'ADDRESS')?.id,
  };
}

/**
 * Outreach through the API and its messages as the API shows them: `send`
 * returns the new message's id (throwing unless 202), `waitStatus` waits until
 * the message is in one of `statuses`. `gw` is read at each call (set in beforeAll).
 */
export function outreach(gw: () => { url: string }) {
  const message = async (id: string) => (await api(gw()).get(`/api/v1/messages/${id}`)).body;
  return {
    message,
    waitStatus: (id: string, statuses: string[]) =>
      eventually(
        async () => {
          const m = await message(id);
          return statuses.includes(m.status) ? m : null;
        },
        20_000,
        statuses.join('/'),
      ),
    send: async (body: Record<string, unknown>) => {
      const r = await api(gw()).post('/api/v1/outreach', body);
      if (r.status !== 202) throw new Error(`outreach ${r.status}: ${JSON.stringify(r.body).slice(0, 800)}`);
      return r.body.messageId as string;
    },
  };
}
