// Many conversations at once for the work-queue tests: real rows (debtor, a
// debt, a contact point, the thread and one inbound text each) written with
// one set-based statement per table, since 300 webhooks one by one would
// spend the test's time on what other tests already cover. Each debtor wrote
// `i` minutes ago (the first is the oldest waiting), so the order is known.
import type { TestGateway } from '../support/gateway.js';

export interface SeededQueue {
  conversationIds: string[];
  debtorNames: string[];
  invoiceRefs: string[];
}

export async function seedConversations(
  gw: TestGateway,
  n: number,
  opts: { prefix?: string; minutesAgoFrom?: number } = {},
): Promise<SeededQueue> {
  const prefix = opts.prefix ?? `Q${Math.random().toString(36).slice(2, 6)}`;
  const from = opts.minutesAgoFrom ?? n + 10;
  const db = gw.ctx.db;
  const [creditor] = await db.$queryRaw<{ id: string }[]>`
    INSERT INTO creditors (id, name, external_ref) VALUES (gen_random_uuid(), 'Bulk Energy', ${`bulk-${prefix}`}) RETURNING id::text`;
  const rows = await db.$queryRawUnsafe<{ conversation_id: string; full_name: string; invoice: string }[]>(
    `WITH s AS (
       SELECT i, gen_random_uuid() AS debtor_id, gen_random_uuid() AS conversation_id,
              $1 || ' Debtor ' || lpad(i::text, 4, '0') AS full_name, 'INV-' || $1 || '-' || lpad(i::text, 5, '0') AS invoice,
              now() - make_interval(mins => $3 - i) AS wrote_at,
              '+1415' || lpad((5550000 + i)::text, 7, '0') AS phone
         FROM generate_series(1, $2::int) AS i),
     d AS (INSERT INTO debtors (id, full_name, external_ref, time_zone, updated_at)
           SELECT debtor_id, full_name, 'ACC-' || $1 || '-' || i, 'America/Chicago', now() FROM s),
     t AS (INSERT INTO debts (id, creditor_id, external_ref, debtor_id, original_amount, balance, currency, due_date, updated_at)
           SELECT gen_random_uuid(), $4::uuid, invoice, debtor_id, 100 + i, 100 + i, 'USD', DATE '2026-10-01', now() FROM s),
     cp AS (INSERT INTO contact_points (id, debtor_id, kind, value, is_mobile, updated_at)
           SELECT gen_random_uuid(), debtor_id, 'PHONE', phone, true, now() FROM s),
     c AS (INSERT INTO conversations (id, debtor_id, reply_token, status, last_seq, last_activity_at, last_inbound_channel, last_inbound_at, waiting_since)
           SELECT conversation_id, debtor_id, md5(random()::text), 'OPEN', 1, wrote_at, 'SMS', wrote_at, wrote_at FROM s),
     m AS (INSERT INTO messages (id, conversation_id, debtor_id, direction, channel, status, from_address, body, created_at, updated_at)
           SELECT gen_random_uuid(), conversation_id, debtor_id, 'INBOUND', 'SMS', 'RECEIVED', phone, 'Question about ' || invoice, wrote_at, wrote_at FROM s)
     SELECT conversation_id::text, full_name, invoice FROM s ORDER BY i`,
    prefix,
    n,
    from,
    creditor!.id,
  );
  // The foreign keys are checked at the end of the statement, so the CTEs' order is free; the events table gets its first seq.
  await db.$executeRawUnsafe(
    `INSERT INTO conversation_events (conversation_id, seq, type, payload, created_at)
     SELECT c.id, 1, 'message.created', jsonb_build_object('direction', 'INBOUND', 'channel', 'SMS'), c.last_activity_at FROM conversations c WHERE c.id = ANY($1::uuid[])`,
    rows.map((r) => r.conversation_id),
  );
  return {
    conversationIds: rows.map((r) => r.conversation_id),
    debtorNames: rows.map((r) => r.full_name),
    invoiceRefs: rows.map((r) => r.invoice),
  };
}
