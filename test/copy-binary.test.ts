/**
 * The binary COPY writer of the history import (store/copy-binary.ts): every value it encodes
 * reads back from PostgreSQL equal to the same value sent as text (the server's own parser), and
 * the decimal splitting of `numeric` matches PostgreSQL's on awkward values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CopyBinaryWriter, numericParts } from '../store/copy-binary.js';
import { writeBinaryVector } from '../store/sql.js';
import { openPostgres } from '../store/postgres.js';
import type { SqlDatabase } from '../store/sql.js';
import { engines } from './fixtures.js';
import { dropSchema } from './harness.js';

describe('numericParts', () => {
  it('splits decimals into base-10000 digits with weight and scale as PostgreSQL stores them', () => {
    expect(numericParts('12345.678')).toEqual({
      digits: [1, 2345, 6780],
      weight: 1,
      negative: false,
      dscale: 3,
    });
    expect(numericParts('-0.0001')).toEqual({ digits: [1], weight: -1, negative: true, dscale: 4 });
    expect(numericParts('10000')).toEqual({ digits: [1], weight: 1, negative: false, dscale: 0 });
    expect(numericParts('1.5e-7')).toEqual({ digits: [15], weight: -2, negative: false, dscale: 8 });
    expect(numericParts('2e+21')).toEqual({ digits: [20], weight: 5, negative: false, dscale: 0 });
    expect(numericParts('0')).toEqual({ digits: [], weight: 0, negative: false, dscale: 0 });
    expect(() => numericParts('1,5')).toThrow(RangeError);
  });
});

describe('writeBinaryVector', () => {
  it('writes big-endian dimensions and float4 components at an offset of a Buffer that views a larger memory', () => {
    const v = [1, -0.1, 1e-40, 3.4e38, -0];
    // A small Buffer.from is a slice of Node's shared pool (a non-zero byteOffset).
    const buf = Buffer.from(new Uint8Array(40));
    expect(writeBinaryVector(buf, 3, v)).toBe(3 + 4 + 4 * v.length);
    const expected = Buffer.alloc(4 + 4 * v.length);
    expected.writeInt16BE(v.length, 0);
    v.forEach((x, i) => expected.writeFloatBE(x, 4 + 4 * i));
    expect(buf.subarray(3, 3 + expected.length)).toEqual(expected);
    expect(buf.subarray(0, 3)).toEqual(Buffer.alloc(3));
    expect(() => writeBinaryVector(buf, 30, v)).toThrow(RangeError);
    expect(() => writeBinaryVector(buf, 0, [3.5e38])).toThrow(RangeError);
  });
});

const pgEngine = engines('copybin').find((e) => e.name === 'postgres');

describe.skipIf(!pgEngine)('binary COPY on PostgreSQL', () => {
  let db: SqlDatabase;
  const c = pgEngine!.config();
  beforeAll(async () => {
    if (c.engine !== 'postgres') throw new Error('postgres expected');
    db = await openPostgres({ connectionString: c.connectionString, schema: c.schema!, maxConnections: 2 });
    await db.exec(`CREATE TABLE copy_t (id int, u uuid, t text, c char(3), j jsonb, d date, n numeric,
      b bigint, a text[], v vector(3))`);
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await dropSchema(c);
  });

  const quantities = [
    0,
    1,
    -1,
    0.1,
    0.5,
    2.25,
    -3.75,
    1e-7,
    1.5e-7,
    123456.789,
    999999.9999,
    1 / 3,
    0.1 + 0.2,
  ];
  const bigints = [0, 1, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 32 + 5, -(2 ** 40) - 7, 10 ** 13, -(10 ** 13)];

  it('reads back every encoded value as PostgreSQL parses its text form', async () => {
    const rows = quantities.map((q, i) => ({
      id: i,
      u: `0190${String(i).padStart(4, '0')}-7a4b-7c3d-8e2f-${String(i).padStart(12, '0')}`,
      t: i % 3 === 0 ? null : `line ${i}: 5 mL vial\u00e9 \u{1F489} "quoted" \\ tab\there`,
      c: 'USD',
      j: JSON.stringify({ invoice_id: `x-${i}`, note: 'caf\u00e9 \u{1F489}', n: q }),
      d:
        i % 4 === 0
          ? null
          : `20${String(10 + i).padStart(2, '0')}-0${1 + (i % 9)}-${String(1 + i).padStart(2, '0')}`,
      n: q,
      b: bigints[i % bigints.length]!,
      a: i % 2 === 0 ? [] : ['NU', 'RR', `x${i}`],
      v: [i * 0.1, -1.25, 1 / 3],
    }));
    await db.transaction(async (tx) => {
      const w = new CopyBinaryWriter(16);
      for (const r of rows)
        w.row(10)
          .int4(r.id)
          .uuid(r.u)
          .text(r.t)
          .text(r.c)
          .jsonb(r.j)
          .date(r.d)
          .numeric(r.n)
          .int8(r.b)
          .textArray(r.a)
          .vector(r.v);
      const copied = await tx.copyFrom!('COPY copy_t FROM STDIN (FORMAT binary)', w.finish());
      expect(copied).toBe(rows.length);
    });
    const back = await db.query<Record<string, string | null>>(
      `SELECT id, u::text, t, c, j::text, d::text, n::text, b::text, a::text, v::text FROM copy_t ORDER BY id`,
    );
    const want = await db.query<Record<string, string | null>>(
      `SELECT id, u::uuid::text AS u, t, c::char(3) AS c, j::jsonb::text AS j, d::date::text AS d, n::numeric::text AS n,
         b::bigint::text AS b, a::text[]::text AS a, v::vector(3)::text AS v
         FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
           $9::text[], $10::text[]) AS x(id, u, t, c, j, d, n, b, a, v) ORDER BY id`,
      [
        rows.map((r) => r.id),
        rows.map((r) => r.u),
        rows.map((r) => r.t),
        rows.map((r) => r.c),
        rows.map((r) => r.j),
        rows.map((r) => r.d),
        rows.map((r) => String(r.n)),
        rows.map((r) => String(r.b)),
        rows.map((r) => `{${r.a.join(',')}}`),
        rows.map((r) => `[${r.v.join(',')}]`),
      ],
    );
    expect(back).toHaveLength(rows.length);
    expect(back).toEqual(want);
    // Spot checks of the expected text, so that the comparison above cannot pass vacuously.
    expect(back[8]!.n).toBe('0.00000015');
    expect(back[5]!.b).toBe(String(bigints[5]));
    expect(back[1]!.a).toBe('{NU,RR,x1}');
    expect(back[0]!.t).toBeNull();
  }, 60_000);

  it('refuses values its column type cannot hold', () => {
    const w = new CopyBinaryWriter();
    expect(() => w.int8(2 ** 53)).toThrow(RangeError);
    expect(() => w.int4(2 ** 31)).toThrow(RangeError);
    expect(() => w.uuid('not-a-uuid')).toThrow(RangeError);
    expect(() => w.date('2025-1-1')).toThrow(RangeError);
    expect(() => w.vector([1, Number.NaN])).toThrow(RangeError);
    expect(() => w.numeric(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});
