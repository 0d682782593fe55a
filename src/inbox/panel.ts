// The debtor panel beside a thread: debts with balance and days past due,
// contact points with consent, preferences, and how much contact is still
// allowed — the router is asked, without sending, what it would do now on
// each channel, and the weekly caps are counted from the history.
import { z } from 'zod';
import { DateTime } from 'luxon';
import type { AppContext } from '../context.js';
import { defineRoutes } from '../http/api.js';
import { notFound } from '../http/errors.js';
import { createRouter, isClosedDebt, type Channel, type Decision } from '../router/index.js';
import { DEFAULT_EMAIL_CAP, DEFAULT_SMS_CAP, REG_F_CALL_CAP } from '../router/rules.js';
import { loadSnapshot } from '../outbound/snapshot.js';
import { routerIntent } from '../outbound/service.js';
import { localiseCitations } from './citations.js';

const router = createRouter();
const CHANNELS: Channel[] = ['SMS', 'EMAIL', 'VOICE', 'LETTER'];

interface Allowance {
  channel: Channel;
  outcome: Decision['outcome'];
  sendAt: string | null;
  summary: string;
  reasons: { rule: string; detail: string; until: string | null }[];
}

/** One channel's answer from the router, in the words the panel and the composer show. */
export function allowanceOf(d: Decision, channel: Channel, jurisdiction?: string | null): Allowance {
  const blocking = d.reasons.filter(
    (r) =>
      (r.channel === undefined || r.channel === channel) &&
      !['timezone.resolved', 'jurisdiction.resolved', 'channel.explicit'].includes(r.rule),
  );
  const sendAt = d.outcome === 'refuse' ? null : d.sendAt;
  let summary: string;
  if (d.outcome === 'send') summary = 'allowed now';
  else if (d.outcome === 'defer') {
    const local = d.timeZones[0] ? DateTime.fromJSDate(sendAt!).setZone(d.timeZones[0]) : null;
    summary = `not before ${local ? `${local.toFormat('ccc HH:mm')} local (${d.timeZones[0]})` : sendAt!.toISOString()}`;
  } else summary = 'not allowed';
  return {
    channel,
    outcome: d.outcome,
    sendAt: sendAt?.toISOString() ?? null,
    summary,
    reasons: blocking.map((r) => ({
      rule: r.rule,
      detail: localiseCitations(r.detail, jurisdiction),
      until: r.until?.toISOString() ?? null,
    })),
  };
}

async function panel(ctx: AppContext, debtorId: string) {
  const debtor = await ctx.db.debtor.findUnique({
    where: { id: debtorId },
    include: {
      debts: {
        include: { creditor: { select: { name: true } }, promises: { where: { status: 'ACTIVE' } } },
        orderBy: { dueDate: 'asc' },
      },
      contactPoints: { include: { consents: true }, orderBy: { createdAt: 'asc' } },
      preferences: true,
      conversation: { select: { id: true, flags: true } },
    },
  });
  if (!debtor) throw notFound('debtor');
  const now = new Date();
  const today = DateTime.utc().startOf('day');
  const weekAgo = new Date(now.getTime() - 7 * 86_400_000);
  const attempts = await ctx.db.message.findMany({
    where: {
      debtorId,
      direction: 'OUTBOUND',
      countsAsAttempt: true,
      status: { not: 'CANCELLED' },
      createdAt: { gte: weekAgo },
    },
    select: { channel: true, debtId: true },
  });
  const snapshot = await loadSnapshot(ctx.db, debtorId, now);
  const collecting = debtor.debts.filter((d) => !isClosedDebt(d.status));

  const debts = debtor.debts.map((d) => {
    const due = DateTime.fromJSDate(d.dueDate, { zone: 'utc' }).startOf('day');
    const callsUsed = attempts.filter((a) => a.channel === 'VOICE' && a.debtId === d.id).length;
    return {
      id: d.id,
      externalRef: d.externalRef,
      creditor: d.creditor.name,
      balance: d.balance.toFixed(2),
      originalAmount: d.originalAmount.toFixed(2),
      currency: d.currency,
      dueDate: d.dueDate.toISOString().slice(0, 10),
      daysPastDue: Math.max(0, Math.floor(today.diff(due, 'days').days)),
      status: d.status,
      /** Nobody collects it any more (CLOSED_DEBT_STATUSES): no promise or plan can be recorded on it. */
      closed: isClosedDebt(d.status),
      restrictions: d.restrictions,
      timeBarred: d.timeBarred,
      activePromises: d.promises
        .sort((a, b) => a.dueDate.getTime() - b.dueDate.getTime())
        .map((p) => ({
          id: p.id,
          amount: p.amount.toFixed(2),
          dueDate: p.dueDate.toISOString().slice(0, 10),
          planId: p.planId,
        })),
      callsLeftThisWeek: Math.max(0, REG_F_CALL_CAP.max - callsUsed),
      callsSummary: `calls: ${Math.max(0, REG_F_CALL_CAP.max - callsUsed)} of ${REG_F_CALL_CAP.max} left this week for debt ${d.externalRef}`,
    };
  });

  const smsUsed = attempts.filter((a) => a.channel === 'SMS').length;
  const emailUsed = attempts.filter((a) => a.channel === 'EMAIL').length;
  const caps = [
    `texts: ${Math.max(0, DEFAULT_SMS_CAP.max - smsUsed)} of ${DEFAULT_SMS_CAP.max} left this week`,
    `emails: ${Math.max(0, DEFAULT_EMAIL_CAP.max - emailUsed)} of ${DEFAULT_EMAIL_CAP.max} left this week`,
    ...debts.filter((d) => !d.closed).map((d) => d.callsSummary),
  ];

  // What the router would do right now for a reminder about the first debt still being collected.
  const focus = collecting[0] ?? debtor.debts[0];
  const allowance =
    focus && snapshot
      ? CHANNELS.map((channel) =>
          allowanceOf(
            router.decide({ debtorId, debtId: focus.id, intent: routerIntent('friendly-reminder'), channel }, snapshot),
            channel,
            debtor.jurisdiction,
          ),
        )
      : [];

  return {
    debtor: {
      id: debtor.id,
      fullName: debtor.fullName,
      locale: debtor.locale,
      jurisdiction: debtor.jurisdiction,
      timeZone: debtor.timeZone,
      restrictions: debtor.restrictions,
      tags: debtor.tags,
    },
    flags: debtor.conversation?.flags ?? [],
    debts,
    contactPoints: debtor.contactPoints.map((cp) => ({
      id: cp.id,
      kind: cp.kind,
      value: cp.value,
      label: cp.label,
      isMobile: cp.isMobile,
      isWork: cp.isWork,
      valid: cp.valid,
      invalidReason: cp.invalidReason,
      city: cp.city,
      region: cp.region,
      country: cp.country,
      consents: Object.fromEntries(
        cp.consents.map((c) => [c.channel, { state: c.state, source: c.source, changedAt: c.changedAt.toISOString() }]),
      ),
    })),
    preferences: debtor.preferences
      ? {
          channelOrder: debtor.preferences.channelOrder,
          inconvenientTimes: debtor.preferences.inconvenientTimes,
          contactLimits: debtor.preferences.contactLimits,
        }
      : null,
    allowance: {
      debtId: focus?.id ?? null,
      debtRef: focus?.externalRef ?? null,
      channels: allowance,
      caps,
      explanation: allowance.length ? undefined : 'no debt to contact about',
    },
  };
}

export const panelRoutes = defineRoutes({
  method: 'get',
  path: '/api/v1/inbox/debtors/:id/panel',
  tag: 'inbox',
  roles: ['ADMIN', 'AGENT'],
  summary: 'Debtor panel: debts, contact points with consent, preferences and the contact still allowed per channel',
  responses: { 200: 'Panel', 404: 'Not found' },
  handler: async (req, res, ctx) => {
    const r = z.string().uuid().safeParse(req.params.id);
    if (!r.success) throw notFound('debtor');
    res.json(await panel(ctx, r.data));
  },
});
