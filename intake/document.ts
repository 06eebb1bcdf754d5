/**
 * What every intake adapter shares: the result shape, the per-document money and quantity
 * readers (decimal separator detected once per document, integer cents without floats), and
 * the final validation of each converted invoice against the canonical schema, naming the
 * source location of a bad invoice.
 */
import { createHash } from 'node:crypto';
import { MAX_REPORTED_ERRORS, TriageError, isTriageError, type FieldError } from '../core/errors.js';
import type { Invoice, InvoiceSource, SourceFormat } from '../core/invoice.js';
import { NEGATIVE_ZERO, validateInvoice } from '../core/validate.js';
import { currencyExponent, digitsBelowMinorUnit, parseAmount } from '../features/amount.js';

/** An invoice converted from a document, not yet validated, with where it came from. */
export interface ConvertedInvoice {
  /** Canonical invoice candidate (validated by {@link finishDocument}). */
  invoice: Record<string, unknown>;
  /** Human locator of the invoice in the document, e.g. `ST02 0001 (segment 3)`, `/entry/2/resource`. */
  location: string;
  /** `source.document_ref` recorded on the invoice. */
  documentRef: string;
  /**
   * Where each canonical field was read: canonical JSON pointer (`/lines/0/quantity`) -> source
   * path (`/segments/12/IT102`, `/entry/2/resource/lineItem/0/priceComponent/0/factor`,
   * `/Invoice/cac:InvoiceLine[1]/cbc:InvoicedQuantity`). The key `''` is the invoice itself
   * (its ST segment, Bundle entry or root element), the fallback of every unmapped field.
   */
  sources: ReadonlyMap<string, string>;
}

/** Builds the {@link ConvertedInvoice.sources} map of one invoice while an adapter reads it. */
export class SourceMap {
  readonly map = new Map<string, string>();
  /** @param root source path of the invoice itself. */
  constructor(root: string) {
    this.map.set('', root);
  }
  /** Records that canonical `pointer` was read at `source` (the first record of a pointer wins). */
  mark(pointer: string, source: string): void {
    if (!this.map.has(pointer)) this.map.set(pointer, source);
  }
}

/**
 * The source path of a canonical pointer: that of the pointer itself or of its nearest
 * recorded parent (`/lines/0/code/value` -> the code's element), else the invoice's own.
 */
export function sourceOf(sources: ReadonlyMap<string, string>, pointer: string): string {
  for (let p = pointer; ; p = p.slice(0, p.lastIndexOf('/'))) {
    const found = sources.get(p);
    if (found !== undefined) return found;
    if (p === '') return '/';
  }
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

/**
 * How every error names one invoice of a document: `invoice 2 of 3 (ST02 0002 (segment 10))`,
 * `invoice 2 of 2 (/entry/1/resource)`. `index` is 0-based; `total` null: the document broke
 * before its invoices could be counted (`invoice 2 (...)`).
 */
export function invoiceLabel(index: number, total: number | null, location: string): string {
  return `invoice ${index + 1}${total === null ? '' : ` of ${total}`} (${location})`;
}

/** An element-level failure of one invoice while its document was converted. */
export interface InvoiceFailure {
  /** The adapter's 400, whose paths are source locations. */
  error: TriageError;
  /** 0-based position of the invoice in the document. */
  index: number;
  /** {@link ConvertedInvoice.location} of the invoice. */
  location: string;
}

/**
 * The element-level 400 of the failed invoices of a document, each field error prefixed with
 * {@link invoiceLabel} as {@link finishDocument} names rule-level errors: `invoice 2 of 3 (ST02
 * 0002 (segment 11)), /segments/15/IT104 is not an amount`. Paths stay source locations. The
 * code of the first failure is kept; at most `MAX_REPORTED_ERRORS` field errors.
 */
export function invoicesError(
  format: SourceFormat,
  failures: readonly InvoiceFailure[],
  total: number | null,
): TriageError {
  const errors: FieldError[] = [];
  const heads: string[] = [];
  for (const f of failures) {
    const which = invoiceLabel(f.index, total, f.location);
    for (const fe of f.error.errors) errors.push({ path: fe.path, message: `${which}: ${fe.message}` });
    const first = f.error.errors[0];
    heads.push(first ? `${which}, ${first.path} ${first.message}` : `${which}: ${f.error.message}`);
  }
  const head = heads.slice(0, 3).join('; ');
  const detail =
    failures.length === 1 && failures[0]!.error.errors.length === 0
      ? head
      : `${format} document invalid: ${head}`;
  return new TriageError(failures[0]!.error.code, detail, errors.slice(0, MAX_REPORTED_ERRORS), {
    cause: failures[0]!.error,
  });
}

/** {@link invoicesError} of a single invoice (`total` null: the invoices were not counted). */
export function invoiceError(
  format: SourceFormat,
  e: TriageError,
  index: number,
  total: number | null,
  location: string,
): TriageError {
  return invoicesError(format, [{ error: e, index, location }], total);
}

/** Reads money and quantity texts of one document with the decimal separator it uses. */
export interface DocumentNumbers {
  /**
   * A money text in the format's form (`"27.80"`, `"-8.20"`, `".5"`) as integer minor units of
   * the document's currency (cents; whole yen for JPY, fils for KWD).
   * @throws TriageError `TRIAGE_INPUT_INVALID` naming `path` when it is not an amount, or has
   *   digits below the currency's minor unit (`"12.345"` in USD, `"1200.5"` in JPY).
   */
  cents(text: string, path: string): number;
  /**
   * An X12 N2 integer (implied two decimals: `"289850"` = 2898.50) as minor units of the
   * document's currency (JPY `"120000"` = 1200 yen; KWD `"123456"` = 1234560 fils).
   * @throws TriageError `TRIAGE_INPUT_INVALID` naming `path` when it is below the minor unit.
   */
  impliedTwoDecimals(n: number, path: string): number;
  /**
   * A quantity text in the format's form (`"2"`, `"1.5"`, `".5"`) as a number of units.
   * @throws TriageError `TRIAGE_INPUT_INVALID` naming `path` when it is not a number.
   */
  quantity(text: string, path: string): number;
}

/** The lexical form a format's numeric elements must have, checked before a value is read. */
export interface NumeralForm {
  readonly pattern: RegExp;
  /** What the refusal says the element is not (`is not <description>`). */
  readonly description: string;
}

/**
 * xsd:decimal (UBL amounts, quantities and measures): digits with one optional decimal point
 * and an optional sign; `47,66` or `1.234,56` is refused, never read with a detected separator.
 * The text is the element's whitespace-collapsed (trimmed) content.
 */
export const XSD_DECIMAL: NumeralForm = {
  pattern: /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/,
  description:
    'an xsd:decimal (digits, one optional decimal point, optional sign; no decimal comma or digit grouping)',
};

/**
 * An X12 R (decimal) element: digits with an optional leading minus sign and at most one decimal
 * point, nothing else (ASC X12 data element type R). A leading point (`.5`) is an R value; a
 * space (`" 18.75"`), digit grouping (`1,234.50`) or a decimal comma (`27,80`) is refused, never
 * read with a detected separator.
 */
export const X12_NUMERAL: NumeralForm = {
  pattern: /^-?(?:\d+(?:\.\d*)?|\.\d+)$/,
  description:
    'an X12 R number (digits, one optional decimal point, optional leading minus; no spaces, digit grouping or decimal comma)',
};

/**
 * Refuses a numeral written as a negative zero (`-0`, `-0.00`, `-.0`; an X12 N2 `-000`) at
 * `path`, as the JSON body refuses the literal `-0` ({@link NEGATIVE_ZERO}): it would be read as 0.
 * @throws TriageError `TRIAGE_INPUT_INVALID` naming `path`.
 */
export function refuseNegativeZero(format: SourceFormat, text: string, path: string): void {
  if (/^\s*-/.test(text) && !/[1-9]/.test(text)) throw documentError(format, path, NEGATIVE_ZERO);
}

/**
 * Money and quantity readers for one document whose numbers are written in `form` (checked on
 * every text read, refused at its path otherwise; every form has a point as its decimal
 * separator and no digit grouping). `currency` (ISO 4217; null: unknown, two decimals) sets the
 * minor unit of amounts.
 */
export function documentNumbers(
  format: SourceFormat,
  currency: string | null,
  form: NumeralForm,
): DocumentNumbers {
  const decimalSeparator = '.';
  // A text of the format's form, as the amount and quantity readers take it: the form allows a
  // leading `+` (xsd:decimal) and a trailing point (`18.`: xsd:decimal, X12 R), which those readers
  // do not, and both leave the value unchanged.
  const checkForm = (text: string, path: string): string => {
    if (!form.pattern.test(text)) throw documentError(format, path, `is not ${form.description}`);
    refuseNegativeZero(format, text, path);
    return text.replace(/^\+/, '').replace(/\.$/, '');
  };
  const exponent = currencyExponent(currency);
  const belowMinorUnit = (path: string): never => {
    throw documentError(
      format,
      path,
      `has digits below the minor unit of ${currency ?? 'the currency'} (${exponent} decimal${exponent === 1 ? '' : 's'}, ISO 4217); amounts are whole minor units`,
    );
  };
  return {
    impliedTwoDecimals(n, path) {
      if (exponent >= 2) return n * 10 ** (exponent - 2);
      const scale = 10 ** (2 - exponent);
      if (n % scale !== 0) belowMinorUnit(path);
      return n / scale;
    },
    cents(written, path) {
      const text = checkForm(written, path);
      let cents: number;
      try {
        cents = parseAmount(text, { decimalSeparator, ...(currency ? { currency } : {}) }).cents;
      } catch (e) {
        if (isTriageError(e))
          throw documentError(format, path, `is not an amount (${e.message.replace(/^.*?: /, '')})`);
        throw e;
      }
      // parseAmount rounds digits below the minor unit; a text that has them is refused instead.
      if (digitsBelowMinorUnit(text, decimalSeparator, currency) > 0) belowMinorUnit(path);
      return cents;
    },
    quantity(written, path) {
      const t = checkForm(written, path).trim();
      // A leading point is a number (`.5`: X12 R, xsd:decimal).
      if (!/^-?(?:\d{1,7}(?:\.\d{1,6})?|\.\d{1,6})$/.test(t))
        throw documentError(
          format,
          path,
          'is not a quantity (at most 7 digits before the decimal separator and 6 after it)',
        );
      return Number(t);
    },
  };
}

/**
 * Validates each converted invoice (schema and rules of core/validate.ts), checks that no two
 * carry the same `invoice_id`, and stamps each one's `source`. All or nothing: one bad invoice
 * rejects the document.
 * @throws TriageError `TRIAGE_INPUT_INVALID` whose paths are source locations (see
 *   {@link ConvertedInvoice.sources}: `/segments/14/IT102`), each message naming the invoice's
 *   place in the document and the canonical field (`invoice 2 of 3 (ST02 0002 (segment 9)),
 *   /lines/0/quantity: ...`).
 */
export function finishDocument(
  format: SourceFormat,
  sha256: string,
  converted: readonly ConvertedInvoice[],
): Invoice[] {
  if (converted.length === 0) throw documentError(format, '/', 'carries no invoice');
  const errors: FieldError[] = [];
  const out: Invoice[] = [];
  const firstOf = new Map<unknown, number>();
  const which = (i: number): string => invoiceLabel(i, converted.length, converted[i]!.location);
  converted.forEach((c, i) => {
    const bad = (pointer: string, message: string): void => {
      errors.push({
        path: sourceOf(c.sources, pointer),
        message: `${which(i)}, ${pointer || '/'}: ${message}`,
      });
    };
    const source: InvoiceSource = { format, sha256, document_ref: c.documentRef };
    try {
      out.push(validateInvoice({ ...c.invoice, source }));
    } catch (e) {
      if (!isTriageError(e)) throw e;
      for (const fe of e.errors) bad(fe.path, fe.message);
    }
    const id = c.invoice.invoice_id;
    const first = firstOf.get(id);
    if (first === undefined) firstOf.set(id, i);
    else bad('/invoice_id', `repeats the invoice_id of ${which(first)}`);
  });
  if (errors.length > 0)
    throw new TriageError(
      'TRIAGE_INPUT_INVALID',
      `${format} document converts to ${errors.length === 1 ? 'an invalid invoice' : 'invalid invoices'}: ${errors
        .slice(0, 3)
        .map((e) => `${e.path} ${e.message}`)
        .join('; ')}`,
      errors.slice(0, MAX_REPORTED_ERRORS),
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
 * The refusal of a document-level allowance on a credit memo (UBL `cac:AllowanceCharge` with
 * ChargeIndicator false, X12 `SAC*A`): the document's total is its lines plus its charges less
 * its allowances, all of it credited, so an allowance would be a positive line, which a credit
 * memo never has (core/validate.ts `AMOUNT_SIGNS`).
 */
export const CREDIT_MEMO_ALLOWANCE =
  'is an allowance on a credit memo: not supported (its lines are never positive); send the credit net of the allowance';

/**
 * A credit memo arriving with positive amounts (UBL CreditNote, X12 BIG07 `CR`) in the canonical
 * sign convention: total, tax, line amounts and quantities negative, unit prices positive.
 */
export function creditSigns(invoice: Record<string, unknown>): void {
  if (invoice.document_type !== 'credit_memo' || typeof invoice.total_cents !== 'number') return;
  if (invoice.total_cents <= 0) return;
  const negative = (x: number): number => (x === 0 ? 0 : -Math.abs(x));
  invoice.total_cents = negative(invoice.total_cents);
  if (typeof invoice.tax_cents === 'number') invoice.tax_cents = negative(invoice.tax_cents);
  for (const l of invoice.lines as Record<string, unknown>[]) {
    if (typeof l.amount_cents === 'number') l.amount_cents = negative(l.amount_cents);
    if (typeof l.quantity === 'number') l.quantity = negative(l.quantity);
  }
}
