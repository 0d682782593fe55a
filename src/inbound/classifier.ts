// Understanding replies. The gateway acts on what a reply says (opt-outs,
// cease requests, disputes, promises to pay, …) through this interface, so the
// rule-based classifier below can be replaced by a better one (a model, a
// vendor) without touching the actions. Rules lean towards recall for
// anything that protects the consumer (opt-outs, cease, disputes): a false
// positive costs an agent a look, a false negative breaks the law.
import type { Channel } from '../generated/prisma/enums.js';
import { extractReply } from './reply-text.js';

export type ReplyIntent =
  | 'opt_out' // "please stop", "remove me": the medium the reply came in on
  | 'opt_out_sms'
  | 'opt_out_email'
  | 'opt_out_voice'
  | 'cease' // stop all contact (Reg F §1006.6(c))
  | 'dispute'
  | 'already_paid'
  | 'promise_to_pay'
  | 'hardship'
  | 'callback_request'
  | 'wrong_number';

export interface ExtractedFacts {
  amount?: { value: string; currency?: string };
  /** ISO date (YYYY-MM-DD) a payment or callback refers to, resolved against `now`. */
  date?: string;
  dateText?: string;
  /** e.g. "after 6pm" */
  timeText?: string;
}

export interface Classification {
  intents: ReplyIntent[];
  /** 0..1; rule matches are fairly certain but not proof. */
  confidence: number;
  extracted: ExtractedFacts;
}

export interface ReplyClassifier {
  classify(text: string, channel: Channel, locale: string, now?: Date): Classification;
}

/** Folds case, accents and typographic apostrophes so rules match "No me envíen más" and "don’t". */
export function foldText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

const NEG = "(?:don'?t|dont|do not|never|no longer|not)";

const RULES: Record<ReplyIntent, RegExp[]> = {
  opt_out_sms: [
    /\b(stop|quit|cease|no more) (texting|txting|sending (me )?(texts?|text messages|messages|sms))\b/,
    new RegExp(`\\b${NEG} (text|txt|sms|message) (me|this number|here)\\b`),
    /\bno more (texts|text messages|sms|messages)\b/,
    /\b(unsubscribe|remove) me from (texts|text messages|sms)\b/,
    /\bno me (envie[ns]?|mande[ns]?|escriba[ns]?) (mas )?(mensajes|textos|sms)\b/,
    /\bdej(a|e|en) de (enviar|mandar)(me)? (mensajes|textos|sms)\b/,
    /\bno (me )?escrib(a|an|as) mas\b/,
  ],
  opt_out_email: [
    /\b(stop|quit|cease) (emailing|e-mailing|sending (me )?(e-?mails?|mail))\b/,
    new RegExp(`\\b${NEG} (email|e-mail) me\\b`),
    /\bno more (e-?mails)\b/,
    /\bremove me from (your )?(mailing|email|e-mail) list\b/,
    /\bno me (envie[ns]?|mande[ns]?) (mas )?correos?\b/,
  ],
  opt_out_voice: [
    /\b(stop|quit|cease) (calling|phoning|ringing)\b/,
    new RegExp(`\\b${NEG} (call|phone|ring) (me|this number|here|again)\\b`),
    /\bno more (phone )?calls\b/,
    /\bno me llame[ns]?\b/,
    /\bdej(a|e|en) de llamar(me)?\b/,
  ],
  cease: [
    /\b(stop|quit|cease) (contacting|bothering|harassing|harrassing) me\b/,
    new RegExp(`\\b${NEG} contact me\\b`),
    /\bleave me alone\b/,
    /\bcease (all )?(communications?|contact)\b/,
    /\bstop all (contact|communications?)\b/,
    /\bno me contacte[ns]?\b/,
    /\bdej(a|e|en) de (contactarme|molestarme)\b/,
    /\bdejen?me en paz\b/,
  ],
  opt_out: [
    /^(please )?(stop|stop it|stop now|stop please|stop!+)[.!]*$/,
    /\bunsubscribe\b/,
    /\bopt(-| )?out\b/,
    /\b(remove|take) me off\b/,
    /\bremove (me|my number|my email)\b/,
    /^(alto|basta|para|parar|baja|cancelar)[.!]*$/,
    /\bdar(me)? de baja\b/,
  ],
  dispute: [
    /\bdisput(e|ing|ed)\b/,
    /\bnot my (debt|bill|account|loan|invoice|balance)\b/,
    /\b(i )?(don'?t|dont|do not) owe\b/,
    /\bnever (had|opened|signed up|owed|bought)\b/,
    /\b(scam|fraud|fraudulent|identity theft)\b/,
    /\bwrong (amount|balance)\b/,
    /\b(amount|balance|bill|total) (is|was|seems) (wrong|incorrect|not right)\b/,
    /\b(validate|verify|verification of|validation of) (this|the) debt\b/,
    /\bno (es mi deuda|debo nada)\b/,
    /\bdisputa\b/,
  ],
  already_paid: [
    /\b(already|have already|i've) paid\b/,
    /\bpaid (it|this|that|in full|off|already|last)\b/,
    /\bi paid\b/,
    /\bpayment (was|has been|already) (sent|made|done)\b/,
    /\bya (lo )?pague\b/,
  ],
  promise_to_pay: [
    /\b(i'?ll|i will|i can|i'?m going to|i am going to|gonna|promise to|will) (pay|send (the|a|my)? ?(money|payment)|make (a|the) payment)\b/,
    /\bpay (you )?(on|by|next|this|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b/,
    /\b(voy a|puedo) pagar\b/,
    /\bpagare\b/,
  ],
  hardship: [
    /\b(lost my job|unemployed|laid off|out of work|can'?t afford|cannot afford|can'?t pay|cannot pay|unable to pay|hardship|medical bills|in (the )?hospital|hospitali[sz]ed|struggling|no money|disabled|disability|bereavement|passed away|divorce)\b/,
    /\b(no puedo pagar|sin trabajo|desempleado|no tengo dinero)\b/,
  ],
  callback_request: [
    new RegExp(`(?<!${NEG} )\\b(call me|give me a call|ring me|phone me|call me back|call back|callback|can (you|someone) call)\\b`),
    /\b(llamen?me|llameme)\b/,
  ],
  wrong_number: [
    /\bwrong (number|person|email|address)\b/,
    /\b(don'?t|do not) know (any|anyone|who|this person|him|her)\b/,
    /\b(no ?one|nobody) (here )?(by|named|called)\b/,
    /\bnot the (right )?person\b/,
    /\bnumero equivocado\b/,
    /\bpersona equivocada\b/,
  ],
};

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

const iso = (d: Date) => d.toISOString().slice(0, 10);
const addDays = (d: Date, n: number) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + n));

/** Amount like "$150", "150 dollars", "£20.50", "usd 300". */
export function extractAmount(text: string): ExtractedFacts['amount'] {
  const symbol = /(\$|£|€|₹|usd ?|gbp ?|eur ?|inr ?|rs\.? ?)(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)/i.exec(text);
  const symbolCurrency: Record<string, string> = { $: 'USD', '£': 'GBP', '€': 'EUR', '₹': 'INR', usd: 'USD', gbp: 'GBP', eur: 'EUR', inr: 'INR', rs: 'INR', 'rs.': 'INR' };
  if (symbol) return { value: symbol[2]!.replace(/,/g, ''), currency: symbolCurrency[symbol[1]!.trim().toLowerCase()] };
  const word = /\b(\d+(?:\.\d{1,2})?) ?(dollars|bucks|usd|pounds|euros|rupees)\b/i.exec(text);
  const wordCurrency: Record<string, string> = { dollars: 'USD', bucks: 'USD', usd: 'USD', pounds: 'GBP', euros: 'EUR', rupees: 'INR' };
  if (word) return { value: word[1]!, currency: wordCurrency[word[2]!.toLowerCase()] };
  return undefined;
}

/** A date the text refers to ("on friday", "next monday", "tomorrow", "march 5", "5/3", "2025-03-05"). */
export function extractDate(folded: string, locale: string, now: Date): { date: string; dateText: string } | undefined {
  let m = /\b(\d{4})-(\d{2})-(\d{2})\b/.exec(folded);
  if (m) return { date: `${m[1]}-${m[2]}-${m[3]}`, dateText: m[0] };
  if ((m = /\b(tomorrow|manana)\b/.exec(folded))) return { date: iso(addDays(now, 1)), dateText: m[0] };
  if ((m = /\b(today|tonight|hoy)\b/.exec(folded))) return { date: iso(now), dateText: m[0] };
  if ((m = /\b(end of (the )?month)\b/.exec(folded))) return { date: iso(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0))), dateText: m[0] };
  if ((m = new RegExp(`\\b(next )?(${WEEKDAYS.join('|')})\\b`).exec(folded))) {
    const target = WEEKDAYS.indexOf(m[2]!);
    // The coming one ("friday" on a Friday means a week later); "next friday" is read the same way, as most people mean it.
    let delta = (target - now.getUTCDay() + 7) % 7;
    if (delta === 0) delta = 7;
    return { date: iso(addDays(now, delta)), dateText: m[0] };
  }
  const monthNames = MONTHS.join('|') + '|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec';
  const monthIndex = (name: string) => MONTHS.findIndex((full) => full.startsWith(name.slice(0, 3)));
  const upcoming = (month: number, day: number) => {
    let d = new Date(Date.UTC(now.getUTCFullYear(), month, day));
    if (d.getTime() < addDays(now, -1).getTime()) d = new Date(Date.UTC(now.getUTCFullYear() + 1, month, day));
    return d;
  };
  if ((m = new RegExp(`\\b(${monthNames})\\.? (\\d{1,2})(st|nd|rd|th)?\\b`).exec(folded))) {
    return { date: iso(upcoming(monthIndex(m[1]!), Number(m[2]))), dateText: m[0] };
  }
  if ((m = new RegExp(`\\b(\\d{1,2})(st|nd|rd|th)? (of )?(${monthNames})\\b`).exec(folded))) {
    return { date: iso(upcoming(monthIndex(m[4]!), Number(m[1]))), dateText: m[0] };
  }
  if ((m = /\b(\d{1,2})\/(\d{1,2})(?:\/(\d{2,4}))?\b/.exec(folded))) {
    // US writes month/day; most other locales day/month.
    const us = /^en(-us)?$/i.test(locale) || /-US$/i.test(locale);
    const [a, b] = [Number(m[1]), Number(m[2])];
    const [month, day] = us ? [a, b] : [b, a];
    if (month >= 1 && month <= 12 && day >= 1 && day <= 31) {
      const year = m[3] ? (m[3].length === 2 ? 2000 + Number(m[3]) : Number(m[3])) : undefined;
      const d = year ? new Date(Date.UTC(year, month - 1, day)) : upcoming(month - 1, day);
      return { date: iso(d), dateText: m[0] };
    }
  }
  if ((m = /\b(on )?the (\d{1,2})(st|nd|rd|th)\b/.exec(folded))) {
    const day = Number(m[2]);
    let d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), day));
    if (d.getTime() < addDays(now, -1).getTime()) d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, day));
    return { date: iso(d), dateText: m[0] };
  }
  return undefined;
}

export class RuleBasedClassifier implements ReplyClassifier {
  classify(text: string, channel: Channel, locale: string, now: Date = new Date()): Classification {
    const folded = foldText(text);
    const intents: ReplyIntent[] = [];
    if (!folded) return { intents, confidence: 0, extracted: {} };
    for (const [intent, patterns] of Object.entries(RULES) as [ReplyIntent, RegExp[]][]) {
      if (patterns.some((p) => p.test(folded))) intents.push(intent);
    }
    // A medium-specific opt-out says more than the generic one.
    if (intents.includes('opt_out') && intents.some((i) => i === 'opt_out_sms' || i === 'opt_out_email' || i === 'opt_out_voice' || i === 'cease')) {
      intents.splice(intents.indexOf('opt_out'), 1);
    }
    // "Unsubscribe" in an email means email; in a text it is the generic opt-out of that number.
    if (channel === 'EMAIL' && intents.includes('opt_out')) {
      intents.splice(intents.indexOf('opt_out'), 1, 'opt_out_email');
    }
    if (intents.includes('opt_out_voice') && intents.includes('callback_request')) intents.splice(intents.indexOf('callback_request'), 1);

    const extracted: ExtractedFacts = {};
    if (intents.includes('promise_to_pay') || intents.includes('already_paid') || intents.includes('callback_request')) {
      const amount = extractAmount(text);
      if (amount) extracted.amount = amount;
      const date = extractDate(folded, locale, now);
      if (date) Object.assign(extracted, date);
    }
    if (intents.includes('callback_request')) {
      const time = /\b(after|before|at|around|between) \d{1,2}(:\d{2})? ?(am|pm)?( and \d{1,2}(:\d{2})? ?(am|pm)?)?\b|\b(in the )?(morning|afternoon|evening)\b/.exec(folded);
      if (time) extracted.timeText = time[0];
    }
    return { intents, confidence: intents.length ? 0.7 : 0, extracted };
  }
}

/** The classifier in use. Swap it here (or at start-up) for a better one. */
export let replyClassifier: ReplyClassifier = new RuleBasedClassifier();
export function setReplyClassifier(c: ReplyClassifier): void {
  replyClassifier = c;
}

export type SmsKeyword = 'opt_out' | 'opt_in' | 'help';

/** Carrier/Twilio keywords: the exact single word, any case, after trimming. */
export function smsKeyword(body: string): SmsKeyword | null {
  const word = body.trim().toUpperCase();
  if (['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'].includes(word)) return 'opt_out';
  if (['START', 'YES', 'UNSTOP'].includes(word)) return 'opt_in';
  if (['HELP', 'INFO'].includes(word)) return 'help';
  return null;
}

/** The part of an email reply the sender wrote (see reply-text.ts): no quoted history, no forwarded original, none of our own lines. */
export function visibleReplyText(text: string, ours: readonly string[] = []): string {
  return extractReply(text, ours).text;
}
