/**
 * The header fields of a SROIE receipt: the printed date and total (through the shared parsers
 * of `features/dates.ts` and `features/amount.ts`), the vendor id of the company name and the
 * printed invoice/receipt number found in the OCR lines.
 */
import { createHash } from 'node:crypto';
import { isTriageError } from '../core/errors.js';
import { UNPRINTED_NUMBER_PREFIX } from '../core/invoice.js';
import { parseAmount } from '../features/amount.js';
import { parseDate } from '../features/dates.js';

/**
 * Invoice number for a receipt that prints none: `NONUM-` + 10 hex of sha256(SROIE key).
 * The SROIE key itself is not printed on the receipt, and near-consecutive keys would fake a
 * near-identical invoice number between unrelated receipts; the hash carries no such signal.
 * The prefix tells the service the number is not printed (see `UNPRINTED_NUMBER_PREFIX`).
 */
export function unnumberedReceiptNumber(key: string): string {
  return `${UNPRINTED_NUMBER_PREFIX}${createHash('sha256').update(key).digest('hex').slice(0, 10).toUpperCase()}`;
}

/** Years a SROIE receipt date may fall in; a date outside is OCR noise (the receipts are 2015-2019). */
const RECEIPT_YEARS = { min: 2000, max: 2030 } as const;

/** `fn()`, or null when it throws a {@link TriageError} (an unparseable or ambiguous text). */
function orNull<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch (e) {
    if (isTriageError(e)) return null;
    throw e;
  }
}

/**
 * Parses a SROIE date as printed, day first (Malaysian receipts): `dd/mm/yyyy`, `dd-mm-yy`,
 * `dd.mm.yy`, `02 APR 2018`, `14/JUN/2017`, `05-JAN-2017`, `OCT 3, 2016`, `yyyy-mm-dd`,
 * `yyyy/mm/dd`, `yyyymmdd`, `ddmmyyyy`; surrounding parentheses are ignored. A numeric date
 * whose day-first reading is impossible is read month first (`12/28/2017`). Reads with
 * {@link parseDate} under the hint `DMY`.
 * @returns `YYYY-MM-DD`, or null when no format fits, the date does not exist or its year is
 *   outside 2000-2030.
 */
export function parseReceiptDate(text: string): string | null {
  const s = text
    .trim()
    .replace(/^\((.*)\)$/, '$1')
    .trim();
  const date = orNull(() => parseDate(s, { order: 'DMY' }));
  if (date === null) return null;
  const year = Number(date.iso.slice(0, 4));
  return year >= RECEIPT_YEARS.min && year <= RECEIPT_YEARS.max ? date.iso : null;
}

/**
 * Parses a printed money amount (`31.00`, `RM 13.30`, `RM21.85`, `$8.20`, `1,234.50`, `-1.73`)
 * into integer cents with {@link parseAmount}; the receipts use a decimal point, so `,` only
 * groups thousands (`1,234` is 123400 cents) and a decimal comma (`12,50`) is not an amount.
 * @returns integer cents, or null when the text is not an amount.
 */
export function parseMoneyToCents(text: string): number | null {
  const amount = orNull(() => parseAmount(text, { decimalSeparator: '.', currency: 'MYR' }));
  return amount === null || amount.decimalSeparator === ',' ? null : amount.cents;
}

/**
 * Vendor id of a SROIE company: upper case, `&` → `AND`, dots and apostrophes dropped
 * (`D.I.Y.` → `DIY`), every other run of non-alphanumerics collapsed into one `-`.
 */
export function vendorSlug(company: string): string {
  const slug = company
    .toUpperCase()
    .replace(/&/g, ' AND ')
    .replace(/[.'’`]/g, '')
    .replace(/[^A-Z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return (slug || 'UNKNOWN').slice(0, 64).replace(/-+$/, '');
}

/**
 * Invoice-number labels, best first. The value follows on the same line (after `:`/`#`/`.`) or on
 * the next non-punctuation line.
 */
export const INVOICE_NUMBER_LABELS: ReadonlyArray<{ name: string; re: RegExp }> = [
  {
    name: 'INVOICE NO',
    re: /\b(?:CASH\s+|TAX\s+)?INV(?:OICE|OLCE|0ICE)?[\s.-]*(?:NO\b\.?|NUMBER|#)(?:\s*\/\s*DATE)?|\bTAXINV\s*:/i,
  },
  { name: 'BILL NO', re: /\b(?:CASH\s+)?BILL\s*(?:NO\b\.?|#)|\bC\.?B\s*#/i },
  { name: 'CASH BILL', re: /\bCASH\s+BILL\s*:/i },
  { name: 'RECEIPT NO', re: /\b(?:RECEIPT|RCPT)(?:\s*\/\s*TRX)?\s*(?:NO\b\.?|#|:)/i },
  { name: 'DOC NO', re: /\bDOC(?:UMENT)?[\s.]*(?:NO\b\.?|#)/i },
  { name: 'TRANS NO', re: /\b(?:TRANS(?:ACTION)?|TRX|TXN)[\s.]*(?:NO\b\.?|#)/i },
  { name: 'SALES NO', re: /\b(?:CASH\s+)?(?:SALES|SLIP)[\s.]*(?:NO\b\.?|#)/i },
  { name: 'CHECK NO', re: /\b(?:CHECK|CHK)\s*(?:NO\b\.?|#)/i },
  { name: 'ORDER NO', re: /\bORDER\s*(?:NO\b\.?|#)/i },
];

/** A plausible invoice number: 3-40 characters, at least 2 digits, not a date, time or amount. */
function cleanInvoiceNumber(raw: string): string | null {
  const token = raw
    .replace(/^[\s:#.-]+/, '')
    .replace(/-\s+(?=\d)/, '-') // "V042- 520388"
    .replace(/\(\d{1,2}\/\d{1,2}\/\d{2,4}\)$/, '')
    .split(/\s+/)[0];
  if (!token) return null;
  const value = token.replace(/[.,:;]+$/, '');
  if (value.length < 3 || value.length > 40) return null;
  if (!/^[A-Z0-9][A-Z0-9\-/_.#]*$/i.test(value)) return null;
  if ((value.match(/\d/g) ?? []).length < 2) return null;
  if (/^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$/.test(value) || /^\d{1,2}:\d{2}/.test(value)) return null;
  if (/^-?\d+\.\d{2}$/.test(value)) return null;
  return value.toUpperCase();
}

/** A line that is only a label (`DATE :`, `CASHIER:`), as in a block of labels printed before their values. */
const LABEL_ONLY = /^[A-Z][A-Z .()/]*:\s*$/i;

/**
 * The value of a label printed alone on its line: the next line, skipping a lone `:`, up to two
 * lines of text without digits, and a block of further labels (`INV NO: | DATE : | CS-SA-0130363`,
 * where the first value after the block belongs to the first label).
 */
function valueAfterLabel(lines: readonly string[], from: number): string | null {
  let i = from;
  while (i < lines.length && LABEL_ONLY.test(lines[i] ?? '')) i++;
  for (let tries = 0; i < lines.length && tries < 3; i++, tries++) {
    const c = lines[i] ?? '';
    if (/^[\s:#.]*$/.test(c)) continue;
    const value = cleanInvoiceNumber(c);
    if (value) return value;
    if (/\d/.test(c)) return null;
  }
  return null;
}

/**
 * Extracts the printed invoice/receipt number from OCR lines: the first line matching the best
 * label of {@link INVOICE_NUMBER_LABELS}, value on the same line or the next one or two lines.
 * @returns the number and the label that found it, or null.
 */
export function extractInvoiceNumber(lines: readonly string[]): { value: string; label: string } | null {
  for (const { name, re } of INVOICE_NUMBER_LABELS) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const m = re.exec(line);
      if (!m) continue;
      const rest = line.slice(m.index + m[0].length);
      const value = /^[\s:#.]*$/.test(rest) ? valueAfterLabel(lines, i + 1) : cleanInvoiceNumber(rest);
      if (value) return { value, label: name };
    }
  }
  return null;
}

// --- line items -------------------------------------------------------------------------------
