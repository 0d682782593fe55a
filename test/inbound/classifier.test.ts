import { describe, expect, it } from '@jest/globals';
import { RuleBasedClassifier, smsKeyword, visibleReplyText, extractAmount } from '../../src/inbound/classifier.js';

const c = new RuleBasedClassifier();
const now = new Date('2030-06-03T12:00:00Z'); // a Monday
const intents = (text: string, channel: 'SMS' | 'EMAIL' = 'SMS', locale = 'en') =>
  c.classify(text, channel, locale, now).intents;

describe('reply classifier', () => {
  it.each([
    ['STOP', 'opt_out'],
    ['stopall', 'opt_out'],
    [' Unsubscribe ', 'opt_out'],
    ['optout', 'opt_out'],
    ['START', 'opt_in'],
    ['unstop', 'opt_in'],
    ['help', 'help'],
    ['Info', 'help'],
  ])('reads the carrier keyword %j as %s', (text, kw) => {
    expect(smsKeyword(text)).toBe(kw);
  });

  it('takes keywords only as the exact single word', () => {
    expect(smsKeyword('stop it')).toBeNull();
    expect(smsKeyword('STOP.')).toBeNull();
    expect(smsKeyword('yes please')).toBeNull();
  });

  it.each([
    ['stop texting me', ['opt_out_sms']],
    ["don't text me again", ['opt_out_sms']],
    ['Please stop', ['opt_out']],
    ['STOP.', ['opt_out']],
    ['No me envíen más mensajes', ['opt_out_sms']],
    ['stop calling me', ['opt_out_voice']],
    ["don't call me", ['opt_out_voice']],
    ['Stop contacting me', ['cease']],
    ['leave me alone', ['cease']],
    ['This is not my debt', ['dispute']],
    ['I already paid this', ['already_paid']],
    ['I lost my job and cannot pay', ['hardship']],
    ['wrong number', ['wrong_number']],
    ['número equivocado', ['wrong_number']],
    ['call me after 6pm', ['callback_request']],
  ])('classifies %j', (text, expected) => {
    expect(intents(text)).toEqual(expect.arrayContaining(expected));
    if (expected[0] !== 'opt_out') expect(intents(text)).not.toContain('opt_out');
  });

  it('reads a bare "unsubscribe" in an email as an email opt-out', () => {
    expect(intents('unsubscribe', 'EMAIL')).toEqual(['opt_out_email']);
  });

  it('does not read "call me" inside "don\'t call me" as a callback request', () => {
    expect(intents("please don't call me")).not.toContain('callback_request');
  });

  it('extracts the amount and date of a promise to pay', () => {
    expect(c.classify('I will pay $1,250.50 on friday', 'SMS', 'en', now)).toMatchObject({
      intents: ['promise_to_pay'],
      extracted: { amount: { value: '1250.50', currency: 'USD' }, date: '2030-06-07' },
    });
    expect(c.classify('I can pay 200 dollars on the 15th', 'SMS', 'en', now).extracted).toMatchObject({
      amount: { value: '200' },
      date: '2030-06-15',
    });
    expect(c.classify('I will pay on 5/7', 'SMS', 'en-GB', now).extracted.date).toBe('2030-07-05');
    // US month/day; May 7 has passed on June 3, so next year's.
    expect(c.classify('I will pay on 5/7', 'SMS', 'en-US', now).extracted.date).toBe('2031-05-07');
    expect(extractAmount('£20')).toEqual({ value: '20', currency: 'GBP' });
  });

  it('reads only what the sender wrote in an email reply', () => {
    const text =
      'Thanks, will pay Friday.\n\nOn Mon, 3 Jun 2030, Collections <c@example.com> wrote:\n> To stop these emails, unsubscribe here.';
    expect(visibleReplyText(text)).toBe('Thanks, will pay Friday.');
    expect(intents(visibleReplyText(text), 'EMAIL')).toEqual(['promise_to_pay']);
  });
});
