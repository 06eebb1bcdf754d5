/**
 * One batch scored by two `bin/worker.ts` processes through BullMQ on real Redis and
 * PostgreSQL (the production topology): every item is scored exactly once, both processes take
 * chunk jobs, and each decision (route, queue, reasons) is the one a single process scoring the
 * chunks one after the other makes, including the invoices re-sent inside the batch, which name
 * their original as a duplicate. A vendor's invoices share a chunk (inference/batch-partition.ts),
 * so a re-sent invoice and its original are always scored by one job, in batch order; invoices of
 * different vendors are not ordered across jobs, so the candidates they name among other vendors
 * may differ and are not compared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { wire, type Wired } from '../bin/bootstrap.js';
import { backendCpuMs } from '../bench/pg-cpu.js';
import { createBullQueue, createProcessors, enqueueBatch, trainingUnavailable } from '../jobs/index.js';
import {
  dropSchema,
  deleteRedisPrefix,
  invoiceSet,
  TEST_REDIS_URL,
  uniquePrefix,
  waitFor,
} from './jobs-harness.js';
import { startWorker, type WorkerProcess } from './faults-services.js';
import { TEST_DATABASE_URL, uniqueSchema } from './fixtures.js';
import type { StoreConfig } from '../store/index.js';

const N = 100;
/** Invoice `i` with `i % 10 === 9` re-sends invoice `i - 5` (the same vendor: vendors cycle by 5). */
const resent = (i: number): boolean => i % 10 === 9;

function batch(tag: string): Invoice[] {
  const invoices = invoiceSet(tag, N);
  return invoices.map((inv, i) => (resent(i) ? { ...invoices[i - 5]!, invoice_id: inv.invoice_id } : inv));
}

/** Per invoice id: decision, queue, distinct reason codes; and the invoice ids it names as duplicates. */
async function decisionsOf(
  w: Wired,
  tenantId: string,
): Promise<Map<string, { route: string; duplicates: string[] }>> {
  const rows = await w.db.query<{
    invoice_id: string;
    decision: string;
    queue: string | null;
    reasons: string[];
    duplicates: string[];
  }>(
    `SELECT i.invoice_id, d.decision, d.queue, ARRAY(SELECT DISTINCT r FROM unnest(d.reason_codes) r ORDER BY r) AS reasons,
       ARRAY(SELECT m->>'invoice_id' FROM jsonb_array_elements(d.response->'duplicates') m) AS duplicates
     FROM decisions d JOIN invoices i ON i.pk = d.invoice_pk WHERE d.tenant_id = $1`,
    [tenantId],
  );
  return new Map(
    rows.map((r) => [
      r.invoice_id,
      { route: `${r.decision} ${r.queue} ${r.reasons.join(',')}`, duplicates: r.duplicates },
    ]),
  );
}

describe.skipIf(!TEST_DATABASE_URL || !TEST_REDIS_URL)('a batch on two worker processes', () => {
  const redisUrl = TEST_REDIS_URL!;
  const prefix = uniquePrefix('bworkers');
  const store: StoreConfig = {
    engine: 'postgres',
    connectionString: TEST_DATABASE_URL!,
    schema: uniqueSchema('bworkers'),
  };
  let w: Wired;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    w = await wire(store, { models: { reloadMs: null } });
    const env = {
      DATABASE_URL: TEST_DATABASE_URL!,
      DATABASE_SCHEMA: store.engine === 'postgres' ? store.schema! : '',
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      WORKER_CONCURRENCY: '1',
      RECOVERY_SWEEP_MS: '3600000',
    };
    workers.push(...(await Promise.all([startWorker(env), startWorker(env)])));
  }, 240_000);

  afterAll(async () => {
    await Promise.all(workers.map((p) => p.stop()));
    await w?.closeModels();
    await w?.repo.close();
    await dropSchema(store);
    await deleteRedisPrefix(redisUrl, prefix);
  });

  it('scores every item once, on both processes, with the decisions of one process', async () => {
    const store1 = async (tenantId: string) =>
      w.batches.create({
        tenantId,
        idempotencyKey: null,
        submittedByKeyId: null,
        requestSha256: '0'.repeat(64),
        // One vendor (20 invoices) per chunk: five chunk jobs.
        chunkSize: 5,
        invoices: batch('bw'),
      });

    // The reference: one process, the chunks one after the other.
    const one = await store1('one-process');
    expect(one.chunks).toBe(5);
    const p = createProcessors({ scoring: w.scoring, batches: w.batches, train: trainingUnavailable });
    for (let chunk = 0; chunk < one.chunks; chunk++)
      await p['score-batch'](
        { tenantId: 'one-process', batchId: one.batch.id, chunk },
        { id: `ref-${chunk}`, attempt: 1, updateProgress: async () => undefined },
      );

    const two = await store1('two-workers');
    const producer = createBullQueue({ redisUrl, prefix });
    const cpu0 = workers.map((x) => backendCpuMs(x.child.pid!)!);
    try {
      await enqueueBatch(producer, { tenantId: 'two-workers', batchId: two.batch.id }, two.chunks);
      await waitFor(
        'the batch on two workers',
        async () => (await w.batches.get('two-workers', two.batch.id))?.completedAt,
        180_000,
      );
      const counts = await producer.counts();
      expect(counts['score-batch']).toMatchObject({ completed: 5, failed: 0, active: 0, waiting: 0 });
    } finally {
      await producer.close();
    }
    // Each process scored at least one chunk (20 ten-line invoices take well over 200 ms of CPU;
    // an idle worker polling Redis takes a few ms).
    const cpu = workers.map((x, k) => backendCpuMs(x.child.pid!)! - cpu0[k]!);
    for (const ms of cpu) expect(ms).toBeGreaterThan(200);

    const status = (await w.batches.get('two-workers', two.batch.id))!;
    expect(status.counts).toEqual({ pending: 0, done: N, failed: 0 });
    const [row] = await w.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM decisions WHERE tenant_id = 'two-workers'`,
    );
    expect(row?.n).toBe(N);

    const ref = await decisionsOf(w, 'one-process');
    // The set's vendors bill unlike invoices: only the re-sent ones are duplicates, so no route
    // below depends on the order of vendors across jobs.
    expect(
      [...ref]
        .filter(([, d]) => /DUPLICATE_/.test(d.route))
        .map(([id]) => id)
        .sort(),
    ).toEqual(
      Array.from({ length: N }, (_, i) => i)
        .filter(resent)
        .map((i) => `bw-${i}`)
        .sort(),
    );
    const got = await decisionsOf(w, 'two-workers');
    expect(got.size).toBe(N);
    for (const [id, d] of ref) expect(got.get(id)?.route, id).toBe(d.route);
    for (let i = 0; i < N; i++) {
      if (!resent(i)) continue;
      const d = got.get(`bw-${i}`)!;
      expect(d.duplicates, `bw-${i}`).toContain(`bw-${i - 5}`);
      expect(d.route, `bw-${i}`).toMatch(/DUPLICATE_/);
    }
  }, 300_000);
});
