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
  if (!state.drafts.has(id)) state.drafts.set(id, { note: '', channel: null, intent: null, debtId: null, mode: 'template', text: '', subject: '', preview: null });
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
    state.me.role === 'ADMIN' ? h('a', { href: '/admin.html', id: 'admin-link', class: 'topbar-link' }, 'Admin') : null,
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
  const active = document.activeElement;
  const focused = active && ['note-body', 'reply-text', 'reply-subject'].includes(active.id) ? { id: active.id, at: active.selectionStart } : null;
  const timeline = h('div', { class: 'timeline', id: 'timeline' }, items.length ? items.map((i) => i.node) : h('div', { class: 'empty' }, 'No messages yet.'));
  col.replaceChildren(h('div', { class: 'thread' }, head, h('div', { class: 'presence', id: 'presence' }), timeline, renderComposer(c)));
  renderPresence();
  timeline.scrollTop = timeline.scrollHeight;
  if (focused) {
    const field = document.getElementById(focused.id);
    field.focus();
    field.setSelectionRange(focused.at, focused.at);
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

// The composer: a template or the agent's own words, by SMS or email. Preview
// shows the exact text and what the contact rules say (allowed now, not
// before a time, or refused and why) before anything is sent.
function composeBody(draft, channel, intent, debt) {
  const body = { channel: channel.value, ...(debt.value ? { debtId: debt.value } : {}) };
  if (draft.mode === 'text') Object.assign(body, { text: draft.text.trim(), ...(channel.value === 'EMAIL' ? { subject: draft.subject.trim() } : {}) });
  else body.intent = intent.value;
  return body;
}

function previewNode(p) {
  const d = p.decision;
  const verdict = d.outcome === 'send' ? 'Allowed now' : d.outcome === 'defer' ? `Deferred: ${d.summary}` : 'Refused — nothing will be sent';
  return h('div', { class: `preview preview-${d.outcome}`, id: 'reply-preview', 'data-outcome': d.outcome },
    h('div', { class: 'preview-verdict' }, h('strong', {}, verdict)),
    d.outcome === 'refuse'
      ? h('div', { class: 'refusal', id: 'preview-refusal' }, d.explanation, h('ul', {}, d.reasons.map((r) => h('li', {}, `${r.rule}: ${r.detail}`))))
      : h('div', { class: 'muted' }, d.explanation),
    p.content ? h('div', { class: 'preview-content' },
      p.content.subject ? h('div', {}, h('strong', {}, `Subject: ${p.content.subject}`)) : null,
      h('div', { class: 'body', id: 'preview-text' }, p.content.text),
      p.content.segments ? h('div', { class: 'muted' }, `${p.content.segments} SMS segment${p.content.segments > 1 ? 's' : ''} (${p.content.encoding})`) : null) : null,
    p.contentError ? h('div', { class: 'warn' }, `Cannot render: ${p.contentError.message}`) : null);
}

function renderComposer(c) {
  const draft = draftOf(c.id);
  const defaultChannel = draft.channel || (c.lastInboundChannel === 'EMAIL' ? 'EMAIL' : 'SMS');
  const previewBox = h('div', { id: 'preview-box' }, draft.preview ? previewNode(draft.preview) : null);
  // Any change makes the shown preview stale: it is dropped, not left to mislead.
  const changed = () => { draft.preview = null; previewBox.replaceChildren(); };
  const subject = h('input', { id: 'reply-subject', placeholder: 'Subject', value: draft.subject, oninput: (e) => { draft.subject = e.target.value; changed(); } });
  const channel = h('select', { id: 'reply-channel', 'aria-label': 'Channel', onchange: (e) => { draft.channel = e.target.value; syncMode(); changed(); } }, ['SMS', 'EMAIL'].map((ch) => h('option', { value: ch, selected: ch === defaultChannel }, `${CHANNEL_ICONS[ch]} ${ch}`)));
  const mode = h('select', { id: 'reply-mode', 'aria-label': 'Content', onchange: (e) => { draft.mode = e.target.value; syncMode(); changed(); } },
    h('option', { value: 'template', selected: draft.mode === 'template' }, 'Template'), h('option', { value: 'text', selected: draft.mode === 'text' }, 'Free text'));
  const intent = h('select', { id: 'reply-intent', 'aria-label': 'Template', onchange: (e) => { draft.intent = e.target.value; changed(); } }, INTENTS.map((i) => h('option', { value: i, selected: i === draft.intent }, i.replace(/-/g, ' '))));
  const text = h('textarea', { id: 'reply-text', placeholder: 'Your reply to the debtor (the opt-out line and required disclosures are added)', oninput: (e) => { draft.text = e.target.value; changed(); typingSignal(); } });
  text.value = draft.text;
  const debt = h('select', { id: 'reply-debt', 'aria-label': 'Debt', onchange: (e) => { draft.debtId = e.target.value; changed(); } }, (state.panel?.debts || []).map((d) => h('option', { value: d.id, selected: d.id === draft.debtId }, `${d.externalRef} · ${d.currency} ${d.balance}`)));
  const syncMode = () => {
    intent.parentElement?.classList.toggle('hidden', draft.mode === 'text');
    text.classList.toggle('hidden', draft.mode !== 'text');
    subject.classList.toggle('hidden', draft.mode !== 'text' || channel.value !== 'EMAIL');
  };
  const notice = h('div', { id: 'composer-notice' }, state.composerNotice);
  const preview = h('button', { id: 'reply-preview-btn', disabled: !c.debtorId, onclick: async () => {
    preview.disabled = true;
    try {
      draft.preview = await api('POST', `/api/v1/inbox/conversations/${c.id}/preview`, composeBody(draft, channel, intent, debt));
      previewBox.replaceChildren(previewNode(draft.preview));
    } catch (err) {
      previewBox.replaceChildren(h('div', { class: 'refusal' }, err.message, (err.body?.details || []).map?.((d) => h('div', {}, `${d.field}: ${d.reason}`))));
    } finally {
      preview.disabled = !c.debtorId;
    }
  } }, 'Preview');
  const send = h('button', { class: 'primary', id: 'reply-send', disabled: !c.debtorId, onclick: async () => {
    send.disabled = true;
    state.composerNotice = null;
    notice.replaceChildren();
    try {
      const r = await api('POST', `/api/v1/conversations/${c.id}/reply`, { ...composeBody(draft, channel, intent, debt), openedAtSeq: state.lastSeq });
      state.composerNotice = h('div', { class: 'muted', id: 'reply-result' }, r.outcome === 'defer' ? `Scheduled: ${r.explanation}` : 'Sent to the router; queued for delivery.');
      draft.text = '';
      draft.subject = '';
      draft.preview = null;
      await reloadThread();
    } catch (err) {
      if (err.status === 422 && err.body?.error === 'refused') {
        state.composerNotice = h('div', { class: 'refusal', id: 'reply-refusal' }, h('strong', {}, 'Not sent — refused by the contact rules. '), err.body.details?.explanation || err.message,
          h('ul', {}, (err.body.details?.reasons || []).map((r) => h('li', {}, `${r.rule}: ${r.detail}`))));
      } else if (err.status === 409 && err.body?.details?.events) {
        state.composerNotice = h('div', { class: 'warn', id: 'reply-conflict' }, 'Someone else replied after you opened this conversation. Their reply is shown above — read it, then send again if still needed.');
        await reloadThread();
      } else state.composerNotice = h('div', { class: 'refusal' }, err.message, Array.isArray(err.body?.details) ? err.body.details.map((d) => h('div', {}, `${d.field}: ${d.reason}`)) : null);
      notice.replaceChildren(state.composerNotice);
    } finally {
      send.disabled = !c.debtorId;
    }
  } }, 'Send reply');
  const noteBody = h('textarea', { id: 'note-body', placeholder: 'Internal note (only agents see it)', oninput: (e) => { draft.note = e.target.value; typingSignal(); } });
  noteBody.value = draft.note;
  const addNote = h('button', { id: 'note-add', onclick: async () => {
    const body = noteBody.value.trim();
    if (!body) return;
    draft.note = '';
    await act(() => api('POST', `/api/v1/inbox/conversations/${c.id}/notes`, { body }));
  } }, 'Add note');
  const node = h('div', { class: 'composer' },
    h('div', { class: 'row' }, h('label', {}, 'Reply by ', channel), mode, h('label', {}, 'Template ', intent), debt.options.length > 1 ? h('label', {}, 'Debt ', debt) : null, preview, send),
    subject, text,
    c.debtorId ? null : h('div', { class: 'muted' }, 'Link this conversation to a debtor before replying.'),
    previewBox, notice,
    noteBody, h('div', { class: 'row' }, addNote));
  syncMode();
  return node;
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
        p.debts.flatMap((d) => [
          h('tr', { 'data-debt': d.id }, h('td', {}, `${d.externalRef} (${d.creditor})`), h('td', {}, `${d.currency} ${d.balance}`), h('td', {}, d.dueDate), h('td', {}, String(d.daysPastDue)), h('td', { class: 'debt-status' }, d.status.toLowerCase().replace(/_/g, ' '))),
          d.activePromises.length ? h('tr', { class: 'promises', 'data-debt-promises': d.id }, h('td', { colspan: '5' },
            `${d.activePromises.some((x) => x.planId) ? 'Plan' : 'Promised'}: `, d.activePromises.map((x) => `${d.currency} ${x.amount} by ${x.dueDate}`).join(' · '))) : null,
        ])),
      renderPromiseForm(p)));
    sections.push(h('section', { id: 'panel-contacts' }, h('h3', {}, 'Contact points'),
      p.contactPoints.map((cp) => h('div', { class: 'cp', 'data-cp': cp.id },
        h('div', {}, `${cp.kind === 'PHONE' ? '📱' : cp.kind === 'EMAIL' ? '✉️' : '🏠'} ${cp.value}${cp.label ? ` (${cp.label})` : ''}${cp.valid ? '' : ' — invalid'}`),
        h('div', { class: 'muted consents' }, (CONSENT_CHANNELS[cp.kind] || []).map((ch) => consentControl(cp, ch)))))));
    if (p.preferences) sections.push(h('section', {}, h('h3', {}, 'Preferences'), h('div', {}, p.preferences.channelOrder.length ? `Prefers ${p.preferences.channelOrder.join(' → ')}` : 'No channel preference')));
    sections.push(h('section', { id: 'panel-allowance' }, h('h3', {}, `Contact allowed now${p.allowance.debtRef ? ` (debt ${p.allowance.debtRef})` : ''}`),
      p.allowance.channels.map((a) => h('div', { class: `allow-${a.outcome}`, 'data-channel': a.channel }, `${CHANNEL_ICONS[a.channel]} ${a.channel}: ${a.summary}`,
        a.outcome !== 'send' && a.reasons.length ? h('div', { class: 'muted' }, a.reasons.slice(0, 2).map((r) => r.detail).join(' ')) : null)),
      h('ul', { class: 'muted' }, p.allowance.caps.map((c) => h('li', {}, c)))));
  } else if (state.thread) sections.push(renderLinkSection());
  if (state.sandbox && state.thread) sections.push(renderSandboxPanel());
  col.replaceChildren(...sections);
}

const CONSENT_CHANNELS = { PHONE: ['SMS', 'VOICE'], EMAIL: ['EMAIL'], ADDRESS: ['LETTER'] };
const CONSENT_STATES = ['GRANTED', 'UNKNOWN', 'REVOKED'];
// What the agent typed into the panel's forms survives live re-renders of the panel.
const panelDraft = { debtId: '', amount: '', date: '', planCount: '3', planAmount: '', planFirst: '', linkQuery: '' };
const draftInput = (id, key, attrs = {}) => h('input', { id, value: panelDraft[key], oninput: (e) => { panelDraft[key] = e.target.value; }, ...attrs });

function panelResult(text, ok) {
  const el = document.getElementById('panel-action-result');
  if (el) el.replaceChildren(h('div', { class: ok ? 'muted' : 'refusal' }, text));
}

async function panelAct(fn, done) {
  try {
    await fn();
    await reloadThread();
    panelResult(done, true);
  } catch (err) {
    panelResult(`${err.message}${Array.isArray(err.body?.details) ? ` (${err.body.details.map((d) => `${d.field}: ${d.reason}`).join('; ')})` : ''}`, false);
  }
}

/** Promise to pay (amount, date) or a payment plan (n monthly instalments) on one debt. */
function renderPromiseForm(p) {
  const open = p.debts.filter((d) => !d.closed);
  if (!open.length) return null;
  if (!open.some((d) => d.id === panelDraft.debtId)) panelDraft.debtId = open[0].id;
  const debt = h('select', { id: 'promise-debt', 'aria-label': 'Debt', onchange: (e) => { panelDraft.debtId = e.target.value; } }, open.map((d) => h('option', { value: d.id, selected: d.id === panelDraft.debtId }, `${d.externalRef} · ${d.currency} ${d.balance}`)));
  const promise = () => panelAct(async () => {
    await api('POST', `/api/v1/debts/${panelDraft.debtId}/promises`, { amount: panelDraft.amount.trim(), dueDate: panelDraft.date });
    Object.assign(panelDraft, { amount: '', date: '' });
  }, 'Promise recorded.');
  const plan = () => {
    const n = Number(panelDraft.planCount);
    if (!Number.isInteger(n) || n < 2 || n > 60 || !panelDraft.planFirst) return panelResult('A plan needs 2–60 instalments, an amount and a first date.', false);
    // Monthly instalments from the first date (same day of month, clamped to the month's end).
    const [y, m, day] = panelDraft.planFirst.split('-').map(Number);
    const instalments = Array.from({ length: n }, (_, i) => {
      const last = new Date(Date.UTC(y, m - 1 + i + 1, 0)).getUTCDate();
      const d = new Date(Date.UTC(y, m - 1 + i, Math.min(day, last)));
      return { amount: panelDraft.planAmount.trim(), dueDate: d.toISOString().slice(0, 10) };
    });
    return panelAct(async () => {
      await api('POST', `/api/v1/debts/${panelDraft.debtId}/payment-plans`, { instalments });
      Object.assign(panelDraft, { planAmount: '', planFirst: '' });
    }, `Payment plan of ${n} instalments recorded.`);
  };
  return h('div', { class: 'panel-forms' },
    open.length > 1 ? h('label', {}, 'Debt ', debt) : null,
    h('div', { class: 'row' }, h('strong', {}, 'Promise to pay')),
    h('div', { class: 'row' }, draftInput('promise-amount', 'amount', { placeholder: 'Amount', inputmode: 'decimal', size: '8' }), draftInput('promise-date', 'date', { type: 'date' }), h('button', { id: 'promise-add', onclick: promise }, 'Record')),
    h('div', { class: 'row' }, h('strong', {}, 'Payment plan (monthly)')),
    h('div', { class: 'row' }, draftInput('plan-count', 'planCount', { type: 'number', min: '2', max: '60', size: '3', 'aria-label': 'Instalments' }), '×',
      draftInput('plan-amount', 'planAmount', { placeholder: 'Amount', inputmode: 'decimal', size: '8' }), 'from', draftInput('plan-first', 'planFirst', { type: 'date' }), h('button', { id: 'plan-add', onclick: plan }, 'Record plan')),
    h('div', { id: 'panel-action-result' }));
}

function consentControl(cp, channel) {
  const current = cp.consents[channel]?.state || 'UNKNOWN';
  return h('label', { class: `consent-${current}` }, `${channel} `,
    h('select', { id: `consent-${cp.id}-${channel}`, 'data-state': current, onchange: (e) => panelAct(() => api('PATCH', `/api/v1/contact-points/${cp.id}`, { consents: { [channel]: e.target.value } }), `${channel} consent for ${cp.value} set to ${e.target.value.toLowerCase()}.`) },
      CONSENT_STATES.map((st) => h('option', { value: st, selected: st === current }, st.toLowerCase()))));
}

/** An unmatched sender: find the debtor (name, phone or email) and move the thread to them. */
function renderLinkSection() {
  const results = h('div', { id: 'link-results' });
  const address = state.thread.conversation.unmatchedAddress;
  const search = async () => {
    const q = panelDraft.linkQuery.trim();
    if (q.length < 2) return results.replaceChildren(h('div', { class: 'muted' }, 'Type at least 2 characters.'));
    try {
      const r = await api('GET', `/api/v1/debtors?q=${encodeURIComponent(q)}&limit=10`);
      results.replaceChildren(...(r.data.length ? r.data.map((d) => h('div', { class: 'link-hit', 'data-debtor': d.id },
        h('span', {}, `${d.fullName}${d.externalRef ? ` · ${d.externalRef}` : ''} · ${d.contactPoints.filter((c) => c.kind !== 'ADDRESS').map((c) => c.value).join(', ')}`),
        h('button', { class: 'link-go', onclick: async () => {
          try {
            const linked = await api('POST', `/api/v1/conversations/${state.currentId}/link`, { debtorId: d.id, addContactPoint: Boolean(address) });
            panelDraft.linkQuery = '';
            await openConversation(linked.conversationId);
            reloadList();
          } catch (err) { results.replaceChildren(h('div', { class: 'refusal' }, err.message)); }
        } }, 'Link'))) : [h('div', { class: 'muted' }, 'No debtor found.')]));
    } catch (err) { results.replaceChildren(h('div', { class: 'refusal' }, err.message)); }
  };
  return h('section', { id: 'link-section' }, h('h3', {}, 'Unmatched sender'),
    h('div', { class: 'muted' }, `Messages from ${address || 'an unknown address'}. Find the debtor to link this conversation to (the address is added to their contact points).`),
    h('div', { class: 'row' }, draftInput('link-query', 'linkQuery', { type: 'search', placeholder: 'Name, phone or email', onkeydown: (e) => { if (e.key === 'Enter') search(); } }), h('button', { id: 'link-search', onclick: search }, 'Search')),
    results);
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
