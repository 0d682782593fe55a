// Which thread an inbound message belongs to. Phones compare as E.164,
// emails case-folded. Email tries, in order: our reply+TOKEN address, the
// In-Reply-To/References chain against our own Message-IDs and provider ids,
// then the sender address. A sender that several debtors share is not
// guessed: the message goes to an unmatched thread for an agent.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { sqlPool, statement, type Db } from '../db/client.js';

export type Match =
  | {
      kind: 'thread';
      debtorId: string | null;
      /** Set when the thread is known directly (a token or reply chain into an unmatched thread). */
      conversationId?: string;
      contactPointId: string | null;
      fromUnknownAddress: boolean;
      via: 'reply_token' | 'in_reply_to' | 'sender';
      /** The debtor's locale, when the match read it with the debtor (the reply classifier's language). */
      locale?: string;
    }
  | { kind: 'unmatched'; address: string; reason: 'unknown_sender' | 'ambiguous_sender'; candidateDebtorIds: string[] };

export function normalizePhone(raw: string, defaultCountry: CountryCode = 'US'): string | null {
  const p = parsePhoneNumberFromString(raw.trim(), defaultCountry);
  return p && p.isPossible() ? p.number : null;
}

export const normalizeEmail = (raw: string) => raw.trim().toLowerCase();

/** Every contact point holding a phone number, oldest first, with its debtor's locale: one statement on every SMS and call reply. */
const PHONE_HOLDERS = `SELECT c.id::text AS id, c.debtor_id::text AS "debtorId", d.locale
  FROM contact_points c JOIN debtors d ON d.id = c.debtor_id
  WHERE c.kind = 'PHONE' AND c.value = $1 ORDER BY c.created_at, c.id`;

export async function matchPhone(db: Db, e164: string): Promise<{ match: Match; numberContactPointIds: string[] }> {
  const cps = (
    await sqlPool(db).query<{ id: string; debtorId: string; locale: string }>(
      statement(db, 'match_phone', PHONE_HOLDERS, [e164]),
    )
  ).rows;
  const ids = cps.map((c) => c.id);
  const debtors = [...new Set(cps.map((c) => c.debtorId))];
  if (debtors.length === 1) {
    return {
      match: {
        kind: 'thread',
        debtorId: debtors[0]!,
        contactPointId: cps[0]!.id,
        fromUnknownAddress: false,
        via: 'sender',
        locale: cps[0]!.locale,
      },
      numberContactPointIds: ids,
    };
  }
  return {
    match: {
      kind: 'unmatched',
      address: e164,
      reason: debtors.length ? 'ambiguous_sender' : 'unknown_sender',
      candidateDebtorIds: debtors,
    },
    numberContactPointIds: ids,
  };
}

export interface EmailAddressing {
  from: string;
  /** To, Cc and envelope recipients. */
  recipients: string[];
  /** In-Reply-To first, then References (newest last, as sent). */
  referencedIds: string[];
}

/** The token of a reply+TOKEN@<inbound domain> address, if any. */
export function replyTokens(recipients: string[], inboundDomain: string): string[] {
  const domain = inboundDomain.toLowerCase();
  const out: string[] = [];
  for (const r of recipients) {
    const m = /^reply\+([a-z0-9]+)@(.+)$/i.exec(r.trim());
    if (m && m[2]!.toLowerCase() === domain) out.push(m[1]!.toLowerCase());
  }
  return [...new Set(out)];
}

/** Message-ID variants we may have stored: with and without angle brackets, and a provider's local part. */
function idVariants(id: string): string[] {
  const bare = id.trim().replace(/^<|>$/g, '');
  const local = bare.split('@')[0]!;
  return [...new Set([bare, `<${bare}>`, local, local.split('.')[0]!].filter(Boolean))];
}

async function senderOnFile(db: Db, debtorId: string, from: string): Promise<string | null> {
  const cp = await db.contactPoint.findFirst({ where: { debtorId, kind: 'EMAIL', value: from }, select: { id: true } });
  return cp?.id ?? null;
}

export async function matchEmail(db: Db, a: EmailAddressing, inboundDomain: string): Promise<Match> {
  const from = normalizeEmail(a.from);
  for (const token of replyTokens(a.recipients, inboundDomain)) {
    const c = await db.conversation.findUnique({ where: { replyToken: token }, select: { id: true, debtorId: true } });
    if (!c) continue;
    if (!c.debtorId)
      return {
        kind: 'thread',
        debtorId: null,
        conversationId: c.id,
        contactPointId: null,
        fromUnknownAddress: false,
        via: 'reply_token',
      };
    const cp = await senderOnFile(db, c.debtorId, from);
    return { kind: 'thread', debtorId: c.debtorId, contactPointId: cp, fromUnknownAddress: !cp, via: 'reply_token' };
  }
  // Newest reference first: In-Reply-To, then References from the end.
  const refs = [...new Set(a.referencedIds)];
  for (const ref of refs) {
    const variants = idVariants(ref);
    const m = await db.message.findFirst({
      where: { OR: [{ rfcMessageId: { in: variants } }, { providerMessageId: { in: variants } }] },
      select: { conversationId: true, debtorId: true },
    });
    if (!m) continue;
    if (!m.debtorId)
      return {
        kind: 'thread',
        debtorId: null,
        conversationId: m.conversationId,
        contactPointId: null,
        fromUnknownAddress: false,
        via: 'in_reply_to',
      };
    const cp = await senderOnFile(db, m.debtorId, from);
    return { kind: 'thread', debtorId: m.debtorId, contactPointId: cp, fromUnknownAddress: !cp, via: 'in_reply_to' };
  }
  const cps = await db.contactPoint.findMany({
    where: { kind: 'EMAIL', value: from },
    select: { id: true, debtorId: true },
    orderBy: { createdAt: 'asc' },
  });
  const debtors = [...new Set(cps.map((c) => c.debtorId))];
  if (debtors.length === 1)
    return {
      kind: 'thread',
      debtorId: debtors[0]!,
      contactPointId: cps[0]!.id,
      fromUnknownAddress: false,
      via: 'sender',
    };
  return {
    kind: 'unmatched',
    address: from,
    reason: debtors.length ? 'ambiguous_sender' : 'unknown_sender',
    candidateDebtorIds: debtors,
  };
}
