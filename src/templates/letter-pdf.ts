// Turns a rendered letter into a printable PDF (pdfkit): sender block, the
// recipient block where a window envelope shows it, date, subject, body,
// amount table and payment instructions. Geometry:
//  - A4 (most of the world): DIN 5008 form B, which fits DL and C5/6 window
//    envelopes: window 20 mm from the left, 45 mm from the top, 85 × 45 mm,
//    its first 17.7 mm for the return line and a marking such as
//    "Private and confidential", the address below.
//  - US Letter: #10 double-window envelope, letter tri-folded: return window
//    about 0.625 in / 0.5 in from the top-left, recipient window about
//    0.75 in from the left and 2 in from the top, 4 × 1.125 in.
import PDFDocument from 'pdfkit';
import { TemplateError } from './errors.js';
import { formatDate } from './formatting.js';
import { US_LETTER_PAPER_JURISDICTIONS, jurisdictionIn, normaliseJurisdiction } from './jurisdiction-rules.js';
import type { RenderedLetter } from './registry.js';

export interface PostalAddress {
  name: string;
  company?: string;
  /** Street, locality and country lines, already in the destination country's order. */
  lines: readonly string[];
}

export interface LetterPdfOptions {
  sender: PostalAddress;
  recipient: PostalAddress;
  /** The letter's date (ISO "2025-03-15" or a Date), shown in the letter's locale. */
  date: Date | string;
  /** Debtor's jurisdiction: picks paper size (US Letter in North America, else A4). */
  jurisdiction: string | null;
  /** Overrides the paper size chosen from the jurisdiction. */
  pageSize?: 'A4' | 'LETTER';
  /** Deflate page content (default true). Tests turn it off to read the text. */
  compress?: boolean;
  /**
   * TrueType/OpenType fonts covering the scripts in use. Without them the
   * built-in Helvetica is used, which covers Western European text only; text
   * it cannot show is refused (code unencodable_text) rather than misprinted.
   */
  fonts?: { regular: string | Buffer; bold: string | Buffer };
}

const MM = 72 / 25.4;
const RECIPIENT_FONT_SIZE = 10;
const RECIPIENT_LINE_GAP = 1;
const IN = 72;

interface Geometry {
  size: 'A4' | 'LETTER';
  margin: { left: number; right: number; top: number; bottom: number };
  sender: { x: number; y: number; width: number; align: 'left' | 'right' };
  /** One-line return address inside the window, above the recipient (A4 only). */
  returnLine: { x: number; y: number; width: number } | null;
  marking: { x: number; y: number; width: number };
  recipient: { x: number; y: number; width: number; height: number };
  contentTop: number;
}

const GEOMETRY: Record<'A4' | 'LETTER', Geometry> = {
  A4: {
    size: 'A4',
    margin: { left: 25 * MM, right: 20 * MM, top: 15 * MM, bottom: 20 * MM },
    sender: { x: 105 * MM, y: 15 * MM, width: 85 * MM, align: 'right' },
    returnLine: { x: 25 * MM, y: 47 * MM, width: 80 * MM },
    marking: { x: 25 * MM, y: 53 * MM, width: 80 * MM },
    recipient: { x: 25 * MM, y: 62.7 * MM, width: 80 * MM, height: 27 * MM },
    contentTop: 98.5 * MM,
  },
  LETTER: {
    size: 'LETTER',
    margin: { left: 0.875 * IN, right: 0.875 * IN, top: 0.5 * IN, bottom: 0.75 * IN },
    sender: { x: 0.75 * IN, y: 0.6 * IN, width: 3.1 * IN, align: 'left' },
    returnLine: null,
    marking: { x: 0.875 * IN, y: 1.8 * IN, width: 3.6 * IN },
    recipient: { x: 0.875 * IN, y: 2.0 * IN, width: 3.6 * IN, height: 1.125 * IN },
    contentTop: 3.4 * IN,
  },
};

// Code points the standard 14 PDF fonts can show (WinAnsiEncoding).
const WIN_ANSI_EXTRA = new Set([
  0x0152, 0x0153, 0x0160, 0x0161, 0x0178, 0x017d, 0x017e, 0x0192, 0x02c6, 0x02dc, 0x2013, 0x2014, 0x2018, 0x2019,
  0x201a, 0x201c, 0x201d, 0x201e, 0x2020, 0x2021, 0x2022, 0x2026, 0x2030, 0x2039, 0x203a, 0x20ac, 0x2122,
]);
// Currency signs outside WinAnsi, printed as their ISO code instead.
const CURRENCY_SIGN_CODES: Record<string, string> = {
  '₹': 'INR',
  '₩': 'KRW',
  '₱': 'PHP',
  '₽': 'RUB',
  '₺': 'TRY',
  '₪': 'ILS',
  '₫': 'VND',
  '₴': 'UAH',
  '₦': 'NGN',
  '₸': 'KZT',
  '₡': 'CRC',
  '₲': 'PYG',
  '₵': 'GHS',
};

function isWinAnsi(codePoint: number): boolean {
  return (
    (codePoint >= 0x20 && codePoint <= 0x7e) ||
    (codePoint >= 0xa0 && codePoint <= 0xff) ||
    codePoint === 0x0a ||
    WIN_ANSI_EXTRA.has(codePoint)
  );
}

/** Makes text printable with the built-in font, or refuses it naming the character. */
function toWinAnsi(text: string, field: string): string {
  let out = '';
  for (const char of text.replace(/[\u202f\u2009\u2007]/g, '\u00a0')) {
    const code = CURRENCY_SIGN_CODES[char];
    if (code) {
      out += `${code}\u00a0`;
      continue;
    }
    const codePoint = char.codePointAt(0) as number;
    if (!isWinAnsi(codePoint)) {
      throw new TemplateError(
        'unencodable_text',
        `letter ${field} contains "${char}" (U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}), which the built-in PDF font cannot print; pass fonts in LetterPdfOptions`,
        { variable: field },
      );
    }
    out += char;
  }
  return out.replace(/\u00a0+(\s)/g, '$1');
}

function validateAddress(address: PostalAddress | undefined, field: string): void {
  if (!address || typeof address.name !== 'string' || address.name.trim() === '') {
    throw new TemplateError('invalid_request', `${field}.name is required`, { variable: `${field}.name` });
  }
  if (!Array.isArray(address.lines) || address.lines.length === 0 || address.lines.length > 6) {
    throw new TemplateError('invalid_request', `${field}.lines must hold 1 to 6 address lines`, {
      variable: `${field}.lines`,
    });
  }
  address.lines.forEach((line, index) => {
    if (typeof line !== 'string' || line.trim() === '') {
      throw new TemplateError('invalid_request', `${field}.lines[${index}] is empty`, { variable: `${field}.lines` });
    }
  });
}

function addressLines(address: PostalAddress): string[] {
  return [address.name, ...(address.company ? [address.company] : []), ...address.lines].map((l) => l.trim());
}

function choosePageSize(options: LetterPdfOptions): 'A4' | 'LETTER' {
  if (options.pageSize) return options.pageSize;
  const jurisdiction = options.jurisdiction === null ? null : normaliseJurisdiction(options.jurisdiction);
  return jurisdiction !== null && jurisdictionIn(jurisdiction, US_LETTER_PAPER_JURISDICTIONS) ? 'LETTER' : 'A4';
}

/** Renders the letter; resolves with the PDF bytes. */
export async function renderLetterPdf(rendered: RenderedLetter, options: LetterPdfOptions): Promise<Buffer> {
  if (!rendered || rendered.channel !== 'letter') {
    throw new TemplateError('invalid_request', 'renderLetterPdf needs a rendered letter (channel "letter")', {
      variable: 'rendered',
    });
  }
  validateAddress(options.sender, 'sender');
  validateAddress(options.recipient, 'recipient');
  const dateText = formatDate(options.date, rendered.formatLocale);
  const geometry = GEOMETRY[choosePageSize(options)];
  const printable: (text: string, field: string) => string = options.fonts ? (value) => value : toWinAnsi;

  // Convert every text first so an unprintable character fails before any drawing.
  const text = {
    sender: addressLines(options.sender).map((l) => printable(l, 'sender')),
    recipient: addressLines(options.recipient).map((l) => printable(l, 'recipient')),
    marking: rendered.confidentialityMarking === null ? null : printable(rendered.confidentialityMarking, 'marking'),
    date: printable(dateText, 'date'),
    subject: printable(rendered.subject, 'subject'),
    body: printable(rendered.body, 'body'),
    rows: rendered.amountTable.map((row) => ({
      label: printable(row.label, 'amountTable'),
      value: printable(row.value, 'amountTable'),
    })),
    instructionsTitle: printable(rendered.labels.paymentInstructions, 'labels'),
    instructions: printable(rendered.paymentInstructions, 'paymentInstructions'),
  };

  const doc = new PDFDocument({
    size: geometry.size,
    margins: geometry.margin,
    compress: options.compress ?? true,
    autoFirstPage: true,
    lang: rendered.templateLocale,
    info: { Title: text.subject, Subject: rendered.intent },
  });
  const chunks: Buffer[] = [];
  const finished = new Promise<Buffer>((resolvePdf, rejectPdf) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolvePdf(Buffer.concat(chunks)));
    doc.on('error', rejectPdf);
  });

  let regular = 'Helvetica';
  let bold = 'Helvetica-Bold';
  if (options.fonts) {
    doc.registerFont('letter-regular', options.fonts.regular);
    doc.registerFont('letter-bold', options.fonts.bold);
    regular = 'letter-regular';
    bold = 'letter-bold';
  }

  // Sender block (and, on A4, the one-line return address inside the window).
  doc
    .font(bold)
    .fontSize(10)
    .text(text.sender[0] as string, geometry.sender.x, geometry.sender.y, {
      width: geometry.sender.width,
      align: geometry.sender.align,
    });
  doc
    .font(regular)
    .fontSize(9)
    .text(text.sender.slice(1).join('\n'), { width: geometry.sender.width, align: geometry.sender.align });
  if (geometry.returnLine) {
    doc.font(regular).fontSize(7).text(text.sender.join(', '), geometry.returnLine.x, geometry.returnLine.y, {
      width: geometry.returnLine.width,
      lineBreak: false,
      ellipsis: true,
      underline: true,
    });
  }
  if (text.marking) {
    doc
      .font(bold)
      .fontSize(9)
      .text(text.marking.toUpperCase(), geometry.marking.x, geometry.marking.y, { width: geometry.marking.width });
  }

  // Recipient block: every line must show through the window, so an address
  // that does not fit is refused rather than cut (a cut address misdelivers).
  doc.font(regular).fontSize(RECIPIENT_FONT_SIZE);
  const lineHeight = doc.currentLineHeight(true) + RECIPIENT_LINE_GAP;
  const maxLines = Math.floor(geometry.recipient.height / lineHeight);
  if (text.recipient.length > maxLines) {
    throw new TemplateError(
      'invalid_request',
      `recipient address has ${text.recipient.length} lines; the envelope window holds ${maxLines}`,
      {
        variable: 'recipient.lines',
      },
    );
  }
  for (const line of text.recipient) {
    if (doc.widthOfString(line) > geometry.recipient.width) {
      throw new TemplateError(
        'invalid_request',
        `recipient address line "${line}" is too wide for the envelope window`,
        {
          variable: 'recipient.lines',
        },
      );
    }
  }
  doc.text(text.recipient.join('\n'), geometry.recipient.x, geometry.recipient.y, {
    width: geometry.recipient.width,
    lineGap: RECIPIENT_LINE_GAP,
    lineBreak: false,
  });

  const left = geometry.margin.left;
  const width = doc.page.width - geometry.margin.left - geometry.margin.right;

  doc.font(regular).fontSize(10).text(text.date, left, geometry.contentTop, { width, align: 'right' });
  doc.moveDown(1.5);
  doc.font(bold).fontSize(12).text(text.subject, left, doc.y, { width });
  doc.moveDown(1);
  doc.font(regular).fontSize(10.5);
  for (const paragraph of text.body.split(/\n{2,}/)) {
    doc.text(paragraph, left, doc.y, { width, lineGap: 2 });
    doc.moveDown(0.8);
  }

  // Amount table: label column, right-aligned value column, hairlines between rows.
  const rowHeight = 18;
  const labelWidth = width * 0.6;
  if (doc.y + rowHeight * (text.rows.length + 1) > doc.page.height - geometry.margin.bottom) doc.addPage();
  doc.moveDown(0.4);
  let y = doc.y;
  doc
    .lineWidth(0.5)
    .moveTo(left, y)
    .lineTo(left + width, y)
    .stroke();
  for (const row of text.rows) {
    doc
      .font(regular)
      .fontSize(10)
      .text(row.label, left + 4, y + 5, { width: labelWidth - 8, lineBreak: false });
    doc
      .font(bold)
      .fontSize(10)
      .text(row.value, left + labelWidth, y + 5, { width: width - labelWidth - 4, align: 'right', lineBreak: false });
    y += rowHeight;
    doc
      .moveTo(left, y)
      .lineTo(left + width, y)
      .stroke();
  }
  doc.x = left;
  doc.y = y + 14;

  // Keep the payment instructions with their heading.
  doc.font(regular).fontSize(10.5);
  const instructionsHeight = doc.heightOfString(text.instructions, { width, lineGap: 2 }) + 30;
  if (doc.y + instructionsHeight > doc.page.height - geometry.margin.bottom) {
    doc.addPage();
    doc.y = geometry.margin.top;
  }
  doc.font(bold).fontSize(11).text(text.instructionsTitle, left, doc.y, { width });
  doc.moveDown(0.4);
  doc.font(regular).fontSize(10.5).text(text.instructions, left, doc.y, { width, lineGap: 2 });

  doc.end();
  return finished;
}
