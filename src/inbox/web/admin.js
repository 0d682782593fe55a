// Admin pages (/admin.html): users, imports, campaigns, API keys and providers. Each tab is a module
// under ./admin/ exporting mount(container, kit); the shell owns the session,
// the socket and the tab bar, so a tab only renders its own resource.
import { h, api, timeOf, debounce, setCsrf } from './kit.js';

const TABS = [
  { id: 'users', label: 'Users', module: './admin/users.js' },
  { id: 'imports', label: 'Imports', module: './admin/imports.js' },
  { id: 'campaigns', label: 'Campaigns', module: './admin/campaigns.js' },
  { id: 'api-keys', label: 'API keys', module: './admin/api-keys.js' },
  { id: 'providers', label: 'Providers', module: './admin/providers.js' },
];

let unmountCurrent = null;

async function show(tabId, kit) {
  const tab = TABS.find((t) => t.id === tabId) ?? TABS[0];
  for (const el of document.querySelectorAll('[data-tab]')) el.classList.toggle('active', el.dataset.tab === tab.id);
  if (typeof unmountCurrent === 'function') unmountCurrent();
  unmountCurrent = null;
  const container = document.getElementById('admin-main');
  container.replaceChildren(h('p', { class: 'loading' }, 'Loading…'));
  const mod = await import(tab.module);
  container.replaceChildren();
  // A tab may return a cleanup function (socket listeners, timers).
  unmountCurrent = await mod.mount(container, kit);
}

async function boot() {
  const app = document.getElementById('app');
  let session;
  try {
    session = await api('GET', '/api/v1/session');
  } catch {
    session = null;
  }
  if (!session?.user) {
    app.replaceChildren(h('p', { class: 'error' }, 'Sign in first: ', h('a', { href: '/' }, 'open the inbox')));
    return;
  }
  setCsrf(session.csrfToken);
  if (session.user.role !== 'ADMIN') {
    app.replaceChildren(
      h(
        'p',
        { class: 'error', id: 'admin-denied' },
        'This page is for admins. ',
        h('a', { href: '/' }, 'Back to the inbox'),
      ),
    );
    return;
  }
  // eslint-disable-next-line no-undef
  const socket = io({ withCredentials: true, transports: ['websocket', 'polling'] });
  const kit = { h, api, timeOf, debounce, socket, me: session.user };
  const current = () => location.hash.replace('#', '') || TABS[0].id;
  app.replaceChildren(
    h(
      'header',
      { class: 'topbar' },
      h('strong', {}, 'Admin'),
      h(
        'nav',
        { class: 'tabs' },
        TABS.map((t) => h('a', { href: `#${t.id}`, 'data-tab': t.id, id: `tab-${t.id}` }, t.label)),
      ),
      h('a', { href: '/', class: 'back' }, '← Inbox'),
      h('span', { class: 'who' }, `${session.user.name ?? session.user.email}`),
    ),
    h('main', { id: 'admin-main', class: 'admin-main' }),
  );
  window.addEventListener('hashchange', () => show(current(), kit));
  await show(current(), kit);
}

boot();
