// Making a debtor's email safe to show: sanitised HTML (no script, style,
// event handler, javascript: link, remote image, SVG or form), quoted history
// folded, and plain text split from the history below "On … wrote:".
import { describe, expect, it } from '@jest/globals';
import { sanitizeEmailHtml, splitQuoted, textOfHtml } from '../../src/inbox/content-view.js';

describe('email HTML for an agent', () => {
  it('drops everything active or remote and keeps the words', () => {
    const out = sanitizeEmailHtml(`
      <style>body{background:url(https://t.example/a.png)}</style><script>alert(1)</script>
      <p onclick="alert(2)" style="background:url(https://t.example/b.png)">Pay <a href="javascript:alert(3)">here</a> or <a href="https://acme.example/pay">online</a></p>
      <img src="https://t.example/pixel.gif"><img src="data:image/png;base64,iVBORw0KGgo=" alt="inline">
      <svg><script>alert(4)</script></svg><iframe src="https://evil.example"></iframe><form action="https://evil.example"><input name="card"></form>
      <img src="data:text/html;base64,PHNjcmlwdD5hbGVydCg1KTwvc2NyaXB0Pg==">`);
    expect(out).not.toMatch(
      /script|alert|onclick|style=|url\(|t\.example|svg|iframe|<form|<input|javascript:|data:text/i,
    );
    expect(out).toContain('<a href="https://acme.example/pay">online</a>');
    expect(out).toContain('src="data:image/png;base64,iVBORw0KGgo="');
    expect(out).toMatch(/Pay <a>here<\/a>/);
  });

  it('folds quoted history into a closed <details>', () => {
    const out = sanitizeEmailHtml(
      '<div>Yes, Friday.</div><div class="gmail_quote">On Mon you wrote:<blockquote>Pay by Friday</blockquote></div>',
    );
    expect(out).toMatch(/^<div>Yes, Friday\.<\/div><details><summary>Quoted text<\/summary>/);
    expect(out).not.toMatch(/<details open/);
    expect(textOfHtml('<p>Yes,&nbsp;Friday &amp; thanks.</p><blockquote>old stuff</blockquote>')).toBe(
      'Yes, Friday & thanks.',
    );
  });

  it('splits plain text from the history it quotes', () => {
    expect(
      splitQuoted('I paid yesterday.\n\nOn Tue, 3 Nov 2026, Acme <a@acme.example> wrote:\n> Your balance is due.'),
    ).toEqual({
      body: 'I paid yesterday.',
      quoted: 'On Tue, 3 Nov 2026, Acme <a@acme.example> wrote:\n> Your balance is due.',
    });
    expect(splitQuoted('Thanks\n> earlier line\n> another')).toEqual({
      body: 'Thanks',
      quoted: '> earlier line\n> another',
    });
    // A reply that is all quote, or has none, is shown whole.
    expect(splitQuoted('> only quoted')).toEqual({ body: '> only quoted', quoted: null });
    expect(splitQuoted('Line one\n> inline quote\nmy answer')).toEqual({
      body: 'Line one\n> inline quote\nmy answer',
      quoted: null,
    });
  });
});
