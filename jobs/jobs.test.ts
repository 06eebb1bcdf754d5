/** Unit tests of the job contracts and the in-process queue (no Redis, no database). */
import { describe, expect, it } from 'vitest';
import { Backoffs } from 'bullmq';
import { TriageError, isTriageError } from '../core/errors.js';
import {
  backoffDelayMs,
  bullJobOptions,
  chunkJobs,
  createInProcessQueue,
  createProcessors,
  DEFAULT_JOB_OPTIONS,
  JobStopped,
  redisClient,
  resolveJobOptions,
  resolveWorkerSettings,
  trainingUnavailable,
  type Processors,
} from './index.js';
import type { BatchRepository } from '../store/batches.js';
import { makeInvoice } from '../test/fixtures.js';

const noRetrain: Processors['retrain'] = async () => {
  throw new Error('not used');
};

describe('job options', () => {
  it('spreads partial options over the documented defaults', () => {
    expect(resolveJobOptions()).toEqual(DEFAULT_JOB_OPTIONS);
    const o = resolveJobOptions({ attempts: 3, backoff: { delayMs: 10 } });
    expect(o.attempts).toBe(3);
    expect(o.backoff).toEqual({ type: 'exponential', delayMs: 10, jitter: 0.2 });
    expect(o.keepFailed).toEqual(DEFAULT_JOB_OPTIONS.keepFailed);
  });

  it('rejects invalid options naming each one', () => {
    try {
      resolveJobOptions({ attempts: 0, backoff: { delayMs: -1, jitter: 2 } });
      expect.unreachable();
    } catch (e) {
      expect(isTriageError(e, 'TRIAGE_CONFIG_INVALID')).toBe(true);
      const paths = (e as TriageError).errors.map((x) => x.path);
      expect(paths).toEqual(expect.arrayContaining(['/attempts', '/backoff/delayMs', '/backoff/jitter']));
    }
  });

  it('maps to BullMQ job options', () => {
    expect(bullJobOptions(resolveJobOptions({ attempts: 4 }))).toEqual({
      attempts: 4,
      backoff: { type: 'exponential', delay: 2000, jitter: 0.2 },
      removeOnComplete: { count: 1000, age: 86_400 },
      removeOnFail: { count: 5000, age: 604_800 },
    });
  });

  it('computes the same backoff delays as BullMQ', () => {
    for (const type of ['exponential', 'fixed'] as const) {
      for (const jitter of [0, 0.5]) {
        for (let attemptsMade = 1; attemptsMade <= 6; attemptsMade++) {
          const fixedRandom = () => 0.37;
          const original = Math.random;
          Math.random = fixedRandom;
          try {
            const bull = Backoffs.calculate(
              { type, delay: 1000, jitter },
              attemptsMade,
              new Error('x'),
              {} as never,
            );
            expect(backoffDelayMs({ type, delayMs: 1000, jitter }, attemptsMade, fixedRandom)).toBe(bull);
          } finally {
            Math.random = original;
          }
        }
      }
    }
    expect(backoffDelayMs({ type: 'exponential', delayMs: 1000, jitter: 0 }, 4)).toBe(8000);
  });
});

describe('worker settings', () => {
  it('spreads over documented defaults and names bad options', () => {
    expect(resolveWorkerSettings({ concurrency: { 'score-batch': 4 } })).toEqual({
      concurrency: { 'score-batch': 4, retrain: 1, 'deliver-webhook': 4, 'import-history': 1 },
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      maxStalledCount: 1,
    });
    try {
      resolveWorkerSettings({ concurrency: { retrain: 0 }, lockDurationMs: 10 });
      expect.unreachable();
    } catch (e) {
      expect((e as TriageError).errors.map((x) => x.path)).toEqual(
        expect.arrayContaining(['/concurrency/retrain', '/lockDurationMs']),
      );
    }
  });
});

describe('redisClient', () => {
  it('takes host, port, db, credentials and TLS from the URL', () => {
    const plain = redisClient('redis://127.0.0.1:6390/2', { lazyConnect: true });
    expect([plain.options.host, plain.options.port, plain.options.db]).toEqual(['127.0.0.1', 6390, 2]);
    const secure = redisClient('rediss://u:p%40ss@cache.internal', { lazyConnect: true });
    expect([secure.options.host, secure.options.port, secure.options.db]).toEqual([
      'cache.internal',
      6379,
      0,
    ]);
    expect([secure.options.username, secure.options.password]).toEqual(['u', 'p@ss']);
    expect(secure.options.tls).toBeTruthy();
    plain.disconnect();
    secure.disconnect();
  });

  it('refuses a URL that is not a Redis URL', () => {
    expect(() => redisClient('http://x')).toThrow(TypeError);
  });
});

describe('chunkJobs', () => {
  it('names a batch chunk job deterministically by batch and chunk', () => {
    const jobs = chunkJobs({ tenantId: 't', batchId: 'b' }, [0, 1, 2]);
    expect(jobs.map((j) => j.id)).toEqual(['sb.b.0', 'sb.b.1', 'sb.b.2']);
    expect(chunkJobs({ tenantId: 't', batchId: 'b' }, [2])[0]).toEqual({
      id: 'sb.b.2',
      data: { tenantId: 't', batchId: 'b', chunk: 2 },
    });
  });
});

describe('in-process queue', () => {
  it('retries with backoff until success and reports the result', async () => {
    const seen: number[] = [];
    const q = createInProcessQueue({
      jobOptions: { attempts: 4, backoff: { delayMs: 5, jitter: 0 } },
      processors: {
        'score-batch': async (data, ctx) => {
          seen.push(ctx.attempt);
          if (ctx.attempt < 3) throw new Error('transient');
          return { scored: data.chunk, replayed: 0, failed: 0, skipped: 0 };
        },
        retrain: noRetrain,
      },
    });
    const t0 = Date.now();
    const id = await q.add('score-batch', { tenantId: 't', batchId: 'b', chunk: 7 });
    await q.drained();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5 + 10 - 2); // 5 ms then 10 ms of backoff
    expect(seen).toEqual([1, 2, 3]);
    expect(await q.getJob('score-batch', id)).toMatchObject({
      state: 'completed',
      attemptsMade: 3,
      result: { scored: 7 },
    });
    await q.close();
  });

  it('fails at once on a non-retryable TriageError, and after the last attempt otherwise', async () => {
    let calls = 0;
    const q = createInProcessQueue({
      jobOptions: { attempts: 3, backoff: { delayMs: 1, jitter: 0 } },
      processors: {
        'score-batch': async (data) => {
          calls++;
          if (data.batchId === 'permanent') throw new TriageError('TRIAGE_INPUT_INVALID', 'bad');
          throw new TriageError('TRIAGE_STORE_UNAVAILABLE', 'down');
        },
        retrain: noRetrain,
      },
    });
    const a = await q.add('score-batch', { tenantId: 't', batchId: 'permanent', chunk: 0 });
    const b = await q.add('score-batch', { tenantId: 't', batchId: 'transient', chunk: 0 });
    await q.drained();
    expect(await q.getJob('score-batch', a)).toMatchObject({ state: 'failed', attemptsMade: 1 });
    expect(await q.getJob('score-batch', b)).toMatchObject({
      state: 'failed',
      attemptsMade: 3,
      failedReason: 'down',
    });
    expect(calls).toBe(4);
    const counts = await q.counts();
    expect(counts['score-batch'].failed).toBe(2);
    expect(counts.retrain.failed).toBe(0);
    await q.close();
  });

  it('treats a re-added job id as a no-op until the job is removed', async () => {
    let runs = 0;
    const q = createInProcessQueue({
      autorun: false,
      processors: {
        'score-batch': async () => {
          runs++;
          return { scored: 1, replayed: 0, failed: 0, skipped: 0 };
        },
        retrain: noRetrain,
      },
    });
    const data = { tenantId: 't', batchId: 'b', chunk: 0 };
    await q.add('score-batch', data, { jobId: 'sb.b.0' });
    await q.add('score-batch', data, { jobId: 'sb.b.0' });
    expect((await q.counts())['score-batch'].waiting).toBe(1);
    q.start();
    await q.drained();
    await q.add('score-batch', data, { jobId: 'sb.b.0' });
    await q.drained();
    expect(runs).toBe(1);
    await q.remove('score-batch', 'sb.b.0');
    await q.add('score-batch', data, { jobId: 'sb.b.0' });
    await q.drained();
    expect(runs).toBe(2);
    await q.close();
  });

  it('runs at most `concurrency` jobs at once and lets active jobs finish on close', async () => {
    let active = 0;
    let peak = 0;
    let finished = 0;
    const q = createInProcessQueue({
      concurrency: { 'score-batch': 2 },
      processors: {
        'score-batch': async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setTimeout(r, 20));
          active--;
          finished++;
          return { scored: 1, replayed: 0, failed: 0, skipped: 0 };
        },
        retrain: noRetrain,
      },
    });
    for (let i = 0; i < 6; i++) await q.add('score-batch', { tenantId: 't', batchId: `b${i}`, chunk: 0 });
    await new Promise((r) => setTimeout(r, 5));
    await q.close();
    expect(peak).toBe(2);
    expect(finished).toBe(2); // the two active ones finished; the waiting ones were left (stored work is swept later)
    await expect(q.add('score-batch', { tenantId: 't', batchId: 'x', chunk: 0 })).rejects.toThrow(/closed/);
  });

  it('validates its options in the constructor', () => {
    const processors = {
      'score-batch': async () => ({ scored: 0, replayed: 0, failed: 0, skipped: 0 }),
      retrain: noRetrain,
    };
    expect(() => createInProcessQueue({ processors, jobOptions: { attempts: 0 } })).toThrow(/attempts/);
    expect(() => createInProcessQueue({ processors, concurrency: { 'score-batch': 0 } })).toThrow(RangeError);
  });
});

describe('score-batch stopped by its signal', () => {
  /** A chunk of three pending items (valid invoices) over a fake batch store that records what it settles. */
  function chunkOfThree() {
    const items = [0, 1, 2].map((index) => ({
      index,
      payload: makeInvoice({ invoice_id: `stop-${index}` }),
      submittedByKeyId: null,
    }));
    const done: number[] = [];
    const batches = {
      chunkItems: async (_t: string, _b: string, _c: number, after: number) => {
        const pending = items.filter((i) => i.index > after && !done.includes(i.index));
        return { pending, settled: 0, last: pending.at(-1)?.index ?? null };
      },
      markDone: async (_b: string, index: number) => {
        done.push(index);
        return true;
      },
      completeIfFinished: async () => undefined,
    } as unknown as BatchRepository;
    return { batches, done };
  }

  it('stops between items scored one by one: what it scored stays committed', async () => {
    const { batches, done } = chunkOfThree();
    const stop = new AbortController();
    const p = createProcessors({
      // Scored one by one (no scoreChunk); the shutdown begins during the first item.
      scoring: {
        score: async (inv) => {
          stop.abort();
          return { decision: { decision_id: `d-${inv.invoice_id}` }, created: true } as never;
        },
      },
      batches,
      train: trainingUnavailable,
    });
    const run = p['score-batch'](
      { tenantId: 't', batchId: 'b', chunk: 0 },
      { id: 'sb.b.0', attempt: 1, updateProgress: async () => undefined, signal: stop.signal },
    );
    await expect(run).rejects.toBeInstanceOf(JobStopped);
    expect(done).toEqual([0]);
  });

  it('does not start when its signal has aborted, and completes a chunk with nothing pending', async () => {
    const { batches, done } = chunkOfThree();
    const stop = new AbortController();
    stop.abort();
    let scored = 0;
    const p = createProcessors({
      scoring: { score: async () => void scored++ as never },
      batches,
      train: trainingUnavailable,
    });
    const ctx = { id: 'sb.b.0', attempt: 1, updateProgress: async () => undefined, signal: stop.signal };
    await expect(p['score-batch']({ tenantId: 't', batchId: 'b', chunk: 0 }, ctx)).rejects.toBeInstanceOf(
      JobStopped,
    );
    expect(scored).toBe(0);
    done.push(0, 1, 2);
    expect(await p['score-batch']({ tenantId: 't', batchId: 'b', chunk: 0 }, ctx)).toMatchObject({
      scored: 0,
    });
  });
});
