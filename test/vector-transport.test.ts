/**
 * Embeddings sent in pgvector's binary form (store/sql.ts `VectorTransport`) are stored
 * bit for bit as the float32 of what was sent, on both engines: one vector (`$n::vector`), an
 * array of them (`$n::vector[]`), and the store's writers that send them (the single scoring
 * write, the batch write, the history import), each read back with `vector_send` (the stored
 * bytes, no decimal text in between). The vectors hold values a decimal round trip can get wrong
 * or lose: -0 (a pgvector literal says `0`), float32 subnormals, the largest float32, values
 * rounded from float64, so a write that went as text instead fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateInvoice } from '../core/validate.js';
import { EMBEDDING_DIM } from '../features/hashing.js';
import {
  createRepository,
  openDatabase,
  vectorArrayValue,
  vectorTransportOf,
  vectorValue,
  type SqlDatabase,
  type TriageRepository,
  type VectorTransport,
} from '../store/index.js';
import { decisionFor, engines, importHistory, insertBatch, keysOf, makeInvoice } from './fixtures.js';
import { dropSchema } from './harness.js';

/** Vector `seed` of 128 components, the awkward values first, then float64 values to round. */
function awkward(seed: number): number[] {
  const special = [
    -0, 0, 1.4e-45, -1.4e-45, 1.1754942e-38, 3.4028234663852886e38, -3.4028234663852886e38, 0.1,
  ];
  const v = Array.from({ length: EMBEDDING_DIM }, (_, j) => Math.sin(seed * 131 + j * 7.3) / (1 + (j % 5)));
  for (const [j, x] of special.entries()) v[(j + seed) % EMBEDDING_DIM] = x;
  return v;
}

/** The bit patterns of `v`'s components as float32 (-0 and 0 differ). */
function float32Bits(v: ArrayLike<number>): number[] {
  return [...new Uint32Array(Float32Array.from(v).buffer)];
}

/** The bit patterns of a vector's components from its `vector_send` bytes. */
function storedBits(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dim = view.getInt16(0);
  expect(view.getInt16(2)).toBe(0);
  expect(bytes.byteLength).toBe(4 + dim * 4);
  return Array.from({ length: dim }, (_, j) => view.getUint32(4 + j * 4));
}

describe.each(engines('vecwire'))('vectors in binary form on $name', ({ config }) => {
  const cfg = config();
  let db: SqlDatabase;
  let repo: TriageRepository;
  let binary: VectorTransport;
  beforeAll(async () => {
    db = await openDatabase(cfg);
    repo = createRepository(db, { linkAfterCommit: false });
    binary = await vectorTransportOf(db);
  });
  afterAll(async () => {
    await repo.close();
    await dropSchema(cfg);
  });

  it("is pgvector's binary form with the database's vector OID, read once", async () => {
    const [oid] = await db.query<{ oid: string }>(`SELECT 'vector'::regtype::oid::bigint::text AS oid`);
    expect(binary).toEqual({ vectorOid: Number(oid!.oid) });
    expect(await vectorTransportOf(db)).toBe(binary);
    const one = vectorValue(binary, [0.5, -2]);
    expect(Buffer.from(one as Buffer).toString('hex')).toBe('00020000' + '3f000000' + 'c0000000');
  });

  it('a vector and an array of vectors arrive as the float32 of what was sent', async () => {
    const vs = [awkward(1), awkward(2), awkward(3)];
    const [one] = await db.query<{ b: Uint8Array }>(`SELECT vector_send($1::vector) AS b`, [
      vectorValue(binary, vs[0]!),
    ]);
    expect(storedBits(one!.b)).toEqual(float32Bits(vs[0]!));
    const many = await db.query<{ b: Uint8Array }>(
      `SELECT vector_send(v) AS b FROM unnest($1::vector[]) WITH ORDINALITY AS u(v, n) ORDER BY n`,
      [vectorArrayValue(binary, vs)],
    );
    expect(many.map((r) => storedBits(r.b))).toEqual(vs.map(float32Bits));
    // The text form loses the sign of -0 (the test's vectors tell the two forms apart).
    const [text] = await db.query<{ b: Uint8Array }>(`SELECT vector_send($1::vector) AS b`, [
      vectorValue('text', vs[0]!),
    ]);
    expect(storedBits(text!.b)).not.toEqual(float32Bits(vs[0]!));
    expect(() => vectorArrayValue(binary, [[1, Number.NaN]])).toThrow(RangeError);
    expect(() => vectorValue(binary, [1e39])).toThrow(RangeError);
  });

  /** A valid invoice of `lines` lines whose index keys carry awkward embeddings. */
  const scored = (id: string, seed: number) => {
    const inv = validateInvoice(
      makeInvoice({
        invoice_id: id,
        invoice_number: id.toUpperCase(),
        vendor: { id: `V-${id}`, name: 'Vendor' },
      }),
    );
    const k = keysOf(inv);
    const keys = {
      ...k,
      embedding: awkward(seed),
      lines: k.lines.map((l, j) => ({ ...l, embedding: awkward(seed * 10 + j) })),
    };
    return { inv, keys };
  };

  /** The stored bits of invoice `id`'s embedding and of its lines', by line number. */
  const stored = async (tenant: string, id: string) => {
    const [i] = await db.query<{ b: Uint8Array; pk: string }>(
      `SELECT vector_send(embedding) AS b, pk FROM invoices WHERE tenant_id = $1 AND invoice_id = $2`,
      [tenant, id],
    );
    const lines = await db.query<{ b: Uint8Array }>(
      `SELECT vector_send(embedding) AS b FROM invoice_lines WHERE invoice_pk = $1 ORDER BY line_number`,
      [i!.pk],
    );
    return { invoice: storedBits(i!.b), lines: lines.map((r) => storedBits(r.b)) };
  };

  const expected = (keys: ReturnType<typeof scored>['keys']) => ({
    invoice: float32Bits(keys.embedding),
    lines: keys.lines.map((l) => float32Bits(l.embedding)),
  });

  it('the single scoring write and the batch write store them bit for bit', async () => {
    const a = scored('vw-single', 4);
    await repo.withScoringLock('vw', [a.inv.vendor.id], (tx) =>
      tx.insert(a.inv, 'h-a', a.keys, decisionFor(a.inv)),
    );
    expect(await stored('vw', 'vw-single')).toEqual(expected(a.keys));

    const batch = [scored('vw-batch-1', 5), scored('vw-batch-2', 6)];
    await insertBatch(repo, 'vw', batch);
    for (const b of batch) expect(await stored('vw', b.inv.invoice_id)).toEqual(expected(b.keys));
    expect((await stored('vw', 'vw-batch-2')).lines).toHaveLength(2);
  });

  it('the history import stores them bit for bit (binary COPY on PostgreSQL, INSERT on PGlite)', async () => {
    const rows = [scored('vw-hist-1', 7), scored('vw-hist-2', 8)];
    await importHistory(repo, 'vw', rows);
    for (const r of rows) expect(await stored('vw', r.inv.invoice_id)).toEqual(expected(r.keys));
  });
});
