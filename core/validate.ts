/**
 * Validation of incoming invoices: the TypeBox schema first, then the cross-field rules a
 * schema cannot express. Used by the CLI directly; the API uses the same compiled schema.
 */
import { Compile } from 'typebox/compile';
import { Settings } from 'typebox/system';
import { Invoice, MAX_ABS_CENTS, MIN_ABS_QUANTITY, type DocumentType } from './invoice.js';
import { MAX_REPORTED_ERRORS, TriageError, type FieldError } from './errors.js';
import { currencyProblem } from './currency.js';
import { unitCodeOf } from './units.js';
import { DATE_RANGE, dateRangeError } from './date-range.js';
import { BLANK_TEXT, codePointEscape, isBlankText, printable, reorderingErrors } from './display-text.js';

export { DATE_RANGE, dateRangeError } from './date-range.js';
export {
  BLANK_TEXT,
  blankTextErrors,
  displayTextErrors,
  isBlankText,
  printable,
  reorderingErrors,
  TEXT_REORDERING,
} from './display-text.js';

// TypeBox stops collecting schema errors after 8 by default, so a batch of 12 bad invoices
// named only the first 8. Collect enough raw errors (a union reports one per option plus a
// summary, folded by toFieldErrors) to name every bad field up to MAX_REPORTED_ERRORS.
Settings.Set({ maxErrors: 10 * MAX_REPORTED_ERRORS });

const invoiceValidator = Compile(Invoice);

/** Shape of a schema error as TypeBox (and ajv) report it. */
export interface SchemaErrorLike {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/**
 * Turns schema errors into field errors whose `path` names the offending field, including
 * missing required properties (`/vendor/name`) and unexpected ones (`/lines/0/colour`).
 * Errors that only restate a child error (TypeBox's `additionalProperties` summary, `anyOf`
 * roll-ups) are dropped; duplicates are merged.
 */
export function toFieldErrors(errors: readonly SchemaErrorLike[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  const push = (path: string, message: string): void => {
    const key = `${path}\u0000${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ path: path === '' ? '/' : printable(path), message });
    }
  };
  // A union of literals reports one `const` error per option plus an `anyOf` summary:
  // fold them into one "must be one of" message per path.
  const allowed = new Map<string, string[]>();
  for (const e of errors) {
    if (e.keyword === 'const' && e.params && 'allowedValue' in e.params) {
      const path = prefix + (e.instancePath ?? '');
      allowed.set(path, [...(allowed.get(path) ?? []), String(e.params.allowedValue)]);
    }
  }
  for (const e of errors) {
    const base = prefix + (e.instancePath ?? '');
    const params = e.params ?? {};
    const options = allowed.get(base);
    if (options && (e.keyword === 'const' || e.keyword === 'anyOf')) {
      push(base, `must be one of: ${options.join(', ')}`);
    } else if (e.keyword === 'required') {
      const missing = (params.requiredProperties ?? params.missingProperty ?? []) as string[] | string;
      for (const name of Array.isArray(missing) ? missing : [missing]) push(`${base}/${name}`, 'is required');
    } else if (e.keyword === 'additionalProperties') {
      const extra = (params.additionalProperties ?? params.additionalProperty ?? []) as string[] | string;
      for (const name of Array.isArray(extra) ? extra : [extra])
        push(`${base}/${name}`, 'is not an allowed property');
    } else if (e.keyword === 'boolean' && e.message === 'schema is false') {
      push(base, 'is not an allowed property');
    } else {
      push(base, e.message ?? 'is invalid');
    }
  }
  return out;
}

/**
 * A control character (Unicode category Cc) other than tab, line feed and carriage return: C0
 * (BEL, backspace, ESC...), DEL and C1 (U+0080-U+009F; U+009B is a one-character escape sequence on
 * some terminals, and C1 in invoice text is CP1252 decoded as Latin-1 upstream). No invoice, vendor
 * or review text carries one, and echoed into a log, a terminal or a CSV export it rings, erases or
 * recolours what follows.
 */
// eslint-disable-next-line no-control-regex -- the control characters refused
const REFUSED_CONTROL = /[\u0001-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** Why a string is not accepted text, or undefined when it is. */
function unstorable(s: string): string | undefined {
  if (!s.isWellFormed()) return 'contains an unpaired surrogate (invalid Unicode)';
  if (s.includes('\u0000')) return 'contains a NUL character';
  const control = REFUSED_CONTROL.exec(s);
  if (control !== null)
    return `contains the control character ${codePointEscape(control[0])}: only tab, line feed and carriage return are allowed`;
  return undefined;
}

/**
 * Whether every string in the value, object keys included, is storable text: the walk of
 * {@link checkStrings} without building a path per value, so the usual valid body costs no
 * strings; a false sends the value through the walk that names each field.
 */
function allStorable(value: unknown): boolean {
  if (typeof value === 'string') return unstorable(value) === undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!allStorable(value[i])) return false;
    return true;
  }
  if (value !== null && typeof value === 'object') {
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      if (unstorable(k) !== undefined || !allStorable((value as Record<string, unknown>)[k])) return false;
    }
  }
  return true;
}

/**
 * Every string in the value, object keys included, must be storable text: well-formed UTF-16
 * (no lone surrogates) and without NUL characters, which PostgreSQL text and jsonb cannot hold,
 * nor other C0 control characters but tab, line feed and carriage return ({@link REFUSED_CONTROL}).
 * Errors are JSON pointers below `path` (property names {@link printable}), at most `max` of them.
 */
export function checkStrings(value: unknown, path: string, errors: FieldError[], max = 100): void {
  if (errors.length >= max || allStorable(value)) return;
  if (typeof value === 'string') {
    const why = unstorable(value);
    if (why !== undefined) errors.push({ path, message: why });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkStrings(v, `${path}/${i}`, errors, max));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const at = `${path}/${printable(k)}`;
      const why = unstorable(k);
      if (why !== undefined && errors.length < max)
        errors.push({ path: at, message: `property name ${why}` });
      checkStrings(v, at, errors, max);
    }
  }
}

/**
 * The sign convention of money by document type, the one declaration the rules below enforce. A
 * credit memo gives money back: its total, each line's amount and its tax are never positive
 * (intake gives a credit note arriving with positive amounts these signs). An invoice or debit
 * memo's tax is never negative, since total_cents = lines + tax_cents and a tax of the other sign
 * would let a wrong total pass the total check; its total and lines may be negative (an allowance
 * line; a negative total is routed to AP review).
 */
export const AMOUNT_SIGNS: Readonly<
  Record<
    DocumentType,
    { readonly refused: 'positive' | 'negative'; readonly amounts: readonly SignedAmount[] }
  >
> = {
  invoice: { refused: 'negative', amounts: ['tax_cents'] },
  debit_memo: { refused: 'negative', amounts: ['tax_cents'] },
  credit_memo: { refused: 'positive', amounts: ['total_cents', 'amount_cents', 'tax_cents'] },
};

/** An amount {@link AMOUNT_SIGNS} can bind: the total, each line's `amount_cents`, the tax. */
export type SignedAmount = 'total_cents' | 'amount_cents' | 'tax_cents';

const DOCUMENT_NAMES: Readonly<Record<DocumentType, string>> = {
  invoice: 'an invoice',
  debit_memo: 'a debit memo',
  credit_memo: 'a credit memo',
};

/** Field errors for the amounts of `inv` against {@link AMOUNT_SIGNS} (zero always passes). */
function signErrors(inv: Invoice): FieldError[] {
  const { refused, amounts } = AMOUNT_SIGNS[inv.document_type];
  const wrong = (cents: number | undefined): boolean =>
    cents !== undefined && (refused === 'positive' ? cents > 0 : cents < 0);
  const message = `must not be ${refused} on ${DOCUMENT_NAMES[inv.document_type]}`;
  const errors: FieldError[] = [];
  if (amounts.includes('total_cents') && wrong(inv.total_cents))
    errors.push({ path: '/total_cents', message });
  if (amounts.includes('amount_cents'))
    inv.lines.forEach((l, i) => {
      if (wrong(l.amount_cents)) errors.push({ path: `/lines/${i}/amount_cents`, message });
    });
  if (amounts.includes('tax_cents') && wrong(inv.tax_cents)) errors.push({ path: '/tax_cents', message });
  return errors;
}

/**
 * Message of a number written as a negative zero (`-0`, `-0.00`; a JSON literal or a document's
 * numeral): it reads as 0, so the sign the sender wrote would be dropped unseen.
 */
export const NEGATIVE_ZERO = 'is a negative zero; send 0';

/**
 * The field errors of a vendor master id beyond its schema ({@link VendorId} in core/invoice.ts):
 * storable text ({@link checkStrings}) and not blank ({@link isBlankText}), at `path`: what
 * {@link checkInvoiceRules} asks of an invoice's `/vendor/id`, asked of the vendor profile
 * routes' `/params/vendor_id`.
 */
export function vendorIdErrors(path: string, id: string): FieldError[] {
  const errors: FieldError[] = [];
  checkStrings(id, path, errors);
  if (errors.length === 0 && isBlankText(id)) errors.push({ path, message: BLANK_TEXT });
  if (errors.length === 0) errors.push(...vendorIdFormErrors(path, id));
  return errors;
}

/** The vendor id of an invoice, whose invisible characters {@link vendorIdFormErrors} refuses. */
const VENDOR_ID_POINTER: ReadonlySet<string> = new Set(['/vendor/id']);

/** Message of a vendor id with white space or an invisible character at either end. */
export const VENDOR_ID_EDGES = 'must not begin or end with white space or an invisible character';
/** Message of a vendor id holding a control character (a line break, a tab...). */
export const VENDOR_ID_CONTROL = 'must not contain control characters (line breaks, tabs...)';

/** Message of a vendor id holding an invisible formatting character inside. */
export const VENDOR_ID_INVISIBLE =
  'must not contain invisible formatting characters (zero-width characters, bidirectional controls such as U+202E, U+FEFF, variation selectors): such an id looks like another vendor id';

/** Message of a vendor id that is a URL dot segment (`.` or `..`). */
export const VENDOR_ID_DOT_SEGMENT =
  'must not be "." or "..": a URL path cannot carry it (clients resolve it as a directory step)';

/**
 * The form of a vendor master id, given it is not blank: no control character and nothing
 * blank ({@link isBlankText}) at either end, so `" V-100 "` and `"V-100\n"` are refused rather
 * than stored as vendors other than `V-100` (ids are compared as sent, never trimmed); no
 * invisible formatting character (Unicode Cf or default-ignorable) inside either, so
 * `"V-\u200d100"` (a zero-width joiner) and `"V-\u202e001"` (shown right to left as `V-100`) are
 * not vendors that read as `V-100`; and not
 * `.` or `..`, which no client can put in the path of `/v1/vendors/{vendor_id}` (URL parsers
 * resolve them, `%2E%2E` too, before sending). Other ids with `/`, `\` or `..` in them
 * (`ACME/EAST 01`) are fine: percent-encoded they are one path segment.
 */
function vendorIdFormErrors(path: string, id: string): FieldError[] {
  const errors: FieldError[] = [];
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(id)) errors.push({ path, message: VENDOR_ID_CONTROL });
  const chars = [...id];
  if (isBlankText(chars[0]!) || isBlankText(chars.at(-1)!)) errors.push({ path, message: VENDOR_ID_EDGES });
  if (/[\p{Cf}\p{Default_Ignorable_Code_Point}]/u.test(chars.slice(1, -1).join('')))
    errors.push({ path, message: VENDOR_ID_INVISIBLE });
  if (id === '.' || id === '..') errors.push({ path, message: VENDOR_ID_DOT_SEGMENT });
  return errors;
}

/** Message of an invoice number without an ASCII letter or digit ({@link hasInvoiceNumberCharacter}). */
export const INVOICE_NUMBER_CHARACTERS =
  'must contain at least one ASCII letter or digit (A-Z, a-z, 0-9), full-width forms included (NFKC)';

/**
 * Whether an invoice number holds a letter or digit: an ASCII one (A-Z, a-z, 0-9) once the text
 * is NFKC-normalised, the form features/invoice-number.ts compares, so a number typed on an
 * East Asian IME in full-width form ("ＩＮＶ－００１２３" = "INV-00123") passes, while one of
 * only punctuation, symbols, control or blank characters does not. The raw text is stored as
 * given.
 */
export function hasInvoiceNumberCharacter(invoiceNumber: string): boolean {
  return /[A-Za-z0-9]/.test(invoiceNumber.normalize('NFKC'));
}

/**
 * The required free-text fields of an invoice as `[JSON pointer, text]`; the invoice number has
 * its stricter rule ({@link INVOICE_NUMBER_CHARACTERS}).
 */
function requiredTexts(inv: Invoice): [string, string][] {
  return [
    ['/vendor/id', inv.vendor.id],
    ['/vendor/name', inv.vendor.name],
    ...inv.lines.map((l, i): [string, string] => [`/lines/${i}/description`, l.description]),
  ];
}

/**
 * Cross-field rules a schema cannot express: storable text, an accepted ISO 4217 currency
 * (core/currency.ts: active, with a minor unit), dates within
 * {@link DATE_RANGE}, required texts not blank ({@link isBlankText}), an invoice number with at
 * least one ASCII letter or digit after NFKC ({@link hasInvoiceNumberCharacter}), each line's
 * quantity x unit price and the sum of |line amounts| within the money limit ({@link MAX_ABS_CENTS}),
 * each line's quantity 0 or at least {@link MIN_ABS_QUANTITY} in absolute value, each line's unit
 * of measure in the unit table
 * of core/units.ts (the ERP records' table), unique line numbers, extraction confidence
 * naming existing lines, service period, due date and received date ordering, and amounts with
 * the sign of the document ({@link AMOUNT_SIGNS}).
 * @param today the receiving service's day (`YYYY-MM-DD`, its clock): when given, a
 *   `received_date` later than the next day is refused (one day of slack for time zones), and
 *   so is an `invoice_date` later than the next day when `received_date` is absent (it defaults
 *   to today, which must not be before the invoice date).
 * @returns field errors; empty when the invoice is consistent.
 */
export function checkInvoiceRules(inv: Invoice, today?: string): FieldError[] {
  const errors: FieldError[] = [];
  checkStrings(inv, '', errors);
  const currency = currencyProblem(inv.currency);
  if (currency !== undefined) errors.push({ path: '/currency', message: currency });
  for (const [path, text] of requiredTexts(inv))
    if (isBlankText(text)) errors.push({ path, message: BLANK_TEXT });
  // As for a vendor route's id (vendorIdErrors): the form is checked once the text is accepted.
  if (!isBlankText(inv.vendor.id) && !errors.some((e) => e.path === '/vendor/id'))
    errors.push(...vendorIdFormErrors('/vendor/id', inv.vendor.id));
  errors.push(...reorderingErrors(inv, '', VENDOR_ID_POINTER));
  if (!hasInvoiceNumberCharacter(inv.invoice_number)) {
    errors.push({ path: '/invoice_number', message: INVOICE_NUMBER_CHARACTERS });
  }
  const dates: [string, string | undefined][] = [
    ['/invoice_date', inv.invoice_date],
    ['/due_date', inv.due_date],
    ['/received_date', inv.received_date],
    ['/service_period/start', inv.service_period?.start],
    ['/service_period/end', inv.service_period?.end],
    ...inv.lines.map((l, i): [string, string | undefined] => [`/lines/${i}/service_date`, l.service_date]),
  ];
  for (const [path, d] of dates) {
    const e = dateRangeError(path, d);
    if (e) errors.push(e);
  }
  inv.lines.forEach((line, i) => {
    // The unit table the ERP records are checked against: a unit outside it could never be
    // compared with the PO line's and would only hold the invoice as a unit mismatch.
    if (line.uom !== undefined && unitCodeOf(line.uom) === undefined)
      errors.push({
        path: `/lines/${i}/uom`,
        message: `unit of measure ${line.uom} is not in the unit table (EA, BX, CS, PK, ...)`,
      });
    // The extended amount must fit the money limit too: it is compared with amount_cents, and
    // gaps of 10^19 cents overflow the store's bigint columns.
    if (Math.abs(line.quantity * line.unit_price_cents) > MAX_ABS_CENTS)
      errors.push({
        path: `/lines/${i}/unit_price_cents`,
        message: `times quantity must be within ±${MAX_ABS_CENTS} cents`,
      });
    if (line.quantity !== 0 && Math.abs(line.quantity) < MIN_ABS_QUANTITY)
      errors.push({
        path: `/lines/${i}/quantity`,
        message: `must be 0 or at least ${MIN_ABS_QUANTITY} in absolute value`,
      });
  });
  // Each amount is within the limit, but their sum feeds the priority and the stored totals.
  if (inv.lines.reduce((sum, l) => sum + Math.abs(l.amount_cents), 0) > MAX_ABS_CENTS)
    errors.push({
      path: '/lines',
      message: `the sum of |amount_cents| must be within ${MAX_ABS_CENTS} cents`,
    });
  errors.push(...signErrors(inv));
  const seen = new Map<number, number>();
  inv.lines.forEach((line, i) => {
    const first = seen.get(line.line_number);
    if (first !== undefined) {
      errors.push({ path: `/lines/${i}/line_number`, message: `duplicates line_number of /lines/${first}` });
    } else {
      seen.set(line.line_number, i);
    }
  });
  const lineNumbers = new Set(inv.lines.map((l) => l.line_number));
  const confidenceOf = new Map<number, number>();
  inv.extraction?.lines?.forEach((c, i) => {
    const first = confidenceOf.get(c.line_number);
    if (!lineNumbers.has(c.line_number))
      errors.push({ path: `/extraction/lines/${i}/line_number`, message: 'names no line of the invoice' });
    else if (first !== undefined)
      errors.push({
        path: `/extraction/lines/${i}/line_number`,
        message: `duplicates line_number of /extraction/lines/${first}`,
      });
    else confidenceOf.set(c.line_number, i);
  });
  if (inv.service_period && inv.service_period.end < inv.service_period.start) {
    errors.push({ path: '/service_period/end', message: 'must not be before service_period.start' });
  }
  if (inv.due_date && inv.due_date < inv.invoice_date) {
    errors.push({ path: '/due_date', message: 'must not be before invoice_date' });
  }
  // The SLA clock starts at received_date: a date before the invoice existed would age the item
  // by decades and put it first in the worklist.
  if (inv.received_date && inv.received_date >= DATE_RANGE.min && inv.received_date < inv.invoice_date) {
    errors.push({ path: '/received_date', message: 'must not be before invoice_date' });
  }
  const latest = today === undefined ? undefined : latestPastDay(today);
  if (inv.received_date && latest !== undefined && inv.received_date > latest) {
    errors.push({
      path: '/received_date',
      message: `must not be after ${latest} (the service's today plus one day)`,
    });
  }
  // Without received_date the invoice is received today: an invoice dated after the latest
  // received date accepted would start its SLA clock before it existed, as an explicit one
  // before invoice_date would (refused above).
  if (!inv.received_date && latest !== undefined && inv.invoice_date > latest) {
    errors.push({
      path: '/invoice_date',
      message: `must not be after ${latest} (the service's today plus one day): received_date defaults to today and must not be before invoice_date`,
    });
  }
  return errors;
}

/**
 * The latest date a record may give for something that has already happened (an invoice
 * received, goods received), given the service's `today` (`YYYY-MM-DD`, UTC calendar): the day
 * after it, one day of slack for clocks and time zones ahead of UTC.
 */
export function latestPastDay(today: string): string {
  return new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Whether `value` has the {@link Invoice} schema's shape (the rules of {@link checkInvoiceRules} aside). */
export function isInvoiceShaped(value: unknown): value is Invoice {
  return invoiceValidator.Check(value);
}

/**
 * Validates an unknown value as an {@link Invoice}.
 * @returns the same value, typed.
 * @throws TriageError `TRIAGE_INPUT_INVALID` (400) listing every bad field.
 */
export function validateInvoice(value: unknown, prefix = ''): Invoice {
  if (!invoiceValidator.Check(value)) {
    const errors = toFieldErrors(invoiceValidator.Errors(value) as SchemaErrorLike[], prefix);
    throw new TriageError('TRIAGE_INPUT_INVALID', describeFieldErrors(errors), errors);
  }
  const rules = checkInvoiceRules(value).map((e) => ({ ...e, path: prefix + e.path }));
  if (rules.length > 0) throw new TriageError('TRIAGE_INPUT_INVALID', describeFieldErrors(rules), rules);
  return value;
}

/**
 * The `detail` of a 400 listing field errors: `2 fields invalid: /currency (XAU) is ...;
 * /due_date must not be before invoice_date` (the first three, `; ...` after them). One wording
 * for schema and rule errors on every route.
 */
export function describeFieldErrors(errors: readonly FieldError[]): string {
  const n = errors.length;
  const head = errors
    .slice(0, 3)
    .map((e) => `${e.path} ${e.message}`)
    .join('; ');
  return `${n} field${n === 1 ? '' : 's'} invalid: ${head}${n > 3 ? '; ...' : ''}`;
}
