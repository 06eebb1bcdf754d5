/**
 * The vendor block of the candidate search (store/candidates.ts, blocking spec
 * `vendorRecentLimit`) reads the bound, not the vendor's date window nor the whole of a busy date:
 * EXPLAIN ANALYZE of the search statement on a vendor with 600 invoices inside the window, 100 on
 * each of 6 days around the new invoice's date, with a bound of 20, counts every row the
 * statement's vendor-kNN part read from `invoices`, on both engines. (With indexes keyed up to
 * the date, each scan reads and sorts the whole of the last date it reaches: about 4 x 100.) And
 * the distances come from the vendor-key index alone (migration 100): the vendor-id index holds
 * no embedding. The wide vendor-key index is read only within the day distance of the vendor
 * id's own pool: here its 20 invoices of the new invoice's date, so 20 key rows on that date and
 * none after it (40 before, one full bound per side). The id pool's rows are not ordered by the
 * tie rule to find that distance: the only sort before the key's scans is of one integer, the
 * day distance, and the pool is cut once, from the key's rows and the id's rows within it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCKING_SPEC } from '../core/blocking.js';
import { validateInvoice } from '../core/validate.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { indexKeysOf, payloadSha256 } from '../inference/stages/prepare.js';
import { candidateSearchStatement } from '../store/candidates.js';
import type { HistoryRecord } from '../store/history.js';
import { createRepository, openDatabase, type SqlDatabase } from '../store/index.js';
import { engines, makeInvoice } from './fixtures.js';
import { dropSchema } from './harness.js';

/** A node of EXPLAIN (FORMAT JSON). */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Subplan Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Strategy?: string;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Sort Key'?: string[];
  Plans?: PlanNode[];
}

function find(node: PlanNode, pred: (n: PlanNode) => boolean): PlanNode | undefined {
  if (pred(node)) return node;
  for (const p of node.Plans ?? []) {
    const hit = find(p, pred);
    if (hit) return hit;
  }
  return undefined;
}

/** Rows read from `invoices` under `node`: returned plus removed by filters, over all loops. */
function invoiceRowsRead(node: PlanNode): number {
  const own =
    node['Relation Name'] === 'invoices'
      ? ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) * (node['Actual Loops'] ?? 1) +
        (node['Rows Removed by Index Recheck'] ?? 0)
      : 0;
  return own + (node.Plans ?? []).reduce((s, p) => s + invoiceRowsRead(p), 0);
}

describe.each(engines('vblockplan'))('vendor block plan on $name', ({ config: configOf }) => {
  const config = configOf();
  let db: SqlDatabase;
  const n = 600;
  const limit = 20;
  const first = makeInvoice({ invoice_id: 'vb-0' });
  beforeAll(async () => {
    db = await openDatabase(config);
    const repo = createRepository(db);
    const records: HistoryRecord[] = [];
    // One vendor, 100 invoices a day from 2025-05-29 to 2025-06-03: all inside the ±400-day window
    // of 2025-06-01, three days on or before it and three after.
    for (let i = 0; i < n; i++) {
      const invoice = validateInvoice(
        makeInvoice({
          invoice_id: `vb-${i}`,
          invoice_number: `VB-${i}`,
          invoice_date: new Date(Date.UTC(2025, 4, 29) + Math.floor(i / 100) * 86_400_000)
            .toISOString()
            .slice(0, 10),
          due_date: undefined,
        }),
      );
      records.push({
        location: `/${i}`,
        invoice,
        payloadSha256: payloadSha256(invoice),
        keys: indexKeysOf(extractInvoiceFeatures(invoice)),
      });
    }
    for (let i = 0; i < n; i += 300)
      await repo.history.importChunk('default', records.slice(i, i + 300), null);
  }, 300_000);
  afterAll(async () => {
    await db?.close();
    if (config.engine === 'postgres') await dropSchema(config);
  });

  /** The `vknn` part of EXPLAIN ANALYZE of the search of `first` (and `sql` read after it). */
  async function explainVendorBlock<T extends Record<string, unknown>>(
    sql: string,
  ): Promise<{ vknn: PlanNode | undefined; rows: T[] }> {
    const f = extractInvoiceFeatures(validateInvoice(first));
    const { text, values } = candidateSearchStatement(
      {
        tenantId: 'default',
        embedding: f.embedding,
        k: BLOCKING_SPEC.k,
        vendorKey: f.vendorKey,
        vendorId: first.vendor.id,
        invoiceNumberCanonical: 'NO-SUCH-NUMBER',
        totalCents: 1,
        invoiceDate: '2025-06-01',
        documentType: 'invoice',
      },
      {
        exactSearchMaxRows: BLOCKING_SPEC.exactSearchMaxRows,
        vendorWindowDays: BLOCKING_SPEC.vendorWindowDays,
        vendorRecentLimit: limit,
      },
    );
    await db.exec('VACUUM ANALYZE invoices');
    const [row] = await db.query<{ 'QUERY PLAN': string | [{ Plan: PlanNode }] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON) ${text}`,
      values,
    );
    const json = row!['QUERY PLAN'];
    const plan = (typeof json === 'string' ? (JSON.parse(json) as [{ Plan: PlanNode }]) : json)[0].Plan;
    const vknn = find(plan, (p) => p['Subplan Name'] === 'CTE vknn');
    return { vknn, rows: await db.query<T>(sql) };
  }

  /** Every index scan node under `node`. */
  function indexScans(node: PlanNode): PlanNode[] {
    const out: PlanNode[] = node['Index Name'] ? [node] : [];
    for (const p of node.Plans ?? []) out.push(...indexScans(p));
    return out;
  }

  it(`reads at most ${limit} rows per side and vendor match, not the ${n} in its window`, async () => {
    const { vknn } = await explainVendorBlock('SELECT 1');
    expect(vknn).toBeDefined();
    expect(vknn!['Actual Rows']).toBe(BLOCKING_SPEC.k);
    // Four scans (vendor key or id, on or before the date or after it), each stopping after
    // `limit` rows in the index order of the tie rule.
    expect(invoiceRowsRead(vknn!)).toBeLessThanOrEqual(4 * limit);
  }, 60_000);

  it('reads the wide vendor-key index only within the day distance of the vendor id pool', async () => {
    const { vknn } = await explainVendorBlock('SELECT 1');
    const keyRows = indexScans(vknn!)
      .filter((s) => s['Index Name'] === 'invoices_tenant_vendor_key')
      .map((s) => (s['Actual Rows'] ?? 0) * (s['Actual Loops'] ?? 1));
    // Before the bound: `limit` rows on each side (2 x limit); with it, the id pool's 20 invoices
    // of 2025-06-01 put every pool member on that date.
    expect(keyRows).toHaveLength(2);
    expect(keyRows.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(limit);
    // No node of the block handles more than both sides' bounds, whatever the window holds.
    const all: PlanNode[] = [];
    const walk = (node: PlanNode): void => {
      all.push(node);
      for (const p of node.Plans ?? []) walk(p);
    };
    walk(vknn!);
    for (const p of all) expect(p['Actual Rows'] ?? 0).toBeLessThanOrEqual(2 * limit);
  }, 60_000);

  it("finds the id pool's day distance by one integer key and cuts the pool by the tie rule once", async () => {
    const { vknn } = await explainVendorBlock('SELECT 1');
    const sorts = (node: PlanNode | undefined): PlanNode[] =>
      node === undefined
        ? []
        : [...(node['Node Type'] === 'Sort' ? [node] : []), ...(node.Plans ?? []).flatMap(sorts)];
    const cte = (name: string): PlanNode | undefined =>
      find(vknn!, (p) => p['Subplan Name'] === `CTE ${name}`);
    // The id index's rows of both sides as read (the index's order on each side), not sorted.
    expect(cte('vid')).toBeDefined();
    expect(sorts(cte('vid'))).toEqual([]);
    // The bound-th smallest day distance: one sort on one key.
    expect(sorts(cte('vd')).map((s) => s['Sort Key']!.length)).toEqual([1]);
    // Every other sort of the block is the pool's cut (the tie rule's four keys) or the top k by
    // distance (two keys): one of each.
    const rest = sorts(vknn).filter((s) => !sorts(cte('vid')).includes(s) && !sorts(cte('vd')).includes(s));
    expect(rest.map((s) => s['Sort Key']!.length).sort()).toEqual([2, 4]);
  }, 60_000);

  it('takes the embeddings from the vendor-key index alone; the vendor-id index holds no vector', async () => {
    const { vknn, rows } = await explainVendorBlock<{ name: string; bytes: string }>(
      `SELECT c.relname AS name, pg_relation_size(c.oid) AS bytes FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace
          AND c.relname IN ('invoices_tenant_vendor_key', 'invoices_vendor_id_recent')`,
    );
    const bytes = Object.fromEntries(rows.map((r) => [r.name, Number(r.bytes)]));
    // 600 invoices: the key index carries each 128-d embedding (about 0.5 KB), the id index only
    // the keys that order the bound.
    expect(bytes.invoices_vendor_id_recent! * 3).toBeLessThan(bytes.invoices_tenant_vendor_key!);
    const scans = indexScans(vknn!);
    // Both vendor matches are read index-only; the same vendor's key and id find the same
    // invoices, so no row is looked up by pk for its embedding.
    expect(
      scans.filter((s) => s['Index Name'] === 'invoices_vendor_id_recent').map((s) => s['Node Type']),
    ).toEqual(['Index Only Scan', 'Index Only Scan']);
    expect(
      scans.filter((s) => s['Index Name'] === 'invoices_pkey').map((s) => s['Actual Loops'] ?? 0),
    ).toEqual([0]);
  }, 60_000);
});
