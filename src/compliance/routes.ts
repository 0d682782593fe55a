// REST: the facts a collector must be able to record (docs/domain.md §2): who collects
// (creditor roles), contact made outside the gateway (imported history, an agent's call log),
// direct prior consent to more calls, attorney representation and UK Breathing Space.
// Each is counted by the router from the next decision on; restrictions take effect at once.
import type { Express } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { defineRoutes, mountRoutes } from '../http/api.js';
import { HttpError, notFound } from '../http/errors.js';
import { creditorKind, isoDateTime, uuid } from '../api/schemas.js';
import { restrictionsChanged } from '../messaging/restrictions.js';
import { moratoriumEnd } from './moratoria.js';
import {
  CONTACT_KINDS,
  CALL_OUTCOMES,
  channelOfKind,
  recordContactHistory,
  serializeContactHistory,
} from './history.js';

const idOf = (v: unknown, what: string) => {
  const id = String(v);
  if (!uuid.safeParse(id).success) throw notFound(what);
  return id;
};
const text = (max: number) => z.string().trim().min(1, 'is required').max(max);

export const contactHistoryEntry = z
  .strictObject({
    /** null/absent: about every debt of the debtor (counted against each). */
    debtId: uuid.nullable().optional(),
    kind: z.enum(CONTACT_KINDS),
    /** Calls: connected, voicemail, no_answer, busy, failed (only connected and voicemail count as attempts). */
    outcome: z.enum(CALL_OUTCOMES).optional(),
    channel: z.enum(['SMS', 'EMAIL', 'VOICE', 'LETTER']).optional(),
    direction: z.enum(['OUTBOUND', 'INBOUND']).optional(),
    occurredAt: isoDateTime,
    externalRef: text(100).optional(),
    note: text(1000).optional(),
  })
  .superRefine((e, c) => {
    if (e.kind === 'call' && !e.outcome)
      c.addIssue({
        code: 'custom',
        path: ['outcome'],
        message: 'a call needs its outcome: connected, voicemail, no_answer, busy or failed',
      });
    if (e.kind !== 'call' && e.outcome)
      c.addIssue({ code: 'custom', path: ['outcome'], message: 'only a call has an outcome' });
    if (e.channel && e.channel !== channelOfKind(e.kind))
      c.addIssue({ code: 'custom', path: ['channel'], message: `a ${e.kind} is on ${channelOfKind(e.kind)}` });
  });

const attorneyInput = z.strictObject({
  debtId: uuid.nullable().optional(),
  name: text(200),
  firm: text(200).optional(),
  address: z
    .strictObject({
      line1: text(64),
      line2: text(64).optional(),
      city: text(64),
      region: text(64).optional(),
      postalCode: text(12),
      country: z.string().regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code like US'),
    })
    .optional(),
  phone: text(40).optional(),
  email: z.email('must be an email address').max(254).optional(),
  status: z.enum(['REPRESENTING', 'CONSENTED', 'UNRESPONSIVE', 'ENDED']).optional(),
});

export const complianceRoutes = defineRoutes(
  {
    method: 'get',
    path: '/api/v1/creditors',
    tag: 'creditors',
    summary: 'List creditors with their role (first-party creditor or collection agency)',
    responses: { 200: 'Creditors' },
    handler: async (_req, res, ctx) => {
      const rows = await ctx.db.creditor.findMany({ orderBy: { createdAt: 'asc' }, take: 1000 });
      res.json({
        data: rows.map((c) => ({
          id: c.id,
          externalRef: c.externalRef,
          name: c.name,
          kind: c.kind,
          createdAt: c.createdAt,
        })),
      });
    },
  },
  {
    method: 'patch',
    path: '/api/v1/creditors/:id',
    tag: 'creditors',
    roles: ['ADMIN'],
    summary:
      "Set a creditor's role: FIRST_PARTY (collects its own invoices in its own name: no debt-collector disclosure) or AGENCY",
    body: z.strictObject({ kind: creditorKind.optional(), name: text(200).optional() }),
    responses: { 200: 'Updated', 400: 'Invalid input', 403: 'Admins only', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = idOf(req.params.id, 'creditor');
      const c = await ctx.db.$transaction(async (tx) => {
        const before = await tx.creditor.findUnique({ where: { id } });
        if (!before) throw notFound('creditor');
        const after = await tx.creditor.update({ where: { id }, data: req.valid.body });
        await audit(
          tx,
          req.principal!,
          {
            action: 'creditor.update',
            entityType: 'creditor',
            entityId: id,
            data: { kindBefore: before.kind, kind: after.kind, name: req.valid.body.name },
          },
          req,
        );
        return after;
      });
      res.json({ id: c.id, externalRef: c.externalRef, name: c.name, kind: c.kind, createdAt: c.createdAt });
    },
  },
  {
    method: 'post',
    path: '/api/v1/debtors/:id/contact-history',
    tag: 'compliance',
    summary:
      'Record contact made outside the gateway (calls with their outcome, voicemails, conversations, texts, emails, letters): counted by every limit',
    body: z.strictObject({ entries: z.array(contactHistoryEntry).min(1).max(500) }),
    responses: {
      201: 'Recorded (entries with an externalRef already recorded are returned as duplicates)',
      400: 'Invalid input',
      404: 'Debtor or debt not found',
    },
    handler: async (req, res, ctx) => {
      const debtorId = idOf(req.params.id, 'debtor');
      const source = req.principal!.type === 'user' ? 'agent' : 'api';
      const result = await recordContactHistory(ctx, debtorId, req.valid.body.entries, {
        source,
        actor: req.principal!,
        req,
      });
      res.status(201).json({ data: result.entries.map(serializeContactHistory), duplicates: result.duplicates });
    },
  },
  {
    method: 'get',
    path: '/api/v1/debtors/:id/contact-history',
    tag: 'compliance',
    summary: 'Contact made outside the gateway, newest first',
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
    responses: { 200: 'Entries', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const debtorId = idOf(req.params.id, 'debtor');
      if (!(await ctx.db.debtor.findUnique({ where: { id: debtorId }, select: { id: true } })))
        throw notFound('debtor');
      const rows = await ctx.db.contactHistory.findMany({
        where: { debtorId },
        orderBy: { occurredAt: 'desc' },
        take: req.valid.query.limit,
      });
      res.json({ data: rows.map(serializeContactHistory) });
    },
  },
  {
    method: 'post',
    path: '/api/v1/debts/:id/call-consents',
    tag: 'compliance',
    summary:
      'Record direct prior consent to more calls about a debt (Reg F §1006.14(b)(3)): calls in the next 7 days neither count toward nor are held by 7-in-7',
    body: z.strictObject({ givenAt: isoDateTime, givenBy: text(200), via: text(100).optional() }),
    responses: { 201: 'Recorded', 400: 'Invalid input', 404: 'Debt not found' },
    handler: async (req, res, ctx) => {
      const debtId = idOf(req.params.id, 'debt');
      const b = req.valid.body;
      const givenAt = new Date(b.givenAt);
      if (givenAt.getTime() > Date.now() + 5 * 60_000)
        throw new HttpError(400, 'invalid_request', 'consent cannot be given in the future', [
          { field: 'givenAt', reason: 'is in the future' },
        ]);
      const consent = await ctx.db.$transaction(async (tx) => {
        if (!(await tx.debt.findUnique({ where: { id: debtId }, select: { id: true } }))) throw notFound('debt');
        const c = await tx.callConsent.create({
          data: { debtId, givenAt, givenBy: b.givenBy, via: b.via ?? null, recordedById: req.principal!.id ?? null },
        });
        await audit(
          tx,
          req.principal!,
          {
            action: 'call_consent.record',
            entityType: 'debt',
            entityId: debtId,
            data: { consentId: c.id, givenAt: b.givenAt, givenBy: b.givenBy, via: b.via },
          },
          req,
        );
        return c;
      });
      res.status(201).json({
        id: consent.id,
        debtId,
        givenAt: consent.givenAt,
        givenBy: consent.givenBy,
        via: consent.via,
        coversCallsUntil: new Date(givenAt.getTime() + 7 * 86_400_000),
        rule: 'Reg F 12 CFR 1006.14(b)(3)',
      });
    },
  },
  {
    method: 'put',
    path: '/api/v1/debtors/:id/attorney',
    tag: 'compliance',
    summary:
      "Record the debtor's attorney for a debt (or all debts) and whether the attorney consented to direct contact or did not respond (Reg F §1006.6(b)(2))",
    body: attorneyInput,
    responses: { 200: 'Recorded', 400: 'Invalid input', 404: 'Debtor or debt not found' },
    handler: async (req, res, ctx) => {
      const debtorId = idOf(req.params.id, 'debtor');
      const b = req.valid.body;
      const a = await ctx.db.$transaction(async (tx) => {
        if (!(await tx.debtor.findUnique({ where: { id: debtorId }, select: { id: true } }))) throw notFound('debtor');
        if (b.debtId && !(await tx.debt.findFirst({ where: { id: b.debtId, debtorId }, select: { id: true } })))
          throw notFound('debt of this debtor');
        const existing = await tx.attorneyRepresentation.findFirst({
          where: { debtorId, debtId: b.debtId ?? null, status: { not: 'ENDED' } },
        });
        const data = {
          name: b.name,
          firm: b.firm ?? null,
          line1: b.address?.line1 ?? null,
          line2: b.address?.line2 ?? null,
          city: b.address?.city ?? null,
          region: b.address?.region ?? null,
          postalCode: b.address?.postalCode ?? null,
          country: b.address?.country.toUpperCase() ?? null,
          phone: b.phone ?? null,
          email: b.email?.toLowerCase() ?? null,
          status: b.status ?? 'REPRESENTING',
        } as const;
        const row = existing
          ? await tx.attorneyRepresentation.update({
              where: { id: existing.id },
              data: { ...data, ...(existing.status !== data.status ? { statusChangedAt: new Date() } : {}) },
            })
          : await tx.attorneyRepresentation.create({
              data: { debtorId, debtId: b.debtId ?? null, ...data, recordedById: req.principal!.id ?? null },
            });
        await audit(
          tx,
          req.principal!,
          {
            action: 'attorney.record',
            entityType: 'debtor',
            entityId: debtorId,
            data: { attorneyId: row.id, debtId: b.debtId ?? null, status: row.status },
          },
          req,
        );
        return row;
      });
      await restrictionsChanged(ctx, { debtorId, cause: `attorney ${a.status.toLowerCase()}` });
      res.json(serializeAttorney(a));
    },
  },
  {
    method: 'get',
    path: '/api/v1/debtors/:id/attorney',
    tag: 'compliance',
    summary: "The debtor's attorneys on record",
    responses: { 200: 'Attorneys', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const debtorId = idOf(req.params.id, 'debtor');
      const rows = await ctx.db.attorneyRepresentation.findMany({ where: { debtorId }, orderBy: { createdAt: 'asc' } });
      res.json({ data: rows.map(serializeAttorney) });
    },
  },
  {
    method: 'post',
    path: '/api/v1/debtors/:id/moratoria',
    tag: 'compliance',
    summary:
      'Record a UK Breathing Space moratorium: standard (ends by itself, 60 days) or mental health crisis (until it is ended); reminders stop at once and resume after it',
    body: z.strictObject({
      kind: z.enum(['STANDARD', 'MENTAL_HEALTH_CRISIS']),
      startsAt: isoDateTime,
      endsAt: isoDateTime.optional(),
      reference: text(100).optional(),
    }),
    responses: { 201: 'Recorded', 400: 'Invalid input', 404: 'Debtor not found' },
    handler: async (req, res, ctx) => {
      const debtorId = idOf(req.params.id, 'debtor');
      const b = req.valid.body;
      const startsAt = new Date(b.startsAt);
      const endsAt = moratoriumEnd(b.kind, startsAt, b.endsAt ? new Date(b.endsAt) : null);
      if (endsAt && endsAt <= startsAt)
        throw new HttpError(400, 'invalid_request', 'a moratorium ends after it starts', [
          { field: 'endsAt', reason: 'must be after startsAt' },
        ]);
      const m = await ctx.db.$transaction(async (tx) => {
        if (!(await tx.debtor.findUnique({ where: { id: debtorId }, select: { id: true } }))) throw notFound('debtor');
        const row = await tx.moratorium.create({
          data: {
            debtorId,
            kind: b.kind,
            startsAt,
            endsAt,
            reference: b.reference ?? null,
            recordedById: req.principal!.id ?? null,
          },
        });
        await audit(
          tx,
          req.principal!,
          {
            action: 'moratorium.record',
            entityType: 'debtor',
            entityId: debtorId,
            data: { moratoriumId: row.id, kind: b.kind, startsAt: b.startsAt, endsAt },
          },
          req,
        );
        return row;
      });
      await restrictionsChanged(ctx, {
        debtorId,
        cause: `Breathing Space (${b.kind.toLowerCase().replace(/_/g, ' ')})`,
      });
      res.status(201).json(serializeMoratorium(m));
    },
  },
  {
    method: 'post',
    path: '/api/v1/moratoria/:id/end',
    tag: 'compliance',
    summary:
      'End a moratorium (a mental health crisis moratorium when its end is known, or one cancelled early); reminders resume from then',
    body: z.strictObject({ endsAt: isoDateTime }),
    responses: { 200: 'Ended', 400: 'Invalid input', 404: 'Not found', 409: 'Already ended' },
    handler: async (req, res, ctx) => {
      const id = idOf(req.params.id, 'moratorium');
      const endsAt = new Date(req.valid.body.endsAt);
      const m = await ctx.db.$transaction(async (tx) => {
        const before = await tx.moratorium.findUnique({ where: { id } });
        if (!before) throw notFound('moratorium');
        if (before.resumedAt) throw new HttpError(409, 'conflict', 'this moratorium has ended already');
        if (endsAt <= before.startsAt)
          throw new HttpError(400, 'invalid_request', 'a moratorium ends after it starts', [
            { field: 'endsAt', reason: 'must be after its start' },
          ]);
        const row = await tx.moratorium.update({ where: { id }, data: { endsAt, endedAt: endsAt } });
        await audit(
          tx,
          req.principal!,
          {
            action: 'moratorium.end',
            entityType: 'debtor',
            entityId: before.debtorId,
            data: { moratoriumId: id, endsAt },
          },
          req,
        );
        return row;
      });
      res.json(serializeMoratorium(m));
    },
  },
  {
    method: 'get',
    path: '/api/v1/debtors/:id/moratoria',
    tag: 'compliance',
    summary: "The debtor's Breathing Space moratoria",
    responses: { 200: 'Moratoria' },
    handler: async (req, res, ctx) => {
      const debtorId = idOf(req.params.id, 'debtor');
      const rows = await ctx.db.moratorium.findMany({ where: { debtorId }, orderBy: { startsAt: 'asc' } });
      res.json({ data: rows.map(serializeMoratorium) });
    },
  },
);

function serializeAttorney(a: {
  id: string;
  debtorId: string;
  debtId: string | null;
  name: string;
  firm: string | null;
  line1: string | null;
  line2: string | null;
  city: string | null;
  region: string | null;
  postalCode: string | null;
  country: string | null;
  phone: string | null;
  email: string | null;
  status: string;
  statusChangedAt: Date;
  createdAt: Date;
}) {
  return {
    id: a.id,
    debtorId: a.debtorId,
    debtId: a.debtId,
    name: a.name,
    firm: a.firm,
    address: a.line1
      ? { line1: a.line1, line2: a.line2, city: a.city, region: a.region, postalCode: a.postalCode, country: a.country }
      : null,
    phone: a.phone,
    email: a.email,
    status: a.status,
    statusChangedAt: a.statusChangedAt,
    createdAt: a.createdAt,
    // REPRESENTING bars contact with the debtor; CONSENTED and UNRESPONSIVE lift it (§1006.6(b)(2)); ENDED is history.
    contactWithDebtor: a.status === 'REPRESENTING' ? 'barred' : 'allowed',
  };
}

function serializeMoratorium(m: {
  id: string;
  debtorId: string;
  kind: string;
  reference: string | null;
  startsAt: Date;
  endsAt: Date | null;
  endedAt: Date | null;
  resumedAt: Date | null;
  createdAt: Date;
}) {
  const now = Date.now();
  const inForce = m.startsAt.getTime() <= now && (!m.endsAt || m.endsAt.getTime() > now);
  return {
    id: m.id,
    debtorId: m.debtorId,
    kind: m.kind,
    reference: m.reference,
    startsAt: m.startsAt,
    endsAt: m.endsAt,
    endedAt: m.endedAt,
    resumedAt: m.resumedAt,
    inForce,
    createdAt: m.createdAt,
  };
}

export function registerComplianceRoutes(app: Express, ctx: AppContext): void {
  mountRoutes(app, ctx, complianceRoutes);
}
