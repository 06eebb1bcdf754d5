/**
 * Readers of CSV cells shared by the invoice and ERP file readers (bin/invoice-file.ts,
 * bin/erp-file.ts). A numeric cell becomes a number only when it is written in plain decimal
 * (`12`, `-3`, `2.5`); anything else (`0x10`, `1e3`, `12.50 USD`, `one`) stays text: the invoice
 * reader refuses it by line and column saying what the column takes ({@link cellNumberError}), the
 * ERP reader's schema check naming the field, which it maps to the file line and column.
 */

const INT = /^-?\d+$/;
const NUM = /^-?\d+(\.\d+)?$/;

/** What an integer cell must be, said when one is not ({@link cellNumberError}). */
export const INT_CELL = 'a whole number (digits with an optional leading minus, e.g. 1875 or -5)';
/** What a decimal cell must be, said when one is not ({@link cellNumberError}). */
export const NUM_CELL =
  'a plain decimal number (digits with an optional leading minus and one decimal point, e.g. 100, 2.5 or -1; no exponent such as 1e2, unit, digit grouping or decimal comma)';

/**
 * Why a numeric cell is not read as a number, or null when it is blank or reads: `is not` the
 * form {@link INT_CELL} or {@link NUM_CELL} states, with the text as written.
 */
export function cellNumberError(v: string | undefined, kind: 'int' | 'num'): string | null {
  const s = textCell(v);
  if (s === undefined || (kind === 'int' ? INT : NUM).test(s)) return null;
  return `${JSON.stringify(s)} is not ${kind === 'int' ? INT_CELL : NUM_CELL}`;
}

/** The trimmed cell, or undefined when it is missing or blank. */
export const textCell = (v: string | undefined): string | undefined =>
  v === undefined || v.trim() === '' ? undefined : v.trim();

/** An integer cell (`-?digits`) as a number; other text as it is; blank as undefined. */
export const intCell = (v: string | undefined): number | string | undefined => {
  const s = textCell(v);
  return s !== undefined && INT.test(s) ? Number(s) : s;
};

/** A decimal cell (`-?digits[.digits]`) as a number; other text as it is; blank as undefined. */
export const numCell = (v: string | undefined): number | string | undefined => {
  const s = textCell(v);
  return s !== undefined && NUM.test(s) ? Number(s) : s;
};
