// The agent inbox: a single-page app without a build step (plain ES modules:
// queue.js the work queue, thread.js the open conversation, composer.js the
// reply, panel.js the debtor, this file sign-in, live events, the keyboard
// and the page around them). It talks to the REST API with the session
// cookie (+ X-CSRF-Token on changes) and listens on socket.io. Text from the
// server goes into the page as text nodes, never as HTML; an email's HTML
// goes only into a sandboxed frame.

import { h, api, setCsrf } from './kit.js';
import { state, actions } from './store.js';
import {
  renderQueueColumn,
  reloadList,
  onInboxEvent,
  moveCursor,
  tickBadges,
  focusFirstRowOnLoad,
  noteKeyboardUse,
  focusRow,
  chooseStartView,
} from './queue.js';
import {
  openConversation,
  reloadThreadSoon,
  renderPresence,
  snoozeDialog,
  claim,
  resolveAndNext,
  openSnooze,
  backToList,
} from './thread.js';
import { focusReply, focusNote } from './composer.js';

const root = () => document.getElementById('app');
const BASE_TITLE = 'Inbox · Dunning Gateway';

// ── sign in ────────────────────────────────────────────────────────────

function renderLogin(message) {
  document.title = `Sign in · Dunning Gateway`;
  const error = h('p', { class: 'error', id: 'login-error', role: 'alert' }, message || '');
  const email = h('input', {
    id: 'login-email',
    type: 'email',
    autocomplete: 'username',
    required: true,
    placeholder: 'you@company.com',
  });
  const password = h('input', {
    id: 'login-password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const form = h(
    'form',
    {
      class: 'login',
      'aria-labelledby': 'login-heading',
      onsubmit: async (e) => {
        e.preventDefault();
        error.textContent = '';
        try {
          const r = await api('POST', '/api/v1/session', { email: email.value, password: password.value });
          setCsrf(r.csrfToken);
          await boot();
        } catch (err) {
          error.textContent =
            err.status === 423
              ? 'Account temporarily locked after too many failed attempts. Try again later.'
              : err.status === 429
                ? 'Too many attempts. Wait a few minutes.'
                : err.message;
        }
      },
    },
    h('h1', { id: 'login-heading' }, 'Sign in to the inbox'),
    h('label', {}, 'Email', email),
    h('label', {}, 'Password', password),
    h('button', { class: 'primary', type: 'submit', id: 'login-submit' }, 'Sign in'),
    error,
  );
  root().replaceChildren(h('main', { class: 'login-page' }, form));
  email.focus();
}
actions.signedOut = () => {
  state.socket?.disconnect();
  renderLogin('Your session ended. Sign in again.');
};

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
    if (state.currentId) actions.openLive(state.currentId).then(() => actions.reloadThread());
  });
  socket.on('disconnect', () => {
    if (connLabel()) connLabel().textContent = 'reconnecting…';
  });
  socket.on('connect_error', (err) => {
    if (connLabel()) connLabel().textContent = `offline (${err.message})`;
  });
  socket.on('inbox', onInboxEvent);
  socket.on('timeline', (ev) => {
    if (ev.conversationId !== state.currentId) return;
    if (ev.seq > state.lastSeq) reloadThreadSoon();
  });
  socket.on('presence', (p) => {
    if (p.conversationId !== state.currentId) return;
    state.viewers = p.viewers.filter((v) => v.userId !== state.me.id);
    renderPresence();
  });
  socket.on('typing', (t) => {
    if (t.conversationId !== state.currentId || t.userId === state.me.id) return;
    if (t.typing) state.typing.set(t.name, Date.now());
    else state.typing.delete(t.name);
    renderPresence();
    setTimeout(renderPresence, 4000);
  });
  socket.on('conversation.merged', (m) => {
    if (m.conversationId === state.currentId) openConversation(m.into);
  });
}

// ── tab title and notifications ─────────────────────────────────────────

/** The tab says how many replies wait unread in the agent's views (unanswered and mine). */
actions.updateTitle = (counts) => {
  const unread = Math.max(counts.get('unanswered')?.unread ?? 0, counts.get('mine')?.unread ?? 0);
  document.title = unread ? `(${unread}) ${BASE_TITLE}` : BASE_TITLE;
};

/** A browser notification for a debtor's new message while the tab is in the background. */
actions.notifyActivity = (ev) => {
  const inbound = ev.preview?.direction === 'INBOUND' || (ev.type === 'message.created' && ev.direction === 'INBOUND');
  if (!inbound || !document.hidden || typeof Notification === 'undefined' || Notification.permission !== 'granted')
    return;
  // Replies in this agent's views: their own conversations and the unassigned ones.
  if (ev.assigneeId && ev.assigneeId !== state.me.id) return;
  const n = new Notification('New reply in the inbox', {
    body: 'A debtor wrote. Open the inbox to answer.',
    tag: ev.conversationId,
  });
  n.onclick = () => {
    window.focus();
    openConversation(ev.conversationId, { focus: 'thread' });
  };
};

function notificationsButton() {
  if (typeof Notification === 'undefined' || Notification.permission !== 'default') return null;
  const b = h(
    'button',
    {
      type: 'button',
      id: 'notify-enable',
      class: 'topbar-button',
      onclick: async () => {
        await Notification.requestPermission();
        b.remove();
      },
    },
    'Enable notifications',
  );
  return b;
}

// ── the keyboard ───────────────────────────────────────────────────────

const SHORTCUTS = [
  ['j / ↓', 'Next conversation in the list'],
  ['k / ↑', 'Previous conversation in the list'],
  ['Enter', 'Open the selected conversation'],
  ['r', 'Reply (free text)'],
  ['Ctrl+Enter / ⌘+Enter', 'Send the reply (or add the note)'],
  ['n', 'Write an internal note'],
  ['a', 'Assign to me'],
  ['e', 'Resolve and open the next'],
  ['s', 'Snooze until a chosen time'],
  ['/', 'Search'],
  ['Esc', 'Leave a text box; back to the list on a phone'],
  ['?', 'This list'],
];

function helpDialog() {
  return h(
    'dialog',
    { id: 'help-dialog', 'aria-labelledby': 'help-heading' },
    h('h2', { id: 'help-heading' }, 'Keyboard shortcuts'),
    h(
      'table',
      { class: 'shortcuts' },
      h(
        'tbody',
        {},
        SHORTCUTS.map(([k, what]) => h('tr', {}, h('th', { scope: 'row' }, h('kbd', {}, k)), h('td', {}, what))),
      ),
    ),
    h('form', { method: 'dialog' }, h('button', { type: 'submit', class: 'primary', id: 'help-close' }, 'Close')),
  );
}

const typingIn = (el) => el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));

function onKey(e) {
  if (e.defaultPrevented || e.altKey || (e.ctrlKey && e.key !== 'Enter') || (e.metaKey && e.key !== 'Enter')) return;
  if (document.querySelector('dialog[open]')) return;
  const target = e.target;
  if (typingIn(target)) return;
  const inList = target.closest?.('#conv-list');
  const run = (fn) => {
    e.preventDefault();
    fn();
  };
  switch (e.key) {
    case 'j':
      return run(() => moveCursor(1));
    case 'k':
      return run(() => moveCursor(-1));
    case 'ArrowDown':
      if (inList) run(() => moveCursor(1));
      return;
    case 'ArrowUp':
      if (inList) run(() => moveCursor(-1));
      return;
    case 'Enter':
      if (inList) noteKeyboardUse();
      return; // rows are buttons: Enter opens them natively
    case 'r':
      return state.thread ? run(focusReply) : undefined;
    case 'n':
      return state.thread ? run(focusNote) : undefined;
    case 'a':
      return state.thread ? run(claim) : undefined;
    case 'e':
      return state.thread ? run(resolveAndNext) : undefined;
    case 's':
      return state.thread ? run(openSnooze) : undefined;
    case '/':
      return run(() => document.getElementById('filter-q')?.focus());
    case '?':
      return run(() => document.getElementById('help-dialog').showModal());
    case 'Escape':
      if (document.body.dataset.screen === 'thread') run(backToList);
      return;
  }
}

// ── layout ─────────────────────────────────────────────────────────────

function renderShell() {
  const top = h(
    'header',
    { class: 'topbar' },
    h('a', { class: 'skip', href: '#thread-col' }, 'Skip to the conversation'),
    h('h1', { class: 'brand' }, 'Dunning Gateway · Inbox'),
    h('span', { class: 'conn', id: 'conn', role: 'status' }, 'connecting…'),
    h('span', { class: 'me', id: 'me' }, `${state.me.name} (${state.me.role.toLowerCase()})`),
    notificationsButton(),
    h(
      'button',
      {
        type: 'button',
        id: 'help',
        class: 'topbar-button',
        'aria-keyshortcuts': 'Shift+?',
        onclick: () => document.getElementById('help-dialog').showModal(),
      },
      'Shortcuts (?)',
    ),
    state.me.role === 'ADMIN' ? h('a', { href: '/admin.html', id: 'admin-link', class: 'topbar-link' }, 'Admin') : null,
    h(
      'button',
      {
        type: 'button',
        id: 'logout',
        class: 'topbar-button',
        onclick: async () => {
          await api('DELETE', '/api/v1/session').catch(() => undefined);
          state.socket?.disconnect();
          renderLogin();
        },
      },
      'Sign out',
    ),
  );
  const layout = h(
    'main',
    { class: 'layout' },
    renderQueueColumn(),
    h(
      'section',
      { class: 'col thread-col', id: 'thread-col', 'aria-label': 'Conversation', tabindex: '-1' },
      h('div', { class: 'empty' }, 'Pick a conversation (j / k, then Enter)'),
    ),
    h('aside', { class: 'col side', id: 'side-col', 'aria-label': 'Debtor' }),
  );
  document.body.dataset.screen = 'list';
  root().replaceChildren(top, layout, helpDialog(), snoozeDialog());
}

// ── start ──────────────────────────────────────────────────────────────

let keysBound = false;
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
  await chooseStartView();
  renderShell();
  document.title = BASE_TITLE;
  // Signed in: the keyboard starts on the first conversation of the queue (Enter opens it).
  focusFirstRowOnLoad();
  await reloadList();
  connectSocket();
  if (!keysBound) {
    document.addEventListener('keydown', onKey);
    setInterval(tickBadges, 30_000);
    keysBound = true;
  }
}

actions.reloadList = reloadList;
actions.tickBadges = tickBadges;
actions.focusRow = focusRow;
boot();
