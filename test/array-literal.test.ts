/**
 * Array parameters written by store/array-literal.ts are the text the `pg` driver wrote for them
 * (its `prepareValue`), byte for byte: strings with quotes, backslashes, braces, commas, NUL,
 * lone surrogates and 4-byte characters, numbers (-0, NaN, Infinity, exponents), bigints,
 * booleans, null and undefined (holes too); arrays holding anything else are left to the driver.
 * On PostgreSQL, a statement given arrays of such strings reads back the elements it was given.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrayLiteral, withArrayLiterals } from '../store/array-literal.js';
import { engines } from './fixtures.js';
import { useDatabase } from './harness.js';

/** The driver's own conversion of a parameter (`pg/lib/utils.js`, untyped). */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue: (v: unknown) => unknown;
};

const element = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({
    unit: fc.constantFrom('"', '\\', '{', '}', ',', ' ', 'a', 'NULL', '\u0000', '\ud800', '\u{1f9fe}'),
  }),
  fc.double(),
  fc.integer(),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);

describe('arrayLiteral', () => {
  it("is the driver's array text for strings, numbers, bigints, booleans and nulls", () => {
    const sparse: unknown[] = ['a'];
    sparse[3] = 'b"\\';
    for (const v of [[], [''], ['NULL'], [-0, NaN, -Infinity, 1e21, 5e-324], sparse, [true, false, 10n]])
      expect(arrayLiteral(v)).toBe(prepareValue(v));
    fc.assert(
      fc.property(fc.array(element, { maxLength: 12 }), (v) => {
        expect(arrayLiteral(v)).toBe(prepareValue(v));
      }),
      { seed: 20261207, numRuns: 2000 },
    );
  });

  it('leaves arrays of other values, and other parameters, to the driver', () => {
    const others = [
      ['a', ['b']],
      [new Date(0)],
      [Buffer.from('x')],
      [{ a: 1 }],
      ['a', { toPostgres: () => 'x' }],
    ];
    for (const v of others) expect(arrayLiteral(v)).toBe(v);
    const params = ['text', 3, null, Buffer.from('y'), ['a', 'b"'], [[1]]];
    const out = withArrayLiterals(params);
    expect(out.map((v) => prepareValue(v))).toEqual(params.map((v) => prepareValue(v)));
    expect(out[4]).toBe('{"a","b\\""}');
  });
});

describe.each(engines('arrlit').filter((e) => e.name === 'postgres'))(
  'array parameters on $name',
  ({ config }) => {
    const database = useDatabase(config());

    it('reads back the elements it was given', async () => {
      const texts = [
        'plain',
        'quote " and \\ backslash',
        '{brace},comma',
        'NULL',
        '',
        ' spaced ',
        '\u{1f9fe} é',
        null,
      ];
      const [r] = await database().query<{ t: (string | null)[]; n: string[]; b: boolean[] }>(
        `SELECT $1::text[] AS t, $2::numeric[]::text[] AS n, $3::boolean[] AS b`,
        [texts, [-0, 1.5, 1e21, 12345678901234567890n], [true, false]],
        { name: 'array_literal_test' },
      );
      expect(r!.t).toEqual(texts);
      expect(r!.n).toEqual(['0', '1.5', '1000000000000000000000', '12345678901234567890']);
      expect(r!.b).toEqual([true, false]);
    });
  },
);
