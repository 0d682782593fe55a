// The new-campaign form: audience filter, steps (each with its offset,
// intent, channel, conditions and local window), throttle, stop conditions
// and an optional schedule. The API validates; its field errors are shown
// next to the inputs they name.
import {
  ANCHOR_LABELS,
  CONDITIONS,
  DEFAULT_AUDIENCE_STATUSES,
  DEFAULT_STOP_CONDITIONS,
  STOP_LABELS,
  listOf,
  lower,
  numberOf,
} from './shared.js';

export function campaignForm({ h, api }, { choices, say, onCreated }) {
  /** Error slots by API field path ("steps.0.window.to"), filled from a 400's details. */
  const slots = new Map();
  const formErrors = h('ul', { id: 'campaigns-form-errors', class: 'campaigns-form-errors' });

  /** A labelled input with an error slot for the API field `path`. */
  function field(label, input, path) {
    const slot = h('span', { class: 'campaigns-field-error', 'data-error-for': path });
    slots.set(path, { slot, input });
    return h('label', { class: 'campaigns-field' }, h('span', { class: 'campaigns-label' }, label), input, slot);
  }
  const input = (id, attrs = {}) => h('input', { id, ...attrs });
  const checkbox = (id, label, checked, value) =>
    h('label', { class: 'campaigns-check' }, h('input', { type: 'checkbox', id, value, checked }), ` ${label}`);

  const name = input('campaigns-name', { placeholder: 'e.g. November cycle', size: 30 });
  const audience = {
    dpdMin: input('campaigns-dpd-min', { type: 'number', step: 1, size: 6 }),
    dpdMax: input('campaigns-dpd-max', { type: 'number', step: 1, size: 6 }),
    balMin: input('campaigns-balance-min', { inputmode: 'decimal', placeholder: '0.00', size: 9 }),
    balMax: input('campaigns-balance-max', { inputmode: 'decimal', placeholder: '0.00', size: 9 }),
    creditors: input('campaigns-creditors', { placeholder: 'creditor refs, comma-separated', size: 24 }),
    tags: input('campaigns-tags', { placeholder: 'tags, comma-separated', size: 20 }),
    jurisdictions: input('campaigns-jurisdictions', { placeholder: 'US, US-MA, GB…', size: 14 }),
    noContact: input('campaigns-no-contact', { type: 'number', step: 1, size: 5 }),
  };
  const statusBoxes = choices.debtStatuses.map((s) => checkbox(`campaigns-status-${s}`, lower(s), false, s));

  // Steps: editors rebuilt from their values whenever one is added or removed, so indexes match the API's paths.
  const stepsBox = h('div', { id: 'campaigns-steps' });
  let stepEditors = [];
  const newStep = () => ({
    offsetDays: 0,
    anchor: 'ENROLLMENT',
    intent: choices.intents[0],
    channel: '',
    conditions: {},
    from: '',
    to: '',
  });

  function stepEditor(i, v, removable) {
    const p = `steps.${i}`;
    const offset = input(`campaigns-step-${i}-offset`, {
      type: 'number',
      step: 1,
      size: 5,
      value: String(v.offsetDays ?? ''),
    });
    const anchor = h(
      'select',
      { id: `campaigns-step-${i}-anchor` },
      choices.anchors.map((a) => h('option', { value: a, selected: a === v.anchor }, ANCHOR_LABELS[a] ?? lower(a))),
    );
    const channel = h(
      'select',
      { id: `campaigns-step-${i}-channel` },
      h('option', { value: '', selected: !v.channel }, "debtor's preference"),
      choices.channels.map((c) => h('option', { value: c, selected: c === v.channel }, c)),
    );
    // Only the channels the chosen intent has a template for can be picked.
    const fitChannels = () => {
      const shipped = choices.intentChannels.get(intent.value) ?? new Set();
      for (const option of channel.options) {
        if (!option.value) continue;
        option.disabled = !shipped.has(option.value);
        option.textContent = option.disabled ? `${option.value} (no template)` : option.value;
      }
      if (channel.selectedOptions[0]?.disabled) channel.value = '';
    };
    const intent = h(
      'select',
      { id: `campaigns-step-${i}-intent`, onchange: fitChannels },
      choices.intents.map((t) => h('option', { value: t, selected: t === v.intent }, t)),
    );
    fitChannels();
    const conds = CONDITIONS.map(([k, label]) =>
      checkbox(`campaigns-step-${i}-${k}`, label, Boolean(v.conditions?.[k]), k),
    );
    const from = input(`campaigns-step-${i}-from`, { type: 'time', value: v.from });
    const to = input(`campaigns-step-${i}-to`, { type: 'time', value: v.to });
    const remove = h(
      'button',
      {
        type: 'button',
        class: 'campaigns-step-remove',
        onclick: () => {
          const values = readStepValues();
          values.splice(i, 1);
          renderSteps(values);
        },
      },
      'Remove',
    );
    const el = h(
      'fieldset',
      { class: 'campaigns-step', 'data-index': String(i) },
      h('legend', {}, `Step ${i + 1}`),
      field('Offset (days)', offset, `${p}.offsetDays`),
      field('Counted', anchor, `${p}.anchor`),
      field('Intent', intent, `${p}.intent`),
      field('Channel', channel, `${p}.channel`),
      h(
        'span',
        { class: 'campaigns-field' },
        h('span', { class: 'campaigns-label' }, 'Only if, since the previous step'),
        h('span', { class: 'campaigns-checks' }, conds),
        h('span', { class: 'campaigns-field-error', 'data-error-for': `${p}.conditions` }),
      ),
      field('Local window from', from, `${p}.window.from`),
      field('to', to, `${p}.window.to`),
      removable ? remove : null,
    );
    slots.set(`${p}.conditions`, { slot: el.querySelector(`[data-error-for="${p}.conditions"]`), input: null });
    slots.set(`${p}.window`, { slot: el.querySelector(`[data-error-for="${p}.window.to"]`), input: to });
    slots.set(p, { slot: el.querySelector(`[data-error-for="${p}.window.to"]`), input: null });
    const read = () => ({
      offsetDays: offset.value,
      anchor: anchor.value,
      intent: intent.value,
      channel: channel.value,
      conditions: Object.fromEntries(conds.map((c) => c.querySelector('input')).map((cb) => [cb.value, cb.checked])),
      from: from.value,
      to: to.value,
      offsetInput: offset,
    });
    return { el, read };
  }

  const readStepValues = () => stepEditors.map((e) => e.read());

  function renderSteps(values) {
    for (const key of [...slots.keys()]) if (key.startsWith('steps.')) slots.delete(key);
    stepEditors = [];
    for (const [i, v] of values.entries()) stepEditors.push(stepEditor(i, v, values.length > 1));
    stepsBox.replaceChildren(...stepEditors.map((e) => e.el));
  }

  const throttleInputs = choices.channels.map((c) => [
    c,
    input(`campaigns-throttle-${c}`, { type: 'number', step: 1, size: 6, placeholder: 'no limit' }),
  ]);
  const stopBoxes = choices.stopConditions.map((s) =>
    checkbox(`campaigns-stop-${s}`, STOP_LABELS[s] ?? lower(s), DEFAULT_STOP_CONDITIONS.includes(s), s),
  );
  const cron = input('campaigns-cron', { placeholder: 'e.g. 0 9 * * 1 or 1 day', size: 16 });
  const timeZone = input('campaigns-timezone', { placeholder: 'e.g. America/Chicago', size: 18 });

  /** The request body as the form holds it; empty inputs are left out so the API's defaults apply. */
  function body() {
    const range = (min, max) => {
      const r = { min: min(), max: max() };
      return r.min === undefined && r.max === undefined ? undefined : r;
    };
    const text = (el) => (el.value.trim() === '' ? undefined : el.value.trim());
    const statuses = statusBoxes
      .map((l) => l.querySelector('input'))
      .filter((cb) => cb.checked)
      .map((cb) => cb.value);
    const a = {
      daysPastDue: range(
        () => numberOf(audience.dpdMin),
        () => numberOf(audience.dpdMax),
      ),
      balance: range(
        () => text(audience.balMin),
        () => text(audience.balMax),
      ),
      status: statuses.length ? statuses : undefined,
      creditorRefs: listOf(audience.creditors.value),
      tags: listOf(audience.tags.value),
      jurisdictions: listOf(audience.jurisdictions.value).map((j) => j.toUpperCase()),
      noContactDays: numberOf(audience.noContact),
    };
    for (const k of Object.keys(a)) if (a[k] === undefined || (Array.isArray(a[k]) && !a[k].length)) delete a[k];
    const steps = readStepValues().map((v) => {
      const conditions = Object.fromEntries(Object.entries(v.conditions).filter(([, on]) => on));
      return {
        offsetDays: numberOf(v.offsetInput) ?? 0,
        anchor: v.anchor,
        intent: v.intent,
        channel: v.channel || null,
        ...(Object.keys(conditions).length ? { conditions } : {}),
        // Either end given sends the window, so a half-filled one is reported rather than dropped.
        ...(v.from || v.to ? { window: { from: v.from, to: v.to } } : {}),
      };
    });
    const throttle = {};
    for (const [c, el] of throttleInputs) {
      const n = numberOf(el);
      if (n !== undefined) throttle[c] = n;
    }
    return {
      name: name.value,
      audience: a,
      steps,
      throttle,
      stopConditions: stopBoxes
        .map((l) => l.querySelector('input'))
        .filter((cb) => cb.checked)
        .map((cb) => cb.value),
      ...(text(cron) ? { cron: text(cron) } : {}),
      ...(text(timeZone) ? { timeZone: text(timeZone) } : {}),
    };
  }

  function clearErrors() {
    formErrors.replaceChildren();
    for (const { slot, input: el } of slots.values()) {
      slot?.replaceChildren();
      el?.removeAttribute('aria-invalid');
    }
  }

  /** Each field error next to its input (the closest registered path), and all of them above the button. */
  function showErrors(err) {
    const details = Array.isArray(err.body?.details) ? err.body.details : [];
    if (!details.length) {
      formErrors.append(h('li', {}, err.message));
      return;
    }
    for (const d of details) {
      formErrors.append(h('li', { 'data-field': d.field }, h('code', {}, d.field), ` ${d.reason}`));
      let path = d.field;
      while (path && !slots.has(path)) path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
      const target = slots.get(path);
      if (!target) continue;
      target.slot.append(h('span', { class: 'error', 'data-field': d.field }, d.reason));
      target.input?.setAttribute('aria-invalid', 'true');
    }
  }

  const submit = h('button', { class: 'primary', type: 'submit', id: 'campaigns-create' }, 'Create campaign');
  const form = h(
    'form',
    {
      id: 'campaigns-form',
      class: 'campaigns-form',
      novalidate: true,
      onsubmit: async (e) => {
        e.preventDefault();
        clearErrors();
        submit.disabled = true;
        try {
          const c = await api('POST', '/api/v1/campaigns', body());
          say(`Created ${c.name} (draft): review it and press Start.`);
          form.reset();
          renderSteps([newStep()]);
          formBox.open = false;
          await onCreated(c);
        } catch (err) {
          showErrors(err);
          say(
            `The campaign was not created: ${err.body?.details?.length ? 'see the fields marked below' : err.message}.`,
            false,
          );
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('fieldset', { class: 'campaigns-group' }, h('legend', {}, 'Campaign'), field('Name', name, 'name')),
    h(
      'fieldset',
      { class: 'campaigns-group' },
      h('legend', {}, 'Audience (debts)'),
      field('Days past due from', audience.dpdMin, 'audience.daysPastDue.min'),
      field('to', audience.dpdMax, 'audience.daysPastDue.max'),
      field('Balance from', audience.balMin, 'audience.balance.min'),
      field('to', audience.balMax, 'audience.balance.max'),
      h(
        'span',
        { class: 'campaigns-field' },
        h('span', { class: 'campaigns-label' }, `Statuses (none ticked: ${DEFAULT_AUDIENCE_STATUSES})`),
        h('span', { class: 'campaigns-checks' }, statusBoxes),
        h('span', { class: 'campaigns-field-error', 'data-error-for': 'audience.status' }),
      ),
      field('Creditors', audience.creditors, 'audience.creditorRefs'),
      field('Tags (debt or debtor)', audience.tags, 'audience.tags'),
      field('Jurisdictions', audience.jurisdictions, 'audience.jurisdictions'),
      field('No contact in the last (days)', audience.noContact, 'audience.noContactDays'),
    ),
    h(
      'fieldset',
      { class: 'campaigns-group' },
      h('legend', {}, 'Steps'),
      stepsBox,
      h('span', { class: 'campaigns-field-error', 'data-error-for': 'steps' }),
      h(
        'button',
        { type: 'button', id: 'campaigns-add-step', onclick: () => renderSteps([...readStepValues(), newStep()]) },
        'Add step',
      ),
    ),
    h(
      'fieldset',
      { class: 'campaigns-group' },
      h('legend', {}, 'Throttle (messages per minute)'),
      throttleInputs.map(([c, el]) => field(c, el, `throttle.${c}`)),
    ),
    h(
      'fieldset',
      { class: 'campaigns-group' },
      h('legend', {}, "Stop a debt's enrolment when"),
      h('span', { class: 'campaigns-checks' }, stopBoxes),
      h('span', { class: 'campaigns-field-error', 'data-error-for': 'stopConditions' }),
    ),
    h(
      'fieldset',
      { class: 'campaigns-group' },
      h('legend', {}, 'Recurring (optional): enrol newly matching debts on a schedule'),
      field('Cron or interval', cron, 'cron'),
      field('Time zone', timeZone, 'timeZone'),
    ),
    formErrors,
    submit,
  );
  // Slots declared inline above (not through field()) are registered here.
  for (const path of ['audience.status', 'steps', 'stopConditions'])
    slots.set(path, { slot: form.querySelector(`[data-error-for="${path}"]`), input: null });
  form.addEventListener('reset', () => queueMicrotask(clearErrors));
  renderSteps([newStep()]);
  const formBox = h(
    'details',
    { class: 'campaigns-new', id: 'campaigns-new' },
    h('summary', { id: 'campaigns-new-toggle' }, 'New campaign'),
    form,
  );
  return formBox;
}
