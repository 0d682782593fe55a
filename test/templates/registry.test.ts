import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import {
  INTENTS,
  REQUIRED_CHANNELS,
  TemplateError,
  TemplateValidationError,
  loadTemplates,
  localeFallbackChain,
  type RenderRequest,
  type TemplateChannel,
} from '../../src/templates/index.js';
import { copyOfShippedTemplates, fullVars } from './fixtures.js';

const registry = loadTemplates();

function request<C extends TemplateChannel = 'sms'>(
  overrides: Omit<Partial<RenderRequest>, 'channel'> & { channel?: C } = {},
): RenderRequest & { channel: C } {
  return {
    intent: 'past-due-notice',
    locale: 'en-US',
    vars: fullVars(),
    firstCommunication: false,
    jurisdiction: 'US',
    ...overrides,
    channel: (overrides.channel ?? 'sms') as C,
  };
}

function expectTemplateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateError);
    return error as TemplateError;
  }
  throw new Error('expected a TemplateError, nothing was thrown');
}

const FIRST_DISCLOSURE_EN =
  'This is a communication from a debt collector. This is an attempt to collect a debt and any information obtained will be used for that purpose.';
const SHORT_DISCLOSURE_EN = 'This communication is from a debt collector.';

describe('shipped templates', () => {
  const cases = ['en', 'es'].flatMap((locale) =>
    INTENTS.flatMap((intent) => REQUIRED_CHANNELS[intent].map((channel) => [locale, intent, channel] as const)),
  );

  it('ship every required intent × channel in both en and es', () => {
    for (const [locale, intent, channel] of cases) {
      expect(registry.list()).toContain(`${locale}/${intent}/${channel}`);
    }
    expect(registry.localeList()).toEqual(['en', 'es']);
  });

  it.each(cases)('%s/%s/%s renders with a full variable set, with no placeholder left', (locale, intent, channel) => {
    const rendered = registry.render(request({ intent, channel, locale, firstCommunication: true }));
    expect(rendered.templateId).toBe(`${locale}/${intent}/${channel}`);
    const texts = Object.values(rendered).filter((v): v is string => typeof v === 'string');
    for (const text of texts) {
      expect(text).not.toMatch(/\{\{|\}\}|undefined|\[object Object\]/);
    }
    switch (rendered.channel) {
      case 'sms':
        expect(rendered.text.length).toBeGreaterThan(40);
        expect(rendered.segments).toBeGreaterThanOrEqual(1);
        if (intent !== 'opt-out-confirmation') expect(rendered.text).toContain('STOP');
        break;
      case 'email':
        expect(rendered.subject).not.toBe('');
        expect(rendered.html).toContain('<p>');
        if (intent !== 'opt-out-confirmation') {
          expect(rendered.text).toContain('https://mail.example.com/u/xyz789');
          expect(rendered.html).toContain('<a href="https://mail.example.com/u/xyz789">');
        }
        break;
      case 'voice':
        expect(rendered.menu).toMatch(/1[\s\S]*2[\s\S]*9/);
        expect(rendered.voicemail).toContain('+1 555 010 0199');
        break;
      case 'letter':
        expect(rendered.amountTable.length).toBeGreaterThan(0);
        expect(rendered.paymentInstructions).toContain('https://pay.example.com/p/abc123');
        break;
    }
  });

  it('formats amounts and dates for the requested locale', () => {
    const en = registry.render(request({ channel: 'sms', locale: 'en-US' }));
    expect(en.text).toContain('$1,234.50');
    expect(en.text).toContain('March 15, 2025');
    expect(en.text).toContain('45 days past due');
    const es = registry.render(request({ channel: 'sms', locale: 'es-ES', vars: fullVars({ currency: 'EUR' }) }));
    expect(es.text).toContain('1234,50\u00a0€');
    expect(es.text).toContain('15 de marzo de 2025');
  });
});

describe('variables', () => {
  it('refuses a render with a missing variable, naming template and variable', () => {
    const vars = fullVars();
    delete vars.paymentLink;
    const error = expectTemplateError(() => registry.render(request({ vars })));
    expect(error.code).toBe('missing_variable');
    expect(error.template).toBe('en/past-due-notice/sms');
    expect(error.variable).toBe('paymentLink');
    expect(error.message).toContain('en/past-due-notice/sms');
    expect(error.message).toContain('paymentLink');
  });

  it('refuses empty and whitespace-only values', () => {
    for (const debtorName of ['', '   ']) {
      const error = expectTemplateError(() => registry.render(request({ vars: fullVars({ debtorName }) })));
      expect(error.code).toBe('missing_variable');
      expect(error.variable).toBe('debtorName');
    }
  });

  it('needs a currency for amounts', () => {
    const vars = fullVars();
    delete vars.currency;
    const error = expectTemplateError(() => registry.render(request({ vars })));
    expect(error).toMatchObject({ code: 'missing_variable', variable: 'currency' });
  });

  it('rejects malformed values with invalid_variable', () => {
    expect(expectTemplateError(() => registry.render(request({ vars: fullVars({ amount: '12,50' }) })))).toMatchObject({
      code: 'invalid_variable',
      variable: 'amount',
    });
    expect(
      expectTemplateError(() => registry.render(request({ vars: fullVars({ dueDate: '2025-02-30' }) }))),
    ).toMatchObject({
      code: 'invalid_variable',
      variable: 'dueDate',
    });
    expect(
      expectTemplateError(() => registry.render(request({ vars: fullVars({ paymentLink: 'javascript:alert(1)' }) }))),
    ).toMatchObject({ code: 'invalid_variable', variable: 'paymentLink' });
  });

  it('only requires the variables the chosen template uses', () => {
    const rendered = registry.render(
      request({ intent: 'opt-out-confirmation', channel: 'sms', vars: { companyName: 'Acme Recovery Services' } }),
    );
    expect(rendered.text).toContain('Acme Recovery Services');
  });

  it('refuses unknown templates and bad requests', () => {
    expect(
      expectTemplateError(() => registry.render(request({ intent: 'letter-of-demand', channel: 'sms' }))).code,
    ).toBe('unknown_template');
    expect(expectTemplateError(() => registry.render(request({ intent: 'nope' as never }))).code).toBe(
      'invalid_request',
    );
    expect(expectTemplateError(() => registry.render(request({ jurisdiction: 'United States' }))).code).toBe(
      'invalid_request',
    );
    expect(registry.has('letter-of-demand', 'sms', 'en')).toBe(false);
    expect(registry.has('letter-of-demand', 'letter', 'es-MX')).toBe(true);
  });
});

describe('locale fallback', () => {
  it('tries the region, then the language, then en', () => {
    expect(localeFallbackChain('es-MX')).toEqual(['es-MX', 'es', 'en']);
    expect(localeFallbackChain('fr-CA')).toEqual(['fr-CA', 'fr', 'en']);
    expect(localeFallbackChain('en')).toEqual(['en']);
  });

  it('hands out a fresh chain each call (the cached one cannot be changed by a caller)', () => {
    const first = localeFallbackChain('es-MX');
    first.push('xx');
    expect(localeFallbackChain('es-MX')).toEqual(['es-MX', 'es', 'en']);
    expect(() => localeFallbackChain('not a tag!')).toThrow(/BCP 47/);
    expect(() => localeFallbackChain('not a tag!')).toThrow(/BCP 47/);
  });

  it('uses es for es-MX but formats numbers for es-MX, and en for an unknown language', () => {
    const mx = registry.render(request({ locale: 'es-MX', vars: fullVars({ currency: 'MXN' }) }));
    expect(mx.templateLocale).toBe('es');
    expect(mx.formatLocale).toBe('es-MX');
    expect(mx.text).toContain('$1,234.50');
    const fr = registry.render(request({ locale: 'fr-FR', vars: fullVars({ currency: 'EUR' }) }));
    expect(fr.templateLocale).toBe('en');
    expect(fr.text).toContain('1\u202f234,50\u00a0€');
  });

  it('accepts underscores in locale tags', () => {
    expect(registry.render(request({ locale: 'es_MX' })).templateLocale).toBe('es');
  });
});

describe('disclosures', () => {
  it('carries the full mini-Miranda in the first communication in the US', () => {
    const sms = registry.render(request({ firstCommunication: true, jurisdiction: 'US' }));
    expect(sms.text).toContain(FIRST_DISCLOSURE_EN);
    const email = registry.render(request({ channel: 'email', firstCommunication: true, jurisdiction: 'US-MA' }));
    expect(email.text).toContain(FIRST_DISCLOSURE_EN);
    const voice = registry.render(request({ channel: 'voice', firstCommunication: true, jurisdiction: 'US-NY' }));
    expect(voice.say).toContain(FIRST_DISCLOSURE_EN);
  });

  it('carries the short form in later US communications', () => {
    const sms = registry.render(request({ firstCommunication: false, jurisdiction: 'US' }));
    expect(sms.text).toContain(SHORT_DISCLOSURE_EN);
    expect(sms.text).not.toContain('attempt to collect');
  });

  it('is in Spanish for the Spanish templates', () => {
    const sms = registry.render(request({ locale: 'es', firstCommunication: true }));
    expect(sms.text).toContain('Esta es una comunicación de un cobrador de deudas.');
  });

  it.each(['GB', 'IN'])('is left out where %s does not require it, leaving no gap', (jurisdiction) => {
    for (const channel of ['sms', 'email', 'letter'] as const) {
      const rendered = registry.render(request({ channel, firstCommunication: true, jurisdiction }));
      const text = JSON.stringify(rendered);
      expect(text).not.toContain('debt collector');
      expect(text).not.toMatch(/ {2}|\\n\\n\\n/);
    }
  });

  it('applies the stricter reading when the jurisdiction is unknown', () => {
    const sms = registry.render(request({ firstCommunication: true, jurisdiction: null }));
    expect(sms.text).toContain(FIRST_DISCLOSURE_EN);
  });

  it('marks UK letters "Private and confidential", and no others', () => {
    expect(registry.render(request({ channel: 'letter', jurisdiction: 'GB' })).confidentialityMarking).toBe(
      'Private and confidential',
    );
    expect(registry.render(request({ channel: 'letter', jurisdiction: 'US' })).confidentialityMarking).toBeNull();
  });

  it('lets the jurisdiction sets be configured', () => {
    const custom = loadTemplates(undefined, {
      jurisdictionRules: { debtCollectorDisclosure: ['US', 'GB'], privateAndConfidential: ['GB', 'IE'] },
    });
    expect(custom.render(request({ jurisdiction: 'GB' })).text).toContain(SHORT_DISCLOSURE_EN);
    expect(custom.render(request({ channel: 'letter', jurisdiction: 'IE' })).confidentialityMarking).toBe(
      'Private and confidential',
    );
  });
});

describe('email', () => {
  it('escapes debtor-controlled values in HTML but not in text', () => {
    const vars = fullVars({ debtorName: '<script>alert("x")</script> & Co', creditorName: 'Tom & Jerry\'s "Shop"' });
    const email = registry.render(request({ channel: 'email', vars }));
    expect(email.text).toContain('<script>alert("x")</script> & Co');
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
    expect(email.html).toContain('Tom &amp; Jerry&#x27;s &quot;Shop&quot;');
  });

  it('escapes links inside href and keeps the subject on one line', () => {
    const vars = fullVars({
      paymentLink: 'https://pay.example.com/p?a=1&b="2"',
      debtorName: 'Jane\r\nBcc: x@example.com',
    });
    const email = registry.render(request({ channel: 'email', vars }));
    expect(email.html).toContain('<a href="https://pay.example.com/p?a&#x3D;1&amp;b&#x3D;&quot;2&quot;">');
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.text).toContain('Hello Jane Bcc: x@example.com,');
  });
});

describe('opt-out confirmation', () => {
  it.each(['en', 'es'])('%s: says the request will be honoured, with no amount and no link', (locale) => {
    for (const channel of ['sms', 'email'] as const) {
      const rendered = registry.render(
        request({ intent: 'opt-out-confirmation', channel, locale, firstCommunication: false }),
      );
      const text =
        rendered.channel === 'sms' ? rendered.text : `${rendered.subject}\n${rendered.text}\n${rendered.html}`;
      expect(text).toMatch(/honour|respetaremos/);
      expect(text).not.toMatch(/https?:|www\.|<a /);
      expect(text).not.toContain('1,234.50');
      expect(text).not.toContain('1234,50');
      expect(text).not.toMatch(/[$€]/);
    }
  });
});

describe('voice', () => {
  it('keeps the voicemail to limited content', () => {
    const voice = registry.render(request({ channel: 'voice', firstCommunication: true }));
    expect(voice.voicemail).toBe(
      'Hello, this message is for Jane Doe. This is Sam Lee from Acme Services. Please call me back at +1 555 010 0199. Thank you.',
    );
  });

  it('refuses to render a voicemail whose business name reveals debt collection', () => {
    for (const voicemailBusinessName of ['Acme Debt Recovery', 'Acme Collections', 'Cobranzas Acme']) {
      const error = expectTemplateError(() =>
        registry.render(request({ channel: 'voice', vars: fullVars({ voicemailBusinessName }) })),
      );
      expect(error.code).toBe('forbidden_content');
      expect(error.template).toBe('en/past-due-notice/voice');
    }
  });
});

describe('validation at load', () => {
  let copy: ReturnType<typeof copyOfShippedTemplates> | undefined;
  afterEach(() => copy?.cleanup());

  function loadProblems(): TemplateValidationError {
    try {
      loadTemplates(copy!.dir);
    } catch (error) {
      expect(error).toBeInstanceOf(TemplateValidationError);
      return error as TemplateValidationError;
    }
    throw new Error('expected loadTemplates to throw');
  }

  it('loads an untouched copy', () => {
    copy = copyOfShippedTemplates();
    expect(loadTemplates(copy.dir).list()).toHaveLength(56); // 42 + verification-code and instalment-failed (sms, email) + dispute-verification (sms, email, letter), in en and es
  });

  it('rejects an SMS without an opt-out instruction', () => {
    copy = copyOfShippedTemplates();
    copy.write(
      'en/friendly-reminder/sms.txt',
      'Hi {{debtorName}}, pay {{amount}} at {{paymentLink}}. {{disclosure}}\n',
    );
    const error = loadProblems();
    expect(error.problems).toEqual([
      expect.objectContaining({ file: 'en/friendly-reminder/sms.txt', rule: 'missing_opt_out' }),
    ]);
    expect(error.message).toContain('en/friendly-reminder/sms.txt: [missing_opt_out]');
  });

  it('does not accept an opt-out keyword that only a variable could supply', () => {
    copy = copyOfShippedTemplates();
    copy.write('es/friendly-reminder/sms.txt', 'Hola {{debtorName}}. {{disclosure}} Responda Stop {{companyName}}\n');
    expect(loadProblems().problems.map((p) => p.rule)).toEqual(['missing_opt_out']);
  });

  it('rejects an email without the unsubscribe link', () => {
    copy = copyOfShippedTemplates();
    copy.write('en/past-due-notice/email.md', '---\nsubject: Hi\n---\nHello {{debtorName}}. {{disclosure}}\n');
    expect(loadProblems().problems).toEqual([
      expect.objectContaining({
        file: 'en/past-due-notice/email.md',
        rule: 'missing_opt_out',
        variable: 'unsubscribeLink',
      }),
    ]);
  });

  it('rejects voicemail text with debt words, amounts or links', () => {
    copy = copyOfShippedTemplates();
    const voice = (voicemail: string) =>
      `say: "Hi {{debtorName}}. {{disclosure}}"\nmenu: "Press 1 for an agent, 2 for a link, 9 to stop calls."\nvoicemail: "${voicemail}"\n`;
    copy.write('en/friendly-reminder/voice.yaml', voice('Call {{callbackNumber}} about your debt.'));
    copy.write('en/past-due-notice/voice.yaml', voice('You owe {{amount}}. Call {{callbackNumber}}.'));
    copy.write('en/final-notice/voice.yaml', voice('Visit {{paymentLink}} or call {{callbackNumber}}.'));
    copy.write('es/final-notice/voice.yaml', voice('Llame al {{callbackNumber}} por su deuda de $50.'));
    const problems = loadProblems().problems;
    const byFile = (file: string) => problems.filter((p) => p.file === file);
    expect(byFile('en/friendly-reminder/voice.yaml')).toEqual([
      expect.objectContaining({ rule: 'forbidden_content', message: expect.stringContaining('"debt"') }),
    ]);
    expect(byFile('en/past-due-notice/voice.yaml').map((p) => p.variable ?? p.message)).toEqual(
      expect.arrayContaining(['amount', expect.stringContaining('"owe"')]),
    );
    expect(byFile('en/final-notice/voice.yaml')).toEqual([
      expect.objectContaining({ rule: 'forbidden_content', variable: 'paymentLink' }),
    ]);
    expect(byFile('es/final-notice/voice.yaml')[0]?.message).toMatch(/deuda/);
    expect(byFile('es/final-notice/voice.yaml')[0]?.message).toMatch(/amount "\$"/);
  });

  it('rejects a voice menu that lacks a required key', () => {
    copy = copyOfShippedTemplates();
    copy.write(
      'en/friendly-reminder/voice.yaml',
      'say: "Hi {{debtorName}}. {{disclosure}}"\nmenu: "Press 1 for an agent or 2 for a link."\nvoicemail: "Call {{callbackNumber}}."\n',
    );
    expect(loadProblems().problems).toEqual([
      expect.objectContaining({ rule: 'missing_menu_option', message: expect.stringContaining('key 9') }),
    ]);
  });

  it('rejects an opt-out confirmation that mentions an amount or a link', () => {
    copy = copyOfShippedTemplates();
    copy.write('en/opt-out-confirmation/sms.txt', 'You are unsubscribed. Your balance is {{amount}}. {{disclosure}}\n');
    copy.write('es/opt-out-confirmation/sms.txt', 'Baja confirmada. Visite https://example.com {{disclosure}}\n');
    const problems = loadProblems().problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          file: 'en/opt-out-confirmation/sms.txt',
          rule: 'forbidden_content',
          variable: 'amount',
        }),
        expect.objectContaining({ file: 'es/opt-out-confirmation/sms.txt', rule: 'forbidden_content' }),
      ]),
    );
  });

  it('lists every problem of every file in one error', () => {
    copy = copyOfShippedTemplates();
    copy.write('en/friendly-reminder/sms.txt', 'Hi {{debtorNmae}}. Reply STOP to opt out.\n');
    copy.write('en/payment-received/sms.txt', '{{#if paymentAmount}}Thanks{{/if}} {{{debtorName}}}\n');
    copy.write(
      'en/final-notice/letter.md',
      '---\nsubject: x\nmail_type: usps_standard\nextra_service: certified\namount_table: [amount]\npayment_instructions: Pay.\n---\nBody {{disclosure}}\n',
    );
    copy.write('es/final-notice/foo.txt', 'x');
    const error = loadProblems();
    const summary = error.problems.map((p) => `${p.file}:${p.rule}`);
    expect(summary).toEqual(
      expect.arrayContaining([
        'en/friendly-reminder/sms.txt:unknown_variable',
        'en/friendly-reminder/sms.txt:missing_disclosure',
        'en/payment-received/sms.txt:unsupported_syntax',
        'en/final-notice/letter.md:invalid_front_matter',
        'es/final-notice/foo.txt:invalid_layout',
      ]),
    );
    expect(error.problems.find((p) => p.rule === 'unknown_variable')?.variable).toBe('debtorNmae');
    expect(error.problems.find((p) => p.rule === 'invalid_front_matter')?.message).toMatch(/usps_first_class/);
  });

  it('requires the base locale to be complete', () => {
    copy = copyOfShippedTemplates();
    rmSync(`${copy.dir}/en/letter-of-demand/letter.md`);
    expect(loadProblems().problems).toEqual([
      expect.objectContaining({ file: 'en/letter-of-demand/letter.md', rule: 'missing_template' }),
    ]);
  });
});
