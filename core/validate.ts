/**
 * Validation of incoming invoices: the TypeBox schema first, then the cross-field rules a
 * schema cannot express. Used by the CLI directly; the API uses the same compiled schema.
 */
import { Compile } from 'typebox/compile';
import { Invoice } from './invoice.js';
import { TriageError, type FieldError } from './errors.js';

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
      out.push({ path: path === '' ? '/' : path, message });
    }
  };
  for (const e of errors) {
    const base = prefix + (e.instancePath ?? '');
    const params = e.params ?? {};
    if (e.keyword === 'required') {
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
  // A property reported as "not allowed" needs no second message from a nested check.
  return out;
}

/**
 * Cross-field rules: unique line numbers, service period and due date ordering.
 * @returns field errors; empty when the invoice is consistent.
 */
export function checkInvoiceRules(inv: Invoice): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<number, number>();
  inv.lines.forEach((line, i) => {
    const first = seen.get(line.line_number);
    if (first !== undefined) {
      errors.push({ path: `/lines/${i}/line_number`, message: `duplicates line_number of /lines/${first}` });
    } else {
      seen.set(line.line_number, i);
    }
  });
  if (inv.service_period && inv.service_period.end < inv.service_period.start) {
    errors.push({ path: '/service_period/end', message: 'must not be before service_period.start' });
  }
  if (inv.due_date && inv.due_date < inv.invoice_date) {
    errors.push({ path: '/due_date', message: 'must not be before invoice_date' });
  }
  return errors;
}

/**
 * Validates an unknown value as an {@link Invoice}.
 * @returns the same value, typed.
 * @throws TriageError `TRIAGE_INPUT_INVALID` (400) listing every bad field.
 */
export function validateInvoice(value: unknown, prefix = ''): Invoice {
  if (!invoiceValidator.Check(value)) {
    const errors = toFieldErrors(invoiceValidator.Errors(value) as SchemaErrorLike[], prefix);
    throw new TriageError('TRIAGE_INPUT_INVALID', describe(errors), errors);
  }
  const rules = checkInvoiceRules(value).map((e) => ({ ...e, path: prefix + e.path }));
  if (rules.length > 0) throw new TriageError('TRIAGE_INPUT_INVALID', describe(rules), rules);
  return value;
}

function describe(errors: FieldError[]): string {
  const n = errors.length;
  const head = errors
    .slice(0, 3)
    .map((e) => `${e.path} ${e.message}`)
    .join('; ');
  return `${n} field${n === 1 ? '' : 's'} invalid: ${head}${n > 3 ? '; ...' : ''}`;
}
