// Admin tab: API keys for the creditor's systems (imports, payments, outreach
// requests). List them (name, role, prefix, created, last used, revoked),
// create one — the key itself is shown once, here, and never again — and
// revoke one after a confirmation. Everything goes through /api/v1/api-keys
// (admins only, audited server-side). Styles reuse the users tab's classes.

const ROLES = ['AGENT', 'ADMIN'];

export async function mount(container, kit) {
  const { h, api, timeOf } = kit;
  const message = h('div', { id: 'keys-message' });
  const tbody = h('tbody', { id: 'keys-rows' });

  const say = (text, ok = true) => message.replaceChildren(h('p', { class: ok ? 'muted' : 'error' }, text));
  const failure = (err) =>
    say(
      `${err.message}${Array.isArray(err.body?.details) ? ` (${err.body.details.map((d) => `${d.field}: ${d.reason}`).join('; ')})` : ''}`,
      false,
    );
  const when = (iso) => (iso ? h('time', { datetime: iso, title: new Date(iso).toLocaleString() }, timeOf(iso)) : null);

  async function revoke(k) {
    if (
      !window.confirm(
        `Revoke the API key "${k.name}" (${k.prefix}…)? Systems using it are refused from now on; this cannot be undone.`,
      )
    )
      return;
    try {
      await api('DELETE', `/api/v1/api-keys/${k.id}`);
      say(`Key "${k.name}" revoked.`);
      await load();
    } catch (err) {
      failure(err);
    }
  }

  function row(k) {
    return h(
      'tr',
      { 'data-key': k.id, 'data-name': k.name, class: k.revokedAt ? 'users-inactive' : '' },
      h('td', {}, k.name),
      h('td', {}, k.role.toLowerCase()),
      h('td', {}, h('code', { class: 'keys-prefix' }, `${k.prefix}…`)),
      h('td', {}, when(k.createdAt)),
      h('td', { class: 'keys-last-used' }, when(k.lastUsedAt) ?? 'never'),
      h('td', { class: 'keys-state' }, k.revokedAt ? h('span', {}, 'revoked ', when(k.revokedAt)) : 'active'),
      h(
        'td',
        { class: 'users-actions' },
        k.revokedAt ? null : h('button', { class: 'keys-revoke', type: 'button', onclick: () => revoke(k) }, 'Revoke'),
      ),
    );
  }

  async function load() {
    try {
      const r = await api('GET', '/api/v1/api-keys');
      tbody.replaceChildren(...r.data.map(row));
      if (!r.data.length) tbody.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No API keys yet.')));
    } catch (err) {
      failure(err);
    }
  }

  const name = h('input', {
    id: 'keys-new-name',
    placeholder: 'name, e.g. billing system',
    required: true,
    maxlength: 100,
    size: 28,
  });
  const role = h(
    'select',
    { id: 'keys-new-role', 'aria-label': 'Role' },
    ROLES.map((r) => h('option', { value: r }, r.toLowerCase())),
  );
  const form = h(
    'form',
    {
      class: 'users-form',
      id: 'keys-create',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const r = await api('POST', '/api/v1/api-keys', { name: name.value.trim(), role: role.value });
          form.reset();
          // The key exists in this response only: show it once, with a way to copy it.
          const secret = h('code', { class: 'users-secret', id: 'keys-created-secret' }, r.key);
          const copy = h(
            'button',
            {
              type: 'button',
              id: 'keys-copy',
              onclick: async () => {
                try {
                  await navigator.clipboard.writeText(r.key);
                  copy.textContent = 'Copied';
                } catch {
                  // No clipboard access (plain http, permissions): select the text for Ctrl+C instead.
                  window.getSelection()?.selectAllChildren(secret);
                  copy.textContent = 'Selected — press Ctrl+C';
                }
              },
            },
            'Copy',
          );
          message.replaceChildren(
            h(
              'div',
              { class: 'keys-created', id: 'keys-created' },
              h(
                'p',
                {},
                `Created "${r.name}" (${r.role.toLowerCase()}). Copy the key now — it is shown only this once and cannot be read again:`,
              ),
              h('p', {}, secret, ' ', copy),
              h('p', { class: 'muted' }, 'Send it as "Authorization: Bearer <key>".'),
            ),
          );
          await load();
        } catch (err) {
          failure(err);
        }
      },
    },
    h('strong', {}, 'New API key'),
    name,
    role,
    h('button', { class: 'primary', type: 'submit', id: 'keys-create-submit' }, 'Create'),
  );

  container.replaceChildren(
    h('h2', {}, 'API keys'),
    form,
    message,
    h(
      'table',
      { class: 'users-table', id: 'keys-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Name', 'Role', 'Prefix', 'Created', 'Last used', 'State', ''].map((t) => h('th', {}, t)),
        ),
      ),
      tbody,
    ),
  );
  await load();
}
