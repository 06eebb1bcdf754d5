/**
 * Batches, retrains and the recovery sweep on real Redis with BullMQ workers (the in-process
 * queue: test/jobs.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBullQueue,
  createProcessors,
  createRecoverySweep,
  JobStopped,
  startBullWorkers,
  trainingUnavailable,
  type AttemptFailure,
  type BullWorkerOptions,
  type RunningWorkers,
  type RetrainResult,
  type TrainFn,
} from '../jobs/index.js';
import { instrumentScoring } from '../api/metrics.js';
import { TEST_DATABASE_URL, uniqueSchema } from './fixtures.js';
import {
  deleteRedisPrefix,
  invoiceSet,
  startStack,
  TEST_REDIS_URL,
  uniquePrefix,
  waitFor,
  type Stack,
} from './jobs-harness.js';
import type { StoreConfig } from '../store/index.js';
import { sigmoid } from '../models/spec.js';
import type { Accepted } from './jobs-harness.js';

const tinyTrain: TrainFn = async ({ task, seed }): Promise<RetrainResult> => {
  let state = seed >>> 0;
  const rnd = (): number => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const xs = Array.from({ length: 500 }, () => rnd() * 4 - 2);
  const ys = xs.map((x) => (rnd() < sigmoid(3 * x - 0.5) ? 1 : 0));
  let w = 0;
  let b = 0;
  for (let epoch = 0; epoch < 400; epoch++) {
    let gw = 0;
    let gb = 0;
    xs.forEach((x, i) => {
      const err = sigmoid(w * x + b) - ys[i]!;
      gw += err * x;
      gb += err;
    });
    w -= (0.5 * gw) / xs.length;
    b -= (0.5 * gb) / xs.length;
  }
  const accuracy = xs.filter((x, i) => (sigmoid(w * x + b) >= 0.5 ? 1 : 0) === ys[i]).length / xs.length;
  return { task, version: `${task}@seed-${seed}`, metrics: { accuracy, w, b } };
};

describe.skipIf(!TEST_REDIS_URL)('BullMQ on Redis', () => {
  const redisUrl = TEST_REDIS_URL!;
  const cfg: StoreConfig = TEST_DATABASE_URL
    ? {
        engine: 'postgres',
        connectionString: TEST_DATABASE_URL,
        schema: uniqueSchema('bull'),
        maxConnections: 6,
      }
    : { engine: 'pglite' };
  const prefix = uniquePrefix('jobs');
  /** Workers of the retrain queue alone, `retrain` its processor (`score-batch` a no-op). */
  const retrainWorkers = (
    retrain: BullWorkerOptions['processors']['retrain'],
    opts: Pick<BullWorkerOptions, 'onFailure'> = {},
  ): RunningWorkers =>
    startBullWorkers({
      redisUrl,
      prefix,
      names: ['retrain'],
      processors: { 'score-batch': async () => ({ scored: 0, replayed: 0, failed: 0, skipped: 0 }), retrain },
      ...opts,
    });
  let s: Stack;
  let producer: ReturnType<typeof createBullQueue>;
  beforeAll(async () => {
    s = await startStack(cfg, {
      queue: () => {
        producer = createBullQueue({
          redisUrl,
          prefix,
          jobOptions: { attempts: 3, backoff: { delayMs: 50, jitter: 0 } },
        });
        return producer;
      },
      batches: { chunkSize: 10 },
    });
  });
  afterAll(async () => {
    await s.close();
    await deleteRedisPrefix(redisUrl, prefix);
  });

  /** A worker whose processors note which chunks it ran. */
  function worker(
    tag: string,
    ran: Map<string, string>,
    opts: { train?: TrainFn; failFirst?: Set<string> } = {},
  ) {
    const p = createProcessors({
      scoring: instrumentScoring(s.wired.scoring, s.metrics, 'batch'),
      batches: s.wired.batches,
      train: opts.train ?? trainingUnavailable,
    });
    return startBullWorkers({
      redisUrl,
      prefix,
      concurrency: { 'score-batch': 1 },
      processors: {
        'score-batch': async (data, ctx) => {
          if (opts.failFirst?.delete(ctx.id)) throw new Error('transient failure on the first attempt');
          const out = await p['score-batch'](data, ctx);
          ran.set(ctx.id, `${tag}#${ctx.attempt}`);
          return out;
        },
        retrain: p.retrain,
      },
    });
  }

  it('two workers share one batch: every invoice scored once, no duplicate decision, retries succeed', async () => {
    const c0 = await s.counts();
    const res = await s.app.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: { invoices: invoiceSet('bull', 200) },
    });
    expect(res.statusCode).toBe(202);
    const acc = res.json<Accepted>();
    // Five vendors of 40 invoices each: a chunk per vendor (larger than the chunk size of 10).
    expect(acc.job_ids).toHaveLength(5);
    const ran = new Map<string, string>();
    const failFirst = new Set([acc.job_ids[1]!, acc.job_ids[3]!]);
    const w1 = worker('w1', ran, { failFirst });
    const w2 = worker('w2', ran, { failFirst });
    try {
      await waitFor(
        'batch on two workers',
        async () => (await s.wired.batches.get('default', acc.batch_id))?.completedAt,
        90_000,
      );
    } finally {
      await Promise.all([w1.close(), w2.close()]);
    }
    const status = (await s.wired.batches.get('default', acc.batch_id))!;
    expect(status.counts).toEqual({ pending: 0, done: 200, failed: 0 });
    const c1 = await s.counts();
    expect(c1.decisions - c0.decisions).toBe(200);
    expect(c1.invoices - c0.invoices).toBe(200);
    const byWorker = [...ran.values()].map((v) => v.split('#')[0]);
    expect(new Set(byWorker)).toEqual(new Set(['w1', 'w2']));
    expect(ran.size).toBe(5);
    for (const id of failFirst) {
      expect(ran.get(id)).toMatch(/#2$/);
      expect(await producer.getJob('score-batch', id)).toMatchObject({ state: 'completed', attemptsMade: 2 });
    }
    const counts = await producer.counts();
    expect(counts['score-batch']).toMatchObject({ completed: 5, failed: 0, waiting: 0, active: 0 });
  });

  it('re-enqueues a batch whose jobs Redis lost', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: { invoices: invoiceSet('lost', 25) },
    });
    const acc = res.json<Accepted>();
    // Redis loses the jobs (restart without persistence, flush, eviction).
    for (const id of acc.job_ids) await producer.remove('score-batch', id);
    expect(await producer.getJob('score-batch', acc.job_ids[0]!)).toBeNull();
    const sweep = createRecoverySweep({ queue: producer, batches: s.wired.batches, graceMs: 0 });
    expect((await sweep.runOnce()).requeued).toBe(acc.job_ids.length);
    const ran = new Map<string, string>();
    const w = worker('w3', ran);
    try {
      await waitFor(
        'recovered batch',
        async () => (await s.wired.batches.get('default', acc.batch_id))?.completedAt,
        60_000,
      );
    } finally {
      await w.close();
    }
    expect((await s.wired.batches.get('default', acc.batch_id))!.counts.done).toBe(25);
  });

  it('runs retraining as a job: a real trainer returns a reproducible result, a missing one fails at once', async () => {
    const ran = new Map<string, string>();
    const w = worker('trainer', ran, { train: tinyTrain });
    try {
      const a = await producer.add('retrain', { tenantId: 'default', task: 'coding-mismatch', seed: 42 });
      const b = await producer.add('retrain', { tenantId: 'default', task: 'coding-mismatch', seed: 42 });
      const done = await waitFor('retrain jobs', async () => {
        const ja = await producer.getJob('retrain', a);
        const jb = await producer.getJob('retrain', b);
        return ja?.state === 'completed' && jb?.state === 'completed' ? [ja, jb] : null;
      });
      const ra = done[0]!.result!;
      expect(ra.version).toBe('coding-mismatch@seed-42');
      expect(ra.metrics.w).toBeGreaterThan(2);
      expect(ra.metrics.w).toBeLessThan(4.5);
      expect(ra.metrics.accuracy).toBeGreaterThan(0.7);
      expect(done[1]!.result).toEqual(ra);
    } finally {
      await w.close();
    }
    const w2 = worker('no-trainer', ran);
    try {
      const c = await producer.add('retrain', { tenantId: 'default', task: 'duplicate', seed: 1 });
      const failed = await waitFor('failed retrain', async () => {
        const j = await producer.getJob('retrain', c);
        return j?.state === 'failed' ? j : null;
      });
      expect(failed.attemptsMade).toBe(1);
      expect(failed.failedReason).toMatch(/^TRIAGE_TRAINING_UNAVAILABLE/);
    } finally {
      await w2.close();
    }
  });

  it('lets an active job finish when a worker shuts down gracefully', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let finished = false;
    const w = retrainWorkers(async (d) => {
      await gate;
      finished = true;
      return { task: d.task, version: 'x@1', metrics: {} };
    });
    const id = await producer.add('retrain', { tenantId: 'default', task: 'duplicate', seed: 7 });
    await waitFor('active job', async () => (await producer.getJob('retrain', id))?.state === 'active');
    const closing = w.close();
    setTimeout(release, 200);
    await closing;
    expect(finished).toBe(true);
    expect(await producer.getJob('retrain', id)).toMatchObject({ state: 'completed' });
  });

  it('puts a job stopped by the shutdown back on its queue without using an attempt', async () => {
    const failures: AttemptFailure[] = [];
    const stopping = retrainWorkers(
      // Stops only when its signal aborts, as a batch chunk or an import does.
      (_d, ctx) =>
        new Promise((_r, reject) =>
          ctx.signal!.addEventListener('abort', () => reject(new JobStopped('stopped'))),
        ),
      { onFailure: (f) => void failures.push(f) },
    );
    const id = await producer.add('retrain', { tenantId: 'default', task: 'duplicate', seed: 8 });
    await waitFor('active job', async () => (await producer.getJob('retrain', id))?.state === 'active');
    expect(stopping.active()).toEqual([{ name: 'retrain', id }]);
    await stopping.close();
    expect(await producer.getJob('retrain', id)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
    expect(failures).toMatchObject([{ name: 'retrain', id, willRetry: true }]);
    expect(failures[0]!.error).toBeInstanceOf(JobStopped);

    const next = retrainWorkers(tinyTrain);
    try {
      await waitFor('completed', async () => (await producer.getJob('retrain', id))?.state === 'completed');
      expect(await producer.getJob('retrain', id)).toMatchObject({ attemptsMade: 1 });
    } finally {
      await next.close();
    }
  });

  it('hands a job that ignores the abort back to its queue on release()', async () => {
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const w = retrainWorkers(async (d) => {
      await gate;
      return { task: d.task, version: 'x@1', metrics: {} };
    });
    const id = await producer.add('retrain', { tenantId: 'default', task: 'duplicate', seed: 9 });
    await waitFor('active job', async () => (await producer.getJob('retrain', id))?.state === 'active');
    const closing = w.close();
    expect(await w.release()).toEqual([{ name: 'retrain', id }]);
    expect(w.active()).toEqual([]);
    expect(await producer.getJob('retrain', id)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
    // The process would exit here; its processor's late result does not complete the job.
    finish();
    await closing;
    expect(await producer.getJob('retrain', id)).toMatchObject({ state: 'waiting' });
    await producer.remove('retrain', id);
  });

  it('reports the queue as unavailable quickly when Redis does not answer', async () => {
    const dead = createBullQueue({ redisUrl: 'redis://127.0.0.1:1', prefix, timeoutMs: 300 });
    const t0 = Date.now();
    await expect(dead.ping()).rejects.toMatchObject({ code: 'TRIAGE_QUEUE_UNAVAILABLE' });
    await expect(dead.add('score-batch', { tenantId: 't', batchId: 'b', chunk: 0 })).rejects.toMatchObject({
      code: 'TRIAGE_QUEUE_UNAVAILABLE',
      status: 503,
      retryable: true,
    });
    expect(Date.now() - t0).toBeLessThan(3000);
    await dead.close();
  });
});
