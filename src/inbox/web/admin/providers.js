// Admin tab: providers, read-only. Per provider: sandbox or live, the sender
// it uses, which of its secrets are set (yes / no — the API never returns a
// value), and the webhook addresses to enter in the provider's console. All
// from GET /api/v1/admin/providers; settings themselves live in the environment.

const SENDER_LABELS = {
  from: 'Sends from',
  messagingServiceSid: 'Messaging Service',
  agentPhoneNumber: 'Agent phone (call transfers)',
  replyDomain: 'Reply-to domain',
  inboundSmtp: 'Inbound SMTP listener',
  returnAddress: 'Return address',
};

export async function mount(container, kit) {
  const { h, api } = kit;
  container.replaceChildren(h('h2', {}, 'Providers'), h('p', { class: 'loading' }, 'Loading…'));
  let view;
  try {
    view = await api('GET', '/api/v1/admin/providers');
  } catch (err) {
    container.replaceChildren(
      h('h2', {}, 'Providers'),
      h('p', { class: 'error', id: 'providers-message' }, err.message),
    );
    return;
  }

  const yesNo = (set) => h('span', { class: set ? 'providers-set' : 'providers-unset muted' }, set ? 'set' : 'not set');
  const copyable = (url) => h('code', { class: 'providers-url', title: 'Select to copy' }, url);

  function card(p) {
    const sender = Object.entries(p.sender).filter(([, v]) => v !== null && v !== '');
    return h(
      'section',
      { class: 'providers-card', id: `providers-${p.id}`, 'data-mode': p.mode },
      h(
        'h3',
        {},
        p.name,
        ' — ',
        h('span', { class: `providers-mode providers-mode-${p.mode}`, 'data-k': 'mode' }, p.mode),
        ' mode ',
        h('span', { class: 'muted' }, `(${p.channels.join(', ')})`),
      ),
      h(
        'table',
        { class: 'users-table' },
        h(
          'tbody',
          {},
          sender.map(([k, v]) =>
            h('tr', { 'data-sender': k }, h('th', { scope: 'row' }, SENDER_LABELS[k] ?? k), h('td', {}, v)),
          ),
          Object.entries(p.secrets).map(([name, set]) =>
            h('tr', { 'data-secret': name }, h('th', { scope: 'row' }, h('code', {}, name)), h('td', {}, yesNo(set))),
          ),
        ),
      ),
      p.webhooks.length
        ? h(
            'table',
            { class: 'users-table providers-webhooks' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Webhook', 'Address', 'Where / verified by'].map((t) => h('th', {}, t)),
              ),
            ),
            h(
              'tbody',
              {},
              p.webhooks.map((w) =>
                h(
                  'tr',
                  { 'data-webhook': w.purpose },
                  h('td', {}, w.purpose),
                  h(
                    'td',
                    {},
                    w.url
                      ? [h('span', { class: 'muted' }, `${w.method} `), copyable(w.url)]
                      : h('span', { class: 'muted' }, 'set per request'),
                  ),
                  h('td', { class: 'muted' }, w.note),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'Nothing to configure at the provider for this transport.'),
    );
  }

  const sandboxNote = view.providers.some((p) => p.mode === 'sandbox')
    ? h(
        'p',
        { class: 'muted' },
        "Sandbox providers run inside the gateway and call these addresses themselves; set the provider credentials (see the README's configuration table) to go live.",
      )
    : null;
  const baseNote = view.publicBaseUrlConfigured
    ? h('p', {}, 'Public address: ', h('code', {}, view.publicBaseUrl))
    : h(
        'p',
        { class: 'error', id: 'providers-base-warning' },
        `PUBLIC_BASE_URL is not set: the addresses below use ${view.publicBaseUrl}, which providers cannot reach. Set it before going live.`,
      );

  container.replaceChildren(
    h('h2', {}, 'Providers'),
    baseNote,
    view.forced
      ? h('p', { class: 'muted' }, `PROVIDERS=${view.forced} forces every provider into ${view.forced} mode.`)
      : null,
    sandboxNote,
    h('div', { class: 'providers-cards', id: 'providers-cards' }, view.providers.map(card)),
  );
}
