/**
 * Readers of CSV cells shared by the invoice and ERP file readers (bin/invoice-file.ts,
 * bin/erp-file.ts). A numeric cell becomes a number only when it is written in plain decimal
 * (`12`, `-3`, `2.5`); anything else (`0x10`, `1e3`, `12.50 USD`, `one`) stays text, so that the
 * schema check refuses it naming the field, which the readers map to the file line and column.
 */

const INT = /^-?\d+$/;
const NUM = /^-?\d+(\.\d+)?$/;

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
