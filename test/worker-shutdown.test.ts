/**
 * `bin/worker.ts` processes stopped by SIGTERM while jobs run, on real Redis and PostgreSQL (two
 * scenarios side by side, on queues of their own):
 *
 * - stopped while a retrain job and a five-chunk batch run, a worker cancels the retrain and
 *   exits 0 within `SHUTDOWN_TIMEOUT_MS`; the retrain goes back to its queue without using an
 *   attempt, the batch stops between chunks. A worker started at that signal finishes both: one
 *   model version is registered, not two; every invoice has exactly one decision.
 * - stopped while it scores a one-chunk batch (no abort check inside a chunk's page) with a 1 s
 *   `SHUTDOWN_TIMEOUT_MS`, a worker exits 1 naming the chunk job in its log and hands it back to
 *   its queue, where the next worker finishes it without writing a second decision.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { wire, type Wired } from '../bin/bootstrap.js';
import { shippedModelsDir } from '../bin/models-dir.js';
import { generateBenchmark } from '../datasets/benchmark/generator.js';
import {
  chunkJobId,
  createBullQueue,
  createProcessors,
  enqueueBatch,
  startBullWorkers,
  trainingUnavailable,
  type BullQueue,
} from '../jobs/index.js';
import type { Invoice } from '../core/invoice.js';
import { startWorker, type WorkerProcess } from './faults-services.js';
import { TEST_DATABASE_URL, uniqueSchema } from './fixtures.js';
import {
  deleteRedisPrefix,
  dropSchema,
  invoiceSet,
  TEST_REDIS_URL,
  uniquePrefix,
  waitFor,
} from './jobs-harness.js';

/** `n` of {@link invoiceSet}'s invoices, invoice `i` billed by vendor `vendorOf(i)`. */
const batchInvoices = (tag: string, n: number, vendorOf: (i: number) => number) =>
  invoiceSet(tag, n).map((inv, i) => ({
    ...inv,
    vendor: { id: `${tag}-V${vendorOf(i)}`, name: `Vendor ${tag} ${vendorOf(i)} Surgical Supply` },
  }));

/** Model versions in a registry directory for `task`, ascending. */
const versionsIn = (dir: string, task: string): number[] =>
  readdirSync(join(dir, task))
    .filter((f) => /^\d+$/.test(f))
    .map(Number)
    .sort((a, b) => a - b);

/** The parsed JSON log lines of a worker whose message matches `re`. */
const logLines = (w: WorkerProcess, re: RegExp): Record<string, unknown>[] =>
  w
    .log()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => re.test(String(l.msg)));

/** SIGTERM, then the exit code and the time to exit, ms. */
async function sigterm(w: WorkerProcess): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  const code = await w.stop();
  return { code, ms: Date.now() - t0 };
}

describe.skipIf(!TEST_DATABASE_URL || !TEST_REDIS_URL)('worker shutdown (bin/worker.ts, BullMQ)', () => {
  const redisUrl = TEST_REDIS_URL!;
  // Queues and schemas of the graceful scenario, and of the deadline's: its own, so that the two
  // run side by side (a worker's recovery sweep enqueues every open batch of its store).
  const prefix = uniquePrefix('wshut');
  const forcedPrefix = uniquePrefix('wshut-deadline');
  const pgStore = (tag: string) => ({
    engine: 'postgres' as const,
    connectionString: TEST_DATABASE_URL!,
    schema: uniqueSchema(tag),
  });
  const store = pgStore('wshut');
  const forcedStore = pgStore('wshut_deadline');
  const tmp = mkdtempSync(join(tmpdir(), 'worker-shutdown-'));
  const modelsDir = join(tmp, 'models');
  let w: Wired;
  let forcedW: Wired;
  let producer: BullQueue;
  let forcedProducer: BullQueue;
  const workers: WorkerProcess[] = [];
  let first: WorkerProcess;
  let cutOff: WorkerProcess;
  const start = async (
    queuePrefix: string,
    schema: string,
    shutdownTimeoutMs: number,
  ): Promise<WorkerProcess> => {
    const p = await startWorker({
      DATABASE_URL: TEST_DATABASE_URL!,
      DATABASE_SCHEMA: schema,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: queuePrefix,
      DATA_DIR: join(tmp, 'data'),
      MODELS_DIR: modelsDir,
      TRAINING_DATA_DIR: join(tmp, 'benchmark'),
      WORKER_CONCURRENCY: '1',
      RECOVERY_SWEEP_MS: '3600000',
      SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    });
    workers.push(p);
    return p;
  };
  /** Stores a batch of `tenantId` (chunks of five, grown to eight vendors: inference/batch-partition.ts). */
  const storeBatch = async (
    x: Wired,
    tenantId: string,
    invoices: Invoice[],
  ): Promise<{ id: string; chunks: number }> => {
    const created = await x.batches.create({
      tenantId,
      idempotencyKey: null,
      submittedByKeyId: null,
      requestSha256: '0'.repeat(64),
      chunkSize: 5,
      invoices,
    });
    return { id: created.batch.id, chunks: created.chunks };
  };
  const countsOf = async (x: Wired, tenantId: string, batchId: string) =>
    (await x.batches.get(tenantId, batchId))!.counts;
  const completed = (x: Wired, tenantId: string, batchId: string) => async () =>
    (await x.batches.get(tenantId, batchId))?.completedAt;
  /** Decisions of a tenant and distinct invoices they decide. */
  const decisionsOf = async (x: Wired, tenantId: string) => {
    const [row] = await x.db.query<{ decisions: number; invoices: number }>(
      `SELECT count(*)::int AS decisions, count(DISTINCT i.invoice_id)::int AS invoices
         FROM decisions d JOIN invoices i ON i.pk = d.invoice_pk WHERE d.tenant_id = $1`,
      [tenantId],
    );
    return row;
  };

  beforeAll(async () => {
    cpSync(shippedModelsDir(), modelsDir, { recursive: true });
    await generateBenchmark({ invoices: 300, seed: 7, ratesScale: 4, out: join(tmp, 'benchmark') });
    [w, forcedW] = await Promise.all([
      wire(store, { models: { reloadMs: null } }),
      wire(forcedStore, { models: { reloadMs: null } }),
    ]);
    producer = createBullQueue({ redisUrl, prefix });
    forcedProducer = createBullQueue({ redisUrl, prefix: forcedPrefix });
    [first, cutOff] = await Promise.all([
      start(prefix, store.schema!, 20_000),
      start(forcedPrefix, forcedStore.schema!, 1000),
    ]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(workers.map((p) => p.kill()));
    await producer?.close();
    await forcedProducer?.close();
    for (const x of [w, forcedW]) {
      await x?.closeModels();
      await x?.repo.close();
    }
    await dropSchema(store);
    await dropSchema(forcedStore);
    await deleteRedisPrefix(redisUrl, prefix);
    await deleteRedisPrefix(redisUrl, forcedPrefix);
    rmSync(tmp, { recursive: true, force: true });
  });

  it.concurrent(
    'cancels a retrain and stops a batch on SIGTERM (exit 0); the next worker finishes both',
    async ({ expect }) => {
      const tenant = 'default'; // the operator tenant: the only one whose retrain jobs run
      const before = versionsIn(modelsDir, 'coding-mismatch');
      const retrainId = await producer.add('retrain', {
        tenantId: tenant,
        task: 'coding-mismatch',
        seed: 11,
      });
      const retrain = () => producer.getJob('retrain', retrainId);
      // 40 invoices of 40 vendors: five chunk jobs of eight.
      const batch = await storeBatch(
        w,
        tenant,
        batchInvoices('wa', 40, (i) => i),
      );
      expect(batch.chunks).toBe(5);
      await enqueueBatch(producer, { tenantId: tenant, batchId: batch.id }, batch.chunks);

      // SIGTERM while the retrain runs and the batch is under way. The retrain stops at its next
      // check or, in a phase without checks, when its thread is ended 5 s later.
      await waitFor('the retrain running', async () => (await retrain())?.state === 'active', 60_000, 20);
      await waitFor('a chunk scored', async () => (await countsOf(w, tenant, batch.id)).done > 0, 60_000, 20);
      // The next worker is started at the signal (it is ready well after the first one has stopped).
      const [one, second] = await Promise.all([
        sigterm(first).then(async (r) => ({
          ...r,
          job: await retrain(),
          counts: await countsOf(w, tenant, batch.id),
        })),
        start(prefix, store.schema!, 20_000),
      ]);
      expect(one.code, first.log()).toBe(0);
      expect(one.ms).toBeLessThan(20_000);
      expect(
        logLines(first, /retrain job cancelled by shutdown: no model version registered; it will run again/),
      ).toHaveLength(1);
      expect(first.log()).toContain('worker stopped');
      // Back on its queue without using an attempt (or already taken by the next worker).
      expect(one.job).toMatchObject({ state: expect.stringMatching(/^(waiting|active)$/), attemptsMade: 0 });
      // The batch stopped between chunks, what it scored committed.
      expect(one.counts.done).toBeGreaterThan(0);
      expect(one.counts.pending).toBeGreaterThan(0);
      expect(one.counts.done % 8, 'a chunk was left half done').toBe(0);
      expect(versionsIn(modelsDir, 'coding-mismatch')).toEqual(before);

      const retrained = await waitFor(
        'the retrain completed',
        async () => {
          const j = (await retrain())!;
          expect(j.state).not.toBe('failed');
          return j.state === 'completed' ? j : null;
        },
        120_000,
      );
      const next = before.at(-1)! + 1;
      expect(retrained).toMatchObject({ attemptsMade: 1 });
      expect(retrained.result).toMatchObject({ task: 'coding-mismatch', version: `coding-mismatch@${next}` });
      // One version registered, not two.
      expect(versionsIn(modelsDir, 'coding-mismatch')).toEqual([...before, next]);
      await waitFor('the batch completed', completed(w, tenant, batch.id), 60_000);
      expect(await countsOf(w, tenant, batch.id)).toEqual({ pending: 0, done: 40, failed: 0 });
      expect(await decisionsOf(w, tenant)).toEqual({ decisions: 40, invoices: 40 });
      expect((await producer.counts())['score-batch']).toMatchObject({ completed: 5, failed: 0 });
      expect(await sigterm(second)).toMatchObject({ code: 0 });
    },
    240_000,
  );

  it.concurrent(
    'exits 1 at SHUTDOWN_TIMEOUT_MS naming the job that ignored the abort, which runs again',
    async ({ expect }) => {
      const tenant = 'deadline';
      // 100 invoices of one vendor: one chunk job, scored (and committed) one invoice per group
      // with no abort check inside the chunk's page, for seconds: past the 1 s deadline.
      const batch = await storeBatch(
        forcedW,
        tenant,
        batchInvoices('wb', 100, () => 0),
      );
      expect(batch.chunks).toBe(1);
      await enqueueBatch(forcedProducer, { tenantId: tenant, batchId: batch.id }, batch.chunks);
      await waitFor(
        'the chunk under way',
        async () => (await countsOf(forcedW, tenant, batch.id)).done > 0,
        60_000,
        20,
      );
      const cut = await sigterm(cutOff);
      expect(cut.code, cutOff.log()).toBe(1);
      // The deadline's timer waits for the event loop, which scoring holds for stretches.
      expect(cut.ms).toBeLessThan(1000 + 5000);
      const [deadline] = logLines(cutOff, /shutdown deadline exceeded/);
      expect(deadline, cutOff.log()).toMatchObject({ shutdown_timeout_ms: 1000 });
      expect(deadline).toMatchObject({
        still_running: [`score-batch ${chunkJobId(batch.id, 0)}`],
        handed_back: [`score-batch ${chunkJobId(batch.id, 0)}`],
      });
      expect(cutOff.log()).not.toContain('worker stopped');
      // Handed back at the deadline, not left active until its lock expires.
      expect(await forcedProducer.getJob('score-batch', chunkJobId(batch.id, 0))).toMatchObject({
        state: 'waiting',
      });
      expect((await countsOf(forcedW, tenant, batch.id)).pending).toBeGreaterThan(0);

      // The next worker (BullMQ workers in this process, on the same queues) finishes it, writing
      // no second decision for the invoices scored before the exit.
      const next = startBullWorkers({
        redisUrl,
        prefix: forcedPrefix,
        processors: createProcessors({
          scoring: forcedW.scoring,
          batches: forcedW.batches,
          train: trainingUnavailable,
        }),
        names: ['score-batch'],
      });
      try {
        await waitFor('the batch completed', completed(forcedW, tenant, batch.id), 60_000);
      } finally {
        await next.close();
      }
      expect(await countsOf(forcedW, tenant, batch.id)).toEqual({ pending: 0, done: 100, failed: 0 });
      expect(await decisionsOf(forcedW, tenant)).toEqual({ decisions: 100, invoices: 100 });
    },
    120_000,
  );
});
