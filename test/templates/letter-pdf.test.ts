import { describe, expect, it } from '@jest/globals';
import { TemplateError, loadTemplates, renderLetterPdf, type RenderedLetter } from '../../src/templates/index.js';
import { fullVars } from './fixtures.js';

const registry = loadTemplates();

const sender = { name: 'Acme Recovery Services', lines: ['100 Main Street', 'Springfield, IL 62701', 'USA'] };
const recipient = { name: 'Jane Doe', lines: ['42 Elm Road', 'Chicago, IL 60601'] };

/**
 * The text drawn on the pages of an uncompressed PDF. pdfkit writes the
 * built-in font's WinAnsi codes as hex strings in TJ arrays; a kerned line is
 * split into several strings, joined back here.
 */
// WinAnsiEncoding bytes 0x80–0x9F that differ from Latin-1 (Node's TextDecoder
// treats windows-1252 as Latin-1 there).
const WIN_ANSI_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ';
const winAnsi = {
  decode: (bytes: Buffer): string =>
    [...bytes].map((b) => (b >= 0x80 && b <= 0x9f ? WIN_ANSI_HIGH[b - 0x80] : String.fromCharCode(b))).join(''),
};

function drawnText(pdf: Buffer): string[] {
  const source = pdf.toString('latin1');
  const lines: string[] = [];
  for (const array of source.matchAll(/\[([^\]]*)\]\s*TJ/g)) {
    const hexParts = [...(array[1] as string).matchAll(/<([0-9a-fA-F]*)>/g)].map((m) => m[1] as string);
    lines.push(winAnsi.decode(Buffer.from(hexParts.join(''), 'hex')));
  }
  return lines;
}

function pageCount(pdf: Buffer): number {
  return pdf.toString('latin1').match(/\/Type \/Page\b(?!s)/g)?.length ?? 0;
}

function letter(overrides: {
  jurisdiction: string;
  locale?: string;
  currency?: string;
  intent?: 'final-notice' | 'letter-of-demand';
}): RenderedLetter {
  return registry.render({
    intent: overrides.intent ?? 'final-notice',
    channel: 'letter',
    locale: overrides.locale ?? 'en-US',
    vars: fullVars({ currency: overrides.currency ?? 'USD' }),
    firstCommunication: false,
    jurisdiction: overrides.jurisdiction,
  });
}

describe('renderLetterPdf', () => {
  it('renders a US letter with addresses, subject, amount table and instructions', async () => {
    const rendered = letter({ jurisdiction: 'US' });
    expect(rendered).toMatchObject({ mailType: 'usps_first_class', extraService: 'certified' });
    const pdf = await renderLetterPdf(rendered, {
      sender,
      recipient,
      date: '2025-04-01',
      jurisdiction: 'US',
      compress: false,
    });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.subarray(-6).toString()).toContain('%%EOF');
    expect(pageCount(pdf)).toBeGreaterThanOrEqual(1);
    // US Letter media box: 612 × 792 pt.
    expect(pdf.toString('latin1')).toMatch(/\/MediaBox \[0 0 612 792\]/);
    const text = drawnText(pdf);
    for (const expected of [
      'Acme Recovery Services',
      'Jane Doe',
      '42 Elm Road',
      'Chicago, IL 60601',
      'April 1, 2025',
      'Final notice: account AC-1001',
      'Amount due',
      '$1,234.50',
      'Days past due',
      'How to pay',
    ]) {
      expect(text).toContain(expected);
    }
    expect(text.join(' ')).toContain('This communication is from a debt');
    expect(text.join(' ')).not.toMatch(/PRIVATE AND CONFIDENTIAL/);
  });

  it('renders a UK letter on A4, marked private and confidential', async () => {
    const rendered = letter({ jurisdiction: 'GB', locale: 'en-GB', currency: 'GBP', intent: 'letter-of-demand' });
    const pdf = await renderLetterPdf(rendered, {
      sender: { name: 'Acme Recovery Ltd', lines: ['1 High Street', 'London', 'EC1A 1BB'] },
      recipient: { name: 'Jane Doe', lines: ['2 Low Road', 'Leeds', 'LS1 1AA'] },
      date: '2025-04-01',
      jurisdiction: 'GB',
      compress: false,
    });
    expect(pdf.toString('latin1')).toMatch(/\/MediaBox \[0 0 595\.28 841\.89\]/);
    const text = drawnText(pdf);
    expect(text).toContain('PRIVATE AND CONFIDENTIAL');
    expect(text).toContain('1 April 2025');
    expect(text).toContain('£1,234.50');
    expect(text.join(' ')).not.toContain('debt collector');
  });

  it('prints Spanish text and the euro sign with the built-in font', async () => {
    const rendered = letter({ jurisdiction: 'US', locale: 'es', currency: 'EUR' });
    const pdf = await renderLetterPdf(rendered, {
      sender,
      recipient,
      date: '2025-04-01',
      jurisdiction: 'US',
      compress: false,
    });
    const text = drawnText(pdf);
    expect(text).toContain('1 de abril de 2025');
    expect(text).toContain('Importe adeudado');
    expect(text).toContain('Cómo pagar');
    expect(text).toContain('1234,50\u00a0€');
  });

  it('prints rupee amounts with the ISO code, since the built-in font has no ₹', async () => {
    const rendered = letter({ jurisdiction: 'IN', locale: 'en-IN', currency: 'INR' });
    expect(rendered.amountTable.find((r) => r.key === 'amount')?.value).toBe('₹1,234.50');
    const pdf = await renderLetterPdf(rendered, {
      sender,
      recipient,
      date: '2025-04-01',
      jurisdiction: 'IN',
      compress: false,
    });
    expect(drawnText(pdf)).toContain('INR\u00a01,234.50');
  });

  it('refuses text the built-in font cannot print instead of misprinting it', async () => {
    const rendered = letter({ jurisdiction: 'US' });
    await expect(
      renderLetterPdf(rendered, {
        sender,
        recipient: { name: 'Łukasz Żółw', lines: ['ul. Długa 1', 'Gdańsk'] },
        date: '2025-04-01',
        jurisdiction: 'US',
      }),
    ).rejects.toMatchObject({ code: 'unencodable_text', variable: 'recipient' });
  });

  it('validates addresses', async () => {
    const rendered = letter({ jurisdiction: 'US' });
    await expect(
      renderLetterPdf(rendered, {
        sender,
        recipient: { name: ' ', lines: ['x'] },
        date: '2025-04-01',
        jurisdiction: 'US',
      }),
    ).rejects.toBeInstanceOf(TemplateError);
    await expect(
      renderLetterPdf(rendered, {
        sender,
        recipient: { name: 'Jane', lines: [] },
        date: '2025-04-01',
        jurisdiction: 'US',
      }),
    ).rejects.toMatchObject({ code: 'invalid_request', variable: 'recipient.lines' });
  });

  it('refuses an address the envelope window cannot show whole', async () => {
    const rendered = letter({ jurisdiction: 'US' });
    const tooMany = {
      name: 'Jane Doe',
      company: 'Doe Holdings',
      lines: ['Suite 1', 'Floor 2', '42 Elm Road', 'Chicago, IL 60601', 'USA'],
    };
    await expect(
      renderLetterPdf(rendered, { sender, recipient: tooMany, date: '2025-04-01', jurisdiction: 'US' }),
    ).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('window holds 6'),
    });
    const tooWide = { name: 'Jane Doe', lines: [`${'Very '.repeat(20)}Long Street`, 'Chicago'] };
    await expect(
      renderLetterPdf(rendered, { sender, recipient: tooWide, date: '2025-04-01', jurisdiction: 'US' }),
    ).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('too wide'),
    });
  });

  it('compresses by default', async () => {
    const rendered = letter({ jurisdiction: 'US' });
    const pdf = await renderLetterPdf(rendered, {
      sender,
      recipient,
      date: new Date(Date.UTC(2025, 3, 1)),
      jurisdiction: 'US',
    });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.toString('latin1')).toContain('/FlateDecode');
  });
});
