/**
 * A retrain job cancelled by shutdown: closing the in-process queue while the job trains (in
 * its worker thread) stops the training within a bound, fails the job with
 * `TRIAGE_TRAINING_CANCELLED` and registers no model version; a run cancelled before its
 * training loop (benchmark generation, without checks inside) stops at its next check or, at
 * the latest, when its thread is terminated after the grace. The benchmark is the smallest the retrain tests use (300 invoices); the epochs are many,
 * so an uncancelled run would train for minutes.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceRegistry } from '../bin/models-api.js';
import { isTriageError } from '../core/errors.js';
import { createInProcessQueue, createProcessors, type AttemptFailure } from '../jobs/index.js';
import type { ModelRegistry } from '../models/registry.js';
import type { BatchRepository } from '../store/batches.js';
import { createRetrain } from '../training/retrain-job.js';

/** Resolves with `p`'s value, or with 'timeout' after `ms`. */
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);

describe('retrain job cancelled by shutdown', () => {
  let root: string;
  let work: string;
  let registry: ModelRegistry;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'retrain-cancel-'));
    work = await mkdtemp(join(tmpdir(), 'retrain-cancel-work-'));
    registry = serviceRegistry(root);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  const train = (cancelGraceMs: number) =>
    createRetrain({
      registry,
      generatedInvoices: 300,
      generatedRatesScale: 4,
      epochs: 100_000,
      workDir: work,
      cancelGraceMs,
    });

  it('stops training when the queue closes: the job fails as cancelled, nothing is registered', async () => {
    const failures: AttemptFailure[] = [];
    const queue = createInProcessQueue({
      processors: createProcessors({
        scoring: { score: () => Promise.reject(new Error('not used')) },
        batches: {} as BatchRepository,
        // A grace longer than the bound below: the loop itself must stop, not the terminate.
        train: train(60_000),
      }),
      jobOptions: { attempts: 3 },
      onFailure: (f) => void failures.push(f),
    });
    const id = await queue.add('retrain', { tenantId: 'default', task: 'coding-mismatch', seed: 5 });
    // In the training loop: past the data (10 %) and the first epoch's progress report.
    const deadline = Date.now() + 90_000;
    while (((await queue.getJob('retrain', id))?.progress ?? 0) < 26) {
      expect(Date.now(), 'the run did not reach its training loop').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    const t0 = Date.now();
    expect(await within(queue.close(), 5000)).not.toBe('timeout');
    const stopMs = Date.now() - t0;
    expect(stopMs).toBeLessThan(5000);
    const job = await queue.getJob('retrain', id);
    expect(job).toMatchObject({ state: 'failed', failedReason: expect.stringMatching(/cancelled/) });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ name: 'retrain', willRetry: false });
    expect(isTriageError(failures[0]!.error, 'TRIAGE_TRAINING_CANCELLED')).toBe(true);
    expect(await registry.versions('coding-mismatch')).toEqual([]);
    // The run's temporary directory is gone with it.
    expect(await readdir(work)).toEqual([]);
  }, 120_000);

  it('stops a run cancelled before its training loop within the grace, registering nothing', async () => {
    const abort = new AbortController();
    let t0 = 0;
    const run = train(200)(
      { tenantId: 'default', task: 'coding-mismatch', seed: 6 },
      {
        // Cancelled at the worker's first report: it is generating the benchmark, no check there.
        updateProgress: async () => {
          if (abort.signal.aborted) return;
          t0 = Date.now();
          abort.abort();
        },
        signal: abort.signal,
      },
    );
    const out = await within(
      run.then(
        () => 'registered',
        (e: unknown) => e,
      ),
      25_000,
    );
    expect(t0).toBeGreaterThan(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(isTriageError(out, 'TRIAGE_TRAINING_CANCELLED'), String(out)).toBe(true);
    expect(await registry.versions('coding-mismatch')).toEqual([]);
    expect(await readdir(work)).toEqual([]);
  }, 30_000);
});
