// The SMS intent classifier measured on a labelled corpus of debtor texts
// (test/inbound/corpus/sms-intents.tsv: English, Spanish, Hindi, Hinglish;
// text-speak, emoji, negations, trap sentences). Precision and recall per
// intent, with the thresholds a collections desk can trust: an opt-out is
// almost never missed (recall ≥ 0.98) and nothing that is not an opt-out
// revokes consent (zero false revocations). Promise dates are checked on the
// debtor's calendar with an injected clock (test/inbound/corpus/promise-dates.tsv).
import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { RuleBasedClassifier, type ReplyIntent } from '../../src/inbound/classifier.js';

const CORPUS = path.resolve('test/inbound/corpus');
const rows = ['sms-intents.tsv', 'sms-intents-heldout.tsv', 'sms-intents-blind.tsv']
  .flatMap((f) => fs.readFileSync(path.join(CORPUS, f), 'utf8').split('\n'))
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => {
    const [lang, labels, text] = l.split('\t') as [string, string, string];
    return { lang, labels: new Set(labels.split(',').filter((x) => x !== 'none')), text };
  });

const classifier = new RuleBasedClassifier();
const NOW = new Date('2030-06-03T17:00:00Z'); // a Monday
const REVOKING: ReplyIntent[] = ['opt_out', 'opt_out_sms', 'opt_out_email', 'opt_out_voice', 'cease'];
const LABEL_OF: Record<string, (intents: ReplyIntent[]) => boolean> = {
  optout: (i) => i.some((x) => REVOKING.includes(x)),
  cease: (i) => i.includes('cease'),
  dispute: (i) => i.includes('dispute'),
  paid: (i) => i.includes('already_paid'),
  promise: (i) => i.includes('promise_to_pay'),
  hardship: (i) => i.includes('hardship'),
  callback: (i) => i.includes('callback_request'),
  wrong: (i) => i.includes('wrong_number'),
};
// Opt-outs: the legal floor. The rest: good enough that an agent's queue is mostly right; misses still reach the inbox.
const THRESHOLDS: Record<string, { precision: number; recall: number }> = {
  optout: { precision: 1, recall: 0.98 },
  cease: { precision: 0.9, recall: 0.9 },
  dispute: { precision: 0.9, recall: 0.9 },
  paid: { precision: 0.9, recall: 0.9 },
  promise: { precision: 0.9, recall: 0.85 },
  hardship: { precision: 0.9, recall: 0.85 },
  callback: { precision: 0.9, recall: 0.85 },
  wrong: { precision: 0.9, recall: 0.85 },
};

describe('SMS intent corpus', () => {
  const results = rows.map((r) => ({
    ...r,
    got: classifier.classify(r.text, 'SMS', r.lang === 'hi' ? 'hi-IN' : r.lang === 'es' ? 'es-US' : 'en-US', NOW),
  }));

  it('has hundreds of labelled texts in several languages', () => {
    expect(rows.length).toBeGreaterThanOrEqual(700);
    expect(new Set(rows.map((r) => r.lang))).toEqual(new Set(['en', 'es', 'hi']));
  });

  it('meets the per-intent precision and recall thresholds', () => {
    const table: string[] = [];
    const failures: string[] = [];
    for (const [label, holds] of Object.entries(LABEL_OF)) {
      let tp = 0,
        fp = 0,
        fn = 0;
      const misses: string[] = [];
      const wrongs: string[] = [];
      for (const r of results) {
        const predicted = holds(r.got.intents);
        const actual = r.labels.has(label);
        if (predicted && actual) tp++;
        else if (predicted) {
          fp++;
          wrongs.push(r.text);
        } else if (actual) {
          fn++;
          misses.push(r.text);
        }
      }
      const precision = tp + fp ? tp / (tp + fp) : 1;
      const recall = tp + fn ? tp / (tp + fn) : 1;
      table.push(
        `${label.padEnd(9)} n=${String(tp + fn).padStart(3)}  precision ${precision.toFixed(3)}  recall ${recall.toFixed(3)}${
          misses.length
            ? `  missed: ${misses
                .slice(0, 6)
                .map((m) => JSON.stringify(m))
                .join(', ')}`
            : ''
        }${
          wrongs.length
            ? `  wrong: ${wrongs
                .slice(0, 6)
                .map((m) => JSON.stringify(m))
                .join(', ')}`
            : ''
        }`,
      );
      const t = THRESHOLDS[label]!;
      if (precision < t.precision || recall < t.recall)
        failures.push(
          `${label}: precision ${precision.toFixed(3)} (≥ ${t.precision}), recall ${recall.toFixed(3)} (≥ ${t.recall})`,
        );
    }
    // eslint-disable-next-line no-console
    console.log(`intent corpus (${rows.length} texts)\n${table.join('\n')}`);
    expect(failures).toEqual([]);
  });

  it('revokes nothing on a text that is not an opt-out (a wrong revocation silences a debtor)', () => {
    const falseRevocations = results
      .filter((r) => !r.labels.has('optout') && LABEL_OF.optout!(r.got.intents))
      .map((r) => `${r.text} → ${r.got.intents.join(',')}`);
    expect(falseRevocations).toEqual([]);
  });

  it('flags for an agent what it cannot read, rather than guessing', () => {
    const review = (t: string) => classifier.classify(t, 'SMS', 'en-US', NOW).review ?? [];
    expect(review('Please do not unsubscribe me')).toEqual([expect.stringMatching(/negated opt-out/)]);
    expect(review("I won't pay this")).toContain('refuses to pay');
    expect(review('My attorney will contact you')).toEqual([expect.stringMatching(/lawyer/)]);
    expect(review('Who is this?')).toEqual([expect.stringMatching(/who is writing/)]);
    expect(review('Will you stop the late fees?')).toEqual([expect.stringMatching(/stopping or removal/)]);
    expect(classifier.classify("I won't pay this", 'SMS', 'en-US', NOW).intents).not.toContain('promise_to_pay');
    expect(classifier.classify('No tengo trabajo ahora, no puedo pagar', 'SMS', 'es-US', NOW).intents).toEqual([
      'hardship',
    ]);
  });
});

describe("promise dates on the debtor's calendar", () => {
  const cases = fs
    .readFileSync(path.join(CORPUS, 'promise-dates.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [now, zone, locale, text, date, ambiguous] = l.split('\t') as [
        string,
        string,
        string,
        string,
        string,
        string | undefined,
      ];
      return { now, zone, locale, text, date, ambiguous: ambiguous || undefined };
    });
  it.each(cases.map((c) => [`${c.text} @ ${c.now} ${c.zone}`, c] as const))('%s', (_n, c) => {
    const got = classifier.classify(c.text, 'SMS', c.locale, new Date(c.now), { zone: c.zone });
    expect({ date: got.extracted.date ?? '-', ambiguous: got.extracted.dateAmbiguous }).toEqual({
      date: c.date,
      ambiguous: c.ambiguous,
    });
  });
});
