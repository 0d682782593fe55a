// The open conversation: its header (assign, status, snooze, callbacks),
// presence, and the timeline — messages (attachments previewed, HTML email
// in a sandboxed frame, quoted history folded, calls with keypresses,
// outcome and recording), internal notes and the activity (who claimed,
// assigned, snoozed, flagged, promised, paid) from the audit log. The
// composer below it is drawn once per conversation (composer.js), so a live
// update of the timeline never takes the agent's draft or notice away.

import { h, api, timeOf, debounce } from './kit.js';
import { state, actions, CHANNEL_ICONS, words } from './store.js';
import { renderComposer, syncComposer } from './composer.js';
import { renderPanel } from './panel.js';
import { selectRow, markGone, rowAfter, focusRow } from './queue.js';

const STATUSES = ['OPEN', 'PENDING', 'SNOOZED', 'RESOLVED'];
const KEYPAD = { 1: 'speak to an agent', 2: 'text me a payment link', 9: 'stop calling me' };

// ── loading ────────────────────────────────────────────────────────────

function openLive(id) {
  return new Promise((resolve) => {
    if (!state.socket) return resolve();
    state.socket.emit('subscribe', { conversationId: id }, () => {
      state.socket.emit('viewing', { conversationId: id, viewing: true }, (r) => {
        if (r && r.viewers) {
          state.viewers = r.viewers.filter((v) => v.userId !== state.me.id);
          renderPresence();
        }
        resolve();
      });
    });
  });
}
actions.openLive = openLive;

export async function reloadThread() {
  if (!state.currentId) return;
  const id = state.currentId;
  const thread = await api('GET', `/api/v1/inbox/conversations/${id}`);
  const panel = thread.conversation.debtorId
    ? await api('GET', `/api/v1/inbox/debtors/${thread.conversation.debtorId}/panel`).catch(() => null)
    : null;
  if (id !== state.currentId) return;
  const first = !state.thread || state.thread.conversation.id !== id;
  state.thread = thread;
  state.panel = panel;
  state.lastSeq = thread.conversation.lastSeq;
  renderThread(first);
  renderPanel();
}
export const reloadThreadSoon = debounce(() => reloadThread().catch(() => undefined), 120);
actions.reloadThread = reloadThread;

/** Opens a conversation; focus 'thread' puts the keyboard in it (its title), 'keep' leaves focus where it is. */
export async function openConversation(id, opts = {}) {
  if (state.currentId && state.socket && state.currentId !== id) {
    state.socket.emit('viewing', { conversationId: state.currentId, viewing: false });
    state.socket.emit('unsubscribe', { conversationId: state.currentId });
  }
  state.currentId = id;
  state.thread = null;
  state.panel = null;
  state.viewers = [];
  state.typing.clear();
  document.body.dataset.screen = 'thread';
  selectRow(id);
  const col = document.getElementById('thread-col');
  if (col) col.replaceChildren(h('p', { class: 'loading' }, 'Loading conversation…'));
  await openLive(id);
  await reloadThread();
  if (opts.focus === 'thread') document.getElementById('thread-title')?.focus();
}
actions.openConversation = openConversation;

export function backToList() {
  document.body.dataset.screen = 'list';
  focusRow(state.currentId);
}
actions.backToList = backToList;

// ── actions ────────────────────────────────────────────────────────────

async function act(fn) {
  try {
    const r = await fn();
    await reloadThread();
    return r;
  } catch (err) {
    notice(err.message, 'warn');
    return null;
  }
}

function notice(text, kind = 'muted') {
  const n = document.getElementById('thread-notice');
  if (n) n.replaceChildren(h('div', { class: kind, role: kind === 'warn' ? 'alert' : 'status' }, text));
}

export function claim() {
  const c = state.thread?.conversation;
  if (!c || c.assignee?.id === state.me.id) return;
  return act(() => api('POST', `/api/v1/inbox/conversations/${c.id}/claim`, { force: Boolean(c.assignee) }));
}
actions.claim = claim;

/** Resolves the open conversation and opens the next one in the list (e). */
export async function resolveAndNext() {
  const c = state.thread?.conversation;
  if (!c) return;
  const next = rowAfter(c.id);
  const done = await act(() => api('POST', `/api/v1/inbox/conversations/${c.id}/status`, { status: 'RESOLVED' }));
  if (done === null) return;
  markGone(c.id);
  if (next) await openConversation(next, { focus: 'thread' });
  else {
    notice('Resolved. Nothing left in this view.');
    backToList();
  }
}
actions.resolveAndNext = resolveAndNext;

function localInput(d) {
  return new Date(d.getTime() - d.getTimezoneOffset() * 60e3).toISOString().slice(0, 16);
}

/** The snooze dialog: a chosen time, or one of the usual ones (s). */
export function openSnooze() {
  const c = state.thread?.conversation;
  if (!c) return;
  const dialog = document.getElementById('snooze-dialog');
  const input = document.getElementById('snooze-until');
  const error = document.getElementById('snooze-error');
  const tomorrow = new Date();
  tomorrow.setDate(tomorrow.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  input.value = c.snoozedUntil ? localInput(new Date(c.snoozedUntil)) : localInput(tomorrow);
  input.min = localInput(new Date());
  error.textContent = '';
  dialog.showModal();
  input.focus();
}
actions.openSnooze = openSnooze;

async function confirmSnooze(e) {
  e.preventDefault();
  const input = document.getElementById('snooze-until');
  const error = document.getElementById('snooze-error');
  const at = new Date(input.value);
  if (!input.value || Number.isNaN(at.getTime()) || at <= new Date()) {
    error.textContent = 'Choose a time in the future.';
    input.setAttribute('aria-invalid', 'true');
    return;
  }
  input.removeAttribute('aria-invalid');
  const c = state.thread.conversation;
  try {
    await api('POST', `/api/v1/inbox/conversations/${c.id}/status`, {
      status: 'SNOOZED',
      snoozedUntil: at.toISOString(),
    });
    document.getElementById('snooze-dialog').close();
    await reloadThread();
    document.getElementById('thread-title')?.focus();
  } catch (err) {
    error.textContent = err.message;
  }
}

export function snoozeDialog() {
  const preset = (label, f) =>
    h(
      'button',
      {
        type: 'button',
        class: 'preset',
        onclick: () => {
          document.getElementById('snooze-until').value = localInput(f());
        },
      },
      label,
    );
  const inHours = (n) => () => new Date(Date.now() + n * 3600e3);
  const nextMonday = () => {
    const d = new Date();
    d.setDate(d.getDate() + ((8 - d.getDay()) % 7 || 7));
    d.setHours(9, 0, 0, 0);
    return d;
  };
  const tomorrow9 = () => {
    const d = new Date();
    d.setDate(d.getDate() + 1);
    d.setHours(9, 0, 0, 0);
    return d;
  };
  return h(
    'dialog',
    { id: 'snooze-dialog', 'aria-labelledby': 'snooze-heading' },
    h(
      'form',
      { method: 'dialog', onsubmit: confirmSnooze },
      h('h2', { id: 'snooze-heading' }, 'Snooze until'),
      h(
        'div',
        { class: 'row' },
        preset('In 1 hour', inHours(1)),
        preset('In 4 hours', inHours(4)),
        preset('Tomorrow 09:00', tomorrow9),
        preset('Next Monday 09:00', nextMonday),
      ),
      h('label', {}, 'Date and time ', h('input', { type: 'datetime-local', id: 'snooze-until', required: true })),
      h('p', { class: 'error', id: 'snooze-error', role: 'alert' }),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit', class: 'primary', id: 'snooze-confirm' }, 'Snooze'),
        h('button', { type: 'button', onclick: () => document.getElementById('snooze-dialog').close() }, 'Cancel'),
      ),
    ),
  );
}

// ── drawing ────────────────────────────────────────────────────────────

export function renderPresence() {
  const el = document.getElementById('presence');
  if (!el) return;
  const now = Date.now();
  for (const [name, at] of state.typing) if (now - at > 4000) state.typing.delete(name);
  const parts = [];
  if (state.viewers.length)
    parts.push(`${state.viewers.map((v) => v.name).join(', ')} ${state.viewers.length > 1 ? 'are' : 'is'} viewing`);
  if (state.typing.size)
    parts.push(`${[...state.typing.keys()].join(', ')} ${state.typing.size > 1 ? 'are' : 'is'} typing…`);
  el.textContent = parts.join(' · ');
}

function sizeOf(n) {
  return n > 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}

function attachmentNode(a) {
  const link = h(
    'a',
    { href: a.url, target: '_blank', rel: 'noopener', class: 'attachment-link' },
    `📎 ${a.filename} (${sizeOf(a.size)})`,
  );
  const download = h(
    'a',
    { href: `${a.url}?download=1`, download: a.filename, class: 'attachment-download' },
    'Download',
  );
  let preview = null;
  if (a.inline && a.contentType.startsWith('image/'))
    preview = h('img', { src: a.url, alt: `Attachment ${a.filename}`, class: 'attachment-image', loading: 'lazy' });
  else if (a.inline && a.contentType === 'application/pdf') {
    // Loaded when opened: a PDF viewer per message is heavy.
    const details = h('details', { class: 'attachment-pdf' }, h('summary', {}, `Preview ${a.filename}`));
    details.addEventListener('toggle', () => {
      if (details.open && !details.querySelector('iframe'))
        details.append(h('iframe', { src: a.url, title: `PDF ${a.filename}`, class: 'pdf-frame' }));
    });
    preview = details;
  } else if (a.inline && a.contentType.startsWith('audio/'))
    preview = h('audio', { controls: true, preload: 'none', src: a.url, 'aria-label': `Recording ${a.filename}` });
  return h(
    'figure',
    { class: 'attachment', 'data-attachment': a.id, 'data-type': a.contentType },
    preview,
    h('figcaption', {}, link, ' · ', download),
  );
}

function callNode(m) {
  const o = m.callOutcome;
  if (!o) return null;
  const digits = Array.isArray(o.digits) ? o.digits.filter(Boolean) : [];
  return h(
    'div',
    { class: 'call', 'data-call': m.id },
    h(
      'div',
      {},
      `Call: ${[o.outcome ? `outcome ${words(o.outcome)}` : null, o.answeredBy ? `answered by ${words(o.answeredBy)}` : null, o.durationSec ? `${o.durationSec} s` : null].filter(Boolean).join(', ') || 'placed'}`,
    ),
    digits.length
      ? h(
          'div',
          { class: 'keypresses' },
          `Keypad: ${digits.map((d) => `${d}${KEYPAD[d] ? ` (${KEYPAD[d]})` : ''}`).join(', ')}`,
        )
      : null,
  );
}

function emailFrame(m) {
  const details = h(
    'details',
    { class: 'email-html', open: m.htmlOnly ? true : null },
    h('summary', {}, m.htmlOnly ? 'Email as sent (HTML, images and links blocked)' : 'Show the formatted email (HTML)'),
  );
  const load = () => {
    if (details.open && !details.querySelector('iframe')) {
      // sandbox="": no script, no forms, no navigation; the server's CSP loads nothing remote.
      details.append(
        h('iframe', {
          sandbox: '',
          src: m.html,
          title: `Email${m.subject ? `: ${m.subject}` : ''}`,
          class: 'email-frame',
          referrerpolicy: 'no-referrer',
        }),
      );
    }
  };
  details.addEventListener('toggle', load);
  queueMicrotask(load);
  return details;
}

function messageNode(m) {
  return h(
    'article',
    {
      class: `msg ${m.direction}`,
      'data-id': m.id,
      'data-status': m.status,
      'data-direction': m.direction,
      'data-channel': m.channel,
      'aria-label': `${m.direction === 'INBOUND' ? 'From the debtor' : 'Sent'} by ${m.channel}, ${timeOf(m.createdAt)}`,
    },
    h(
      'div',
      { class: 'meta' },
      h('span', { title: m.channel }, `${CHANNEL_ICONS[m.channel] || ''} ${m.channel}`),
      h('span', {}, m.direction === 'INBOUND' ? `from ${m.from || '?'}` : `to ${m.to || '?'}`),
      h('span', {}, timeOf(m.createdAt)),
      h('span', { class: `msg-status ${m.status}` }, m.status.toLowerCase()),
      m.intent ? h('span', {}, m.intent) : null,
    ),
    m.subject ? h('div', { class: 'subject' }, h('strong', {}, m.subject)) : null,
    h('div', { class: 'body' }, m.body),
    m.quoted
      ? h('details', { class: 'quoted' }, h('summary', {}, 'Quoted text'), h('div', { class: 'body' }, m.quoted))
      : null,
    m.html ? emailFrame(m) : null,
    m.attachments?.length ? h('div', { class: 'attachments' }, m.attachments.map(attachmentNode)) : null,
    m.pdf ? h('div', {}, h('a', { href: m.pdf, target: '_blank', rel: 'noopener' }, '📄 Letter PDF')) : null,
    callNode(m),
    m.errorCode
      ? h('div', { class: 'meta error' }, `Error ${m.errorCode}${m.errorMessage ? `: ${m.errorMessage}` : ''}`)
      : null,
    m.routing ? h('div', { class: 'routing' }, `Routing: ${m.routing}`) : null,
  );
}

function noteNode(n) {
  return h(
    'article',
    { class: 'note', 'data-id': n.id, 'aria-label': `Internal note by ${n.author.name}` },
    h('div', { class: 'meta' }, `🗒 Internal note · ${n.author.name} · ${timeOf(n.createdAt)}`),
    h('div', { class: 'body' }, n.body),
  );
}

function activityNode(a) {
  return h(
    'div',
    { class: 'event', 'data-action': a.action },
    h('strong', {}, a.actor.name),
    ` ${a.text} · `,
    h('time', { datetime: a.at, title: new Date(a.at).toLocaleString() }, timeOf(a.at)),
  );
}

function tasksNode(t) {
  const open = t.tasks.filter((x) => !x.doneAt);
  if (!open.length) return null;
  return h(
    'div',
    { class: 'tasks', id: 'thread-tasks' },
    open.map((x) =>
      h(
        'div',
        { class: 'task', 'data-task': x.id },
        `📞 Callback requested (${x.source === 'voice:keypad-1' ? 'keypad 1 on a call' : x.source}), due ${new Date(x.dueAt).toLocaleString()} `,
        h(
          'button',
          {
            type: 'button',
            class: 'task-done',
            onclick: () => act(() => api('POST', `/api/v1/inbox/tasks/${x.id}/done`)),
          },
          'Mark callback done',
        ),
      ),
    ),
  );
}

function headNode(c) {
  const assign = h(
    'select',
    {
      id: 'assign',
      onchange: (e) =>
        act(() => api('POST', `/api/v1/inbox/conversations/${c.id}/assign`, { assigneeId: e.target.value || null })),
    },
    h('option', { value: '' }, 'unassigned'),
    state.agents.map((a) => h('option', { value: a.id, selected: c.assignee?.id === a.id }, a.name)),
  );
  const status = h(
    'select',
    {
      id: 'status',
      onchange: (e) => {
        if (e.target.value === 'SNOOZED') {
          e.target.value = c.status;
          return openSnooze();
        }
        return act(() => api('POST', `/api/v1/inbox/conversations/${c.id}/status`, { status: e.target.value }));
      },
    },
    STATUSES.map((s) => h('option', { value: s, selected: c.status === s }, s.toLowerCase())),
  );
  const waiting =
    c.waitingSince && c.status !== 'RESOLVED'
      ? h('span', { class: 'badge waiting', 'data-waiting-since': c.waitingSince }, '')
      : null;
  return h(
    'div',
    { class: 'thread-head' },
    h(
      'button',
      { type: 'button', class: 'back', id: 'back-to-list', onclick: backToList, 'aria-label': 'Back to the list' },
      '← List',
    ),
    h('h2', { id: 'thread-title', tabindex: '-1' }, c.debtorName || c.unmatchedAddress || 'Unknown sender'),
    h('span', { id: 'thread-assignee', class: 'badge' }, c.assignee ? `Assigned to ${c.assignee.name}` : 'Unassigned'),
    waiting,
    c.assignee?.id === state.me.id
      ? null
      : h(
          'button',
          { type: 'button', id: 'claim', onclick: claim, 'aria-keyshortcuts': 'a' },
          c.assignee ? 'Take over' : 'Assign to me',
        ),
    h('label', {}, 'Assign ', assign),
    h('label', {}, 'Status ', status),
    h('button', { type: 'button', id: 'snooze', onclick: openSnooze, 'aria-keyshortcuts': 's' }, 'Snooze…'),
    h(
      'button',
      { type: 'button', id: 'resolve-next', onclick: resolveAndNext, 'aria-keyshortcuts': 'e' },
      'Resolve & next',
    ),
    c.snoozedUntil
      ? h('span', { class: 'muted', id: 'snoozed-until' }, `snoozed until ${new Date(c.snoozedUntil).toLocaleString()}`)
      : null,
    c.flags.map((f) => h('span', { class: 'badge flag', 'data-flag': f }, words(f))),
  );
}

export function renderThread(first) {
  const col = document.getElementById('thread-col');
  const t = state.thread;
  if (!col || !t) return;
  const c = t.conversation;
  const items = [
    ...t.messages.map((m) => ({ at: m.createdAt, node: () => messageNode(m) })),
    ...t.notes.map((n) => ({ at: n.createdAt, node: () => noteNode(n) })),
    ...t.activity.map((a) => ({ at: a.at, node: () => activityNode(a) })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  if (first || !document.getElementById('timeline')) {
    col.replaceChildren(
      h(
        'div',
        { class: 'thread' },
        h('div', { id: 'thread-head-slot' }),
        h('div', { class: 'presence', id: 'presence', 'aria-live': 'polite' }),
        h('div', { id: 'thread-notice', 'aria-live': 'polite' }),
        h('div', { id: 'tasks-slot' }),
        h('div', {
          class: 'timeline',
          id: 'timeline',
          tabindex: '0',
          role: 'log',
          'aria-label': 'Conversation timeline',
        }),
        renderComposer(c),
      ),
    );
  }
  const headSlot = document.getElementById('thread-head-slot');
  const focusedHead = headSlot.contains(document.activeElement) ? document.activeElement.id : null;
  headSlot.replaceChildren(headNode(c));
  if (focusedHead) document.getElementById(focusedHead)?.focus();
  document.getElementById('tasks-slot').replaceChildren(tasksNode(t) ?? '');
  const timeline = document.getElementById('timeline');
  const atBottom = first || timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 40;
  timeline.replaceChildren(
    ...(items.length ? items.map((i) => i.node()) : [h('div', { class: 'empty' }, 'No messages yet.')]),
  );
  if (atBottom) timeline.scrollTop = timeline.scrollHeight;
  syncComposer(c);
  renderPresence();
  actions.tickBadges?.();
}
