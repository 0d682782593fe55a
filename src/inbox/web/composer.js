// The composer: a template (with a field for each variable the agent fills
// in — plan terms, a payment's amount and date, what was checked for a
// dispute) or the agent's own words, by SMS or email, with a live preview of
// the exact text and of what the contact rules say now. Drawn once per
// conversation so a live update never takes the draft, the focus or a notice
// away. The collision guard: if someone else replied after this agent began
// writing, the send is stopped, their reply is shown and the draft is kept.

import { h, api, debounce } from './kit.js';
import { state, actions, CHANNEL_ICONS } from './store.js';

const INTENTS = [
  'friendly-reminder',
  'past-due-notice',
  'final-notice',
  'payment-plan-offer',
  'payment-received',
  'dispute-verification',
  'opt-out-confirmation',
  'help',
];
const drafts = new Map();
const templateCache = new Map();

function draftOf(id) {
  if (!drafts.has(id))
    drafts.set(id, {
      note: '',
      channel: null,
      intent: null,
      debtId: null,
      mode: 'template',
      text: '',
      subject: '',
      vars: {},
      baseSeq: null,
      preview: null,
      notice: null,
    });
  return drafts.get(id);
}

let typingStopTimer = null;
function typingSignal() {
  if (!state.socket || !state.currentId) return;
  state.socket.emit('typing', { conversationId: state.currentId, typing: true });
  clearTimeout(typingStopTimer);
  typingStopTimer = setTimeout(
    () => state.socket?.emit('typing', { conversationId: state.currentId, typing: false }),
    2500,
  );
}

function previewNode(p) {
  const d = p.decision;
  const verdict =
    d.outcome === 'send'
      ? 'Allowed now'
      : d.outcome === 'defer'
        ? `Deferred: ${d.summary}`
        : 'Refused — nothing will be sent';
  return h(
    'div',
    {
      class: `preview preview-${d.outcome}${p.contentError ? ' preview-incomplete' : ''}`,
      id: 'reply-preview',
      'data-outcome': d.outcome,
    },
    h(
      'div',
      { class: 'preview-verdict' },
      h('strong', {}, p.contentError && d.outcome !== 'refuse' ? `${verdict} — once the text is complete` : verdict),
    ),
    d.outcome === 'refuse'
      ? h(
          'div',
          { class: 'refusal', id: 'preview-refusal' },
          d.explanation,
          h(
            'ul',
            {},
            d.reasons.map((r) => h('li', {}, `${r.rule}: ${r.detail}`)),
          ),
        )
      : h('div', { class: 'muted' }, d.explanation),
    p.content
      ? h(
          'div',
          { class: 'preview-content' },
          p.content.subject ? h('div', {}, h('strong', {}, `Subject: ${p.content.subject}`)) : null,
          h('div', { class: 'body', id: 'preview-text' }, p.content.text),
          p.content.segments
            ? h(
                'div',
                { class: 'muted' },
                `${p.content.segments} SMS segment${p.content.segments > 1 ? 's' : ''} (${p.content.encoding})`,
              )
            : null,
        )
      : null,
    p.contentError
      ? h(
          'div',
          { class: 'warn', id: 'preview-missing' },
          p.contentError.variable
            ? `Fill in “${p.contentError.variable}”: ${p.contentError.message}`
            : `Cannot render: ${p.contentError.message}`,
        )
      : null,
  );
}

function fieldErrors(err) {
  return Array.isArray(err.body?.details) ? err.body.details.map((d) => h('div', {}, `${d.field}: ${d.reason}`)) : null;
}

/** The composer for conversation `c` (call once per conversation; syncComposer keeps it current). */
export function renderComposer(c) {
  const draft = draftOf(c.id);
  const el = {};
  const body = () => {
    const b = { channel: el.channel.value, ...(el.debt.value ? { debtId: el.debt.value } : {}) };
    if (draft.mode === 'text')
      Object.assign(b, {
        text: draft.text.trim(),
        ...(el.channel.value === 'EMAIL' ? { subject: draft.subject.trim() } : {}),
      });
    else {
      b.intent = el.intent.value;
      const fields = currentFields();
      const vars = Object.fromEntries(
        fields.map((f) => [f.name, (draft.vars[f.name] ?? '').trim()]).filter(([, v]) => v),
      );
      if (Object.keys(vars).length) b.vars = vars;
    }
    return b;
  };
  const showNotice = (node) => {
    draft.notice = node;
    el.notice.replaceChildren(node ?? '');
  };

  // ── preview (live) ──
  let previewSeq = 0;
  const runPreview = async () => {
    if (!c.debtorId) return;
    if (draft.mode === 'text' && !draft.text.trim()) return el.previewBox.replaceChildren();
    const seq = ++previewSeq;
    try {
      const p = await api('POST', `/api/v1/inbox/conversations/${c.id}/preview`, body());
      if (seq !== previewSeq) return;
      draft.preview = p;
      el.previewBox.replaceChildren(previewNode(p));
    } catch (err) {
      if (seq !== previewSeq) return;
      el.previewBox.replaceChildren(h('div', { class: 'refusal' }, err.message, fieldErrors(err)));
    }
  };
  const livePreview = debounce(runPreview, 350);
  // Any change makes the shown preview stale: it is dropped, and a fresh one follows.
  const changed = () => {
    draft.preview = null;
    el.previewBox.replaceChildren();
    livePreview();
  };
  const began = () => {
    // The collision guard compares against what the agent had seen when they began this reply.
    if (draft.baseSeq === null) draft.baseSeq = state.lastSeq;
  };

  // ── template fields ──
  let templates = null;
  const currentFields = () => templates?.templates.find((t) => t.intent === el.intent.value)?.fields ?? [];
  const drawFields = () => {
    const fields = draft.mode === 'template' ? currentFields() : [];
    el.vars.replaceChildren(
      ...fields.map((f) => {
        if (draft.vars[f.name] === undefined && f.suggested) draft.vars[f.name] = f.suggested;
        const attrs = {
          id: `var-${f.name}`,
          name: f.name,
          value: draft.vars[f.name] ?? '',
          'data-var': f.name,
          oninput: (e) => {
            draft.vars[f.name] = e.target.value;
            began();
            changed();
          },
        };
        const input =
          f.kind === 'text'
            ? h('textarea', { ...attrs, rows: '2', maxlength: '500' })
            : h('input', {
                ...attrs,
                type: f.kind === 'date' ? 'date' : 'text',
                inputmode: f.kind === 'count' ? 'numeric' : f.kind === 'money' ? 'decimal' : null,
                size: '10',
              });
        if (f.kind === 'text') input.value = draft.vars[f.name] ?? '';
        return h('label', { class: 'var-field' }, h('span', {}, f.label), input);
      }),
    );
  };
  const decorateIntents = () => {
    if (!templates) return;
    for (const opt of el.intent.options) {
      const t = templates.templates.find((x) => x.intent === opt.value);
      opt.hidden = !t;
      if (t)
        opt.textContent = `${t.label}${t.outcome === 'send' ? '' : t.outcome === 'defer' ? ` — ${t.summary}` : ' — not allowed now'}`;
    }
  };
  const loadTemplates = async () => {
    if (!c.debtorId) return;
    const key = `${c.id}|${el.channel.value}|${el.debt.value}`;
    try {
      templates =
        templateCache.get(key) ??
        (await api(
          'GET',
          `/api/v1/inbox/conversations/${c.id}/templates?channel=${el.channel.value}${el.debt.value ? `&debtId=${el.debt.value}` : ''}`,
        ));
      templateCache.set(key, templates);
    } catch {
      templates = null;
    }
    decorateIntents();
    drawFields();
  };

  // ── send ──
  const send = async () => {
    if (!c.debtorId || el.send.disabled) return;
    if (draft.mode === 'text' && !draft.text.trim())
      return showNotice(h('div', { class: 'warn', role: 'alert' }, 'Write the reply first.'));
    el.send.disabled = true;
    showNotice(null);
    try {
      const r = await api('POST', `/api/v1/conversations/${c.id}/reply`, {
        ...body(),
        openedAtSeq: draft.baseSeq ?? state.lastSeq,
      });
      Object.assign(draft, { text: '', subject: '', preview: null, baseSeq: null, vars: {} });
      el.text.value = '';
      el.subject.value = '';
      el.previewBox.replaceChildren();
      drawFields();
      await actions.reloadThread?.();
      // Out of the text box: the next key is a shortcut again (e resolves and moves on).
      document.getElementById('thread-title')?.focus();
      showNotice(
        h(
          'div',
          { class: 'muted', id: 'reply-result', role: 'status' },
          r.outcome === 'defer' ? `Scheduled: ${r.explanation}` : 'Sent to the router; queued for delivery.',
        ),
      );
    } catch (err) {
      if (err.status === 422 && err.body?.error === 'refused') {
        showNotice(
          h(
            'div',
            { class: 'refusal', id: 'reply-refusal', role: 'alert' },
            h('strong', {}, 'Not sent — refused by the contact rules. '),
            err.body.details?.explanation || err.message,
            h(
              'ul',
              {},
              (err.body.details?.reasons || []).map((r) => h('li', {}, `${r.rule}: ${r.detail}`)),
            ),
          ),
        );
      } else if (err.status === 409 && err.body?.details?.events) {
        // Their reply is now seen: a second send goes through if the agent still means it. The draft stays as it was.
        draft.baseSeq = err.body.details.lastSeq;
        const theirs = err.body.details.replies || [];
        showNotice(
          h(
            'div',
            { class: 'warn', id: 'reply-conflict', role: 'alert' },
            h('strong', {}, 'Not sent: someone else replied after you began. '),
            'Read their reply, then send yours again if it is still needed (your draft is kept).',
            h(
              'ul',
              {},
              theirs.map((p) =>
                h(
                  'li',
                  { class: 'their-reply' },
                  `${p.by || 'Another sender'} by ${p.channel}: ${p.subject ? `${p.subject} — ` : ''}${p.body}`,
                ),
              ),
            ),
          ),
        );
        await actions.reloadThread?.();
      } else showNotice(h('div', { class: 'refusal', role: 'alert' }, err.message, fieldErrors(err)));
    } finally {
      el.send.disabled = !c.debtorId;
    }
  };

  // ── elements ──
  const defaultChannel = draft.channel || (c.lastInboundChannel === 'EMAIL' ? 'EMAIL' : 'SMS');
  el.channel = h(
    'select',
    {
      id: 'reply-channel',
      onchange: (e) => {
        draft.channel = e.target.value;
        sync();
        changed();
        loadTemplates();
      },
    },
    ['SMS', 'EMAIL'].map((ch) =>
      h('option', { value: ch, selected: ch === defaultChannel }, `${CHANNEL_ICONS[ch]} ${ch}`),
    ),
  );
  el.mode = h(
    'select',
    {
      id: 'reply-mode',
      onchange: (e) => {
        draft.mode = e.target.value;
        sync();
        changed();
      },
    },
    h('option', { value: 'template', selected: draft.mode === 'template' }, 'Template'),
    h('option', { value: 'text', selected: draft.mode === 'text' }, 'Free text'),
  );
  el.intent = h(
    'select',
    {
      id: 'reply-intent',
      onchange: (e) => {
        draft.intent = e.target.value;
        drawFields();
        changed();
      },
    },
    INTENTS.map((i) => h('option', { value: i, selected: i === draft.intent }, i.replace(/-/g, ' '))),
  );
  el.debt = h('select', {
    id: 'reply-debt',
    onchange: (e) => {
      draft.debtId = e.target.value;
      changed();
      loadTemplates();
    },
  });
  el.vars = h('div', { id: 'reply-vars', class: 'reply-vars' });
  el.subject = h('input', {
    id: 'reply-subject',
    value: draft.subject,
    maxlength: '200',
    oninput: (e) => {
      draft.subject = e.target.value;
      began();
      changed();
    },
  });
  el.text = h('textarea', {
    id: 'reply-text',
    placeholder: 'Your reply to the debtor (the opt-out line and required disclosures are added)  ·  Ctrl+Enter sends',
    'aria-keyshortcuts': 'Control+Enter Meta+Enter',
    oninput: (e) => {
      draft.text = e.target.value;
      began();
      changed();
      typingSignal();
    },
  });
  el.text.value = draft.text;
  el.preview = h('button', { type: 'button', id: 'reply-preview-btn', onclick: runPreview }, 'Preview');
  el.send = h(
    'button',
    { type: 'button', class: 'primary', id: 'reply-send', onclick: send, 'aria-keyshortcuts': 'Control+Enter' },
    'Send reply',
  );
  el.previewBox = h(
    'div',
    { id: 'preview-box', 'aria-live': 'polite' },
    draft.preview ? previewNode(draft.preview) : null,
  );
  el.notice = h('div', { id: 'composer-notice', 'aria-live': 'assertive' }, draft.notice);
  el.noteBody = h('textarea', {
    id: 'note-body',
    placeholder: 'Internal note (only agents see it)  ·  Ctrl+Enter adds it',
    oninput: (e) => {
      draft.note = e.target.value;
      typingSignal();
    },
  });
  el.noteBody.value = draft.note;
  const addNote = async () => {
    const text = el.noteBody.value.trim();
    if (!text) return;
    try {
      await api('POST', `/api/v1/inbox/conversations/${c.id}/notes`, { body: text });
      draft.note = '';
      el.noteBody.value = '';
      await actions.reloadThread?.();
    } catch (err) {
      showNotice(h('div', { class: 'refusal', role: 'alert' }, err.message));
    }
  };
  el.addNote = h('button', { type: 'button', id: 'note-add', onclick: addNote }, 'Add note');
  const sendKeys = (fn) => (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      fn();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      document.getElementById('thread-title')?.focus();
    }
  };

  const sync = () => {
    el.intent.closest('label')?.classList.toggle('hidden', draft.mode === 'text');
    el.vars.classList.toggle('hidden', draft.mode === 'text');
    el.text.closest('label')?.classList.toggle('hidden', draft.mode !== 'text');
    el.subject.closest('label')?.classList.toggle('hidden', draft.mode !== 'text' || el.channel.value !== 'EMAIL');
    drawFields();
  };

  const form = h(
    'section',
    { class: 'composer', id: 'composer', 'aria-label': 'Reply and notes', onkeydown: sendKeys(send) },
    h(
      'div',
      { class: 'row' },
      h('label', {}, 'Reply by ', el.channel),
      h('label', {}, 'Content ', el.mode),
      h('label', {}, 'Template ', el.intent),
      h('label', { id: 'reply-debt-label' }, 'Debt ', el.debt),
    ),
    el.vars,
    h('label', { class: 'block' }, h('span', {}, 'Subject'), el.subject),
    h('label', { class: 'block' }, h('span', { class: 'sr-only' }, 'Reply text'), el.text),
    h('div', { class: 'row' }, el.preview, el.send),
    c.debtorId
      ? null
      : h('div', { class: 'muted', id: 'composer-unlinked' }, 'Link this conversation to a debtor before replying.'),
    el.previewBox,
    el.notice,
  );
  const notes = h(
    'section',
    { class: 'composer notes', 'aria-label': 'Internal note', onkeydown: sendKeys(addNote) },
    h('label', { class: 'block' }, h('span', { class: 'sr-only' }, 'Internal note'), el.noteBody),
    h('div', { class: 'row' }, el.addNote),
  );

  composerApi = {
    id: c.id,
    el,
    draft,
    focusReply: () => {
      if (draft.mode !== 'text') {
        draft.mode = 'text';
        el.mode.value = 'text';
        sync();
      }
      el.text.focus();
    },
    focusNote: () => el.noteBody.focus(),
    send,
    fillDebts: () => {
      const debts = state.panel?.debts || [];
      const current = draft.debtId || el.debt.value;
      el.debt.replaceChildren(
        ...debts.map((d) =>
          h('option', { value: d.id, selected: d.id === current }, `${d.externalRef} · ${d.currency} ${d.balance}`),
        ),
      );
      document.getElementById('reply-debt-label')?.classList.toggle('hidden', debts.length < 2);
    },
    loadTemplates,
    setDisabled: (off) => {
      for (const x of [el.send, el.preview]) x.disabled = off;
    },
  };
  queueMicrotask(() => {
    composerApi?.fillDebts();
    sync();
    loadTemplates();
    if (draft.preview) el.previewBox.replaceChildren(previewNode(draft.preview));
  });
  composerApi.setDisabled(!c.debtorId);
  return h('div', { class: 'composer-wrap' }, form, notes);
}

let composerApi = null;

/** After a reload of the thread: the same composer, with the debts and the linked state brought up to date. */
export function syncComposer(c) {
  if (!composerApi || composerApi.id !== c.id) return;
  composerApi.setDisabled(!c.debtorId);
  if (state.panel && composerApi.el.debt.options.length !== (state.panel.debts || []).length) {
    composerApi.fillDebts();
    composerApi.loadTemplates();
  }
}

export const focusReply = () => composerApi?.focusReply();
export const focusNote = () => composerApi?.focusNote();
