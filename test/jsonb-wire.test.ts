/**
 * Documents sent as one jsonb array in binary form (store/jsonb-wire.ts `jsonbArrayValue`, the
 * batch scoring write's documents) are the bytes of the JSON text the write sent before
 * (`JSON.stringify(docs.map((d) => d ?? null))`) after jsonb's version byte, and both engines
 * store from them what they stored from that text: the same jsonb values, SQL NULL where a
 * document was null or undefined. The documents hold what a text encoding can get wrong: lone
 * surrogates (encoder only: jsonb refuses them), U+2028, 4-byte characters, control characters,
 * -0, large and tiny numbers, deep nesting, `undefined` members.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonbArrayValue } from '../store/jsonb-wire.js';
import { engines } from './fixtures.js';
import { useDatabase } from './harness.js';

/** The text the write sent before, with jsonb's version byte: what {@link jsonbArrayValue} must equal. */
const before = (docs: readonly unknown[]): Buffer =>
  Buffer.concat([Buffer.from([1]), Buffer.from(JSON.stringify(docs.map((d) => d ?? null)), 'utf8')]);

/** Documents both engines store (jsonb refuses lone surrogates and NUL: the unit test has them). */
const awkward: unknown[] = [
  { message: 'U+2028 \u2028, emoji \u{1f9fe}, "quotes" \\ back, tab \t, \u0001' },
  null,
  undefined,
  { n: [-0, 0, 1e21, 5e-324, 1.7976931348623157e308, -1234.5678], u: undefined, nested: [[[{ a: [] }]]] },
  'a string document',
  42,
  [],
  { 'é\u0301': 'NFD key', '': 'empty key', __proto__x: true },
];

describe('jsonbArrayValue', () => {
  it('is the version byte and the bytes of the whole array stringified at once', () => {
    expect(jsonbArrayValue([])).toEqual(before([]));
    expect(jsonbArrayValue([undefined])).toEqual(before([undefined]));
    expect(jsonbArrayValue(awkward)).toEqual(before(awkward));
    const lone = [{ m: 'lone \ud800 and \udfff, NUL \u0000' }, 'x\udc00'];
    expect(jsonbArrayValue(lone)).toEqual(before(lone));
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.string({ unit: 'binary' })), {
          maxLength: 8,
        }),
        (docs) => {
          expect(jsonbArrayValue(docs)).toEqual(before(docs));
        },
      ),
      { seed: 20261207, numRuns: 500 },
    );
  });
});

describe.each(engines('jsonbwire'))('jsonb arrays in binary form on $name', ({ config }) => {
  const database = useDatabase(config());

  it('stores what the same documents stored as JSON text', async () => {
    const read = (param: unknown) =>
      database().query<{ v: string | null; n: string }>(
        `SELECT NULLIF(e, 'null'::jsonb)::text AS v, n::text AS n
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS u(e, n) ORDER BY n`,
        [param],
      );
    const binary = await read(jsonbArrayValue(awkward));
    expect(binary).toEqual(await read(JSON.stringify(awkward.map((d) => d ?? null))));
    expect(binary.map((r) => r.v === null)).toEqual(awkward.map((d) => d == null));
  });
});
