// REST: debtors, their contact points and preferences, and debts.
import type { Express } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { audit } from '../audit.js';
import { conflict, notFound } from '../http/errors.js';
import { defineRoutes, mountRoutes } from '../http/api.js';
import {
  addContactPoint,
  debtorInclude,
  inferJurisdiction,
  serializeContactPoint,
  serializeDebt,
  serializeDebtor,
} from '../domain/debtors.js';
import { contactPointData, setConsents } from '../domain/debtors.js';
import {
  type ContactPointInput,
  contactPointInput,
  type itemizationInput,
  contactPointPatch,
  debtInput,
  debtorInput,
  debtorPatch,
  debtPatch,
  preferencesInput,
  uuid,
} from './schemas.js';
import { appendEvent, type TimelineEvent } from '../conversations/thread.js';
import { publishTimeline } from '../conversations/live.js';
import { isUniqueViolation } from '../db/errors.js';
import { likeLiteral } from '../db/like.js';
import { restrictionsChanged } from '../messaging/restrictions.js';

const idParam = (v: string, what: string) => {
  if (!uuid.safeParse(v).success) throw notFound(what);
  return v;
};

/** An ISO date as the DATE column takes it (undefined: unchanged). */
const dateOf = (v: string | null | undefined) =>
  v === undefined ? undefined : v === null ? null : new Date(`${v}T00:00:00Z`);
const dateTimeOf = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : new Date(v));

/** Model Form B-1's itemization as the debt's columns (null clears it). */
function itemizationData(i: z.infer<typeof itemizationInput> | null | undefined) {
  if (i === undefined) return {};
  return {
    itemizationDate: i ? new Date(`${i.date}T00:00:00Z`) : null,
    itemizationAmount: i ? i.amount : null,
    interestSinceItemization: i?.interest ?? '0',
    feesSinceItemization: i?.fees ?? '0',
    creditsSinceItemization: i?.credits ?? '0',
    originalCreditorName: i?.originalCreditorName ?? null,
  };
}

export const debtorRoutes = defineRoutes(
  {
    method: 'post',
    path: '/api/v1/debtors',
    tag: 'debtors',
    summary: 'Create a debtor with contact points and preferences',
    body: debtorInput,
    responses: { 201: 'Created', 400: 'Invalid input', 409: 'externalRef already used' },
    handler: async (req, res, ctx) => {
      const b = req.valid.body;
      const jurisdiction = b.jurisdiction ?? inferJurisdiction(b.contactPoints ?? []);
      const country = jurisdiction?.slice(0, 2) ?? null;
      // validate every contact point before writing anything
      (b.contactPoints ?? []).forEach((cp: ContactPointInput, i: number) => {
        contactPointData(cp, { defaultCountry: country, field: `contactPoints.${i}` });
      });
      try {
        const debtor = await ctx.db.$transaction(async (tx) => {
          const d = await tx.debtor.create({
            data: {
              externalRef: b.externalRef ?? null,
              fullName: b.fullName,
              locale: b.locale ?? 'en',
              jurisdiction,
              timeZone: b.timeZone ?? null,
              restrictions: b.restrictions ?? [],
              tags: b.tags ?? [],
              dateOfBirth: dateOf(b.dateOfBirth),
              esignConsentAt: dateTimeOf(b.esignConsentAt),
            },
          });
          for (const [i, cp] of (b.contactPoints ?? []).entries())
            await addContactPoint(tx, d.id, cp, {
              defaultCountry: country,
              field: `contactPoints.${i}`,
              source: 'api',
            });
          if (b.preferences) {
            await tx.contactPreferences.create({
              data: {
                debtorId: d.id,
                channelOrder: b.preferences.channelOrder ?? [],
                inconvenientTimes: b.preferences.inconvenientTimes ?? [],
                contactLimits: b.preferences.contactLimits ?? {},
              },
            });
          }
          await audit(tx, req.principal!, { action: 'debtor.create', entityType: 'debtor', entityId: d.id }, req);
          return tx.debtor.findUniqueOrThrow({ where: { id: d.id }, include: debtorInclude });
        });
        res.status(201).json(serializeDebtor(debtor));
      } catch (e) {
        if (isUniqueViolation(e)) throw conflict('a debtor with this externalRef already exists');
        throw e;
      }
    },
  },
  {
    method: 'get',
    path: '/api/v1/debtors',
    tag: 'debtors',
    summary: 'List or search debtors',
    query: z.object({
      externalRef: z.string().optional(),
      q: z.string().max(100).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
    }),
    responses: { 200: 'Debtors' },
    handler: async (req, res, ctx) => {
      const q = req.valid.query;
      const rows = await ctx.db.debtor.findMany({
        where: {
          ...(q.externalRef ? { externalRef: q.externalRef } : {}),
          ...(q.q
            ? {
                OR: [
                  { fullName: { contains: likeLiteral(q.q), mode: 'insensitive' } },
                  { contactPoints: { some: { value: { contains: likeLiteral(q.q.toLowerCase()) } } } },
                ],
              }
            : {}),
        },
        include: debtorInclude,
        take: q.limit,
        orderBy: { createdAt: 'desc' },
      });
      res.json({ data: rows.map(serializeDebtor) });
    },
  },
  {
    method: 'get',
    path: '/api/v1/debtors/:id',
    tag: 'debtors',
    summary: 'Read a debtor',
    responses: { 200: 'Debtor', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const d = await ctx.db.debtor.findUnique({
        where: { id: idParam(String(req.params.id), 'debtor') },
        include: debtorInclude,
      });
      if (!d) throw notFound('debtor');
      res.json(serializeDebtor(d));
    },
  },
  {
    method: 'patch',
    path: '/api/v1/debtors/:id',
    tag: 'debtors',
    summary: 'Update a debtor (restrictions such as cease communication included)',
    body: debtorPatch,
    responses: { 200: 'Updated', 400: 'Invalid input', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = idParam(String(req.params.id), 'debtor');
      const b = req.valid.body;
      await ctx.db
        .$transaction(async (tx) => {
          const before = await tx.debtor.findUnique({ where: { id } });
          if (!before) throw notFound('debtor');
          await tx.debtor.update({
            where: { id },
            data: { ...b, dateOfBirth: dateOf(b.dateOfBirth), esignConsentAt: dateTimeOf(b.esignConsentAt) },
          });
          await audit(
            tx,
            req.principal!,
            {
              action: 'debtor.update',
              entityType: 'debtor',
              entityId: id,
              data: { changed: Object.keys(b), restrictions: b.restrictions },
            },
            req,
          );
          return tx.debtor.findUniqueOrThrow({ where: { id }, include: debtorInclude });
        })
        .catch((e: unknown) => {
          // As POST answers: the externalRef belongs to another debtor.
          if (isUniqueViolation(e)) throw conflict('a debtor with this externalRef already exists');
          throw e;
        });
      // A restriction takes effect at once: queued messages and enrolments it forbids are withdrawn now.
      if (b.restrictions)
        await restrictionsChanged(ctx, { debtorId: id, cause: 'debtor restrictions changed through the API' });
      res.json(serializeDebtor(await ctx.db.debtor.findUniqueOrThrow({ where: { id }, include: debtorInclude })));
    },
  },
  {
    method: 'post',
    path: '/api/v1/debtors/:id/contact-points',
    tag: 'debtors',
    summary: 'Add a contact point (phone, email or postal address)',
    body: contactPointInput,
    responses: { 201: 'Created', 400: 'Invalid input', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = idParam(String(req.params.id), 'debtor');
      const cp = await ctx.db.$transaction(async (tx) => {
        const d = await tx.debtor.findUnique({ where: { id } });
        if (!d) throw notFound('debtor');
        const created = await addContactPoint(tx, id, req.valid.body, {
          defaultCountry: d.jurisdiction?.slice(0, 2),
          field: 'body',
          source: `api:${req.principal!.id ?? req.principal!.type}`,
        });
        await audit(
          tx,
          req.principal!,
          {
            action: 'contact_point.create',
            entityType: 'contact_point',
            entityId: created.id,
            data: { kind: created.kind, consents: req.valid.body.consents },
          },
          req,
        );
        return tx.contactPoint.findUniqueOrThrow({ where: { id: created.id }, include: { consents: true } });
      });
      res.status(201).json(serializeContactPoint(cp));
    },
  },
  {
    method: 'patch',
    path: '/api/v1/contact-points/:id',
    tag: 'debtors',
    summary: 'Update a contact point: consent per channel, validity, labels',
    body: contactPointPatch,
    responses: { 200: 'Updated', 400: 'Invalid input', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = idParam(String(req.params.id), 'contact point');
      const { consents, ...fields } = req.valid.body;
      const source = `api:${req.principal!.id ?? req.principal!.type}`;
      const events: TimelineEvent[] = [];
      const cp = await ctx.db.$transaction(async (tx) => {
        const before = await tx.contactPoint.findUnique({ where: { id }, include: { consents: true } });
        if (!before) throw notFound('contact point');
        const valid = fields.valid;
        await tx.contactPoint.update({
          where: { id },
          data: {
            ...fields,
            ...(valid === true
              ? { invalidReason: null, invalidAt: null }
              : valid === false
                ? { invalidReason: 'marked invalid via API', invalidAt: new Date() }
                : {}),
          },
        });
        await setConsents(tx, id, consents ?? {}, source);
        await audit(
          tx,
          req.principal!,
          {
            action: consents ? 'consent.change' : 'contact_point.update',
            entityType: 'contact_point',
            entityId: id,
            data: { consents, changed: Object.keys(fields) },
          },
          req,
        );
        // Other agents on the debtor's conversation see the change in its timeline, live. Only
        // real changes are recorded; a debtor without a conversation has the audit log alone.
        const previous = new Map(before.consents.map((c) => [c.channel as string, c.state as string]));
        const changed = Object.entries(consents ?? {}).filter(
          ([ch, state]) => state && state !== (previous.get(ch) ?? 'UNKNOWN'),
        );
        const conversation = changed.length
          ? await tx.conversation.findUnique({ where: { debtorId: before.debtorId }, select: { id: true } })
          : null;
        for (const [channel, state] of conversation ? changed : []) {
          events.push(
            await appendEvent(tx, conversation!.id, 'consent.changed', {
              contactPointId: id,
              kind: before.kind,
              value: before.value,
              channel,
              state,
              previous: previous.get(channel) ?? 'UNKNOWN',
              source,
              by: req.principal!.name ?? null,
            }),
          );
        }
        return tx.contactPoint.findUniqueOrThrow({ where: { id }, include: { consents: true } });
      });
      publishTimeline(ctx.io, events);
      res.json(serializeContactPoint(cp));
    },
  },
  {
    method: 'put',
    path: '/api/v1/debtors/:id/preferences',
    tag: 'debtors',
    summary: 'Set channel preferences, inconvenient times and stricter contact limits',
    body: preferencesInput,
    responses: { 200: 'Saved', 400: 'Invalid input', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = idParam(String(req.params.id), 'debtor');
      const b = req.valid.body;
      const prefs = await ctx.db.$transaction(async (tx) => {
        if (!(await tx.debtor.findUnique({ where: { id } }))) throw notFound('debtor');
        const data = {
          channelOrder: b.channelOrder ?? [],
          inconvenientTimes: b.inconvenientTimes ?? [],
          contactLimits: b.contactLimits ?? {},
        };
        const p = await tx.contactPreferences.upsert({
          where: { debtorId: id },
          create: { debtorId: id, ...data },
          update: data,
        });
        await audit(
          tx,
          req.principal!,
          { action: 'preferences.update', entityType: 'debtor', entityId: id, data },
          req,
        );
        return p;
      });
      res.json({
        channelOrder: prefs.channelOrder,
        inconvenientTimes: prefs.inconvenientTimes,
        contactLimits: prefs.contactLimits,
      });
    },
  },
  {
    method: 'post',
    path: '/api/v1/debts',
    tag: 'debts',
    summary: 'Create or update a debt by creditor and external reference',
    body: debtInput,
    responses: {
      200: 'Updated',
      201: 'Created',
      400: 'Invalid input',
      404: 'Debtor not found',
      409: "The reference belongs to another debtor's debt",
    },
    handler: async (req, res, ctx) => {
      const b = req.valid.body;
      const { debt, created } = await ctx.db.$transaction(async (tx) => {
        const debtor = b.debtorId
          ? await tx.debtor.findUnique({ where: { id: b.debtorId } })
          : await tx.debtor.findUnique({ where: { externalRef: b.debtorExternalRef! } });
        if (!debtor) throw notFound('debtor');
        // A creditor's role is AGENCY unless said otherwise (the stricter regime); naming it again changes it.
        const creditor = await tx.creditor.upsert({
          where: { externalRef: b.creditor.externalRef },
          create: { externalRef: b.creditor.externalRef, name: b.creditor.name, kind: b.creditor.kind ?? 'AGENCY' },
          update: { name: b.creditor.name, ...(b.creditor.kind ? { kind: b.creditor.kind } : {}) },
        });
        const data = {
          debtorId: debtor.id,
          originalAmount: b.originalAmount,
          balance: b.balance ?? b.originalAmount,
          currency: b.currency,
          dueDate: new Date(`${b.dueDate}T00:00:00Z`),
          status: b.status ?? 'OPEN',
          jurisdiction: b.jurisdiction ?? null,
          restrictions: b.restrictions ?? [],
          tags: b.tags ?? [],
          paymentLink: b.paymentLink ?? null,
          timeBarred: b.timeBarred ?? false,
          loanType: b.loanType ?? null,
          ...itemizationData(b.itemization),
        } as const;
        const existing = await tx.debt.findUnique({
          where: { creditorId_externalRef: { creditorId: creditor.id, externalRef: b.externalRef } },
        });
        // An upsert that would move a debt to another person is almost always a
        // reference collision in the caller's data: refuse it instead of silently
        // handing one debtor's history to another.
        if (existing && existing.debtorId !== debtor.id) {
          throw conflict(
            `debt ${b.externalRef} of creditor ${b.creditor.externalRef} belongs to another debtor; a debt cannot change debtor`,
          );
        }
        const d = await tx.debt.upsert({
          where: { creditorId_externalRef: { creditorId: creditor.id, externalRef: b.externalRef } },
          create: { creditorId: creditor.id, externalRef: b.externalRef, ...data },
          update: data,
          include: { creditor: true },
        });
        await audit(
          tx,
          req.principal!,
          { action: existing ? 'debt.update' : 'debt.create', entityType: 'debt', entityId: d.id },
          req,
        );
        return { debt: d, created: !existing };
      });
      if (!created) await restrictionsChanged(ctx, { debtorId: debt.debtorId, cause: 'debt updated through the API' });
      res.status(created ? 201 : 200).json(serializeDebt(debt));
    },
  },
  {
    method: 'get',
    path: '/api/v1/debts/:id',
    tag: 'debts',
    summary: 'Read a debt',
    responses: { 200: 'Debt', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const d = await ctx.db.debt.findUnique({
        where: { id: idParam(String(req.params.id), 'debt') },
        include: { creditor: true },
      });
      if (!d) throw notFound('debt');
      res.json(serializeDebt(d));
    },
  },
  {
    method: 'patch',
    path: '/api/v1/debts/:id',
    tag: 'debts',
    summary: 'Update a debt (balance, status, restrictions)',
    body: debtPatch,
    responses: { 200: 'Updated', 400: 'Invalid input', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = idParam(String(req.params.id), 'debt');
      const b = req.valid.body;
      const d = await ctx.db.$transaction(async (tx) => {
        if (!(await tx.debt.findUnique({ where: { id } }))) throw notFound('debt');
        const d = await tx.debt.update({
          where: { id },
          data: {
            ...b,
            ...(b.itemization !== undefined ? itemizationData(b.itemization) : {}),
            itemization: undefined,
            dueDate: b.dueDate ? new Date(`${b.dueDate}T00:00:00Z`) : undefined,
            lastPhoneConversationAt:
              b.lastPhoneConversationAt === undefined
                ? undefined
                : b.lastPhoneConversationAt === null
                  ? null
                  : new Date(b.lastPhoneConversationAt),
          },
          include: { creditor: true },
        });
        await audit(
          tx,
          req.principal!,
          {
            action: 'debt.update',
            entityType: 'debt',
            entityId: id,
            data: { changed: Object.keys(b), status: b.status },
          },
          req,
        );
        return d;
      });
      if (b.restrictions || b.status)
        await restrictionsChanged(ctx, {
          debtorId: d.debtorId,
          cause: 'debt restrictions or status changed through the API',
        });
      res.json(serializeDebt(d));
    },
  },
);

export function registerDebtorRoutes(app: Express, ctx: AppContext): void {
  mountRoutes(app, ctx, debtorRoutes);
}
