// What kind of mail an inbound email is before anyone reads it as a reply:
// a delivery-status report (a bounce, RFC 3464, or one of the older vendor
// formats that predate it), an automatic reply (RFC 3834 and the vendor
// headers and subjects of out-of-office responders), or a person's reply.
// Pure: headers, subject, sender and text in, a verdict out, so both inbound
// paths (Inbound Parse raw and parsed, the SMTP listener) decide alike.
//
// Why it matters: a bounce stored as a reply stops campaigns and is announced
// as reply.received, and an out-of-office that says "please call me" raised
// a callback flag; neither was written by the debtor.

export interface ReportInput {
  /** Header fields, lower-cased names, every occurrence (unfolded). */
  headers: Record<string, string[]>;
  subject: string | null;
  from: string;
  fromName: string | null;
  /** The decoded text, delivery-status parts included (mailparser inlines message/delivery-status as text). */
  text: string;
  /** Text of attached parts that carry reports or returned headers (message/delivery-status, text/rfc822-headers, message/rfc822). */
  reportParts: string[];
  /** SMTP envelope sender when known; '' for the null reverse-path `<>`. */
  envelopeFrom?: string | null;
}

export interface BounceRecipient {
  address: string | null;
  /** RFC 3463 enhanced status, e.g. "5.1.1". */
  status: string | null;
  action: string | null;
  diagnostic: string | null;
  severity: 'hard' | 'soft';
}

export type EmailReport =
  | {
      kind: 'bounce';
      severity: 'hard' | 'soft';
      format: 'rfc3464' | 'vendor';
      recipients: BounceRecipient[];
      reason: string;
    }
  | { kind: 'auto_reply'; reason: string }
  | { kind: 'report_success'; reason: string }
  | { kind: 'reply' };

const first = (h: Record<string, string[]>, name: string): string | null => h[name]?.[0]?.trim() ?? null;

/** "Content-Type: multipart/report; report-type=delivery-status" → ["multipart/report", "delivery-status"]. */
function reportType(h: Record<string, string[]>): { type: string; reportType: string | null } {
  const ct = first(h, 'content-type') ?? '';
  const type = ct.split(';')[0]!.trim().toLowerCase();
  const m = /report-type\s*=\s*"?([a-z0-9_-]+)"?/i.exec(ct);
  return { type, reportType: m ? m[1]!.toLowerCase() : null };
}

// ── delivery-status (RFC 3464 §2.2, §2.3) ────────────────────────────────

/** Unfolds a field block and reads "Name: value" pairs (names lower-cased). */
function fieldsOf(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const m = /^([A-Za-z][A-Za-z0-9-]*)\s*:\s*(.*)$/.exec(line);
    if (m && !(m[1]!.toLowerCase() in out)) out[m[1]!.toLowerCase()] = m[2]!.trim();
  }
  return out;
}

const addressOf = (v: string | undefined | null): string | null => {
  if (!v) return null;
  // "rfc822; user@example.org" (address-type; address), sometimes with <>.
  const raw = v.includes(';') ? v.slice(v.indexOf(';') + 1) : v;
  const m = /<?([^\s<>;"]+@[^\s<>;"]+)>?/.exec(raw);
  return m ? m[1]!.toLowerCase() : null;
};

/** Per-recipient groups of a delivery-status body: every block that has an Action or a Final-Recipient. */
export function parseDeliveryStatus(text: string): BounceRecipient[] {
  const out: BounceRecipient[] = [];
  for (const block of text.replace(/\r\n/g, '\n').split(/\n[ \t]*\n/)) {
    const f = fieldsOf(block);
    if (!f['final-recipient'] && !f['action']) continue;
    if (!f['action'] && !f['status']) continue;
    const status = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(f['status'] ?? '')?.[0] ?? null;
    const action = f['action']?.toLowerCase().split(/[\s(]/)[0] ?? null;
    const diagnostic = f['diagnostic-code'] ? f['diagnostic-code'].replace(/^smtp\s*;\s*/i, '') : null;
    out.push({
      address: addressOf(f['final-recipient'] ?? f['original-recipient']),
      status,
      action,
      diagnostic,
      severity: severityOf(status, action, diagnostic),
    });
  }
  return out;
}

// The wording servers use for an address that does not exist or is closed (any status code).
const NO_SUCH_ADDRESS =
  /\b(user unknown|unknown user|no such (user|mailbox|recipient|address)|does not exist|doesn'?t exist|address rejected|invalid (recipient|mailbox|address)|recipient (address )?rejected|mailbox (unavailable|not found|does not exist|disabled)|account (has been |is )?(disabled|deactivated|closed|suspended)|not a valid (mailbox|recipient)|unrouteable address|no mailbox here|address couldn'?t be found|user not found|(this user|user) (doesn'?t|does not) have an? [\w.-]+ account|recipient not found|mailbox inexistente|usuario desconocido|destinataire inconnu|utilisateur inconnu|unbekannter (benutzer|empf[aä]nger))\b/i;
const TEMPORARY =
  /\b(temporar(y|ily)|delayed|deferred|will (continue to )?(retry|try)|still (being )?(retried|trying)|try again later|mailbox (is )?full|over quota|quota exceeded|insufficient (storage|system storage)|greylist|rate limit)/i;

/**
 * Hard: the address itself is unusable (5.1.x bad address, 5.2.1 mailbox
 * disabled, or any failure whose diagnostic says the user is unknown). Other
 * permanent failures (5.2.2 mailbox full, 5.3.4 message too big, 5.7.x policy
 * and spam blocks) say nothing against the address, and 4.x.x or a "delayed"
 * action is a transient failure: those are soft, recorded but not held
 * against the address.
 */
function severityOf(status: string | null, action: string | null, diagnostic: string | null): 'hard' | 'soft' {
  if (diagnostic && NO_SUCH_ADDRESS.test(diagnostic) && !TEMPORARY.test(diagnostic)) return 'hard';
  if (action === 'delayed') return 'soft';
  if (!status) return action === 'failed' && !(diagnostic && TEMPORARY.test(diagnostic)) ? 'hard' : 'soft';
  if (status.startsWith('4.')) return 'soft';
  if (status.startsWith('5.')) {
    if (/^5\.(2\.2|2\.3|3\.4|4\.[4-7]|7\.\d+)$/.test(status)) return 'soft';
    return 'hard';
  }
  return 'soft';
}

// ── vendor (pre-RFC 3464) bounces ─────────────────────────────────────────

const DAEMON_SENDER =
  /^(mailer-daemon|mailerdaemon|mail-daemon|postmaster|mail\.delivery|maildelivery|mdaemon|bounce|bounces|nobody-bounce)(@|$)/i;
const DAEMON_NAME =
  /^(mail delivery (subsystem|system|service)|mailer[- ]daemon|postmaster|microsoft outlook|mail administrator|internet mail delivery)$/i;
// Subjects of bounces from common MTAs and services (Postfix, Exim, qmail, Sendmail, Gmail, Exchange/365, Yahoo, Lotus/Domino) in several languages.
const BOUNCE_SUBJECT =
  /^\s*(undelivered mail returned to sender|undeliverable( mail)?\b|undelivered( mail)?\b|delivery status notification \((failure|delay)\)|mail delivery failed|delivery failure|failure notice|returned mail\b|mail system error|delivery (has )?failed|message (not delivered|undeliverable)|could not send message|delivery notification: delivery has (failed|been delayed)|warning: message .* delayed|delayed mail|mail delivery (problem|delayed)|non remis|non distribuable|remise .*(échec|impossible)|unzustellbar|nicht zustellbar|no se puede entregar|no entregado|não é possível entregar|mensagem não entregue|não entregue|impossibile recapitare|onbestelbaar|olevererbart|delivery_failure)/i;
const BOUNCE_BODY =
  /(could not be delivered|couldn'?t be delivered|was not delivered|undeliverable|permanent (fatal )?error|delivery (to the following )?(recipients?|addresses?) failed|the following address(es)? failed|i'?m afraid i wasn'?t able to deliver|unable to deliver your message|delivery has failed|message (was )?not delivered|has not yet been delivered|delivery (is )?delayed|no se ha podido entregar|n'a pas pu être remis|konnte nicht zugestellt werden|não pôde ser entregue)/i;

function vendorRecipients(text: string, headers: Record<string, string[]>): BounceRecipient[] {
  const failed = (headers['x-failed-recipients'] ?? [])
    .flatMap((v) => v.split(','))
    .map((a) => addressOf(a.trim()))
    .filter((a): a is string => Boolean(a));
  const status = /\b([45])\.(\d{1,3})\.(\d{1,3})\b/.exec(text)?.[0] ?? null;
  const smtpCode = /\b([45][0-5]\d)[ :-]/.exec(text)?.[1] ?? null;
  const diagnostic = /^.*\b(?:[45][0-5]\d)[ :-].*$/m.exec(text)?.[0]?.trim() ?? null;
  let severity: 'hard' | 'soft';
  if (/\bpermanent (fatal )?error\b|\bi'?ve given up\b|\bgave up\b/i.test(text) && !TEMPORARY.test(text))
    severity = NO_SUCH_ADDRESS.test(text) || !status || !status.startsWith('5.7') ? 'hard' : 'soft';
  else if (TEMPORARY.test(text) && !NO_SUCH_ADDRESS.test(text)) severity = 'soft';
  else if (status) severity = severityOf(status, 'failed', diagnostic);
  else if (smtpCode)
    severity =
      smtpCode.startsWith('5') && NO_SUCH_ADDRESS.test(text)
        ? 'hard'
        : smtpCode.startsWith('5')
          ? severityOf('5.0.0', 'failed', diagnostic)
          : 'soft';
  else severity = NO_SUCH_ADDRESS.test(text) ? 'hard' : 'soft';
  // Without X-Failed-Recipients, the addresses the report names (angle-bracketed or on their own line).
  const named = failed.length
    ? failed
    : [
        ...new Set(
          [
            ...text.matchAll(/<([^\s<>@]+@[^\s<>]+\.[a-z]{2,})>:?|^\s{0,4}([^\s<>@:]+@[^\s<>:]+\.[a-z]{2,})\s*:?$/gim),
          ].map((m) => (m[1] ?? m[2]!).toLowerCase()),
        ),
      ];
  const recipients = named.length ? named : [null];
  return recipients.map((address) => ({
    address,
    status: status ?? (smtpCode ? `${smtpCode[0]}.0.0` : null),
    action: severity === 'soft' && TEMPORARY.test(text) ? 'delayed' : 'failed',
    diagnostic,
    severity,
  }));
}

// ── automatic replies (RFC 3834 §5, and what responders send in practice) ─

const AUTO_SUBJECT =
  /^\s*(auto(matic)?[ -]?(reply|response|answer)|auto ?:|autoreply|autorespon(se|der)|out of (the )?office|ooo\b|away from (the |my )?office|on (vacation|holiday|leave)|vacation (reply|message|notice)|holiday (notice|auto)|i am (currently )?(out|away)|abwesenheit(snotiz)?|automatische antwort|abwesend|r[ée]ponse automatique|absence\b|absent(e)? du bureau|hors du bureau|en cong[ée]s?|respuesta autom[aá]tica|fuera de (la )?oficina|ausente|de vacaciones|resposta autom[aá]tica|fora do escrit[oó]rio|aus[eê]ncia|em f[eé]rias|risposta automatica|fuori (sede|ufficio)|automatisch antwoord|afwezig|autosvar|fr[aå]nvaro|automatyczna odpowied[zź]|nieobecno[sś][cć]|स्वचालित (उत्तर|जवाब)|कार्यालय से बाहर|自動応答|自動返信|不在|自动回复|자동 응답)/i;

function autoReplyReason(i: ReportInput): string | null {
  const h = i.headers;
  const autoSubmitted = first(h, 'auto-submitted');
  if (autoSubmitted && !/^no\b/i.test(autoSubmitted)) return `Auto-Submitted: ${autoSubmitted}`;
  for (const name of [
    'x-autoreply',
    'x-autorespond',
    'x-autoresponse',
    'x-autoreply-from',
    'x-mail-autoreply',
    'x-autoresponder',
    'x-vacation',
  ]) {
    const v = first(h, name);
    if (v !== null && !/^(no|false|0)$/i.test(v)) return `${name}: ${v || '(present)'}`;
  }
  for (const name of ['precedence', 'x-precedence']) {
    const v = first(h, name);
    if (v && /^(auto_reply|auto-reply|bulk|junk)\b/i.test(v)) return `${name}: ${v}`;
  }
  const autogenerated = first(h, 'x-autogenerated');
  if (autogenerated && /reply/i.test(autogenerated)) return `X-Autogenerated: ${autogenerated}`;
  if (/^(9|auto)/i.test(first(h, 'x-post-messageclass') ?? '')) return 'X-POST-MessageClass';
  if (/^autoresponder$/i.test(first(h, 'delivered-to') ?? '')) return 'Delivered-To: Autoresponder';
  if (/^true$/i.test(first(h, 'x-fc-machinegenerated') ?? '')) return 'X-FC-MachineGenerated';
  if (i.subject && AUTO_SUBJECT.test(i.subject)) return `subject: ${i.subject.slice(0, 120)}`;
  const returnPath = first(h, 'return-path');
  if (i.envelopeFrom === '' || (returnPath !== null && /^<\s*>$/.test(returnPath))) return 'null return path (<>)';
  return null;
}

export function detectReport(i: ReportInput): EmailReport {
  const { type, reportType: rt } = reportType(i.headers);
  const body = [i.text, ...i.reportParts].join('\n\n');
  if (type === 'multipart/report' && rt === 'delivery-status') {
    const recipients = parseDeliveryStatus(body);
    const failing = recipients.filter(
      (r) => r.action !== 'delivered' && r.action !== 'relayed' && r.action !== 'expanded',
    );
    if (recipients.length > 0 && failing.length === 0)
      return {
        kind: 'report_success',
        reason: `delivery-status report: ${recipients.map((r) => r.action).join(', ')}`,
      };
    const list = failing.length ? failing : vendorRecipients(body, i.headers);
    return {
      kind: 'bounce',
      severity: list.some((r) => r.severity === 'hard') ? 'hard' : 'soft',
      format: 'rfc3464',
      recipients: list,
      reason: 'multipart/report; report-type=delivery-status',
    };
  }
  if (type === 'multipart/report' && rt) {
    // disposition-notification (read receipts), feedback-report (ARF) …: machine-made, not the debtor's words.
    return { kind: 'auto_reply', reason: `multipart/report; report-type=${rt}` };
  }
  const local = i.from.split('@')[0] ?? '';
  const daemon =
    DAEMON_SENDER.test(i.from) ||
    DAEMON_SENDER.test(local) ||
    (i.fromName !== null && DAEMON_NAME.test(i.fromName.trim()));
  const subjectSays = i.subject !== null && BOUNCE_SUBJECT.test(i.subject);
  const failedHeader = (i.headers['x-failed-recipients'] ?? []).length > 0;
  // A DSN sent without its report type (some gateways flatten it): the fields still say so.
  const embedded = parseDeliveryStatus(body).filter((r) => r.action === 'failed' || r.action === 'delayed');
  if ((daemon || subjectSays || failedHeader) && embedded.length) {
    return {
      kind: 'bounce',
      severity: embedded.some((r) => r.severity === 'hard') ? 'hard' : 'soft',
      format: 'rfc3464',
      recipients: embedded,
      reason: 'delivery-status fields in the body',
    };
  }
  if (failedHeader || (daemon && (subjectSays || BOUNCE_BODY.test(body))) || (subjectSays && BOUNCE_BODY.test(body))) {
    const recipients = vendorRecipients(body, i.headers);
    return {
      kind: 'bounce',
      severity: recipients.some((r) => r.severity === 'hard') ? 'hard' : 'soft',
      format: 'vendor',
      recipients,
      reason: failedHeader ? 'X-Failed-Recipients' : daemon ? `from ${i.from}` : `subject: ${i.subject}`,
    };
  }
  const auto = autoReplyReason(i);
  if (auto) return { kind: 'auto_reply', reason: auto };
  if (daemon) return { kind: 'auto_reply', reason: `from ${i.from}` };
  return { kind: 'reply' };
}
