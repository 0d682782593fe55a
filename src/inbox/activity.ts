// Who did what in a conversation, read from the append-only audit log: the
// conversation's own entries (claims, transfers, status, snooze, flags,
// tasks) and those of its debtor, debts (promises, plans, payments) and
// contact points (consent), each with the actor's name and time, as one
// sentence an agent reads in the thread.
import type { AppContext } from '../context.js';

interface AuditRow {
  id: bigint;
  at: Date;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  data: Record<string, unknown> | null;
}

/** Shown in the thread as they are (messages and notes), so not repeated as activity. */
const SHOWN_ELSEWHERE = new Set(['note.create', 'conversation.reply', 'message.request', 'attachment.view']);

const words = (s: unknown) =>
  String(s ?? '')
    .toLowerCase()
    .replace(/_/g, ' ');
const when = (iso: unknown) =>
  typeof iso === 'string' ? new Date(iso).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '';

/** One sentence for an audit entry (without the actor, who is shown beside it). */
export function describe(action: string, d: Record<string, unknown>, names: Map<string, string>): string {
  const user = (id: unknown) => (typeof id === 'string' ? (names.get(id) ?? 'another agent') : 'nobody');
  const reason = typeof d.reason === 'string' && d.reason ? ` — “${d.reason}”` : '';
  switch (action) {
    case 'conversation.claim':
      return 'claimed the conversation';
    case 'conversation.assign':
      return `assigned it to ${user(d.to)}`;
    case 'conversation.transfer':
      return `transferred it from ${user(d.from)} to ${user(d.to)}`;
    case 'conversation.unassign':
      return `unassigned it from ${user(d.from)}`;
    case 'conversation.status':
      return d.to === 'SNOOZED'
        ? `snoozed it until ${when(d.snoozedUntil)}`
        : `set status ${words(d.from)} → ${words(d.to)}`;
    case 'conversation.reply_refused':
      return `tried to reply by ${words(d.channel)}; refused (${(d.rules as string[] | undefined)?.join(', ') ?? 'contact rules'})`;
    case 'conversation.link':
      return 'linked the conversation to this debtor';
    case 'conversation.flag_remove':
      return `cleared the flag ${words(d.flag)}${reason}`;
    case 'conversation.flag_add':
      return `flagged ${words(d.flag)}${reason}`;
    case 'debtor.restrict':
      return `restricted contact: ${words(d.restriction)}${d.messageId ? ' (read from a reply)' : ''}${reason}`;
    case 'debtor.unrestrict':
      return `lifted the restriction ${words(d.restriction)}${reason}`;
    case 'debtor.update':
      return `updated the debtor (${(d.changed as string[] | undefined)?.join(', ') ?? 'details'})`;
    case 'consent.revoke':
      return `${words(d.channel)} consent revoked (${String(d.source ?? 'request')})`;
    case 'consent.grant':
      return `${words(d.channel)} consent set to ${words(d.state)}`;
    case 'consent.change':
      return `changed consent: ${Object.entries((d.consents as Record<string, string>) ?? {})
        .map(([ch, st]) => `${words(ch)} ${words(st)}`)
        .join(', ')}`;
    case 'contact_point.invalidate':
      return `marked a contact point invalid (${words(d.reason)})`;
    case 'promise.create':
      return d.planId
        ? `plan instalment of ${d.amount} due ${d.dueDate}`
        : `recorded a promise to pay ${d.amount} by ${d.dueDate}`;
    case 'payment_plan.create':
      return `set up a payment plan of ${d.instalments} instalments (total ${d.total})`;
    case 'payment.record':
      return `payment of ${d.amount} ${d.currency ?? ''} received; balance ${d.balanceBefore} → ${d.balanceAfter}${d.paidInFull ? ' (paid in full)' : ''}`;
    case 'debtor.create':
      return 'added the debtor';
    case 'debt.create':
      return 'added the debt';
    case 'contact_point.create':
      return `added a contact point (${words(d.kind)})`;
    case 'attachment.view':
      return d.download ? 'downloaded an attachment' : 'opened an attachment';
    case 'debt.update':
      return `updated the debt${d.status ? `: status ${words(d.status)}` : ''}`;
    case 'task.create':
      return `callback requested (${String(d.source ?? '')}), due ${when(d.dueAt)}`;
    case 'task.done':
      return 'marked the callback done';
    default:
      return action.replace(/[._]/g, ' ');
  }
}

/** Actors without a user or key row of their own. */
const ACTOR_NAMES: Record<string, string> = { system: 'the gateway', admin_env: 'the admin API key' };

export interface Activity {
  id: string;
  at: string;
  action: string;
  actor: { type: string; name: string };
  text: string;
}

/** The activity of one conversation (oldest first), up to `limit` entries. */
export async function activityOf(
  ctx: AppContext,
  c: { id: string; debtorId: string | null },
  limit = 500,
): Promise<Activity[]> {
  const [debts, cps] = c.debtorId
    ? await Promise.all([
        ctx.db.debt.findMany({ where: { debtorId: c.debtorId }, select: { id: true } }),
        ctx.db.contactPoint.findMany({ where: { debtorId: c.debtorId }, select: { id: true } }),
      ])
    : [[], []];
  const rows = await ctx.db.$queryRaw<AuditRow[]>`
    SELECT a.id, a.at, a.actor_type, a.actor_id, COALESCE(u.name, k.name) AS actor_name, a.action, a.entity_type, a.entity_id, a.data
      FROM audit_events a
      LEFT JOIN users u ON a.actor_type = 'user' AND u.id::text = a.actor_id
      LEFT JOIN api_keys k ON a.actor_type = 'api_key' AND k.id::text = a.actor_id
     WHERE (a.entity_type = 'conversation' AND a.entity_id = ${c.id})
        OR (a.entity_type = 'debtor' AND a.entity_id = ${c.debtorId ?? ''})
        OR (a.entity_type = 'debt' AND a.entity_id = ANY(${debts.map((d) => d.id)}::text[]))
        OR (a.entity_type = 'contact_point' AND a.entity_id = ANY(${cps.map((d) => d.id)}::text[]))
     ORDER BY a.at ASC, a.id ASC
     LIMIT ${limit}`;
  const ids = new Set<string>();
  for (const r of rows)
    for (const k of ['to', 'from']) if (typeof r.data?.[k] === 'string') ids.add(r.data[k] as string);
  const users = ids.size
    ? await ctx.db.user.findMany({
        where: { id: { in: [...ids].filter((x) => /^[0-9a-f-]{36}$/i.test(x)) } },
        select: { id: true, name: true },
      })
    : [];
  const names = new Map(users.map((u) => [u.id, u.name]));
  return rows
    .filter((r) => !SHOWN_ELSEWHERE.has(r.action))
    .map((r) => ({
      id: String(r.id),
      at: r.at.toISOString(),
      action: r.action,
      actor: {
        type: r.actor_type,
        name:
          r.actor_name ??
          ACTOR_NAMES[r.actor_type] ??
          (r.actor_type === 'provider' ? `provider ${r.actor_id ?? ''}`.trim() : 'someone'),
      },
      text: describe(r.action, r.data ?? {}, names),
    }));
}
