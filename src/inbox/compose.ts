// The composer's two calls: preview (what would be sent and what the router
// would decide — allowed now, deferred until when, refused why — without
// writing anything) and reply (the same request, sent through the router).
// A reply is a template intent or the agent's free text; free text gets the
// compliance parts templates carry (src/outbound/content.ts renderContent).
import { z } from 'zod';
import type { Request } from 'express';
import type { AppContext } from '../context.js';
import type { Principal } from '../auth/principal.js';
import { audit } from '../audit.js';
import { defineRoutes } from '../http/api.js';
import { HttpError, conflict, notFound } from '../http/errors.js';
import { CLOSED_DEBT_STATUSES, createRouter, explain, type Decision, type ReplyContext } from '../router/index.js';
import { requestOutreach, routerIntent } from '../outbound/service.js';
import { loadSnapshotWithDebtor } from '../outbound/snapshot.js';
import {
  FREE_TEXT_INTENT,
  FREE_TEXT_MAX_LENGTH,
  FREE_TEXT_SUBJECT_MAX_LENGTH,
  renderContent,
} from '../outbound/content.js';
import { INTENTS, TemplateError, type Intent } from '../templates/index.js';
import { allowanceOf } from './panel.js';
import { localiseCitations } from './citations.js';

const router = createRouter();
const uuid = z.string().uuid('must be a UUID');

/**
 * The template variables an agent fills in (the rest come from the debtor's
 * and debt's records): plan terms, a payment's amount and date, what was
 * checked to verify a disputed debt. Each with its kind for the composer's field.
 */
export const AGENT_VARIABLES = {
  installmentCount: { kind: 'count', label: 'Number of instalments' },
  installmentAmount: { kind: 'money', label: 'Instalment amount' },
  firstInstallmentDate: { kind: 'date', label: 'First instalment date' },
  paymentAmount: { kind: 'money', label: 'Payment amount' },
  paymentDate: { kind: 'date', label: 'Payment date' },
  verificationNote: { kind: 'text', label: 'What was checked (shown to the debtor)' },
} as const;
type AgentVariable = keyof typeof AGENT_VARIABLES;
const AGENT_VARIABLE_NAMES = Object.keys(AGENT_VARIABLES) as [AgentVariable, ...AgentVariable[]];

const varValue = (name: AgentVariable) => {
  const plain = z.string().trim().min(1, 'must not be empty');
  switch (AGENT_VARIABLES[name].kind) {
    case 'count':
      return plain
        .regex(/^\d{1,3}$/, 'must be a whole number')
        .refine((v) => Number(v) >= 1 && Number(v) <= 120, 'must be between 1 and 120');
    case 'money':
      return plain.regex(/^\d{1,12}(\.\d{1,4})?$/, 'must be an amount like 125.50');
    case 'date':
      return plain
        .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
        .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), 'must be a real date');
    case 'text':
      return plain
        .max(500)
        .refine((v) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(v), 'must not contain control characters');
  }
};
const varsInput = z
  .object(
    Object.fromEntries(AGENT_VARIABLE_NAMES.map((n) => [n, varValue(n).optional()])) as Record<
      AgentVariable,
      z.ZodOptional<z.ZodString>
    >,
  )
  .strict();
/** Rules that describe the situation rather than decide it: not shown as reasons. */
const CONTEXT_RULES = new Set(['timezone.resolved', 'jurisdiction.resolved']);

/** What the composer sends: a template intent, or free text (with a subject for email). */
export const composeInput = z
  .object({
    channel: z.enum(['SMS', 'EMAIL']),
    intent: z.enum(INTENTS).optional(),
    text: z.string().trim().min(1, 'must not be empty').max(FREE_TEXT_MAX_LENGTH).optional(),
    subject: z.string().trim().min(1, 'must not be empty').max(FREE_TEXT_SUBJECT_MAX_LENGTH).optional(),
    debtId: uuid.optional(),
    /** The template's agent-filled variables (AGENT_VARIABLES). */
    vars: varsInput.optional(),
  })
  .superRefine((b, issue) => {
    if (b.vars && b.text)
      issue.addIssue({
        code: 'custom',
        path: ['vars'],
        message: 'template variables go with a template intent, not free text',
      });
    if (Boolean(b.intent) === Boolean(b.text))
      issue.addIssue({ code: 'custom', path: ['intent'], message: 'give a template intent or free text, not both' });
    if (b.text && b.channel === 'EMAIL' && !b.subject)
      issue.addIssue({ code: 'custom', path: ['subject'], message: 'an email reply needs a subject' });
    if (b.subject && !b.text)
      issue.addIssue({
        code: 'custom',
        path: ['subject'],
        message: 'a subject goes with free text only (templates bring their own)',
      });
  });
export type ComposeInput = z.infer<typeof composeInput>;

const replyInput = composeInput.and(
  z.object({
    /** The last timeline seq the agent had seen: a reply sent by someone else after it blocks this one. */
    openedAtSeq: z.number().int().min(0).optional(),
  }),
);

function conversationId(raw: unknown): string {
  const r = uuid.safeParse(raw);
  if (!r.success) throw notFound('conversation');
  return r.data;
}

/** The debt a reply is about when the agent did not pick one: the oldest one still being collected. */
async function defaultDebtId(ctx: AppContext, debtorId: string): Promise<string | null> {
  const debt =
    (await ctx.db.debt.findFirst({
      where: { debtorId, status: { notIn: [...CLOSED_DEBT_STATUSES] } },
      orderBy: { dueDate: 'asc' },
      select: { id: true },
    })) ?? (await ctx.db.debt.findFirst({ where: { debtorId }, orderBy: { dueDate: 'asc' }, select: { id: true } }));
  return debt?.id ?? null;
}

interface ReplyTarget {
  conversationId: string;
  lastSeq: number;
  debtorId: string;
  debtId: string;
  /** The debtor's last message: a reply in the same medium may be allowed where a new contact is not (Reg F §1006.6(b)(1)). */
  replyTo?: ReplyContext;
}

/** Resolves who and what a composed message is about; refuses an unlinked conversation or a foreign debt. */
async function replyTarget(ctx: AppContext, id: string, debtId: string | undefined): Promise<ReplyTarget> {
  const c = await ctx.db.conversation.findUnique({
    where: { id },
    select: { id: true, debtorId: true, lastSeq: true },
  });
  if (!c) throw notFound('conversation');
  if (!c.debtorId) throw conflict('this conversation is not linked to a debtor yet; link it first');
  let debt = debtId ?? null;
  if (debt) {
    const d = await ctx.db.debt.findUnique({ where: { id: debt }, select: { debtorId: true } });
    if (!d || d.debtorId !== c.debtorId)
      throw new HttpError(400, 'invalid_request', 'debt does not belong to this debtor', [
        { field: 'debtId', reason: 'not a debt of this debtor' },
      ]);
  } else debt = await defaultDebtId(ctx, c.debtorId);
  if (!debt) throw conflict('the debtor has no debt to write about');
  const lastInbound = await ctx.db.message.findFirst({
    where: { conversationId: id, direction: 'INBOUND' },
    orderBy: { createdAt: 'desc' },
  });
  return {
    conversationId: id,
    lastSeq: c.lastSeq,
    debtorId: c.debtorId,
    debtId: debt,
    ...(lastInbound
      ? {
          replyTo: {
            channel: lastInbound.channel,
            receivedAt: lastInbound.createdAt,
            contactPointId: lastInbound.contactPointId,
            messageId: lastInbound.id,
          },
        }
      : {}),
  };
}

const intentOf = (b: ComposeInput): Intent | typeof FREE_TEXT_INTENT =>
  b.text ? FREE_TEXT_INTENT : (b.intent as Intent);
const varsOf = (b: ComposeInput): Record<string, string> | undefined =>
  b.vars
    ? (Object.fromEntries(Object.entries(b.vars).filter(([, v]) => v !== undefined)) as Record<string, string>)
    : undefined;
const freeTextOf = (b: ComposeInput) =>
  b.text ? { body: b.text, ...(b.subject ? { subject: b.subject } : {}) } : undefined;
/** The reasons an agent reads, citing the debtor's own rules (citations.ts). */
const shownReasons = (d: Decision, jurisdiction: string | null) =>
  d.reasons
    .filter((r) => !CONTEXT_RULES.has(r.rule))
    .map((r) => ({
      rule: r.rule,
      detail: localiseCitations(r.detail, jurisdiction),
      ...(r.channel ? { channel: r.channel } : {}),
    }));
const explainFor = (d: Decision, jurisdiction: string | null) => localiseCitations(explain(d), jurisdiction);

/**
 * What would happen if the agent sent this now: the router's decision and the
 * rendered text. Reads only; nothing is reserved, so a send right after may
 * still be refused if something changed in between (the send decides again).
 */
export async function previewReply(ctx: AppContext, id: string, input: ComposeInput, actor: Principal) {
  const target = await replyTarget(ctx, id, input.debtId);
  const now = new Date();
  const loaded = await loadSnapshotWithDebtor(ctx.db, target.debtorId, now, { debtId: target.debtId });
  if (!loaded) throw notFound('debtor');
  const intent = intentOf(input);
  const decision = router.decide(
    {
      debtorId: target.debtorId,
      debtId: target.debtId,
      intent: routerIntent(intent),
      channel: input.channel,
      replyTo: target.replyTo,
    },
    loaded.snapshot,
  );
  const allowance = allowanceOf(decision, input.channel, loaded.debtor.jurisdiction);

  // The text is shown even when the router refuses (to the address the send would use, else the first of that kind).
  const contactPointId =
    decision.outcome === 'refuse'
      ? loaded.snapshot.contactPoints.find((cp) => cp.kind === (input.channel === 'SMS' ? 'PHONE' : 'EMAIL'))?.id
      : decision.contactPointId;
  let content: {
    channel: string;
    subject: string | null;
    text: string;
    segments: number | null;
    encoding: string | null;
  } | null = null;
  let contentError: { code: string; message: string; variable?: string } | null = null;
  if (contactPointId) {
    const debt = loaded.debt;
    if (!debt) throw notFound('debt');
    try {
      const r = renderContent(ctx, {
        intent,
        freeText: freeTextOf(input),
        channel: input.channel,
        locale: loaded.debtor.locale,
        debtor: loaded.debtor,
        debt,
        contactPointId,
        now,
        extra: varsOf(input),
        agentName: actor.type === 'user' ? actor.name : undefined,
        firstCommunication: !loaded.debtor.contactedBefore,
      });
      if (r.channel === 'sms')
        content = { channel: 'SMS', subject: null, text: r.text, segments: r.segments, encoding: r.encoding };
      else if (r.channel === 'email')
        content = { channel: 'EMAIL', subject: r.subject, text: r.text, segments: null, encoding: null };
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      contentError = { code: e.code, message: e.message, ...(e.variable ? { variable: e.variable } : {}) };
    }
  }
  return {
    conversationId: id,
    debtId: target.debtId,
    intent,
    decision: {
      outcome: decision.outcome,
      summary: allowance.summary,
      sendAt: allowance.sendAt,
      explanation: explainFor(decision, loaded.debtor.jurisdiction),
      reasons: shownReasons(decision, loaded.debtor.jurisdiction),
      ...(decision.outcome !== 'refuse' ? { channel: decision.channel } : {}),
    },
    content,
    contentError,
  };
}

async function sendReply(
  ctx: AppContext,
  id: string,
  input: z.infer<typeof replyInput>,
  actor: Principal,
  req: Request,
) {
  const target = await replyTarget(ctx, id, input.debtId);
  if (input.openedAtSeq !== undefined && target.lastSeq > input.openedAtSeq) {
    const newer = await ctx.db.conversationEvent.findMany({
      where: { conversationId: id, seq: { gt: input.openedAtSeq } },
      orderBy: { seq: 'asc' },
    });
    const replies = newer.filter(
      (e) => e.type === 'message.created' && (e.payload as { direction?: string }).direction === 'OUTBOUND',
    );
    if (replies.length) {
      // What they sent and who sent it, for the warning the composer shows.
      const ids = replies
        .map((e) => (e.payload as { messageId?: string }).messageId)
        .filter((x): x is string => typeof x === 'string');
      const sent = await ctx.db.message.findMany({
        where: { id: { in: ids } },
        select: { id: true, channel: true, body: true, subject: true, createdAt: true, createdById: true },
      });
      const authors = await ctx.db.user.findMany({
        where: { id: { in: sent.map((m) => m.createdById).filter((x): x is string => Boolean(x)) } },
        select: { id: true, name: true },
      });
      throw conflict('someone else replied after you opened this conversation; read it first', {
        lastSeq: target.lastSeq,
        events: replies.map((e) => ({ seq: e.seq, type: e.type, payload: e.payload, at: e.createdAt.toISOString() })),
        replies: sent.map((m) => ({
          messageId: m.id,
          channel: m.channel,
          subject: m.subject,
          body: m.body,
          at: m.createdAt.toISOString(),
          by: authors.find((a) => a.id === m.createdById)?.name ?? null,
        })),
      });
    }
  }
  const intent = intentOf(input);
  const auditData = {
    channel: input.channel,
    intent,
    debtId: target.debtId,
    ...(input.text ? { freeTextLength: input.text.length } : {}),
  };
  const result = await requestOutreach(
    ctx,
    {
      debtorId: target.debtorId,
      debtId: target.debtId,
      intent,
      freeText: freeTextOf(input),
      channel: input.channel,
      replyTo: target.replyTo,
      vars: varsOf(input),
    },
    actor,
  );
  const { jurisdiction } = (await ctx.db.debtor.findUnique({
    where: { id: target.debtorId },
    select: { jurisdiction: true },
  })) ?? { jurisdiction: null };
  if (result.outcome === 'refuse') {
    await audit(
      ctx.db,
      actor,
      {
        action: 'conversation.reply_refused',
        entityType: 'conversation',
        entityId: id,
        data: { ...auditData, rules: result.decision.reasons.map((r) => r.rule) },
      },
      req,
    );
    throw new HttpError(422, 'refused', explainFor(result.decision, jurisdiction), {
      explanation: explainFor(result.decision, jurisdiction),
      reasons: shownReasons(result.decision, jurisdiction),
    });
  }
  await audit(
    ctx.db,
    actor,
    {
      action: 'conversation.reply',
      entityType: 'conversation',
      entityId: id,
      data: { ...auditData, messageId: result.messageId, outcome: result.outcome },
    },
    req,
  );
  await answered(ctx, id, result.messageId);
  return {
    outcome: result.outcome,
    messageId: result.messageId,
    explanation: explainFor(result.decision, jurisdiction),
  };
}

/**
 * The team answered: the conversation owes a reply only for debtor messages
 * that came after this one (normally none), so the unanswered view lets it go.
 */
async function answered(ctx: AppContext, conversationId: string, messageId: string): Promise<void> {
  await ctx.db.$executeRaw`
    UPDATE conversations c SET waiting_since = (
      SELECT min(i.created_at) FROM messages i
       WHERE i.conversation_id = c.id AND i.direction = 'INBOUND' AND i.created_at > (SELECT created_at FROM messages WHERE id = ${messageId}::uuid))
     WHERE c.id = ${conversationId}::uuid AND c.waiting_since IS NOT NULL`;
}

/** Values the records suggest for the agent-filled variables: the last payment, the active plan, else an even three-way split. */
async function suggestedVars(
  ctx: AppContext,
  debtId: string,
  now: Date,
): Promise<Partial<Record<AgentVariable, string>>> {
  const debt = await ctx.db.debt.findUnique({
    where: { id: debtId },
    include: {
      payments: { orderBy: { paidAt: 'desc' }, take: 1 },
      promises: { where: { status: 'ACTIVE', planId: { not: null } }, orderBy: { dueDate: 'asc' } },
    },
  });
  if (!debt) return {};
  const out: Partial<Record<AgentVariable, string>> = {};
  const paid = debt.payments[0];
  if (paid)
    Object.assign(out, { paymentAmount: paid.amount.toFixed(2), paymentDate: paid.paidAt.toISOString().slice(0, 10) });
  const plan = debt.promises;
  if (plan.length)
    Object.assign(out, {
      installmentCount: String(plan.length),
      installmentAmount: plan[0]!.amount.toFixed(2),
      firstInstallmentDate: plan[0]!.dueDate.toISOString().slice(0, 10),
    });
  else if (debt.balance.gt(0)) {
    Object.assign(out, {
      installmentCount: '3',
      installmentAmount: debt.balance.div(3).toDecimalPlaces(2, 0).toFixed(2),
      firstInstallmentDate: new Date(now.getTime() + 7 * 86_400_000).toISOString().slice(0, 10),
    });
  }
  return out;
}

/**
 * The templates the composer offers for this debtor on one channel: whether
 * the router allows each now (and if not, why), and a field for every
 * variable of its template the agent fills in, with a suggested value.
 */
async function templateOptions(ctx: AppContext, id: string, channel: 'SMS' | 'EMAIL', debtId: string | undefined) {
  const target = await replyTarget(ctx, id, debtId);
  const now = new Date();
  const loaded = await loadSnapshotWithDebtor(ctx.db, target.debtorId, now, { debtId: target.debtId });
  if (!loaded) throw notFound('debtor');
  const suggested = await suggestedVars(ctx, target.debtId, now);
  const ch = channel.toLowerCase() as 'sms' | 'email';
  const templates = INTENTS.filter((i) => ctx.templates.has(i, ch, loaded.debtor.locale)).map((intent) => {
    const decision = router.decide(
      {
        debtorId: target.debtorId,
        debtId: target.debtId,
        intent: routerIntent(intent),
        channel,
        replyTo: target.replyTo,
      },
      loaded.snapshot,
    );
    const allowance = allowanceOf(decision, channel, loaded.debtor.jurisdiction);
    const fields = ctx.templates
      .variables(intent, ch, loaded.debtor.locale)
      .filter((v): v is AgentVariable => v in AGENT_VARIABLES)
      .map((name) => ({ name, ...AGENT_VARIABLES[name], suggested: suggested[name] ?? null }));
    return {
      intent,
      label: intent.replace(/-/g, ' '),
      outcome: decision.outcome,
      summary: allowance.summary,
      reasons: allowance.reasons.slice(0, 3),
      fields,
    };
  });
  return { conversationId: id, debtId: target.debtId, channel, templates };
}

export const composeRoutes = defineRoutes(
  {
    method: 'get',
    path: '/api/v1/inbox/conversations/:id/templates',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary:
      "The template intents for this debtor on a channel: the router's verdict on each now, and the fields of its agent-filled variables with suggested values",
    query: z.object({ channel: z.enum(['SMS', 'EMAIL']).default('SMS'), debtId: uuid.optional() }),
    responses: { 200: 'Templates', 404: 'Not found', 409: 'Not linked to a debtor' },
    handler: async (req, res, ctx) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(
        await templateOptions(ctx, conversationId(req.params.id), req.valid.query.channel, req.valid.query.debtId),
      );
    },
  },
  {
    method: 'post',
    path: '/api/v1/inbox/conversations/:id/preview',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary:
      "Preview a reply (template intent or free text): the rendered text and the router's decision now, without sending or reserving anything",
    body: composeInput,
    responses: { 200: 'Preview', 400: 'Invalid input', 404: 'Not found', 409: 'Not linked to a debtor' },
    handler: async (req, res, ctx) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json(await previewReply(ctx, conversationId(req.params.id), req.valid.body, req.principal!));
    },
  },
  {
    method: 'post',
    path: '/api/v1/conversations/:id/reply',
    tag: 'inbox',
    roles: ['ADMIN', 'AGENT'],
    summary:
      'Reply to the debtor with a template intent or free text, through the router (refusals come back with their reasons before anything is sent)',
    body: replyInput,
    responses: {
      202: 'Queued or scheduled',
      400: 'Invalid input',
      404: 'Not found',
      409: 'Someone else replied since you opened the conversation (their messages are in details.events)',
      422: 'Refused by the router; details.reasons say why',
    },
    handler: async (req, res, ctx) => {
      res.status(202).json(await sendReply(ctx, conversationId(req.params.id), req.valid.body, req.principal!, req));
    },
  },
);
