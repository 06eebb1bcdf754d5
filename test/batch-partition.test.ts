/**
 * A batch cut into chunks by vendor (inference/batch-partition.ts) and scored by two chunk jobs
 * at the same time: each vendor's invoices are scored in item order by one job, so a re-sent
 * invoice of a vendor is found as a duplicate of its earlier item, and so is the same invoice
 * sent again under a second vendor id of the same vendor name (one lock key, one chunk); results
 * stay in item order.
 */
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import type { Wired } from '../bin/bootstrap.js';
import { createProcessors, trainingUnavailable } from '../jobs/processors.js';
import { chunkJobs } from '../jobs/batches.js';
import { engines } from './fixtures.js';
import { invoice, wirePair } from './batch-chunk-fixtures.js';

const ALPHA = { id: 'V-A', name: 'Alpha Surgical Supply LLC' };
const BRAVO = { id: 'V-B', name: 'Bravo Oxygen Partners' };

/** Alpha's and Bravo's invoices interleaved, with Alpha's re-sends at 4 (of 0) and 8 (of 2, as V-A2). */
function interleaved(): Invoice[] {
  const a = (i: number) => invoice(i, { invoice_id: `a-${i}`, vendor: ALPHA });
  const b = (i: number) => invoice(i + 10, { invoice_id: `b-${i}`, vendor: BRAVO });
  return [
    a(0),
    b(0),
    a(1),
    b(1),
    { ...a(0), invoice_id: 'a-0-again' },
    b(2),
    a(2),
    b(3),
    { ...a(2), invoice_id: 'a-2-other-id', vendor: { ...ALPHA, id: 'V-A2' } },
    b(4),
  ];
}

describe.each(engines('bpart'))('a batch cut by vendor on $name', ({ config }) => {
  let w: Wired;
  wirePair(config, (a) => {
    w = a;
  });

  it('scores two chunks at once: duplicates within a vendor found, results in item order', async () => {
    const invoices = interleaved();
    const { batch, chunks } = await w.batches.create({
      tenantId: 'part',
      idempotencyKey: null,
      submittedByKeyId: null,
      requestSha256: 'p'.repeat(64),
      // Two vendors of 5: a chunk of fewer than 8 vendors grows to 4 x 2 items, so one each.
      chunkSize: 2,
      invoices,
    });
    expect(chunks).toBe(2);
    const stored = await w.db.query<{ idx: number; chunk: number }>(
      'SELECT idx, chunk FROM batch_items WHERE batch_id = $1 ORDER BY idx',
      [batch.id],
    );
    // Alpha (both vendor ids, one name) in chunk 0, Bravo in chunk 1.
    expect(stored.map((r) => r.chunk)).toEqual(
      invoices.map((inv) => (inv.vendor.name === ALPHA.name ? 0 : 1)),
    );

    const p = createProcessors({ scoring: w.scoring, batches: w.batches, train: trainingUnavailable });
    const ctx = { updateProgress: async () => undefined };
    const jobs = chunkJobs({ tenantId: 'part', batchId: batch.id }, [0, 1]);
    const results = await Promise.all(jobs.map((j) => p['score-batch'](j.data, ctx as never)));
    expect(results).toEqual([
      { scored: 5, replayed: 0, failed: 0, skipped: 0 },
      { scored: 5, replayed: 0, failed: 0, skipped: 0 },
    ]);
    // A rerun of a chunk (retry, stalled job) finds its items settled.
    expect(await p['score-batch'](jobs[1]!.data, ctx as never)).toEqual({
      scored: 0,
      replayed: 0,
      failed: 0,
      skipped: 5,
    });

    const page = await w.batches.results('part', batch.id, -1, 100);
    expect(page!.items.map((i) => [i.index, i.invoiceId, i.state])).toEqual(
      invoices.map((inv, i) => [i, inv.invoice_id, 'done']),
    );
    const duplicatesOf = (i: number) => page!.items[i]!.decision!.duplicates.map((d) => d.invoice_id);
    expect(duplicatesOf(4)).toContain('a-0');
    expect(duplicatesOf(8)).toContain('a-2');
    expect(duplicatesOf(0)).toEqual([]);
    const codes = (i: number) => page!.items[i]!.decision!.reasons.map((r) => r.code);
    expect(codes(4)).toContain('DUPLICATE_SAME_NUMBER');
    expect(codes(8)).toContain('DUPLICATE_SAME_NUMBER');
    expect((await w.batches.get('part', batch.id))!.completedAt).not.toBeNull();
  }, 240_000);

  it('re-enqueues a stored batch by its chunks, under the same job ids', async () => {
    const invoices = interleaved().map((inv) => ({ ...inv, invoice_id: `s-${inv.invoice_id}` }));
    const request = {
      tenantId: 'sweep',
      idempotencyKey: 'k-1',
      submittedByKeyId: null,
      requestSha256: 's'.repeat(64),
      chunkSize: 2,
      invoices,
    };
    const { batch, chunks } = await w.batches.create(request);
    const again = await w.batches.create(request);
    expect(again).toMatchObject({ created: false, chunks });
    const open = (await w.batches.openBatches(0, 100)).find((b) => b.batchId === batch.id)!;
    expect(open.chunks).toEqual([0, 1]);
    expect(chunkJobs(open, open.chunks).map((j) => j.id)).toEqual([`sb.${batch.id}.0`, `sb.${batch.id}.1`]);
  });
});
