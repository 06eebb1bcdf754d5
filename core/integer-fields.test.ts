import { describe, expect, it } from 'vitest';
import Type from 'typebox';
import { parseJsonText } from '../api/body/json.js';
import { TriageError } from './errors.js';
import { Invoice } from './invoice.js';
import { integerFieldAt, integerFieldsOf, type IntegerFields } from './integer-fields.js';

/** Whether the place at `path` (property names and array indexes) of `schema` must be an integer. */
function integerAt(schema: unknown, ...path: (string | number)[]): boolean {
  let at: IntegerFields | undefined = integerFieldsOf(schema);
  for (const k of path) at = at && integerFieldAt(at, k);
  return at?.integer === true;
}

/** The field errors `parseJsonText(text, schema)` throws, or [] when it parses. */
function refusals(text: string, schema: unknown = Invoice): { path: string; message: string }[] {
  try {
    parseJsonText(text, schema);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(TriageError);
    return (e as TriageError).errors;
  }
}

describe('integerFieldsOf', () => {
  it("reads the invoice schema's integer places, cents and counts, and no number field", () => {
    expect(integerAt(Invoice, 'total_cents')).toBe(true);
    expect(integerAt(Invoice, 'lines', 7, 'unit_price_cents')).toBe(true);
    expect(integerAt(Invoice, 'lines', 0, 'line_number')).toBe(true);
    expect(integerAt(Invoice, 'payment_terms', 'net_days')).toBe(true);
    expect(integerAt(Invoice, 'lines', 0, 'quantity')).toBe(false);
    expect(integerAt(Invoice, 'payment_terms', 'discount_percent')).toBe(false);
    // The extractor's confidence of total_cents is a number in [0, 1].
    expect(integerAt(Invoice, 'extraction', 'fields', 'total_cents')).toBe(false);
    expect(integerAt(Invoice, 'vendor', 'id')).toBe(false);
  });

  it('follows unions, records, tuples and intersections', () => {
    const s = Type.Object({
      nullable: Type.Union([Type.Integer(), Type.Null()]),
      either: Type.Union([Type.Integer(), Type.Number()]),
      counts: Type.Record(Type.String(), Type.Integer()),
      pair: Type.Tuple([Type.Integer(), Type.Number()]),
      both: Type.Intersect([Type.Object({ a: Type.Integer() }), Type.Object({ b: Type.Number() })]),
    });
    expect(integerAt(s, 'nullable')).toBe(true);
    expect(integerAt(s, 'either')).toBe(false);
    expect(integerAt(s, 'counts', 'anything')).toBe(true);
    expect(integerAt(s, 'pair', 0)).toBe(true);
    expect(integerAt(s, 'pair', 1)).toBe(false);
    expect(integerAt(s, 'both', 'a')).toBe(true);
    expect(integerAt(s, 'both', 'b')).toBe(false);
    expect(integerFieldsOf(Type.Object({ q: Type.Number(), s: Type.String() }))).toBeUndefined();
    expect(integerFieldsOf(undefined)).toBeUndefined();
  });
});

describe('parseJsonText with a schema', () => {
  it('refuses a fraction or exponent in an integer place, naming each', () => {
    const lines = '[{"quantity":2.5,"unit_price_cents":12.50,"amount_cents":-3.125e3}]';
    expect(refusals(`{"total_cents":215.00,"lines":${lines}}`).map((e) => e.path)).toEqual([
      '/total_cents',
      '/lines/0/unit_price_cents',
      '/lines/0/amount_cents',
    ]);
    for (const raw of ['215.5', '2.15e4', '2E2', '-0.0', '1e-400', '215.0'])
      expect(refusals(`{"tax_cents":${raw}}`), raw).toEqual([
        {
          path: '/tax_cents',
          message: 'is in cents and must be written as an integer numeral (e.g. 1250, not 12.50 or 1.25e3)',
        },
      ]);
  });

  it('accepts integers, fractions in number places and cents-looking text in strings and keys', () => {
    expect(refusals('{"total_cents":215,"tax_cents":-215,"lines":[{"quantity":2.5e0}]}')).toEqual([]);
    expect(refusals('{"description":"\\"total_cents\\":12.50","total_cents":1}')).toEqual([]);
    expect(refusals('{"extraction":{"fields":{"total_cents":0.93},"lines":[{"amount_cents":0.5}]}}')).toEqual(
      [],
    );
    // Without a schema, as for a FHIR document, nothing is an integer place.
    expect(refusals('{"total_cents":215.00}', null)).toEqual([]);
  });

  it('names an escaped key by its value, and still refuses a negative zero integer', () => {
    expect(refusals('{"total\\u005fcents":1.0}').map((e) => e.path)).toEqual(['/total_cents']);
    expect(refusals('{"total_cents":-0}')).toEqual([
      { path: '/total_cents', message: 'is a negative zero; send 0' },
    ]);
  });

  it('lists at most 100 fields and says how many there are', () => {
    const lines = Array.from({ length: 60 }, () => '{"unit_price_cents":1.0,"amount_cents":1.0}').join(',');
    try {
      parseJsonText(`{"lines":[${lines}]}`, Invoice);
      expect.unreachable();
    } catch (e) {
      expect((e as TriageError).code).toBe('TRIAGE_INPUT_INVALID');
      expect((e as TriageError).errors).toHaveLength(100);
      expect((e as TriageError).message).toMatch(/^120 fields invalid; the first 100 are listed/);
    }
  });
});
