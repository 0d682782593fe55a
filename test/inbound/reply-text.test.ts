// Reply extraction against a corpus of real-shaped reply bodies
// (test/inbound/fixtures/replies/replies.json): Gmail (one- and two-line
// attributions, several languages), Outlook header blocks, Apple Mail, iOS,
// Android, Thunderbird, mutt, Yahoo, forwards, bottom-posting and interleaved
// answers. Each case names the text its sender wrote and, where it matters,
// the intents the classifier must read from it — never ones from our quote.
import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { RuleBasedClassifier } from '../../src/inbound/classifier.js';
import { extractReply } from '../../src/inbound/reply-text.js';

interface Case {
  name: string;
  client: string;
  lang: string;
  text: string;
  reply: string;
  intents?: string[];
}
const corpus = JSON.parse(fs.readFileSync(path.resolve('test/inbound/fixtures/replies/replies.json'), 'utf8')) as {
  ours: string;
  cases: Case[];
};
const classifier = new RuleBasedClassifier();
const squash = (s: string) => s.replace(/[ \t]+\n/g, '\n').trim();

describe('reply extraction corpus', () => {
  it.each(corpus.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    // With what we sent known (the thread's outbound messages) and without (template sentences only).
    // With what we sent known (the thread's outbound messages, as landEmail passes them): exactly the sender's text.
    const got = extractReply(c.text, [corpus.ours]);
    expect({ client: c.client, reply: squash(got.text) }).toEqual({ client: c.client, reply: c.reply });
    if (c.intents) expect(classifier.classify(got.text, 'EMAIL', c.lang).intents.sort()).toEqual([...c.intents].sort());
    // Without it (a forward from elsewhere): our template sentences alone keep our footer from being read.
    const blind = extractReply(c.text, []);
    for (const text of [got.text, blind.text])
      expect(text).not.toMatch(/unsubscribe here|If you have already paid|disregard this message\.?$/im);
    const blindIntents = classifier.classify(blind.text, 'EMAIL', c.lang).intents;
    const revoking = blindIntents.filter((i) => i.startsWith('opt_out') || i === 'cease');
    expect(revoking).toEqual((c.intents ?? []).filter((i) => i.startsWith('opt_out') || i === 'cease'));
  });

  it('reads our quoted footer as nothing when the whole body is our message', () => {
    expect(extractReply(corpus.ours, [corpus.ours]).text).toBe('');
    const intents = classifier.classify(extractReply(corpus.ours).text, 'EMAIL', 'en').intents;
    expect(intents).not.toContain('opt_out_email');
  });

  it('scores the corpus', () => {
    const exact = corpus.cases.filter((c) => squash(extractReply(c.text, [corpus.ours]).text) === c.reply).length;
    // eslint-disable-next-line no-console
    console.log(`reply extraction: ${exact}/${corpus.cases.length} exact`);
    expect(exact).toBe(corpus.cases.length);
  });
});
