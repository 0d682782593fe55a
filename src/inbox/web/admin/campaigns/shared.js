// What the campaigns tab's screens share: the form's fixed choices (mirroring
// src/campaigns/schemas.ts), labels, and the summaries of a campaign's steps
// and audience.

/**
 * The form's fixed choices; they mirror src/campaigns/schemas.ts, and a drift
 * shows as the API's field error next to the input. Intents (and the channels
 * each ships on) come from GET /api/v1/templates/intents instead.
 */
export const FIXED_CHOICES = {
  channels: ['SMS', 'EMAIL', 'VOICE', 'LETTER'],
  anchors: ['ENROLLMENT', 'DUE_DATE'],
  debtStatuses: ['OPEN', 'PROMISED', 'PAYMENT_PLAN', 'DISPUTED', 'PAID', 'SETTLED', 'WRITTEN_OFF', 'CLOSED'],
  stopConditions: ['PAID', 'PROMISE', 'DISPUTE', 'CEASE', 'OPTED_OUT_ALL', 'REPLIED'],
};
/** The API applies these when stopConditions is omitted; the form starts with them ticked. */
export const DEFAULT_STOP_CONDITIONS = ['PAID', 'PROMISE', 'DISPUTE', 'CEASE', 'OPTED_OUT_ALL'];
/** Debt statuses an audience takes when none is chosen (src/campaigns/audience.ts). */
export const DEFAULT_AUDIENCE_STATUSES = 'open, promised, payment plan';

export const STOP_LABELS = {
  PAID: 'paid in full',
  PROMISE: 'active promise to pay',
  DISPUTE: 'dispute',
  CEASE: 'cease communication',
  OPTED_OUT_ALL: 'opted out of every channel',
  REPLIED: 'replied',
};
export const ANCHOR_LABELS = { ENROLLMENT: 'after enrolment', DUE_DATE: 'after the due date' };
export const CONDITIONS = [
  ['noReplySincePrevious', 'no reply'],
  ['noPaymentSincePrevious', 'no payment'],
  ['noPromiseSincePrevious', 'no promise'],
];
export const ACTIONS = {
  DRAFT: ['start', 'cancel'],
  ACTIVE: ['pause', 'cancel'],
  PAUSED: ['resume', 'cancel'],
  CANCELLED: [],
  COMPLETED: [],
};
/** Results columns per step: [results key, heading, kind]; `reasons` cells are { total, byReason }. */
export const RESULT_COLUMNS = [
  ['runs', 'Reached', 'count'],
  ['queued', 'Queued', 'count'],
  ['pending', 'Pending', 'count'],
  ['sent', 'Sent', 'count'],
  ['delivered', 'Delivered', 'count'],
  ['failed', 'Failed', 'count'],
  ['deferred', 'Deferred', 'reasons'],
  ['suppressed', 'Suppressed', 'reasons'],
  ['refused', 'Refused', 'reasons'],
  ['skipped', 'Skipped', 'reasons'],
  ['replied', 'Replied', 'count'],
  ['promised', 'Promised', 'count'],
  ['paid', 'Paid', 'count'],
];
export const DONE = { start: 'started', pause: 'paused', resume: 'resumed', cancel: 'cancelled' };
/** Results refresh this long after the last event of a burst. */
export const REFRESH_MS = 300;

/**
 * The form's choices: the fixed ones plus the template intents the server has
 * loaded, with the channels each ships on (a step on a channel without a
 * template would be refused at send time, so those options are disabled).
 */
export async function loadChoices(api) {
  const r = await api('GET', '/api/v1/templates/intents');
  const intentChannels = new Map(r.data.map((i) => [i.intent, new Set(i.channels.map((c) => c.channel))]));
  return { ...FIXED_CHOICES, intents: r.data.map((i) => i.intent), intentChannels };
}

export const listOf = (text) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
export const lower = (s) => String(s).toLowerCase().replace(/_/g, ' ');
/** A number input's value as a number; text that is not a number goes as typed, so the API names the field. */
export const numberOf = (input) => {
  const raw = input.value.trim();
  if (raw === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
};
export const reasonsText = (counted) =>
  Object.entries(counted?.byReason ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

export function stepSummary(s) {
  const when = `day ${s.offsetDays >= 0 ? '+' : ''}${s.offsetDays} ${ANCHOR_LABELS[s.anchor] ?? lower(s.anchor)}`;
  const conds = CONDITIONS.filter(([k]) => s.conditions?.[k]).map(([, label]) => label);
  return [
    `${s.position}. ${when}`,
    s.intent,
    s.channel ?? "debtor's preference",
    s.window ? `${s.window.from}–${s.window.to} local` : null,
    conds.length ? `only if ${conds.join(', ')} since the previous step` : null,
  ]
    .filter(Boolean)
    .join(' · ');
}

export function audienceSummary(a = {}) {
  const parts = [];
  const range = (r, unit = '') =>
    [r.min !== undefined ? `≥ ${r.min}${unit}` : null, r.max !== undefined ? `≤ ${r.max}${unit}` : null]
      .filter(Boolean)
      .join(' and ');
  if (a.daysPastDue) parts.push(`days past due ${range(a.daysPastDue)}`);
  if (a.balance) parts.push(`balance ${range(a.balance)}`);
  parts.push(`status ${a.status?.length ? a.status.map(lower).join(', ') : DEFAULT_AUDIENCE_STATUSES}`);
  if (a.creditorRefs?.length) parts.push(`creditors ${a.creditorRefs.join(', ')}`);
  if (a.creditorIds?.length) parts.push(`${a.creditorIds.length} creditor id(s)`);
  if (a.tags?.length) parts.push(`tags ${a.tags.join(', ')}`);
  if (a.jurisdictions?.length) parts.push(`jurisdictions ${a.jurisdictions.join(', ')}`);
  if (a.noContactDays) parts.push(`no contact in ${a.noContactDays} days`);
  return parts.join('; ');
}
