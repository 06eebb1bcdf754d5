/**
 * The tenant-wide exact kNN of the candidate search (store/candidates.ts `exactKnnSql`: each
 * distance computed once; store/chunk-search.ts: the tenant's rows read once per group) returns
 * what the earlier statement returned, on both engines: for 200 new invoices against a tenant of
 * 300 indexed invoices (below the exact-search crossover), the single search (`findCandidates`),
 * the chunk search (`searchMany`, groups of 5) and `EXACT_KNN` (the recall guard's redo) each
 * give the same k neighbours in the same order with the same distances as {@link EARLIER}, the
 * statement before the change. Twelve stored invoices share one embedding and five queries carry
 * it, so that the ties at distance 0 are broken by pk in every form.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCKING_SPEC } from '../core/blocking.js';
import type { Invoice } from '../core/invoice.js';
import { validateInvoice } from '../core/validate.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { candidateQuery } from '../inference/stages/candidates.js';
import { indexKeysOf, payloadSha256, prepare } from '../inference/stages/prepare.js';
import { EXACT_KNN, findCandidates, type CandidateQuery } from '../store/candidates.js';
import { searchMany } from '../store/chunk-search.js';
import type { HistoryRecord } from '../store/history.js';
import { createRepository, openDatabase, toVectorLiteral, type SqlDatabase } from '../store/index.js';
import { engines, makeInvoice } from './fixtures.js';
import { dropSchema } from './harness.js';

/** The exact kNN as the search ran it before (two distances per row, sorted by the second). */
const EARLIER = `SELECT i.pk, i.embedding <=> $1::vector AS dist FROM invoices i
  WHERE i.tenant_id = $2 ORDER BY (i.embedding <=> $1::vector) + 0, i.pk LIMIT $3`;

const WORDS = ['oxygen', 'walker', 'dressing', 'strips', 'nebulizer', 'bed', 'stocking', 'pump', 'kit'];
const OPTS = {
  exactSearchMaxRows: BLOCKING_SPEC.exactSearchMaxRows,
  vendorWindowDays: BLOCKING_SPEC.vendorWindowDays,
  vendorRecentLimit: BLOCKING_SPEC.vendorRecentLimit,
};

/** Invoice `i` of `tag`: one of 40 vendors, descriptions drawn from `i`, so embeddings differ. */
function invoice(i: number, tag: string): Invoice {
  const w = (n: number) => WORDS[(i * 7 + n * 3) % WORDS.length]!;
  return validateInvoice(
    makeInvoice({
      invoice_id: `${tag}-${i}`,
      invoice_number: `${tag.toUpperCase()}-${i}`,
      vendor: { id: `V-${i % 40}`, name: `Vendor ${i % 40} Medical` },
      invoice_date: new Date(Date.UTC(2025, 0, 1) + (i % 90) * 86_400_000).toISOString().slice(0, 10),
      due_date: undefined,
      lines: [
        {
          line_number: 1,
          description: `${w(1)} ${w(2)} model ${i % 13}`,
          quantity: 1 + (i % 4),
          unit_price_cents: 1_000 + (i % 17) * 250,
          amount_cents: (1 + (i % 4)) * (1_000 + (i % 17) * 250),
        },
      ],
      total_cents: (1 + (i % 4)) * (1_000 + (i % 17) * 250),
    }),
  );
}

for (const engine of engines('exactknn')) {
  describe(`exact kNN equality on ${engine.name}`, () => {
    const config = engine.config();
    let db: SqlDatabase;
    const tenant = 'default';
    const queries: Omit<CandidateQuery, 'tenantId'>[] = [];
    let shared = '';

    beforeAll(async () => {
      db = await openDatabase(config);
      const repo = createRepository(db);
      const records: HistoryRecord[] = Array.from({ length: 300 }, (_, i) => {
        const inv = invoice(i, 'eq');
        return {
          location: `/${i}`,
          invoice: inv,
          payloadSha256: payloadSha256(inv),
          keys: indexKeysOf(extractInvoiceFeatures(inv)),
        };
      });
      await repo.history.importChunk(tenant, records, null);
      // Twelve stored invoices with one embedding: ties at any distance, broken by pk.
      shared = (
        await db.query<{ e: string }>(`SELECT embedding::text AS e FROM invoices WHERE invoice_id = 'eq-0'`)
      )[0]!.e;
      await db.query(`UPDATE invoices SET embedding = $1::vector WHERE invoice_id = ANY($2::text[])`, [
        shared,
        Array.from({ length: 12 }, (_, j) => `eq-${j * 25}`),
      ]);
      for (let i = 0; i < 200; i++) {
        const q = candidateQuery(prepare(invoice(i * 3 + 1, 'new')), BLOCKING_SPEC.k);
        queries.push(i % 40 === 0 ? { ...q, embedding: JSON.parse(shared) as number[] } : q);
      }
    }, 300_000);
    afterAll(async () => {
      await db?.close();
      await dropSchema(config);
    });

    /** The earlier statement's neighbours of `q`: pk and distance, in order. */
    async function earlier(q: Omit<CandidateQuery, 'tenantId'>): Promise<{ pk: string; dist: number }[]> {
      const rows = await db.query<{ pk: string; dist: number }>(EARLIER, [
        toVectorLiteral(q.embedding),
        tenant,
        q.k,
      ]);
      return rows.map((r) => ({ pk: String(r.pk), dist: Number(r.dist) }));
    }

    it('EXACT_KNN and the single search return the earlier neighbours, order and distances', async () => {
      let ties = 0;
      for (const q of queries) {
        const want = await earlier(q);
        expect(want).toHaveLength(BLOCKING_SPEC.k);
        if (want.filter((w) => w.dist === want[0]!.dist).length > 1) ties++;
        const rows = await db.query<{ pk: string; dist: number }>(EXACT_KNN, [
          toVectorLiteral(q.embedding),
          tenant,
          q.k,
        ]);
        expect(rows.map((r) => ({ pk: String(r.pk), dist: Number(r.dist) }))).toEqual(want);
        const found = await db.transaction((tx) =>
          findCandidates(tx, { ...q, tenantId: tenant }, { ...OPTS, iterative: async () => true }),
        );
        expect(found.search.method).toBe('exact');
        const pks = await pksOf(
          found.candidates.filter((c) => c.sources.includes('knn')).map((c) => c.invoiceId),
        );
        const knn = found.candidates.filter((c) => c.sources.includes('knn'));
        expect(knn.map((c, j) => ({ pk: pks[j]!, dist: c.embeddingDistance }))).toEqual(want);
      }
      expect(ties).toBeGreaterThanOrEqual(5);
    }, 300_000);

    it('the chunk search gives every member the earlier neighbours, order and distances', async () => {
      for (let g = 0; g < queries.length; g += 5) {
        const group = queries.slice(g, g + 5);
        const members = await db.transaction((tx) => searchMany(tx, tenant, group, OPTS));
        expect(members).toHaveLength(group.length);
        for (const [j, m] of members.entries()) {
          expect(m.tenantRows).toBeLessThanOrEqual(OPTS.exactSearchMaxRows);
          const knn = m.candidates
            .filter((c) => c.ranks[0]! < 100_000)
            .sort((x, y) => x.ranks[0]! - y.ranks[0]!)
            .map((c) => ({ pk: c.pk, dist: c.candidate.embeddingDistance }));
          expect(knn).toEqual(await earlier(group[j]!));
        }
      }
    }, 300_000);

    /** The pks of stored invoices by client id, in the given order. */
    async function pksOf(ids: string[]): Promise<string[]> {
      const rows = await db.query<{ pk: string; invoice_id: string }>(
        `SELECT pk::text AS pk, invoice_id FROM invoices WHERE tenant_id = $1 AND invoice_id = ANY($2::text[])`,
        [tenant, ids],
      );
      const by = new Map(rows.map((r) => [r.invoice_id, r.pk]));
      return ids.map((id) => by.get(id)!);
    }
  });
}
