// Understanding replies. The gateway acts on what a reply says (opt-outs,
// cease requests, disputes, promises to pay, …) through this interface, so the
// rule-based classifier below can be replaced by a better one (a model, a
// vendor) without touching the actions.
//
// What a collections desk needs from it, in order: an opt-out in any
// reasonable wording is never missed (FCC 24-24: "any reasonable means" —
// English, Spanish, Hindi in Devanagari and in Latin script (Hinglish),
// emoji, text-speak); nothing that is not an opt-out revokes consent (a
// wrong revocation silences a debtor who wanted to be reached); a negated
// phrase is not its positive ("no puedo pagar" is no promise, "don't stop"
// no opt-out). Where the rules cannot tell, the reply is flagged for an agent
// (`review`) instead of guessed. test/inbound/corpus/ holds the labelled
// texts the precision and recall thresholds are measured on.
import type { Channel } from '../generated/prisma/enums.js';
import { resolveDate } from './promise-dates.js';
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
  /** ISO date (YYYY-MM-DD) a payment or callback refers to, on the debtor's calendar at `now`. */
  date?: string;
  dateText?: string;
  /** Another day the date text may mean ("next Friday"): an agent confirms. */
  dateAmbiguous?: string;
  /** e.g. "after 6pm" */
  timeText?: string;
}

export interface Classification {
  intents: ReplyIntent[];
  /** 0..1; rule matches are fairly certain but not proof. */
  confidence: number;
  extracted: ExtractedFacts;
  /** Why an agent should read this reply (the rules were unsure); nothing is revoked or decided on these. */
  review?: string[];
}

export interface ClassifyOptions {
  /** The debtor's IANA zone: dates ("tomorrow", "friday") are days on their calendar. Default UTC. */
  zone?: string;
}

export interface ReplyClassifier {
  classify(text: string, channel: Channel, locale: string, now?: Date, opts?: ClassifyOptions): Classification;
}

/** Folds case, Latin accents and typographic apostrophes so rules match "No me envíen más" and "don’t" (Devanagari is kept as written). */
export function foldText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .normalize('NFC')
    .replace(/[\u2018\u2019\u02bc\u0060\u00b4]/g, "'")
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

// ── normalising text-speak ─────────────────────────────────────────────────

// Emoji and signs people send for "stop" (🛑 ⛔ 🚫 ✋ 🤚 🙅 🔕 📵 ❌ ✖).
const STOP_EMOJI = /[\u{1F6D1}\u26D4\u{1F6AB}\u270B\u{1F91A}\u{1F645}\u{1F515}\u{1F4F5}\u274C\u2716]\uFE0F?/gu;

// Whole words only; written folded. Each maps text-speak to the word the rules use.
const ABBREVIATIONS: Record<string, string> = {
  msg: 'message',
  msgs: 'messages',
  mssg: 'message',
  mssgs: 'messages',
  mesage: 'message',
  mesages: 'messages',
  messeges: 'messages',
  massage: 'message',
  massages: 'messages',
  txt: 'text',
  txts: 'texts',
  txting: 'texting',
  tx: 'text',
  texs: 'texts',
  txtng: 'texting',
  sms: 'sms',
  smss: 'sms',
  pls: 'please',
  plz: 'please',
  plez: 'please',
  pliz: 'please',
  plzz: 'please',
  plse: 'please',
  pleas: 'please',
  pleez: 'please',
  plox: 'please',
  u: 'you',
  yu: 'you',
  ur: 'your',
  yr: 'your',
  dont: "don't",
  dnt: "don't",
  cant: "can't",
  cnt: "can't",
  wont: "won't",
  didnt: "didn't",
  doesnt: "doesn't",
  isnt: "isn't",
  aint: "ain't",
  havent: "haven't",
  wasnt: "wasn't",
  // "ill" is "I'll" far more often than "ill" in a text; hardship reads "i'm ill" back (below).
  im: "i'm",
  ive: "i've",
  ill: "i'll",
  unsub: 'unsubscribe',
  unsubcribe: 'unsubscribe',
  unsubscibe: 'unsubscribe',
  unsuscribe: 'unsubscribe',
  unsubscribed: 'unsubscribe',
  tmrw: 'tomorrow',
  tmr: 'tomorrow',
  tmrow: 'tomorrow',
  tomoro: 'tomorrow',
  tomorow: 'tomorrow',
  tommorow: 'tomorrow',
  tommorrow: 'tomorrow',
  '2moro': 'tomorrow',
  '2morrow': 'tomorrow',
  '2mrw': 'tomorrow',
  tmw: 'tomorrow',
  tmrrw: 'tomorrow',
  nxt: 'next',
  wk: 'week',
  bc: 'because',
  cuz: 'because',
  coz: 'because',
  thx: 'thanks',
  thnx: 'thanks',
  tks: 'thanks',
  ty: 'thanks',
  gonna: 'going to',
  wanna: 'want to',
  gotta: 'got to',
  idk: "i don't know",
  acct: 'account',
  amt: 'amount',
  pymt: 'payment',
  pmt: 'payment',
  paymt: 'payment',
  pd: 'paid',
  fone: 'phone',
  ph: 'phone',
  num: 'number',
  b4: 'before',
  asap: 'asap',
  // Spanish
  xfa: 'por favor',
  porfa: 'por favor',
  porfis: 'por favor',
  porfavor: 'por favor',
  xfavor: 'por favor',
  q: 'que',
  xq: 'porque',
  pq: 'porque',
  porq: 'porque',
  msj: 'mensaje',
  msjs: 'mensajes',
  mjs: 'mensajes',
  mensages: 'mensajes',
  mensage: 'mensaje',
  tmb: 'tambien',
  tb: 'tambien',
  ntp: 'no te preocupes',
  // Hinglish
  nhi: 'nahi',
  nahin: 'nahi',
  nai: 'nahi',
  nahee: 'nahi',
  nahii: 'nahi',
  mt: 'mat',
  kro: 'karo',
  kr: 'kar',
  krna: 'karna',
  krdo: 'kar do',
  kardo: 'kar do',
  krdiya: 'kar diya',
  kardiya: 'kar diya',
  bnd: 'band',
  mko: 'mujhe',
  mujhko: 'mujhe',
  muje: 'mujhe',
  mje: 'mujhe',
  h: 'hai',
  hy: 'hai',
};

/** The text as the rules read it: folded, emoji and text-speak spelled out, long letter runs shortened ("stoooop"). */
export function foldForIntents(text: string): string {
  let t = foldText(text.replace(STOP_EMOJI, ' stop '));
  // Other pictographs, joiners and variation selectors carry no words ("🙅‍♀️" leaves "♀").
  t = t.replace(/\p{Extended_Pictographic}|[\u200d\ufe0f\u2640\u2642]/gu, ' ');
  t = t.replace(/(\p{L})\1{2,}/gu, '$1');
  t = t.replace(/\bwrong #/g, 'wrong number').replace(/(?<=\s|^)#(?=\s|$)/g, ' number ');
  t = t.replace(/[\p{L}\p{N}']+/gu, (w) => ABBREVIATIONS[w] ?? w);
  // "STOP 🛑" and "🚫🚫" read as one "stop".
  return t
    .replace(/\s+/g, ' ')
    .replace(/\b([\p{L}']+)(?: \1\b)+/gu, '$1')
    .trim();
}

// ── the rules ─────────────────────────────────────────────────────────────

const NEG = "(?:don't|do not|never|no longer|not|stop)";
// Verb-final Hinglish: band karo, mat bhejo, na bheje…
const KARO = '(karo|kar do|kariye|kijiye|kare|karein|karen|karna|kar dijiye|kar dena|kar)';
const SEND_HI = '(bhejo|bhejna|bhejiye|bheje|bhejein|bhejen|bhejte|bhejne|bhejen)';

/** Medium-specific and generic revocations, then the other intents. Order matters only for readability. */
const RULES: Record<ReplyIntent, RegExp[]> = {
  opt_out_sms: [
    /\b(stop|quit|cease|end) (texting|messaging|msging|sending (me )?(any )?(texts?|text messages|messages|sms|these( messages| texts)?))\b/,
    new RegExp(`\\b${NEG} (text|sms|message) (me|this number|here|again|anymore)\\b`),
    /\bno (more|further) (texts|text messages|sms|messages|text|message)\b/,
    /\b(i )?(don't|do not) want (any more |anymore |these |your |to (get|receive) (any )?(more )?)?(texts|text messages|messages|sms)\b/,
    /\b(unsubscribe|remove) me from (texts|text messages|sms|messages|your (text|sms|messaging) list)\b/,
    /\bno me (envie[ns]?|mande[ns]?|escriba[ns]?) (mas )?(mensajes|textos|sms)\b/,
    /\bdej(a|e|en) de (enviar|mandar)(me)? (mensajes|textos|sms)\b/,
    /\bno (quiero|deseo) (recibir )?(mas )?(mensajes|textos|sms)\b/,
    /\bno mas (mensajes|textos|sms)\b/,
    new RegExp(`\\b(message|messages|sms|text|texts) (mat|na|nahi) ${SEND_HI}\\b`),
    new RegExp(`\\b(message|messages|sms|text|texts) (${SEND_HI} )?band ${KARO}\\b`),
    /\b(message|messages|sms) nahi chahiye\b/,
    /(मैसेज|संदेश|एसएमएस)\s*(मत|न|ना)\s*(भेजो|भेजें|भेजिए|भेजना)/u,
    /(मैसेज|संदेश|एसएमएस)\s*(भेजना\s*)?बंद\s*(करो|करें|कीजिए|कर दो)/u,
  ],
  opt_out_email: [
    /\b(stop|quit|cease) (emailing|e-mailing|sending (me )?(e-?mails?|mail))\b/,
    new RegExp(`\\b${NEG} (email|e-mail) me\\b`),
    /\bno more (e-?mails)\b/,
    /\bremove me from (your )?(mailing|email|e-mail) list\b/,
    /\bno me (envie[ns]?|mande[ns]?) (mas )?correos?\b/,
    /\bno mas correos\b/,
    /\b(email|emails|mail) (mat|na) ${SEND_HI}\b/,
  ],
  opt_out_voice: [
    /\b(stop|quit|cease) (calling|phoning|ringing)\b/,
    new RegExp(`\\b${NEG} (call|phone|ring) (me|this number|here|again|anymore)\\b`),
    /\bno more (phone )?calls\b/,
    /\bno me llame[ns]?\b/,
    /\bdej(a|e|en) de llamar(me)?\b/,
    /\bno (quiero|deseo) (recibir )?(mas )?llamadas\b/,
    new RegExp(`\\b(call|calls|phone) (mat|na) ${KARO}\\b`),
    new RegExp(`\\b(call|calls) band ${KARO}\\b`),
    /(कॉल|फोन|फ़ोन)\s*(मत|न|ना)\s*(करो|करें|कीजिए)/u,
  ],
  cease: [
    /\b(stop|quit|cease) (contacting|bothering|harassing|harrassing|bugging|pestering|calling and texting|texting and calling) me\b/,
    new RegExp(`\\b${NEG} contact me\\b`),
    /\bleave me alone\b/,
    /\bcease (all )?(communications?|contact)\b/,
    /\bstop all (contact|communications?)\b/,
    /\bno me (contacte[ns]?|molest(e[ns]?|es))\b/,
    /\bdej(a|e|en) de (contactarme|molestarme|acosarme)\b/,
    /\bdejen?me en paz\b/,
    /\bya no me (contacten|molesten)\b/,
    new RegExp(`\\b(pareshan|paresan|pareshaan|tang|disturb|contact) (mat|na) ${KARO}\\b`),
    new RegExp(`\\bmujhe (pareshan|tang|disturb) ${KARO} band\\b`),
    /(परेशान|तंग)\s*(मत|न|ना)\s*(करो|करें|कीजिए)/u,
    /संपर्क\s*(मत|न|ना)\s*(करो|करें)/u,
  ],
  opt_out: [
    // The bare request, alone or with a courtesy: "STOP", "stop please", "Stop!!!", "STOP ALL", "🛑", "end", "cancel".
    /^(please |por favor |plz )?(stop|stop it|stop all|stopall|stop now|stop this|stop these|stop them|stop messages?|stop msgs?|end|quit|cancel|cancel all|unsubscribe|optout|opt out|remove|remove me|revoke|enough|enough already|no more)( please| por favor| now| all| thanks| thank you| immediately| asap)*[\s.!?]*$/,
    // "Stop. I already paid" / "STOP - wrong number": stop as the first word, then punctuation.
    /^(please )?stop\s*[.!,;:\-–]+/,
    /\bunsubscribe\b/,
    /\bopt(-| )?out\b/,
    /\b(remove|take|delete) (me|my number|this number|my phone( number)?|my email)( from| off)?\b/,
    /\btake me off\b/,
    /\bquit (messaging|texting|sending|contacting|bugging|bothering)\b/,
    /\b(stop|quit) (sending|messaging)\b/,
    /\bstop (it|this|these|them) (now|please|already)\b/,
    /\b(i )?(don't|do not) want (any more |anymore |these |your |this )?(messages|texts|notifications|reminders|alerts)\b/,
    /\b(i want|i'd like|i would like) to (unsubscribe|opt out|stop (receiving|getting) (these|your|the|them|messages|texts))\b/,
    /\b(stop|cease) (receiving|getting) (these|your|the|them|messages|texts)\b/,
    /\b(revoke|withdraw) (my )?consent\b/,
    /\bdiscontinue (these|the|your|all|this)?\b/,
    /\b(want|get me|take me) off (this|the|your) (list|thing)\b|\bi want off\b/,
    /\b(asked|told) (you|u)( guys| people)? (to|2) stop\b/,
    /^(please )?block (me|this number|my number)\b/,
    /\b(lose|delete) my number\b/,
    // Spanish
    /^(por favor )?(alto|basta|para|parar|pare|paren|baja|cancelar|detener|stop|ya basta|ya no mas|no mas)( por favor| ya| gracias)*[\s.!?]*$/,
    /\b(dar(me)?|den(me)?|dame|deme|da|quiero darme) de baja\b/,
    /\bno me (esten|este|sigan) (mandando|enviando|escribiendo|mensajeando)\b/,
    /\b(quitenme|quiteme|quitame|borrenme|eliminenme|sacame|saquenme) de (la|su|sus|tu) lista\b/,
    /\bya no (me )?(escriban|escribas|escriba|manden|mandes|mande|envien|envies|envie|mensajeen|textees)\b/,
    /\bno (me )?(escriban|escribas|escriba) mas\b/,
    /\b(dejen|deja|deje) de (escribir|enviar|mandar)(me)?\b/,
    /\b(eliminen|borren|quiten|saquen|elimina|borra|quita|saca) (mi numero|mi correo|me de)\b/,
    /\b(sac(a|ame|enme|arme)|saquen(me)?|saqueme) de (la|su|tu|sus) lista\b/,
    /\b(cancelar|cancela|cancelen) (la |los |las )?(suscripcion|mensajes|notificaciones|textos)\b/,
    /\b(desuscribir(me)?|desinscribir(me)?|desuscribanme)\b/,
    /\bno quiero (recibir )?(mas )?(notificaciones|recordatorios)\b/,
    // Hinglish and Hindi
    new RegExp(
      `^(please |plz )?(band ${KARO}|bas ${KARO}|bas|band|mat bhejo|mat ${SEND_HI})( please| plz| ji)*[\\s.!?]*$`,
    ),
    new RegExp(`\\b(mat|na) ${SEND_HI}\\b`),
    new RegExp(`\\bmujhe (kuch )?(mat|na) ${SEND_HI}\\b`),
    new RegExp(`\\b(mera|my) number (hata|hatao|hata do|delete ${KARO}|remove ${KARO}|nikal do|nikalo)\\b`),
    /\blist se (hata|hatao|nikal|nikalo)\b/,
    /(बंद\s*(करो|करें|कीजिए|कर दो))|(मत|न|ना)\s*(भेजो|भेजें|भेजिए)|अनसब्सक्राइब|नंबर\s*हटा/u,
  ],
  dispute: [
    /\bdisput(e|ing|ed)\b/,
    /\bnot my (debt|bill|account|loan|invoice|balance|charge)\b/,
    /\b(this|that|it)( debt| bill| account| loan)? (is not|isn't|ain't|is'nt) mine\b/,
    /\bnot mine\b/,
    /\b(bogus|fake|made up|phony|phoney) (debt|bill|charge|claim|account)\b/,
    /\bno (le |les |te )?debo (eso|esto|nada|ese dinero|esa cantidad)\b/,
    /\b(mujhe|maine) koi (paisa|paise|rupaya|rupay) nahi (dena|lena|diya)\b/,
    /\b(i )?(don't|do not|dont) owe\b/,
    /\bi owe (you )?nothing\b/,
    /\bowe (you )?nothing\b/,
    /\bnever (had|opened|signed( up| anything| for)?|owed|bought|took|borrowed|applied|authori[sz]ed)\b/,
    /\b(this|the|that) (debt|bill|account|loan|claim) is (not valid|invalid|time-barred|too old)\b|\b(is|it's) not (a )?valid( debt)?\b|\btime-barred\b/,
    /\b(scam|scammer|scammers|fraud|fraudulent|identity theft|stolen identity)\b/,
    /\bwrong (amount|balance)\b/,
    /\b(amount|balance|bill|total) (is|was|seems) (wrong|incorrect|not right)\b/,
    /\b(validate|verify|verification of|validation of|proof of) (this|the) debt\b/,
    /\b(i )?(don't|do not) recogni[sz]e (this|the|that)\b/,
    /\bnever heard of\b/,
    /\b(send|show) (me )?(proof|the contract|documentation)\b/,
    /\bno (es mi deuda|debo nada|reconozco)\b/,
    /\b(no es mia|no es mio|yo no debo|no le debo|no les debo)\b/,
    /\bnunca (pedi|saque|tuve|solicite|firme)\b/,
    /\b(fraude|estafa|robo de identidad)\b/,
    /\b(disputa|disputo|disputamos|impugno)\b/,
    /\b(mera|mere|mujhe) (koi )?(loan|karz|karza|udhar|account|bill) nahi\b/,
    /\b(ye|yeh|ye wala) (loan|karz|karza|bill|account) (mera )?nahi\b/,
    /\bmaine (kabhi )?(koi )?(loan|karz|karza|udhar) (kabhi )?(nahi|kabhi nahi) (liya|li)\b/,
    /\bfraud hai\b/,
    /(मेरा|मेरी)\s*(कर्ज|क़र्ज़|लोन|बिल)\s*नहीं|मैंने\s*(कोई\s*)?(लोन|कर्ज)\s*नहीं\s*लिया|धोखाधड़ी/u,
  ],
  already_paid: [
    /\b(already|have already|i've|i have|i) paid\b/,
    /(?<!\b(get|gets|getting|got|be|i'm|when i|am) )\bpaid (it|this|that|in full|off|already|last|yesterday|on|the balance|you|monday|tuesday|wednesday|thursday|friday|saturday|sunday|online|by card)\b/,
    /\b(already|i) (sent|transferred|wired|mailed) (you )?(the|my|a)? ?(money|payment|transfer|check|cheque)\b/,
    /\bya (deposite|transferi|pague|lo deposite)\b/,
    /\b(payment|pay|bhugtan) ho (gaya|gayi|chuka|chuki)\b/,
    /\bpayment (was|has been|already) (sent|made|done|processed)\b/,
    /^(already )?paid( already| in full)?[\s.!]*$/,
    /\b(already settled|settled already|it'?s paid|it is paid|all paid|fully paid|paid up)\b/,
    /\bya (le |les |te )?pague\b/,
    /\b(i )?(sent|made) (the|my|a) payment\b/,
    /\bcheck is in the mail\b/,
    /\bya (lo |la )?pague\b/,
    /\bya (hice|realice|mande|envie|deposite) (el )?(pago|deposito)\b/,
    /\bpague (ayer|la semana pasada|el|hoy)\b/,
    /\bya (esta|quedo) (pagad[oa]|liquidad[oa])\b/,
    /\b(pay|payment|bhugtan|paise|paisa) (already |pehle hi )?(kar|de|bhej) (diya|diye|di|chuka|chuki|chuke)\b/,
    /\b(pehle hi|already) (pay|payment|bhugtan) (kar )?(diya|chuka)\b/,
    /(भुगतान|पैसे)\s*(कर|दे|भेज)\s*(दिया|दिए|दी|चुका|चुकी)/u,
  ],
  promise_to_pay: [
    /\b(i'll|i will|i can|i'm going to|i am going to|going to|promise to|will|can|i could|let me|i plan to|planning to|i'd like to) (pay|send (you )?(the|a|my)? ?(money|payment|rest|balance)|make (a|the|my) payment|settle|clear (it|the balance))\b/,
    /\bpay (you |it |this |the rest |the balance )?(on|by|next|this|today|tonight|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday|the \d|before|end of)\b/,
    /\bi'll have (it|the money|the payment)\b/,
    /\b(i'll|i will|i can|will) get (you )?(the )?(money|payment|rest|balance)( to you)?\b/,
    /\bpaying (you |it )?(on|by|next|this|today|tonight|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday|the \d)\b/,
    /\b(i'll|i will|will) send (you )?(\$|£|€|₹)?\d/,
    /^(te |le |les )?(pago|deposito|abono) (el|este|manana|hoy|la proxima|el proximo|mas tarde)\b/,
    /\b(voy a|puedo|podre|podria|quiero|prometo) (pagar|hacer (el|un) pago|abonar|depositar)\b/,
    /\b(lunes|martes|miercoles|jueves|viernes|sabado|domingo|manana|que viene|el \d{1,2}|fin de mes) (te |le |les |lo )?(pago|deposito|abono)\b/,
    /\b(pagare|le pago|les pago|te pago|hare el pago|hago el pago|realizare el pago|depositare|abonare|mando el pago|envio el pago)\b/,
    /\b(pay|payment|bhugtan|paise|paisa|amount) (kar|de|bhar|bhej) (dunga|dungi|denge|doonga|doongi|dunga ji)\b/,
    /\b(pay|payment|bhugtan) (karunga|karungi|karenge|karoonga|karungaa)\b/,
    /\b(de|bhar|bhej|chuka) (dunga|dungi|denge|doonga|doongi)\b/,
    /(भुगतान|पेमेंट|पैसे)\s*(कर|दे|भेज)\s*(दूंगा|दूँगा|दूंगी|दूँगी|देंगे)|(भुगतान|पेमेंट)\s*(करूंगा|करूँगा|करूंगी|करूँगी|करेंगे)/u,
  ],
  hardship: [
    /\b(lost my job|lost our jobs|unemployed|laid off|out of work|no job|no income|can't afford|cannot afford|can't pay|cannot pay|unable to pay|not able to pay|hardship|medical bills|in (the )?hospital|hospitali[sz]ed|struggling|no money|broke|disabled|disability|bereavement|passed away|died|divorce|evicted|homeless|cancer|surgery|sick|illness)\b/,
    /\b(won't|will not) be able to pay\b/,
    /\b(i'm|am|been|very|so|really|was) i'll\b/,
    /\b(no puedo pagar|no podre pagar|no voy a poder pagar|no tengo (trabajo|dinero|como pagar|para pagar|con que pagar)|sin (trabajo|empleo)|desemplead[oa]|me quede sin (trabajo|empleo)|perdi (mi|el) (trabajo|empleo)|no me alcanza|estoy enferm[oa]|hospital|me despidieron)\b/,
    /\b(naukri|job|kaam) (chali gayi|chala gaya|chhoot gayi|chut gayi|nahi hai|nahi)\b/,
    /\b(paise|paisa|pesa|pese) nahi (hai|hain|he)\b/,
    /\b(pay|payment|bhugtan) nahi kar (sakta|sakti|sakte|paunga|paungi|payenge)\b/,
    /\b(bimar|beemar|hospital mein|aspatal)\b/,
    /(नौकरी|काम)\s*(चली\s*गई|छूट\s*गई|नहीं\s*है)|पैसे\s*नहीं\s*(है|हैं)|(भुगतान|पेमेंट)\s*नहीं\s*कर\s*(सकता|सकती|पाऊंगा)|बीमार|अस्पताल/u,
  ],
  callback_request: [
    new RegExp(
      `(?<!${NEG} )\\b(call me|give me a call|ring me|phone me|call me back|call back|callback|can (you|someone|somebody) (call|ring|phone)|please call|pls call|call (at|after|before|between) \\d)\\b`,
    ),
    /\b(llamame|llameme|llamenme|marcame|marqueme|me (puede|pueden|podrian|podria) (llamar|marcar)|llamarme)\b/,
    /(?<!mat |na |nahi )\b(mujhe )?(call|phone) (karo|kijiye|kariye|kar do|kar dijiye|karna|kare|karein|karen|kar lena)\b/,
    /\bbaat karni hai\b/,
    /(मुझे\s*)?(कॉल|फोन|फ़ोन)\s*(करें|कीजिए|करो|कर दो)/u,
  ],
  wrong_number: [
    /\bwrong (number|person|email|address|guy|girl|lady|man)\b/,
    /\b(don't|do not) know (any|anyone|who|this person|that person|him|her|a )\b/,
    /\b(no ?one|nobody) (here |lives here )?(by|named|called|with) (that|this|the name)?/,
    /\bnot the (right )?person\b/,
    /\byou have the wrong\b/,
    /\b(this|that) is (not|n't) (his|her|their)\b/,
    /\bi'm not (him|her|the person)\b/,
    /\b(numero|persona|correo) (equivocad[oa]|incorrect[oa]|errone[oa])\b/,
    /\b(us|is|iss) (aadmi|insaan|ladki|ladke|person|vyakti|bande) ko nahi (jaanta|janta|jaanti|janti|jante)\b/,
    /\bse equivoc(o|aron|a) de (numero|persona)\b/,
    /\b(no conozco a|aqui no vive|no vive aqui)\b/,
    /\b(galat|glt|ghalat) (number|no|nambar|insaan|aadmi|person)\b/,
    /\baqui no es\b|\bno soy (esa|la|el|esta) persona\b|\bno soy (el|ella)\b/,
    /\b(main|mai|me) (wo|woh|vo|voh) nahi (hoon|hu|hun)\b/,
    /गलत\s*(नंबर|नम्बर|व्यक्ति)/u,
  ],
};

// ── the lexical net under the rules ───────────────────────────────────────
// People word "stop" in more ways than rules can list ("I said STOP", "make
// these texts stop", "no me vuelvan a escribir", "msg mat karo"). Under the
// rules lies a net: a stop-word near a message-word, in a short text, with no
// negation of the stop-word and none of the phrases where "stop", "cancel" or
// "remove" mean something else (stop by, stop the autopay, remove the fee).
const STOP_WORDS = new RegExp(
  `(?<![\\p{L}\\p{M}])(${[
    'stop|stopped|quit|end|cancel|discontinue|block|unsubscribe|opt( me)? out|optout|remove|delete|spam|spamming|enough|no more|no longer|never again',
    "(don't|do not|never|dont) (ever )?(send|text|message|call|contact|write|email)",
    '(paren|para|parar|pare|detengan|dejen|deja|deje|basta|alto|baja|bajame|bajen|den de baja|no me (manden|mande|envien|envie|escriban|escriba|vuelvan a|marquen|llamen|contacten|molesten)|no quiero|ya no|no enviar|favor de no)',
    '(band|mat|na bheje|na bhejein|hata|hatao|nikal|nikalo|bas karo|bas kijiye|bas kar do)',
    'बंद|मत|न भेज|हटा',
  ].join('|')})(?![\\p{L}\\p{M}])`,
  'u',
);
const MESSAGE_WORDS =
  /\b(texts?|messages?|sms|msgs?|this|these|them|it|me|my number|number|list|lista|mensajes?|textos?|nada|correos?|e-?mails?|calls?|calling|llamadas?|contact|contacten|marquen|escribir|escriban|message|call|phone)\b|मैसेज|संदेश|कॉल|फोन/u;
// Where the stop-word is about something else: a visit, a payment, a plan, a fee, a feeling.
const NOT_ABOUT_CONTACT =
  /\b(stop|stopped|cancel|end|remove|delete|quit) (by|in|at|over|the autopay|autopay|my (automatic |auto )?(payment|pay|plan|appointment|card|account|subscription)|the (automatic )?payment|paying|payments|worrying|thinking|the (late )?fees?|the charges?|the interest|the plan|this plan|the debt|the late)|\bbus stop\b|\bnon-?stop\b|\bstopwatch\b|\b(cancelar|cancelen|cancela) (el|mi) (plan|pago|cita)|\bparada\b|\bplan cancel\b|\b(end|fin) (of|de)\b|\b(end|settle|close|pay off|clear) (this|the|my) (debt|loan|account|balance|case|matter)\b/;
// Negated stop-word: "don't stop", "please do not cancel", "no cancelen", "cancel mat karo".
const STOP_NEGATED =
  /\b(don't|do not|dont|please don't|never|no) (stop|cancel|remove|unsubscribe|delete|end|quit|cancelen|quiten)\b|\b(stop|cancel|remove) (mat|na) (karo|kijiye)\b|\bkeep (sending|texting)\b|\bsigan\b/;

function lexicalOptOut(folded: string): ReplyIntent | null {
  const words = folded.split(/\s+/).length;
  if (words > 14 || !STOP_WORDS.test(folded) || NOT_ABOUT_CONTACT.test(folded) || STOP_NEGATED.test(folded))
    return null;
  if (words > 4 && !MESSAGE_WORDS.test(folded)) return null;
  if (/\b(contact|contacten|bother|harass|molest|pareshan|tang)\b/.test(folded)) return 'cease';
  if (
    /\b(calls?|calling|call|llamadas?|llamen|marquen|phone)\b|कॉल|फोन/u.test(folded) &&
    !/\b(texts?|messages?|sms|msgs?|mensajes?)\b/.test(folded)
  )
    return 'opt_out_voice';
  return 'opt_out';
}

/** A negation right before the matched phrase (within three words): "I can't pay", "no voy a pagar", "nahi kar sakta". */
const NEGATION_BEFORE =
  /(\b(not|no|never|can't|cannot|won't|don't|didn't|haven't|hasn't|couldn't|wouldn't|unable to|ni|nunca|jamas|tampoco|nahi|nahin|na|mat)\b|नहीं|न )(\s+[\p{L}']+){0,3}\s*$/u;
const NEGATION_AFTER = /^\s*([\p{L}']+\s+){0,2}(nahi|nahin|नहीं)\b/u;

/** Whether every match of the patterns is negated (so the intent does not hold). */
function allNegated(folded: string, patterns: RegExp[]): boolean {
  let any = false;
  for (const p of patterns) {
    const g = new RegExp(p.source, p.flags.includes('g') ? p.flags : `${p.flags}g`);
    for (const m of folded.matchAll(g)) {
      any = true;
      const before = folded.slice(Math.max(0, m.index! - 40), m.index);
      const after = folded.slice(m.index! + m[0].length, m.index! + m[0].length + 30);
      if (!NEGATION_BEFORE.test(before) && !NEGATION_AFTER.test(after)) return false;
    }
  }
  return any;
}

// Words that suggest a revocation the rules did not recognise: an agent reads it.
const OPT_OUT_HINT = /\b(stop|unsubscribe|remove|cancel|opt|spam|baja|alto|basta|parar|band|bhejo|bhejna)\b|बंद|भेज/u;
// A refusal is not a promise, and may be a dispute: an agent reads it.
const REFUSAL =
  /\b(i )?(won't|will not|refuse to|am not going to|i'm not going to|not going to|never going to|no way i'?m going to|no voy a|no pienso|me niego a)( ever)? (pay|pagar)\b|\bnahi (dunga|dungi|denge)\b|\bpay nahi karunga\b/;
// Representation and legal threats change what a collector may do: an agent reads them.
const LEGAL =
  /\b(lawyer|attorney|solicitor|abogad[oa]|vakil|court|sue|suing|lawsuit|demanda|cfpb|ftc|bbb|bankrupt|bankruptcy|bancarrota|quiebra|chapter 7|chapter 13)\b/;
const WHO_IS_THIS =
  /\b(who is this|who's this|who are you|quien es|quien habla|kaun (hai|ho|bol raha)|aap kaun)\b|कौन/u;

const REVOKING = new Set<ReplyIntent>(['opt_out', 'opt_out_sms', 'opt_out_email', 'opt_out_voice', 'cease']);

/** Amount like "$150", "150 dollars", "£20.50", "usd 300", "₹500", "Rs 500", "500 rupees", "200 pesos". */
export function extractAmount(text: string): ExtractedFacts['amount'] {
  const symbol =
    /(\$|£|€|₹|usd ?|gbp ?|eur ?|inr ?|rs\.? ?|mxn ?)(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)/i.exec(text);
  const symbolCurrency: Record<string, string> = {
    $: 'USD',
    '£': 'GBP',
    '€': 'EUR',
    '₹': 'INR',
    usd: 'USD',
    gbp: 'GBP',
    eur: 'EUR',
    inr: 'INR',
    rs: 'INR',
    'rs.': 'INR',
    mxn: 'MXN',
  };
  if (symbol) return { value: symbol[2]!.replace(/,/g, ''), currency: symbolCurrency[symbol[1]!.trim().toLowerCase()] };
  const word =
    /\b(\d+(?:\.\d{1,2})?) ?(dollars|dolares|dólares|bucks|usd|pounds|euros|rupees|rupaye|rupay|rs|pesos)\b/i.exec(
      text,
    );
  const wordCurrency: Record<string, string> = {
    dollars: 'USD',
    dolares: 'USD',
    dólares: 'USD',
    bucks: 'USD',
    usd: 'USD',
    pounds: 'GBP',
    euros: 'EUR',
    rupees: 'INR',
    rupaye: 'INR',
    rupay: 'INR',
    rs: 'INR',
    pesos: 'MXN',
  };
  if (word) return { value: word[1]!, currency: wordCurrency[word[2]!.toLowerCase()] };
  return undefined;
}

/** A date the text refers to, on the calendar of `zone` (see promise-dates.ts). */
export function extractDate(
  folded: string,
  locale: string,
  now: Date,
  zone = 'UTC',
): { date?: string; dateText: string; ambiguous?: string } | undefined {
  return resolveDate(folded, locale, now, zone);
}

export class RuleBasedClassifier implements ReplyClassifier {
  classify(
    text: string,
    channel: Channel,
    locale: string,
    now: Date = new Date(),
    opts: ClassifyOptions = {},
  ): Classification {
    const folded = foldForIntents(text);
    const intents: ReplyIntent[] = [];
    const review: string[] = [];
    if (!folded) return { intents, confidence: 0, extracted: {} };
    // "I'm not Dana": a name (capitalised in the original) the sender says they are not.
    const notName = /\bI(?:'m|’m| am) not ([A-Z][a-z]+)\b/.exec(text);
    if (
      notName &&
      !/^(sure|able|going|interested|paying|ready|happy|certain|aware|home|available|working|here|there|able|in|at|the|a|an|that|this|your|you|him|her|them)$/i.test(
        notName[1]!,
      )
    )
      intents.push('wrong_number');
    for (const [intent, patterns] of Object.entries(RULES) as [ReplyIntent, RegExp[]][]) {
      if (intents.includes(intent)) continue;
      if (!patterns.some((p) => p.test(folded))) continue;
      // Negated: "no puedo pagar" is no promise, "I haven't paid" no payment, "don't unsubscribe me" no opt-out.
      // The medium-specific opt-outs and cease are phrased as negations ("don't text me"), so they are exempt.
      if (
        (intent === 'promise_to_pay' ||
          intent === 'already_paid' ||
          intent === 'opt_out' ||
          intent === 'callback_request') &&
        allNegated(folded, patterns)
      ) {
        if (intent === 'opt_out')
          review.push('a negated opt-out word ("don\'t stop", "no unsubscribe"): confirm what the debtor wants');
        continue;
      }
      intents.push(intent);
    }
    if (!intents.some((i) => REVOKING.has(i)) && !review.length) {
      const net = lexicalOptOut(folded);
      if (net) intents.push(net);
    }
    // A medium-specific opt-out says more than the generic one.
    if (
      intents.includes('opt_out') &&
      intents.some((i) => i === 'opt_out_sms' || i === 'opt_out_email' || i === 'opt_out_voice' || i === 'cease')
    ) {
      intents.splice(intents.indexOf('opt_out'), 1);
    }
    // "Unsubscribe" in an email means email; in a text it is the generic opt-out of that number.
    if (channel === 'EMAIL' && intents.includes('opt_out')) {
      intents.splice(intents.indexOf('opt_out'), 1, 'opt_out_email');
    }
    if (intents.includes('opt_out_voice') && intents.includes('callback_request'))
      intents.splice(intents.indexOf('callback_request'), 1);
    // "I can't pay" and "I'll pay" in one text: the promise wins only if it is not the negated one (handled above);
    // a hardship stated with a promise stays both (an agent sees both flags).

    // "Can I pay online?" asks how, it promises nothing; "Can I pay on the 1st?" names a day and stays a promise (below).
    const inquiry =
      intents.includes('promise_to_pay') &&
      /\?\s*$/.test(folded) &&
      /\b(can i|could i|puedo|se puede|kya main)\b/.test(folded);
    if (
      !intents.some((i) => REVOKING.has(i)) &&
      !review.length &&
      OPT_OUT_HINT.test(folded) &&
      !/\bstop (by|in|at|over)\b|\bbus stop\b|\bnon-?stop\b/.test(folded)
    ) {
      review.push('mentions stopping or removal in words the rules do not read as an opt-out');
    }
    if (REFUSAL.test(folded)) review.push('refuses to pay');
    if (LEGAL.test(folded)) review.push('mentions a lawyer, court, regulator or bankruptcy');
    if (WHO_IS_THIS.test(folded) && !intents.includes('wrong_number'))
      review.push('asks who is writing (possible wrong number)');

    const extracted: ExtractedFacts = {};
    if (
      intents.includes('promise_to_pay') ||
      intents.includes('already_paid') ||
      intents.includes('callback_request')
    ) {
      const amount = extractAmount(text);
      if (amount) extracted.amount = amount;
      const tense = intents.includes('already_paid') && !intents.includes('promise_to_pay') ? 'past' : 'future';
      const date = resolveDate(folded, locale, now, opts.zone ?? 'UTC', tense);
      if (inquiry && !date?.date) intents.splice(intents.indexOf('promise_to_pay'), 1);
      if (date) {
        if (date.date) extracted.date = date.date;
        extracted.dateText = date.dateText;
        if (date.ambiguous) {
          extracted.dateAmbiguous = date.ambiguous;
          review.push(`"${date.dateText}" may mean ${date.date} or ${date.ambiguous}`);
        }
      }
    }
    if (intents.includes('callback_request')) {
      const time =
        /\b(after|before|at|around|between|despues de las|antes de las|a las) \d{1,2}(:\d{2})? ?(am|pm)?( and \d{1,2}(:\d{2})? ?(am|pm)?)?\b|\b(in the )?(morning|afternoon|evening)\b|\b(por|en) la (manana|tarde|noche)\b|\b(subah|shaam|sham|dopahar|raat)\b/.exec(
          folded,
        );
      if (time) extracted.timeText = time[0];
    }
    const confidence = intents.length ? (review.length ? 0.6 : 0.8) : 0;
    return { intents, confidence, extracted, ...(review.length ? { review } : {}) };
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
