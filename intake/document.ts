/**
 * What every intake adapter shares: the result shape, the per-document money and quantity
 * readers (decimal separator detected once per document, integer cents without floats), and
 * the final validation of each converted invoice against the canonical schema, naming the
 * source location of a bad invoice.
 */
import { createHash } from 'node:crypto';
import { TriageError, isTriageError, type FieldError } from '../core/errors.js';
import type { Invoice, InvoiceSource, SourceFormat } from '../core/invoice.js';
import { validateInvoice } from '../core/validate.js';
import { detectDecimalSeparator, parseAmount } from '../features/amount.js';

/** An invoice converted from a document, not yet validated, with where it came from. */
export interface ConvertedInvoice {
  /** Canonical invoice candidate (validated by {@link finishDocument}). */
  invoice: Record<string, unknown>;
  /** Human locator of the invoice in the document, e.g. `ST02 0001 (segment 3)`, `/entry/2/resource`. */
  location: string;
  /** `source.document_ref` recorded on the invoice. */
  documentRef: string;
}

/** Largest source document accepted by the adapters, bytes (the API's body limits are lower). */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

/** sha256 (hex) of a document's bytes (a string is hashed as UTF-8). */
export function documentSha256(doc: string | Uint8Array): string {
  return createHash('sha256').update(doc).digest('hex');
}

/** A 400 naming one place in the source document (segment/element, XPath or JSON pointer). */
export function documentError(format: SourceFormat, path: string, message: string): TriageError {
  return new TriageError('TRIAGE_INPUT_INVALID', `${format} document invalid: ${path} ${message}`, [
    { path, message },
  ]);
}

/** Reads money and quantity texts of one document with the decimal separator it uses. */
export interface DocumentNumbers {
  /** The separator read as the decimal point in this document (`.` when no value decides). */
  readonly decimalSeparator: '.' | ',';
  /**
   * A money text (`"27,80"`, `"1.234,56"`, `"1,234.56"`, `"-8.20"`) as integer cents.
   * @throws TriageError `TRIAGE_INPUT_INVALID` naming `path` when it is not an amount.
   */
  cents(text: string, path: string): number;
  /**
   * A quantity text (`"2"`, `"1.5"`, `"1,5"` in a comma document) as a number of units.
   * @throws TriageError `TRIAGE_INPUT_INVALID` naming `path` when it is not a number.
   */
  quantity(text: string, path: string): number;
}

/**
 * Money and quantity readers for one document. `moneyTexts` are all its money texts: the
 * separator is the one its unambiguous values agree on (`"27,80"` -> `,`), so `"1,234"` in a
 * document that also has `"27,80"` reads as 1.234 euros, in a `.` document as 1234.00.
 */
export function documentNumbers(format: SourceFormat, moneyTexts: Iterable<string>): DocumentNumbers {
  const decimalSeparator = detectDecimalSeparator(moneyTexts) ?? '.';
  const group = decimalSeparator === '.' ? ',' : '.';
  return {
    decimalSeparator,
    cents(text, path) {
      try {
        return parseAmount(text, { decimalSeparator }).cents;
      } catch (e) {
        if (isTriageError(e))
          throw documentError(format, path, `is not an amount (${e.message.replace(/^.*?: /, '')})`);
        throw e;
      }
    },
    quantity(text, path) {
      const t = text.trim();
      const ok = new RegExp(`^-?\\d{1,7}(\\${group}\\d{3})*(\\${decimalSeparator}\\d{1,6})?$`).test(t);
      if (!ok) throw documentError(format, path, 'is not a quantity (digits, optional decimals)');
      return Number(t.replaceAll(group, '').replace(decimalSeparator, '.'));
    },
  };
}

/**
 * Validates each converted invoice (schema and rules of core/validate.ts) and stamps its
 * `source`. All or nothing: one bad invoice rejects the document.
 * @throws TriageError `TRIAGE_INPUT_INVALID` listing the bad fields as canonical JSON pointers,
 *   each message prefixed with the invoice's source location (`ST02 0002 (segment 9): ...`).
 */
export function finishDocument(
  format: SourceFormat,
  sha256: string,
  converted: readonly ConvertedInvoice[],
): Invoice[] {
  if (converted.length === 0) throw documentError(format, '/', 'carries no invoice');
  const errors: FieldError[] = [];
  const out: Invoice[] = [];
  for (const c of converted) {
    const source: InvoiceSource = { format, sha256, document_ref: c.documentRef };
    try {
      out.push(validateInvoice({ ...c.invoice, source }));
    } catch (e) {
      if (!isTriageError(e)) throw e;
      for (const fe of e.errors) errors.push({ path: fe.path, message: `${c.location}: ${fe.message}` });
    }
  }
  if (errors.length > 0)
    throw new TriageError(
      'TRIAGE_INPUT_INVALID',
      `${format} document converts to an invalid invoice: ${errors
        .slice(0, 3)
        .map((e) => `${e.path} ${e.message}`)
        .join('; ')}`,
      errors,
    );
  return out;
}

/** `YYYYMMDD` or `YYYY-MM-DD[Thh:mm...]` as `YYYY-MM-DD`, or the text unchanged (then validation names it). */
export function isoDate(text: string): string {
  const t = text.trim();
  if (/^\d{8}$/.test(t)) return `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}`;
  if (/^\d{4}-\d{2}-\d{2}(T.*)?$/.test(t)) return t.slice(0, 10);
  return t;
}

/** Drops `undefined` members (optional canonical fields the document did not carry). */
export function defined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * A credit memo arriving with positive amounts (UBL CreditNote, X12 BIG07 `CR`) in the canonical
 * sign convention: total, line amounts and quantities negative, unit prices positive.
 */
export function creditSigns(invoice: Record<string, unknown>): void {
  if (invoice.document_type !== 'credit_memo' || typeof invoice.total_cents !== 'number') return;
  if (invoice.total_cents <= 0) return;
  const negative = (x: number): number => (x === 0 ? 0 : -Math.abs(x));
  invoice.total_cents = negative(invoice.total_cents);
  for (const l of invoice.lines as Record<string, unknown>[]) {
    if (typeof l.amount_cents === 'number') l.amount_cents = negative(l.amount_cents);
    if (typeof l.quantity === 'number') l.quantity = negative(l.quantity);
  }
}
