// The agent inbox: a small single-page app without a build step. It talks to
// the gateway's REST API with the session cookie (+ X-CSRF-Token on changes)
// and listens on socket.io for live changes. All text from the server is put
// into the page as text nodes, never as HTML.

import { h, api, timeOf, debounce, setCsrf } from './kit.js';

const CHANNEL_ICONS = { SMS: '💬', EMAIL: '✉️', VOICE: '📞', LETTER: '📮' };
const INTENTS = ['friendly-reminder', 'past-due-notice', 'final-notice', 'payment-plan-offer', 'payment-received', 'opt-out-confirmation'];
const STATUSES = ['OPEN', 'PENDING', 'SNOOZED', 'RESOLVED'];
const FLAGS = ['OPT_OUT', 'DISPUTE', 'PROMISE_TO_PAY', 'CEASE', 'UNMATCHED', 'ALREADY_PAID', 'HARDSHIP', 'CALLBACK_REQUEST', 'WRONG_NUMBER', 'NEEDS_REVIEW'];

const state = {
  me: null,
  sandbox: null,
  agents: [],
  filters: { view: 'all', status: '', flag: '', channel: '', q: '' },
  conversations: [],
  currentId: null,
  thread: null,
  panel: null,
  lastSeq: 0,
  viewers: [],
  typing: new Map(),
  socket: null,
  composerNotice: null,
  // What the agent was writing or had picked, kept across live re-renders of the thread.
  drafts: new Map(),
};

const draftOf = (id) => {
  if (!state.drafts.has(id)) state.drafts.set(id, { note: '', channel: null, intent: null, debtId: null });
  return state.drafts.get(id);
};

const root = () => document.getElementById('app');

// ── sign in ────────────────────────────────────────────────────────────

function renderLogin(message) {
  const error = h('p', { class: 'error', id: 'login-error' }, message || '');
  const email = h('input', { id: 'login-email', type: 'email', autocomplete: 'username', required: true, placeholder: 'you@company.com' });
  const password = h('input', { id: 'login-password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'login', onsubmit: async (e) => {
    e.preventDefault();
    error.textContent = '';
    try {
      const r = await api('POST', '/api/v1/session', { email: email.value, password: password.value });
      setCsrf(r.csrfToken);
      await boot();
    } catch (err) {
      error.textContent = err.status === 423 ? 'Account temporarily locked after too many failed attempts. Try again later.' : err.status === 429 ? 'Too many attempts. Wait a few minutes.' : err.message;
    }
  } },
  h('h1', {}, 'Sign in to the inbox'),
  h('label', {}, 'Email', email),
  h('label', {}, 'Password', password),
  h('button', { class: 'primary', type: 'submit', id: 'login-submit' }, 'Sign in'),
  error);
  root().replaceChildren(form);
  email.focus();
}

// ── live events ────────────────────────────────────────────────────────

function connectSocket() {
  if (state.socket) state.socket.disconnect();
  // eslint-disable-next-line no-undef
  const socket = io({ withCredentials: true, transports: ['websocket', 'polling'] });
  state.socket = socket;
  const connLabel = () => document.getElementById('conn');
  socket.on('connect', () => {
    if (connLabel()) connLabel().textContent = 'live';
    socket.emit('inbox:subscribe', () => undefined);
    // After a reconnect, catch up: the list and the open thread are fetched again.
    reloadList();
    if (state.currentId) openLive(state.currentId).then(() => reloadThread());
  });
  socket.on('disconnect', () => { if (connLabel()) connLabel().textContent = 'reconnecting…'; });
  socket.on('connect_error', (err) => { if (connLabel()) connLabel().textContent = `offline (${err.message})`; });
  socket.on('inbox', () => reloadListSoon());
  socket.on('timeline', (ev) => {
    if (ev.conversationId !== state.currentId) return;
    if (ev.seq > state.lastSeq + 1 || ev.seq > state.lastSeq) reloadThreadSoon();
  });
  socket.on('presence', (p) => {
    if (p.conversationId !== state.currentId) return;
    state.viewers = p.viewers.filter((v) => v.userId !== state.me.id);
    renderPresence();
  });
  socket.on('typing', (t) => {
    if (t.conversationId !== state.currentId || t.userId === state.me.id) return;
    if (t.typing) state.typing.set(t.name, Date.now()); else state.typing.delete(t.name);
    renderPresence();
    setTimeout(renderPresence, 4000);
  });
  socket.on('conversation.merged', (m) => { if (m.conversationId === state.currentId) openConversation(m.into); });
}

function openLive(id) {
  return new Promise((resolve) => {
    if (!state.socket) return resolve();
    state.socket.emit('subscribe', { conversationId: id }, () => {
      state.socket.emit('viewing', { conversationId: id, viewing: true }, (r) => {
        if (r && r.viewers) { state.viewers = r.viewers.filter((v) => v.userId !== state.me.id); renderPresence(); }
        resolve();
      });
    });
  });
}

// ── data ───────────────────────────────────────────────────────────────

async function reloadList() {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(state.filters)) if (v) p.set(k, v);
  try {
    const r = await api('GET', `/api/v1/inbox/conversations?${p}`);
    state.conversations = r.conversations;
    renderList();
  } catch (err) {
    if (err.status === 401) return renderLogin('Your session ended. Sign in again.');
  }
}
const reloadListSoon = debounce(reloadList, 150);

async function reloadThread() {
  if (!state.currentId) return;
  const id = state.currentId;
  const thread = await api('GET', `/api/v1/inbox/conversations/${id}`);
  // The composer's debt picker comes from the panel, so the panel is loaded first.
  const panel = thread.conversation.debtorId ? await api('GET', `/api/v1/inbox/debtors/${thread.conversation.debtorId}/panel`).catch(() => null) : null;
  if (id !== state.currentId) return;
  state.thread = thread;
  state.panel = panel;
  state.lastSeq = thread.conversation.lastSeq;
  renderThread();
  renderPanel();
}
const reloadThreadSoon = debounce(() => reloadThread().catch(() => undefined), 120);

async function openConversation(id) {
  if (state.currentId && state.socket && state.currentId !== id) {
    state.socket.emit('viewing', { conversationId: state.currentId, viewing: false });
    state.socket.emit('unsubscribe', { conversationId: state.currentId });
  }
  state.currentId = id;
  state.thread = null;
  state.panel = null;
  state.viewers = [];
  state.typing.clear();
  state.composerNotice = null;
  renderList();
  await openLive(id);
  await reloadThread();
}

// ── layout ─────────────────────────────────────────────────────────────

function renderShell() {
  const top = h('header', { class: 'topbar' },
    h('span', { class: 'brand' }, 'Dunning Gateway · Inbox'),
    h('span', { class: 'conn', id: 'conn' }, 'connecting…'),
    h('span', { class: 'me', id: 'me' }, `${state.me.name} (${state.me.role.toLowerCase()})`),
    h('button', { id: 'logout', onclick: async () => { await api('DELETE', '/api/v1/session').catch(() => undefined); state.socket?.disconnect(); renderLogin(); } }, 'Sign out'));
  const layout = h('main', { class: 'layout' },
    h('aside', { class: 'col' }, renderFilters(), h('div', { id: 'conv-list' })),
    h('section', { class: 'col', id: 'thread-col' }, h('div', { class: 'empty' }, 'Pick a conversation')),
    h('aside', { class: 'col side', id: 'side-col' }));
  root().replaceChildren(top, layout);
}

function renderFilters() {
  const viewButton = (view, label) => h('button', { class: state.filters.view === view ? 'active' : '', 'data-view': view, onclick: (e) => {
    state.filters.view = view;
    for (const b of e.target.parentElement.children) b.classList.toggle('active', b.dataset.view === view);
    reloadList();
  } }, label);
  const select = (name, label, values) => h('select', { id: `filter-${name}`, 'aria-label': label, onchange: (e) => { state.filters[name] = e.target.value; reloadList(); } },
    h('option', { value: '' }, `${label}: any`), values.map((v) => h('option', { value: v }, v.replace(/_/g, ' ').toLowerCase())));
  const search = h('input', { type: 'search', id: 'filter-q', placeholder: 'Search name, phone, email or text', oninput: debounce((e) => { state.filters.q = e.target.value.trim(); reloadList(); }, 250) });
  return h('div', { class: 'filters' },
    h('div', { class: 'views' }, viewButton('all', 'All'), viewButton('unassigned', 'Unassigned'), viewButton('mine', 'Mine')),
    select('status', 'Status', STATUSES), select('flag', 'Flag', FLAGS), select('channel', 'Channel', Object.keys(CHANNEL_ICONS)), search);
}

function renderList() {
  const list = document.getElementById('conv-list');
  if (!list) return;
  if (!state.conversations.length) return list.replaceChildren(h('div', { class: 'empty' }, 'No conversations match.'));
  list.replaceChildren(...state.conversations.map((c) => h('div', {
    class: `conv-item${c.id === state.currentId ? ' selected' : ''}`, 'data-id': c.id, onclick: () => openConversation(c.id),
  },
  h('div', { class: 'row' },
    h('span', { class: 'name' }, c.debtorName || c.unmatchedAddress || 'Unknown sender'),
    h('span', { class: 'time' }, timeOf(c.lastActivityAt))),
  h('div', { class: 'snippet' }, c.lastMessage ? `${CHANNEL_ICONS[c.lastMessage.channel] || ''} ${c.lastMessage.direction === 'OUTBOUND' ? '→ ' : ''}${c.lastMessage.snippet}` : ''),
  h('div', {},
    h('span', { class: `badge status-${c.status}` }, c.status.toLowerCase()),
    c.flags.map((f) => h('span', { class: 'badge flag' }, f.replace(/_/g, ' ').toLowerCase())),
    h('span', { class: 'badge conv-assignee' }, c.assignee ? `@${c.assignee.name}` : 'unassigned')))));
}

function renderPresence() {
  const el = document.getElementById('presence');
  if (!el) return;
  const now = Date.now();
  for (const [name, at] of state.typing) if (now - at > 4000) state.typing.delete(name);
  const parts = [];
  if (state.viewers.length) parts.push(`${state.viewers.map((v) => v.name).join(', ')} ${state.viewers.length > 1 ? 'are' : 'is'} viewing`);
  if (state.typing.size) parts.push(`${[...state.typing.keys()].join(', ')} ${state.typing.size > 1 ? 'are' : 'is'} typing…`);
  el.textContent = parts.join(' · ');
}

// ── thread ─────────────────────────────────────────────────────────────

function messageNode(m) {
  const status = h('span', { class: `msg-status ${m.status}` }, m.status.toLowerCase());
  return h('div', { class: `msg ${m.direction}`, 'data-id': m.id, 'data-status': m.status, 'data-direction': m.direction },
    h('div', { class: 'meta' },
      h('span', { title: m.channel }, `${CHANNEL_ICONS[m.channel] || ''} ${m.channel}`),
      h('span', {}, m.direction === 'INBOUND' ? `from ${m.from || '?'}` : `to ${m.to || '?'}`),
      h('span', {}, timeOf(m.createdAt)), status,
      m.intent ? h('span', {}, m.intent) : null),
    m.subject ? h('div', { class: 'subject' }, h('strong', {}, m.subject)) : null,
    h('div', { class: 'body' }, m.body),
    m.attachments?.length ? h('div', { class: 'meta' }, `📎 ${m.attachments.map((a) => a.filename).join(', ')}`) : null,
    m.pdf ? h('div', {}, h('a', { href: m.pdf, target: '_blank', rel: 'noopener' }, '📄 Letter PDF')) : null,
    m.callOutcome ? h('div', { class: 'meta' }, `Call: ${Object.entries(m.callOutcome).filter(([, v]) => typeof v !== 'object').map(([k, v]) => `${k} ${v}`).join(', ')}`) : null,
    m.errorCode ? h('div', { class: 'meta error' }, `Error ${m.errorCode}${m.errorMessage ? `: ${m.errorMessage}` : ''}`) : null,
    m.routing ? h('div', { class: 'routing' }, `Routing: ${m.routing}`) : null);
}

function noteNode(n) {
  return h('div', { class: 'note', 'data-id': n.id }, h('div', { class: 'meta' }, `🗒 Internal note · ${n.author.name} · ${timeOf(n.createdAt)}`), h('div', { class: 'body' }, n.body));
}

function renderThread() {
  const col = document.getElementById('thread-col');
  const t = state.thread;
  if (!col || !t) return;
  const c = t.conversation;
  const items = [...t.messages.map((m) => ({ at: m.createdAt, node: messageNode(m) })), ...t.notes.map((n) => ({ at: n.createdAt, node: noteNode(n) }))]
    .sort((a, b) => a.at.localeCompare(b.at));

  const assign = h('select', { id: 'assign', 'aria-label': 'Assign to', onchange: async (e) => {
    await act(() => api('POST', `/api/v1/inbox/conversations/${c.id}/assign`, { assigneeId: e.target.value || null }));
  } }, h('option', { value: '' }, 'unassigned'), state.agents.map((a) => h('option', { value: a.id, selected: c.assignee?.id === a.id }, a.name)));
  const snoozeAt = h('input', { type: 'datetime-local', id: 'snooze-until', class: c.status === 'SNOOZED' ? '' : 'hidden' });
  const status = h('select', { id: 'status', 'aria-label': 'Status', onchange: async (e) => {
    const value = e.target.value;
    if (value === 'SNOOZED') {
      if (!snoozeAt.value) { const d = new Date(Date.now() + 24 * 3600e3); snoozeAt.value = new Date(d.getTime() - d.getTimezoneOffset() * 60e3).toISOString().slice(0, 16); }
      return act(() => api('POST', `/api/v1/inbox/conversations/${c.id}/status`, { status: 'SNOOZED', snoozedUntil: new Date(snoozeAt.value).toISOString() }));
    }
    await act(() => api('POST', `/api/v1/inbox/conversations/${c.id}/status`, { status: value }));
  } }, STATUSES.map((s) => h('option', { value: s, selected: c.status === s }, s.toLowerCase())));

  const head = h('div', { class: 'thread-head' },
    h('h2', { id: 'thread-title' }, c.debtorName || c.unmatchedAddress || 'Unknown sender'),
    h('span', { id: 'thread-assignee', class: 'badge' }, c.assignee ? `Assigned to ${c.assignee.name}` : 'Unassigned'),
    c.assignee?.id === state.me.id ? null : h('button', { id: 'claim', onclick: () => act(() => api('POST', `/api/v1/inbox/conversations/${c.id}/claim`, { force: Boolean(c.assignee) })) }, c.assignee ? 'Take over' : 'Claim'),
    h('label', {}, 'Assign ', assign), h('label', {}, 'Status ', status), snoozeAt,
    c.snoozedUntil ? h('span', { class: 'muted' }, `snoozed until ${new Date(c.snoozedUntil).toLocaleString()}`) : null,
    c.flags.map((f) => h('span', { class: 'badge flag' }, f.replace(/_/g, ' ').toLowerCase())));

  // A live re-render must not take the cursor away from someone typing a note.
  const focused = document.activeElement?.id === 'note-body' ? document.activeElement.selectionStart : null;
  const timeline = h('div', { class: 'timeline', id: 'timeline' }, items.length ? items.map((i) => i.node) : h('div', { class: 'empty' }, 'No messages yet.'));
  col.replaceChildren(h('div', { class: 'thread' }, head, h('div', { class: 'presence', id: 'presence' }), timeline, renderComposer(c)));
  renderPresence();
  timeline.scrollTop = timeline.scrollHeight;
  if (focused !== null) {
    const note = document.getElementById('note-body');
    note.focus();
    note.setSelectionRange(focused, focused);
  }
}

async function act(fn) {
  try {
    await fn();
    await reloadThread();
    reloadList();
  } catch (err) {
    alertInThread(err.message);
  }
}

function alertInThread(text) {
  const n = document.getElementById('composer-notice');
  if (n) n.replaceChildren(h('div', { class: 'warn' }, text));
}

function renderComposer(c) {
  const draft = draftOf(c.id);
  const defaultChannel = draft.channel || (c.lastInboundChannel === 'EMAIL' ? 'EMAIL' : 'SMS');
  const channel = h('select', { id: 'reply-channel', 'aria-label': 'Channel', onchange: (e) => { draft.channel = e.target.value; } }, ['SMS', 'EMAIL'].map((ch) => h('option', { value: ch, selected: ch === defaultChannel }, `${CHANNEL_ICONS[ch]} ${ch}`)));
  const intent = h('select', { id: 'reply-intent', 'aria-label': 'Template', onchange: (e) => { draft.intent = e.target.value; } }, INTENTS.map((i) => h('option', { value: i, selected: i === draft.intent }, i.replace(/-/g, ' '))));
  const debt = h('select', { id: 'reply-debt', 'aria-label': 'Debt', onchange: (e) => { draft.debtId = e.target.value; } }, (state.panel?.debts || []).map((d) => h('option', { value: d.id, selected: d.id === draft.debtId }, `${d.externalRef} · ${d.currency} ${d.balance}`)));
  const notice = h('div', { id: 'composer-notice' }, state.composerNotice);
  const send = h('button', { class: 'primary', id: 'reply-send', disabled: !c.debtorId, onclick: async () => {
    send.disabled = true;
    state.composerNotice = null;
    notice.replaceChildren();
    try {
      const r = await api('POST', `/api/v1/conversations/${c.id}/reply`, { channel: channel.value, intent: intent.value, ...(debt.value ? { debtId: debt.value } : {}), openedAtSeq: state.lastSeq });
      state.composerNotice = h('div', { class: 'muted', id: 'reply-result' }, r.outcome === 'defer' ? `Scheduled: ${r.explanation}` : 'Sent to the router; queued for delivery.');
      await reloadThread();
    } catch (err) {
      if (err.status === 422 && err.body?.error === 'refused') {
        state.composerNotice = h('div', { class: 'refusal', id: 'reply-refusal' }, h('strong', {}, 'Not sent — refused by the contact rules. '), err.body.details?.explanation || err.message,
          h('ul', {}, (err.body.details?.reasons || []).map((r) => h('li', {}, `${r.rule}: ${r.detail}`))));
      } else if (err.status === 409 && err.body?.details?.events) {
        state.composerNotice = h('div', { class: 'warn', id: 'reply-conflict' }, 'Someone else replied after you opened this conversation. Their reply is shown above — read it, then send again if still needed.');
        await reloadThread();
      } else state.composerNotice = h('div', { class: 'refusal' }, err.message);
      notice.replaceChildren(state.composerNotice);
    } finally {
      send.disabled = !c.debtorId;
    }
  } }, 'Send reply');
  const noteBody = h('textarea', { id: 'note-body', placeholder: 'Internal note (only agents see it)', oninput: (e) => { draft.note = e.target.value; typingSignal(); } });
  noteBody.value = draft.note;
  const addNote = h('button', { id: 'note-add', onclick: async () => {
    const text = noteBody.value.trim();
    if (!text) return;
    draft.note = '';
    await act(() => api('POST', `/api/v1/inbox/conversations/${c.id}/notes`, { body: text }));
  } }, 'Add note');
  return h('div', { class: 'composer' },
    h('div', { class: 'row' }, h('label', {}, 'Reply by ', channel), h('label', {}, 'Template ', intent), debt.options.length > 1 ? h('label', {}, 'Debt ', debt) : null, send),
    c.debtorId ? null : h('div', { class: 'muted' }, 'Link this conversation to a debtor before replying.'),
    notice,
    noteBody, h('div', { class: 'row' }, addNote));
}

let typingStopTimer = null;
function typingSignal() {
  if (!state.socket || !state.currentId) return;
  state.socket.emit('typing', { conversationId: state.currentId, typing: true });
  clearTimeout(typingStopTimer);
  typingStopTimer = setTimeout(() => state.socket.emit('typing', { conversationId: state.currentId, typing: false }), 2500);
}

// ── debtor panel ───────────────────────────────────────────────────────

function renderPanel() {
  const col = document.getElementById('side-col');
  if (!col) return;
  const p = state.panel;
  const sections = [];
  if (p) {
    sections.push(h('section', { id: 'debtor-panel' },
      h('h3', {}, p.debtor.fullName),
      h('div', { class: 'muted' }, [p.debtor.jurisdiction, p.debtor.timeZone, p.debtor.locale].filter(Boolean).join(' · ')),
      p.debtor.restrictions.length ? h('div', {}, p.debtor.restrictions.map((r) => h('span', { class: 'badge flag' }, r))) : null,
      p.flags.length ? h('div', {}, p.flags.map((f) => h('span', { class: 'badge flag' }, f.replace(/_/g, ' ').toLowerCase()))) : null));
    sections.push(h('section', { id: 'panel-debts' }, h('h3', {}, 'Debts'),
      h('table', {}, h('tr', {}, h('th', {}, 'Ref'), h('th', {}, 'Balance'), h('th', {}, 'Due'), h('th', {}, 'DPD'), h('th', {}, 'Status')),
        p.debts.map((d) => h('tr', {}, h('td', {}, `${d.externalRef} (${d.creditor})`), h('td', {}, `${d.currency} ${d.balance}`), h('td', {}, d.dueDate), h('td', {}, String(d.daysPastDue)), h('td', {}, d.status.toLowerCase()))))));
    sections.push(h('section', { id: 'panel-contacts' }, h('h3', {}, 'Contact points'),
      p.contactPoints.map((cp) => h('div', { class: 'cp' },
        h('div', {}, `${cp.kind === 'PHONE' ? '📱' : cp.kind === 'EMAIL' ? '✉️' : '🏠'} ${cp.value}${cp.label ? ` (${cp.label})` : ''}${cp.valid ? '' : ' — invalid'}`),
        h('div', { class: 'muted' }, Object.entries(cp.consents).map(([ch, c]) => h('span', { class: `consent-${c.state}` }, `${ch}: ${c.state.toLowerCase()} `)))))));
    if (p.preferences) sections.push(h('section', {}, h('h3', {}, 'Preferences'), h('div', {}, p.preferences.channelOrder.length ? `Prefers ${p.preferences.channelOrder.join(' → ')}` : 'No channel preference')));
    sections.push(h('section', { id: 'panel-allowance' }, h('h3', {}, `Contact allowed now${p.allowance.debtRef ? ` (debt ${p.allowance.debtRef})` : ''}`),
      p.allowance.channels.map((a) => h('div', { class: `allow-${a.outcome}`, 'data-channel': a.channel }, `${CHANNEL_ICONS[a.channel]} ${a.channel}: ${a.summary}`,
        a.outcome !== 'send' && a.reasons.length ? h('div', { class: 'muted' }, a.reasons.slice(0, 2).map((r) => r.detail).join(' ')) : null)),
      h('ul', { class: 'muted' }, p.allowance.caps.map((c) => h('li', {}, c)))));
  } else if (state.thread) sections.push(h('section', {}, h('h3', {}, 'Unmatched sender'), h('div', { class: 'muted' }, 'Link this conversation to a debtor to see their debts.')));
  if (state.sandbox && state.thread) sections.push(renderSandboxPanel());
  col.replaceChildren(...sections);
}

function renderSandboxPanel() {
  const phones = (state.panel?.contactPoints || []).filter((c) => c.kind === 'PHONE').map((c) => c.value);
  const emails = (state.panel?.contactPoints || []).filter((c) => c.kind === 'EMAIL').map((c) => c.value);
  const from = h('input', { id: 'sandbox-from', value: phones[0] || state.thread.conversation.unmatchedAddress || '+13125550100' });
  const body = h('input', { id: 'sandbox-body', placeholder: 'Text the debtor sends' });
  const result = h('div', { class: 'muted', id: 'sandbox-result' });
  const emailFrom = h('input', { id: 'sandbox-email-from', value: emails[0] || 'debtor@example.net' });
  const emailText = h('input', { id: 'sandbox-email-text', placeholder: 'Email reply text' });
  const run = (fn) => async () => {
    result.textContent = 'sending…';
    try { const r = await fn(); result.textContent = r.delivered === false ? `gateway answered ${r.status}` : 'delivered to the gateway'; } catch (err) { result.textContent = err.message; }
  };
  return h('section', { class: 'sandbox', id: 'sandbox-panel' }, h('h3', {}, 'Sandbox: act as the debtor'),
    h('div', { class: 'row' }, 'SMS from ', from), body,
    h('button', { id: 'sandbox-send', onclick: run(() => api('POST', '/sandbox/twilio/inbound-sms', { from: from.value.trim(), to: state.sandbox.twilioNumber, body: body.value })) }, 'Send SMS to gateway'),
    h('div', { class: 'row' }, 'Email from ', emailFrom), emailText,
    h('button', { id: 'sandbox-email-send', onclick: run(() => api('POST', '/sandbox/sendgrid/inbound-email', { from: emailFrom.value.trim(), to: state.thread.replyAddress, subject: 'Re: your account', text: emailText.value })) }, 'Send email reply'),
    result);
}

// ── start ──────────────────────────────────────────────────────────────

async function boot() {
  let session;
  try {
    session = await api('GET', '/api/v1/session');
  } catch (err) {
    return renderLogin(err.status === 401 ? '' : err.message);
  }
  if (!session.csrfToken) return renderLogin('');
  state.me = session.user;
  setCsrf(session.csrfToken);
  state.sandbox = session.sandbox;
  state.agents = (await api('GET', '/api/v1/inbox/agents')).agents;
  renderShell();
  await reloadList();
  connectSocket();
}

boot();
