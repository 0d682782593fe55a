// REST: payments and promises to pay, from the creditor's system or an agent.
import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { notFound } from '../http/errors.js';
import { defineRoutes, mountRoutes } from '../http/api.js';
import { currency, isoDate, money, uuid } from '../api/schemas.js';
import { minorDigits } from '../domain/debtors.js';
import { recordPayment, recordPromise, recordPromises, serializePayment, serializePromise } from './service.js';

const positiveMoney = money.refine((v) => !v.startsWith('-') && /[1-9]/.test(v), 'must be greater than zero');

export const paymentInput = z
  .object({
    debtId: uuid.optional(),
    creditorRef: z.string().min(1).max(100).optional(),
    debtRef: z.string().min(1).max(100).optional(),
    amount: positiveMoney,
    currency,
    paidAt: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time' }).optional(),
    externalRef: z.string().min(1).max(200).optional(),
    source: z.string().max(100).optional(),
  })
  .refine((b) => b.debtId || (b.creditorRef && b.debtRef), {
    message: 'give debtId, or creditorRef and debtRef',
    path: ['debtId'],
  });

export const promiseInput = z.object({ amount: positiveMoney, dueDate: isoDate, planId: uuid.optional() });

/** A payment plan: instalments in date order, each one a promise to pay sharing the plan's id. */
export const paymentPlanInput = z
  .object({
    instalments: z
      .array(z.object({ amount: positiveMoney, dueDate: isoDate }))
      .min(2, 'a plan has at least 2 instalments')
      .max(60),
  })
  .superRefine((b, issue) => {
    b.instalments.forEach((inst, i) => {
      if (i > 0 && inst.dueDate <= b.instalments[i - 1]!.dueDate)
        issue.addIssue({
          code: 'custom',
          path: ['instalments', i, 'dueDate'],
          message: 'must be after the previous instalment',
        });
    });
  });

const debtIdParam = (v: unknown) => {
  const id = String(v);
  if (!uuid.safeParse(id).success) throw notFound('debt');
  return id;
};

export const paymentRoutes = defineRoutes(
  {
    method: 'post',
    path: '/api/v1/payments',
    tag: 'payments',
    roles: ['ADMIN'],
    summary:
      'Record a payment (idempotent by externalRef); a debt paid in full leaves every campaign and its pending messages are cancelled',
    body: paymentInput,
    responses: {
      200: 'Already recorded (same externalRef)',
      201: 'Recorded',
      400: 'Invalid input',
      404: 'Debt not found',
      409: 'externalRef used for a different payment',
    },
    handler: async (req, res, ctx) => {
      const b = req.valid.body;
      const r = await recordPayment(ctx, { ...b, paidAt: b.paidAt ? new Date(b.paidAt) : new Date() }, req.principal!);
      res.status(r.duplicate ? 200 : 201).json(r);
    },
  },
  {
    method: 'get',
    path: '/api/v1/debts/:id/payments',
    tag: 'payments',
    summary: 'Payments of a debt',
    responses: { 200: 'Payments', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = debtIdParam(req.params.id);
      const debt = await ctx.db.debt.findUnique({
        where: { id },
        include: { payments: { orderBy: { paidAt: 'asc' } } },
      });
      if (!debt) throw notFound('debt');
      res.json({
        data: debt.payments.map(serializePayment),
        balance: debt.balance.toFixed(minorDigits(debt.currency)),
        currency: debt.currency,
        status: debt.status,
      });
    },
  },
  {
    method: 'post',
    path: '/api/v1/debts/:id/promises',
    tag: 'payments',
    summary:
      'Record a promise to pay (debt becomes PROMISED; campaigns with the PROMISE stop condition hold their steps)',
    body: promiseInput,
    responses: { 201: 'Recorded', 400: 'Invalid input', 404: 'Debt not found', 409: 'Debt closed' },
    handler: async (req, res, ctx) => {
      const r = await recordPromise(ctx, debtIdParam(req.params.id), req.valid.body, req.principal!);
      res.status(201).json(r);
    },
  },
  {
    method: 'post',
    path: '/api/v1/debts/:id/payment-plans',
    tag: 'payments',
    summary:
      'Record a payment plan: several instalments (each a promise to pay with the same planId); the debt becomes PAYMENT_PLAN',
    body: paymentPlanInput,
    responses: {
      201: 'Recorded',
      400: 'Invalid input (instalments out of order, or more than the balance)',
      404: 'Debt not found',
      409: 'Debt closed',
    },
    handler: async (req, res, ctx) => {
      const id = debtIdParam(req.params.id);
      // One transaction: the plan is recorded whole or not at all.
      const planId = randomUUID();
      const r = await recordPromises(ctx, id, req.valid.body.instalments, req.principal!, { id: planId });
      res.status(201).json({ planId, promises: r.promises, debt: r.debt });
    },
  },
  {
    method: 'get',
    path: '/api/v1/debts/:id/promises',
    tag: 'payments',
    summary: 'Promises to pay of a debt',
    responses: { 200: 'Promises', 404: 'Not found' },
    handler: async (req, res, ctx) => {
      const id = debtIdParam(req.params.id);
      const debt = await ctx.db.debt.findUnique({
        where: { id },
        include: { promises: { orderBy: { createdAt: 'asc' } } },
      });
      if (!debt) throw notFound('debt');
      res.json({ data: debt.promises.map((p) => serializePromise(p, debt.currency)) });
    },
  },
);

export function registerPaymentRoutes(app: Express, ctx: AppContext): void {
  mountRoutes(app, ctx, paymentRoutes);
}
