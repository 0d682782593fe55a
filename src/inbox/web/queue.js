// The work queue: views with their counts, filters and search, and the list
// of conversations a page at a time (the server's keyset cursor; "Load more"
// and moving past the last row read on). The list holds still while the
// agent uses it (pointer over it, or moving through it by keyboard in the
// last few seconds): rows on screen are updated where they are, and new
// arrivals are announced as "N new — show" instead of pushing rows around.
// Each row is a real button in a list (one tab stop; j/k and the arrow keys
// move between rows).

import { h, api, timeOf, debounce, throttle } from './kit.js';
import { state, actions, CHANNEL_ICONS, words, duration, agentZone } from './store.js';

const STATUSES = ['OPEN', 'PENDING', 'SNOOZED', 'RESOLVED'];
const FLAGS = [
  'OPT_OUT',
  'DISPUTE',
  'PROMISE_TO_PAY',
  'CEASE',
  'UNMATCHED',
  'ALREADY_PAID',
  'HARDSHIP',
  'CALLBACK_REQUEST',
  'WRONG_NUMBER',
  'NEEDS_REVIEW',
];
const VIEWS = [
  ['unanswered', 'Unanswered'],
  ['mine', 'Mine'],
  ['unassigned', 'Unassigned'],
  ['all', 'All'],
  ['callbacks', 'Callbacks'],
  ['promises_today', 'Promises today'],
  ['broken_promises', 'Broken promises'],
  ['disputes', 'Disputes'],
  ['by_balance', 'By balance'],
];
const PAGE = 50;
/** How long after a keyboard move in the list it still counts as in use. */
const IN_USE_MS = 8000;

const q = {
  filters: { view: 'unanswered', status: '', flag: '', channel: '', q: '' },
  rows: [],
  byId: new Map(),
  /** Rows on screen that no longer belong to the view (kept in place, dimmed, until the list is refreshed). */
  gone: new Set(),
  nextCursor: null,
  /** Conversations new to this view that arrived while the list was in use. */
  pending: new Set(),
  changed: new Set(),
  counts: new Map(),
  hover: false,
  lastKeyAt: 0,
  /** A focus to give a row once the list is drawn (sign-in: the first row). */
  focusFirst: false,
  loading: true,
  generation: 0,
};

const inUse = () => q.hover || Date.now() - q.lastKeyAt < IN_USE_MS;

function queryString(extra = {}) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q.filters)) if (v) p.set(k, v);
  p.set('tz', agentZone());
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== null) p.set(k, String(v));
  return p.toString();
}

// ── data ───────────────────────────────────────────────────────────────

/** The view from its first row again (as many rows as are on screen, so the agent's place is kept). */
export async function reloadList() {
  const generation = ++q.generation;
  const limit = Math.min(200, Math.max(PAGE, q.rows.length));
  q.loading = true;
  try {
    const r = await api('GET', `/api/v1/inbox/conversations?${queryString({ limit })}`);
    if (generation !== q.generation) return;
    state.sla = r.sla;
    q.rows = r.conversations;
    q.byId = new Map(q.rows.map((c) => [c.id, c]));
    q.gone.clear();
    q.pending.clear();
    q.nextCursor = r.nextCursor;
    q.loading = false;
    renderList();
    reloadCountsSoon();
  } catch (err) {
    if (generation === q.generation) q.loading = false;
    if (err.status === 401) actions.signedOut?.();
  }
}

/** Another view or filter: the old rows go at once (never mistaken for the new view's), then the new ones load. */
function restart() {
  q.rows = [];
  q.byId = new Map();
  q.nextCursor = null;
  q.loading = true;
  renderList();
  return reloadList();
}

let loadingMore = null;
/** The next page, appended; calls while one is on its way wait for that one. */
function loadMore() {
  if (!q.nextCursor) return Promise.resolve(false);
  loadingMore ??= (async () => {
    const generation = q.generation;
    const r = await api('GET', `/api/v1/inbox/conversations?${queryString({ limit: PAGE, cursor: q.nextCursor })}`);
    if (generation !== q.generation) return false;
    for (const c of r.conversations) {
      if (q.byId.has(c.id)) continue;
      q.rows.push(c);
      q.byId.set(c.id, c);
    }
    q.nextCursor = r.nextCursor;
    renderList();
    return true;
  })().finally(() => {
    loadingMore = null;
  });
  return loadingMore;
}

/** Rows that changed: updated in place; new to the view: shown now, or announced while the list is in use. */
async function refreshChanged() {
  const ids = [...q.changed].slice(0, 200);
  q.changed.clear();
  if (!ids.length) return;
  const generation = q.generation;
  const r = await api('GET', `/api/v1/inbox/conversations?${queryString({ ids: ids.join(',') })}`).catch(() => null);
  if (!r || generation !== q.generation) return;
  const found = new Map(r.conversations.map((c) => [c.id, c]));
  const idle = !inUse();
  let moved = false;
  for (const id of ids) {
    const c = found.get(id);
    if (q.byId.has(id)) {
      if (c) {
        const row = q.byId.get(id);
        moved ||= row.sortKey !== c.sortKey;
        Object.assign(row, c);
        q.gone.delete(id);
      } else q.gone.add(id);
      if (!idle || !moved) redrawRow(id);
    } else if (c) {
      // New to the view: placed now if the list is idle (and the row falls within the pages read), else announced.
      if (idle) moved = place(c) || moved;
      else q.pending.add(id);
    }
  }
  if (idle && moved) {
    q.rows.sort(compareRows);
    renderList();
  } else renderBanner();
  reloadCountsSoon();
}

/** The view's order, as the server sorts it: its key (ascending for the oldest-first views), then the id. */
function compareRows(a, b) {
  const ascending = q.filters.view === 'unanswered' || q.filters.view === 'callbacks';
  const key = (c) => (q.filters.view === 'by_balance' ? Number(c.sortKey) : Date.parse(c.sortKey));
  const d = key(a) - key(b);
  if (d !== 0 && !Number.isNaN(d)) return ascending ? d : -d;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Adds a row to the pages read (not past the last one while more pages remain); whether it was added. */
function place(c) {
  const last = q.rows[q.rows.length - 1];
  if (q.nextCursor && last && compareRows(c, last) > 0) return false;
  q.rows.push(c);
  q.byId.set(c.id, c);
  return true;
}
// A busy floor sends events without pause: rows are refreshed at most every 100 ms, never starved.
const refreshChangedSoon = throttle(() => refreshChanged().catch(() => undefined), 100);

/** A live 'inbox' event (any change to any conversation). */
export function onInboxEvent(ev) {
  if (!ev?.conversationId) return;
  q.changed.add(ev.conversationId);
  refreshChangedSoon();
  actions.notifyActivity?.(ev);
}

async function reloadCounts() {
  try {
    const r = await api('GET', `/api/v1/inbox/views?tz=${encodeURIComponent(agentZone())}`);
    q.counts = new Map(r.views.map((v) => [v.view, v]));
    state.sla = r.sla;
    renderCounts();
  } catch {
    /* the list's own reload reports a lost session */
  }
}
// The counts read every view at once: at most one read a second, however busy the floor.
const reloadCountsSoon = throttle(reloadCounts, 1000);

// ── drawing ────────────────────────────────────────────────────────────

export function renderQueueColumn() {
  const views = h(
    'nav',
    { class: 'views', 'aria-label': 'Views' },
    VIEWS.map(([view, label]) =>
      h(
        'button',
        {
          type: 'button',
          'data-view': view,
          class: q.filters.view === view ? 'active' : '',
          'aria-pressed': String(q.filters.view === view),
          onclick: () => setView(view),
        },
        h('span', { class: 'view-label' }, label),
        ' ',
        h('span', { class: 'view-count', id: `count-${view}` }),
      ),
    ),
  );
  const select = (name, label, values) =>
    h(
      'label',
      { class: 'filter' },
      h('span', { class: 'sr-only' }, label),
      h(
        'select',
        {
          id: `filter-${name}`,
          onchange: (e) => {
            q.filters[name] = e.target.value;
            restart();
          },
        },
        h('option', { value: '' }, `${label}: any`),
        values.map((v) => h('option', { value: v }, words(v))),
      ),
    );
  const search = h('input', {
    type: 'search',
    id: 'filter-q',
    placeholder: 'Search name, phone, email, invoice or text  ( / )',
    'aria-label': 'Search conversations',
    oninput: debounce((e) => {
      q.filters.q = e.target.value.trim();
      restart();
    }, 250),
    onkeydown: (e) => {
      if (e.key === 'Escape' || e.key === 'Enter') {
        e.preventDefault();
        focusRow(q.rows[0]?.id);
      }
    },
  });
  const banner = h('div', { id: 'queue-banner', 'aria-live': 'polite' });
  const list = h('ul', { id: 'conv-list', class: 'conv-list', 'aria-label': 'Conversations' });
  const more = h('div', { id: 'conv-more' });
  const col = h(
    'aside',
    {
      class: 'col queue-col',
      id: 'queue-col',
      'aria-label': 'Work queue',
      onpointerenter: () => {
        q.hover = true;
      },
      onpointerleave: () => {
        q.hover = false;
        if (q.pending.size) reloadList();
      },
    },
    h(
      'div',
      { class: 'filters' },
      views,
      h(
        'div',
        { class: 'filter-row' },
        select('status', 'Status', STATUSES),
        select('flag', 'Flag', FLAGS),
        select('channel', 'Channel', Object.keys(CHANNEL_ICONS)),
      ),
      search,
    ),
    banner,
    h('div', { class: 'list-scroll', id: 'list-scroll', tabindex: '-1' }, list, more),
  );
  return col;
}

function setView(view) {
  q.filters.view = view;
  localStorage.setItem('inbox.view', view);
  for (const b of document.querySelectorAll('.views button')) {
    b.classList.toggle('active', b.dataset.view === view);
    b.setAttribute('aria-pressed', String(b.dataset.view === view));
  }
  restart();
}

function waitingBadge(c) {
  if (!c.waitingSince || c.status === 'RESOLVED') return null;
  const ms = Date.now() - new Date(c.waitingSince).getTime();
  const overdue = ms > state.sla.firstResponseMinutes * 60_000;
  return h(
    'span',
    {
      class: `badge waiting${overdue ? ' overdue' : ''}`,
      'data-waiting-since': c.waitingSince,
      title: `Waiting for a reply since ${new Date(c.waitingSince).toLocaleString()} (target ${state.sla.firstResponseMinutes} min)`,
    },
    overdue ? `overdue · ${duration(ms)}` : `waiting ${duration(ms)}`,
  );
}

function rowNode(c, tabbable) {
  const name = c.debtorName || c.unmatchedAddress || 'Unknown sender';
  const last = c.lastMessage;
  const gone = q.gone.has(c.id);
  const button = h(
    'button',
    {
      type: 'button',
      class: `conv-item${c.id === state.currentId ? ' selected' : ''}${c.unread ? ' unread' : ''}${gone ? ' gone' : ''}`,
      'data-id': c.id,
      tabindex: tabbable ? '0' : '-1',
      'aria-current': c.id === state.currentId ? 'true' : null,
      onclick: () => actions.openConversation(c.id, { focus: 'thread' }),
      onfocus: () => rememberCursor(c.id),
    },
    h(
      'span',
      { class: 'row' },
      c.unread
        ? h('span', { class: 'unread-dot', title: 'Unread' }, h('span', { class: 'sr-only' }, 'Unread. '))
        : null,
      h('span', { class: 'name' }, name),
      h('span', { class: 'time' }, timeOf(c.lastActivityAt)),
    ),
    h(
      'span',
      { class: 'snippet' },
      last ? `${CHANNEL_ICONS[last.channel] || ''} ${last.direction === 'OUTBOUND' ? '→ ' : ''}${last.snippet}` : '',
    ),
    h(
      'span',
      { class: 'badges' },
      waitingBadge(c),
      h('span', { class: `badge status-${c.status}` }, c.status.toLowerCase()),
      c.callbackDue ? h('span', { class: 'badge callback' }, `callback ${timeOf(c.callbackDue)}`) : null,
      c.promiseDue ? h('span', { class: 'badge promise' }, `promise ${c.promiseDue}`) : null,
      c.balance && q.filters.view === 'by_balance'
        ? h('span', { class: 'badge balance' }, `${c.balance.currency} ${c.balance.amount}`)
        : null,
      c.flags.map((f) => h('span', { class: 'badge flag' }, words(f))),
      h('span', { class: 'badge conv-assignee' }, c.assignee ? `@${c.assignee.name}` : 'unassigned'),
      gone ? h('span', { class: 'badge' }, 'no longer in this view') : null,
    ),
  );
  return h('li', { 'data-row': c.id }, button);
}

let cursorId = null;
function rememberCursor(id) {
  cursorId = id;
  for (const b of document.querySelectorAll('#conv-list .conv-item')) b.tabIndex = b.dataset.id === id ? 0 : -1;
}

export function renderList() {
  const list = document.getElementById('conv-list');
  if (!list) return;
  const focusedId = document.activeElement?.closest?.('#conv-list') ? document.activeElement.dataset.id : null;
  const scroller = document.getElementById('list-scroll');
  const top = scroller?.scrollTop ?? 0;
  if (!q.rows.some((c) => c.id === cursorId))
    cursorId = state.currentId && q.byId.has(state.currentId) ? state.currentId : (q.rows[0]?.id ?? null);
  list.replaceChildren(
    ...(q.rows.length
      ? q.rows.map((c) => rowNode(c, c.id === cursorId))
      : [h('li', { class: 'empty' }, q.loading ? 'Loading…' : 'No conversations match.')]),
  );
  if (scroller) scroller.scrollTop = top;
  const more = document.getElementById('conv-more');
  if (more)
    more.replaceChildren(
      q.nextCursor
        ? h(
            'button',
            { type: 'button', id: 'load-more', class: 'load-more', onclick: () => loadMore() },
            'Load more conversations',
          )
        : q.rows.length
          ? h('p', { class: 'muted end' }, `All ${q.rows.length} shown.`)
          : '',
    );
  if (focusedId) focusRow(focusedId);
  else if (q.focusFirst && q.rows.length) {
    q.focusFirst = false;
    focusRow(q.rows[0].id);
  }
  renderBanner();
  renderCounts();
}

function redrawRow(id) {
  const li = document.querySelector(`#conv-list li[data-row="${CSS.escape(id)}"]`);
  const c = q.byId.get(id);
  if (!li || !c) return;
  const hadFocus = li.contains(document.activeElement);
  const next = rowNode(c, id === cursorId);
  li.replaceWith(next);
  if (hadFocus) next.querySelector('button').focus({ preventScroll: true });
}

function renderBanner() {
  const el = document.getElementById('queue-banner');
  if (!el) return;
  const n = q.pending.size;
  el.replaceChildren(
    n
      ? h(
          'button',
          {
            type: 'button',
            id: 'queue-new',
            class: 'new-banner',
            onclick: () => reloadList().then(() => focusRow(q.rows[0]?.id)),
          },
          `${n} new — show`,
        )
      : '',
  );
}

function renderCounts() {
  for (const [view] of VIEWS) {
    const el = document.getElementById(`count-${view}`);
    const v = q.counts.get(view);
    if (!el || !v) continue;
    el.textContent = v.unread ? `${v.total} · ${v.unread} unread` : String(v.total);
    el.classList.toggle('has-unread', v.unread > 0);
    el.classList.toggle('has-overdue', v.overdue > 0);
    el.title = `${v.total} in view, ${v.unread} unread, ${v.overdue} past the first-response target`;
  }
  actions.updateTitle?.(q.counts);
}

/**
 * The view the agent starts in: the one they last chose, else where the work
 * is — unanswered when anything waits for a reply, everything otherwise.
 */
export async function chooseStartView() {
  const saved = localStorage.getItem('inbox.view');
  if (saved && VIEWS.some(([v]) => v === saved)) {
    q.filters.view = saved;
    return;
  }
  await reloadCounts();
  q.filters.view = (q.counts.get('unanswered')?.total ?? 0) > 0 ? 'unanswered' : 'all';
}

/** Redraws the waiting badges as time passes (every half minute). */
export function tickBadges() {
  for (const el of document.querySelectorAll('.badge.waiting')) {
    const ms = Date.now() - new Date(el.dataset.waitingSince).getTime();
    const overdue = ms > state.sla.firstResponseMinutes * 60_000;
    el.classList.toggle('overdue', overdue);
    el.textContent = overdue ? `overdue · ${duration(ms)}` : `waiting ${duration(ms)}`;
  }
}

// ── moving through the list ─────────────────────────────────────────────

export function focusRow(id) {
  if (!id) return;
  const b = document.querySelector(`#conv-list .conv-item[data-id="${CSS.escape(id)}"]`);
  if (!b) return;
  rememberCursor(id);
  b.focus();
}

/** j/k: the next or previous row (reading on past the last one). */
export async function moveCursor(delta) {
  q.lastKeyAt = Date.now();
  const at = () => q.rows.findIndex((c) => c.id === (cursorId ?? state.currentId));
  // Past the last row: read on first (keys pressed meanwhile wait for the same page, then move in order).
  if (at() + delta >= q.rows.length && q.nextCursor) await loadMore().catch(() => false);
  const from = at();
  const to = Math.max(0, Math.min(q.rows.length - 1, from < 0 ? 0 : from + delta));
  focusRow(q.rows[to]?.id);
}

/** The row after `id` still in the view (for resolve-and-next). */
export function rowAfter(id) {
  const i = q.rows.findIndex((c) => c.id === id);
  return (
    q.rows.slice(i + 1).find((c) => !q.gone.has(c.id))?.id ??
    q.rows.slice(0, Math.max(0, i)).find((c) => !q.gone.has(c.id))?.id ??
    null
  );
}

export function markGone(id) {
  if (!q.byId.has(id)) return;
  q.gone.add(id);
  redrawRow(id);
}

export const selectRow = (id) => {
  for (const b of document.querySelectorAll('#conv-list .conv-item')) {
    const on = b.dataset.id === id;
    b.classList.toggle('selected', on);
    if (on) b.setAttribute('aria-current', 'true');
    else b.removeAttribute('aria-current');
  }
  if (q.byId.has(id)) {
    q.byId.get(id).unread = false;
    redrawRow(id);
    rememberCursor(id);
  }
};

export function focusFirstRowOnLoad() {
  q.focusFirst = true;
}

export function noteKeyboardUse() {
  q.lastKeyAt = Date.now();
}

export const queueCounts = () => q.counts;
