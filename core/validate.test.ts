import { describe, expect, it } from 'vitest';
import { validateInvoice } from './validate.js';
import { isTriageError, type TriageError } from './errors.js';
import { makeInvoice } from '../test/fixtures.js';

function errorsOf(value: unknown): TriageError {
  try {
    validateInvoice(value);
  } catch (e) {
    if (isTriageError(e)) return e;
    throw e;
  }
  throw new Error('expected a validation error');
}

describe('validateInvoice', () => {
  it('accepts a valid invoice unchanged', () => {
    const inv = makeInvoice();
    expect(validateInvoice(inv)).toBe(inv);
  });

  it('names every bad field with a JSON pointer', () => {
    const bad = {
      ...makeInvoice(),
      currency: 'usd',
      total_cents: 12.5,
      invoice_date: '2025-02-30',
      colour: 'red',
    };
    const e = errorsOf(bad);
    expect(e.code).toBe('TRIAGE_INPUT_INVALID');
    expect(e.status).toBe(400);
    const paths = e.errors.map((x) => x.path);
    expect(paths).toEqual(expect.arrayContaining(['/currency', '/total_cents', '/invoice_date', '/colour']));
  });

  it('names missing required fields, nested ones included', () => {
    const inv = makeInvoice();
    const { name: _n, ...vendor } = inv.vendor;
    const e = errorsOf({ ...inv, vendor, lines: [{ ...inv.lines[0], quantity: undefined }] });
    const paths = e.errors.map((x) => x.path);
    expect(paths).toContain('/vendor/name');
    expect(paths).toContain('/lines/0/quantity');
  });

  it('rejects an empty line list and non-objects', () => {
    expect(errorsOf({ ...makeInvoice(), lines: [] }).errors.map((x) => x.path)).toContain('/lines');
    expect(errorsOf(null).code).toBe('TRIAGE_INPUT_INVALID');
    expect(errorsOf('invoice').code).toBe('TRIAGE_INPUT_INVALID');
  });

  it('applies cross-field rules: duplicate line numbers, period order, due date', () => {
    const inv = makeInvoice({
      service_period: { start: '2025-03-31', end: '2025-03-01' },
      due_date: '2025-02-01',
    });
    inv.lines[1]!.line_number = 1;
    const paths = errorsOf(inv).errors.map((x) => x.path);
    expect(paths).toEqual(['/lines/1/line_number', '/service_period/end', '/due_date']);
  });

  it('rejects money beyond the safe range and malformed NPIs', () => {
    const e = errorsOf({ ...makeInvoice(), total_cents: 1e16, vendor: { id: 'v', name: 'n', npi: '12345' } });
    expect(e.errors.map((x) => x.path)).toEqual(expect.arrayContaining(['/total_cents', '/vendor/npi']));
  });
});
