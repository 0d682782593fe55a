// What the inbox's screens share: the signed-in agent, the open conversation
// and its thread, and `actions`, which each screen's module fills in at start
// so the others can call it (the list opens a thread, the keyboard resolves
// and moves on) without importing each other in a circle.

export const state = {
  me: null,
  sandbox: null,
  agents: [],
  socket: null,
  currentId: null,
  thread: null,
  panel: null,
  lastSeq: 0,
  viewers: [],
  typing: new Map(),
  sla: { firstResponseMinutes: 60 },
};

/** Filled by app.js, queue.js, thread.js, composer.js and panel.js. */
export const actions = {};

export const CHANNEL_ICONS = { SMS: '💬', EMAIL: '✉️', VOICE: '📞', LETTER: '📮' };
export const words = (s) =>
  String(s ?? '')
    .replace(/_/g, ' ')
    .toLowerCase();

/** "3 h 05 m" style duration from milliseconds. */
export function duration(ms) {
  const m = Math.max(0, Math.floor(ms / 60_000));
  if (m < 60) return `${m} m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** The agent's own time zone, for "today" in the promise views. */
export const agentZone = () => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
};
