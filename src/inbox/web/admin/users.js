// Admin tab: the people who use the inbox. List, create (email, name, role,
// initial password — or one generated and shown once), change role,
// deactivate / reactivate, unlock after failed sign-ins, reset a password.
// Every change goes through /api/v1/users (admins only, audited server-side).

const ROLES = ['AGENT', 'ADMIN'];

export async function mount(container, kit) {
  const { h, api, timeOf } = kit;
  const message = h('div', { id: 'users-message' });
  const tbody = h('tbody', { id: 'users-rows' });

  const say = (text, ok = true) => message.replaceChildren(h('p', { class: ok ? 'muted' : 'error' }, text));
  const failure = (err) =>
    say(
      `${err.message}${Array.isArray(err.body?.details) ? ` (${err.body.details.map((d) => `${d.field}: ${d.reason}`).join('; ')})` : ''}`,
      false,
    );

  async function change(user, patch, done) {
    try {
      await api('PATCH', `/api/v1/users/${user.id}`, patch);
      say(done);
      await load();
    } catch (err) {
      failure(err);
    }
  }

  function row(u) {
    const self = u.id === kit.me.id;
    const role = h(
      'select',
      {
        'aria-label': `Role of ${u.email}`,
        class: 'users-role',
        disabled: self,
        onchange: (e) => change(u, { role: e.target.value }, `${u.email} is now ${e.target.value.toLowerCase()}.`),
      },
      ROLES.map((r) => h('option', { value: r, selected: r === u.role }, r.toLowerCase())),
    );
    const reset = h(
      'button',
      {
        class: 'users-reset',
        onclick: () => {
          const password = window.prompt(`New password for ${u.email} (at least 12 characters)`);
          if (password) change(u, { password }, `Password of ${u.email} changed; their sessions were ended.`);
        },
      },
      'Reset password',
    );
    return h(
      'tr',
      { 'data-email': u.email, class: u.active ? '' : 'users-inactive' },
      h('td', {}, u.name),
      h('td', {}, u.email),
      h('td', {}, role),
      h(
        'td',
        { class: 'users-state' },
        !u.active
          ? 'deactivated'
          : u.lockedUntil
            ? `locked until ${new Date(u.lockedUntil).toLocaleTimeString()}`
            : 'active',
      ),
      h('td', {}, u.lastLoginAt ? timeOf(u.lastLoginAt) : 'never'),
      h(
        'td',
        { class: 'users-actions' },
        self
          ? h('span', { class: 'muted' }, 'you')
          : h(
              'button',
              {
                class: 'users-active',
                onclick: () =>
                  change(u, { active: !u.active }, `${u.email} ${u.active ? 'deactivated' : 'reactivated'}.`),
              },
              u.active ? 'Deactivate' : 'Reactivate',
            ),
        u.lockedUntil
          ? h(
              'button',
              { class: 'users-unlock', onclick: () => change(u, { unlock: true }, `${u.email} unlocked.`) },
              'Unlock',
            )
          : null,
        reset,
      ),
    );
  }

  async function load() {
    try {
      const r = await api('GET', '/api/v1/users');
      tbody.replaceChildren(...r.users.map(row));
    } catch (err) {
      failure(err);
    }
  }

  const email = h('input', { id: 'users-new-email', type: 'email', placeholder: 'email', required: true });
  const name = h('input', { id: 'users-new-name', placeholder: 'name' });
  const role = h(
    'select',
    { id: 'users-new-role', 'aria-label': 'Role' },
    ROLES.map((r) => h('option', { value: r }, r.toLowerCase())),
  );
  const password = h('input', {
    id: 'users-new-password',
    type: 'password',
    placeholder: 'initial password (blank: generate)',
    autocomplete: 'new-password',
  });
  const form = h(
    'form',
    {
      class: 'users-form',
      id: 'users-create',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const body = {
            email: email.value.trim(),
            role: role.value,
            ...(name.value.trim() ? { name: name.value.trim() } : {}),
            ...(password.value ? { password: password.value } : {}),
          };
          const r = await api('POST', '/api/v1/users', body);
          form.reset();
          // A generated password is shown once, here only.
          if (r.password)
            message.replaceChildren(
              h(
                'p',
                {},
                `Created ${r.user.email}. Initial password (shown once): `,
                h('span', { class: 'users-secret', id: 'users-generated' }, r.password),
              ),
            );
          else say(`Created ${r.user.email}.`);
          await load();
        } catch (err) {
          failure(err);
        }
      },
    },
    h('strong', {}, 'New user'),
    email,
    name,
    role,
    password,
    h('button', { class: 'primary', type: 'submit', id: 'users-create-submit' }, 'Create'),
  );

  container.replaceChildren(
    h('h2', {}, 'Users'),
    form,
    message,
    h(
      'table',
      { class: 'users-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Name', 'Email', 'Role', 'State', 'Last sign-in', ''].map((t) => h('th', {}, t)),
        ),
      ),
      tbody,
    ),
  );
  await load();
}
