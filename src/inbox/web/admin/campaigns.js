// Admin tab: campaigns. List them with their status and headline counts,
// create one (audience filter, steps, throttle, stop conditions, optional
// cron), start / pause / resume / cancel it, and follow its per-step results
// live. Everything goes through /api/v1/campaigns (admins only); the API is
// the one place that validates, and its field errors are shown by the form.
//
// Live updates: the runner emits `campaign.status` and `campaign.progress` to
// the admin room (enrolment and each wave's planning). What providers do
// afterwards (sent → delivered, failed) is only published as inbox events, so
// while a started campaign is open the tab also listens to the inbox room and
// refetches that campaign's results, debounced.
//
// The tab is three screens, each a module of campaigns/: list.js (the table),
// detail.js (one campaign's results and actions) and form.js (a new one);
// this file composes them and routes the live events.
import { loadChoices } from './campaigns/shared.js';
import { campaignList } from './campaigns/list.js';
import { campaignDetail } from './campaigns/detail.js';
import { campaignForm } from './campaigns/form.js';

export async function mount(container, kit) {
  const { h, api, socket } = kit;
  let choices;
  try {
    choices = await loadChoices(api);
  } catch (err) {
    container.replaceChildren(
      h('h2', {}, 'Campaigns'),
      h('p', { class: 'error', id: 'campaigns-message' }, `Could not read the template intents: ${err.message}`),
    );
    return undefined;
  }

  const message = h('div', { id: 'campaigns-message' });
  const say = (text, ok = true) => message.replaceChildren(h('p', { class: ok ? 'muted' : 'error' }, text));
  const failure = (err) =>
    say(
      `${err.message}${Array.isArray(err.body?.details) ? ` (${err.body.details.map((d) => `${d.field}: ${d.reason}`).join('; ')})` : ''}`,
      false,
    );

  // The screens: the list, the selected campaign's detail, the new-campaign form.
  let detail = null;
  const list = campaignList(kit, {
    onSelect: (id) => detail.select(id),
    isSelected: () => detail?.selected(),
    failure,
  });
  detail = campaignDetail(kit, { list, say, failure });
  const formBox = campaignForm(kit, {
    choices,
    say,
    onCreated: async (c) => {
      await list.load();
      await detail.select(c.id);
    },
  });

  // ---- live -------------------------------------------------------------
  function onStatus(ev) {
    const tr = list.rowOf(ev.campaignId);
    if (tr) list.setRowStatus(tr, ev.status);
    else list.load();
    if (ev.campaignId === detail.selected() && ev.status !== detail.selectedStatus()) detail.select(ev.campaignId);
    else detail.refreshSoon(ev.campaignId);
  }
  function onProgress(ev) {
    if (ev.campaignId === detail.selected() || list.rowOf(ev.campaignId)) detail.refreshSoon(ev.campaignId);
  }
  // Delivery receipts reach us only as inbox activity: refresh the open campaign once it has started.
  function onInbox() {
    if (detail.selected() && detail.selectedStatus() && detail.selectedStatus() !== 'DRAFT')
      detail.refreshSoon(detail.selected());
  }
  function onConnect() {
    socket.emit('inbox:subscribe');
    if (detail.selected()) detail.refreshSoon(detail.selected());
  }
  socket.on('campaign.status', onStatus);
  socket.on('campaign.progress', onProgress);
  socket.on('inbox', onInbox);
  socket.on('connect', onConnect);
  if (socket.connected) socket.emit('inbox:subscribe');

  container.replaceChildren(
    h('h2', {}, 'Campaigns'),
    message,
    formBox,
    h('div', { class: 'campaigns-layout' }, list.table, detail.el),
  );
  await list.load();
  const newest = list.newest();
  if (newest) await detail.select(newest);

  return () => {
    detail.unmount();
    socket.off('campaign.status', onStatus);
    socket.off('campaign.progress', onProgress);
    socket.off('inbox', onInbox);
    socket.off('connect', onConnect);
    socket.emit('inbox:unsubscribe');
  };
}
