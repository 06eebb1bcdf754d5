/**
 * Worker threads for a history import (`cli import --workers`, the history benchmark): each
 * chunk is parsed, validated, fingerprinted and featurised in a worker
 * (inference/history-worker.ts), and for PostgreSQL its binary COPY rows encoded there too,
 * while the main thread only looks up, streams and commits the chunks before it, so a
 * backfill uses a second core for Node's share of the work. The pool is piscina's (a maintained
 * worker-thread pool: queueing, start-up and teardown). Chunks stay independent and idempotent;
 * the results are the same records as the in-thread path (test/history-workers.test.ts).
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { TriageError } from '../core/errors.js';
import type { HistoryPreparer } from './history.js';
import type { HistoryWorkerAnswer, HistoryWorkerTask } from './history-worker.js';

/** A pool of history workers. */
export interface HistoryWorkers {
  /** Prepares a chunk in a worker (throws what the in-thread preparation would throw). */
  prepare: HistoryPreparer;
  /** Stops the workers (waits for none: call after the last chunk settled). */
  close(): Promise<void>;
}

/**
 * Worker threads by default: one fewer than the cores, at most 2 (PostgreSQL and the writing
 * thread need the rest); 0 on one core (prepare in this thread).
 */
export function defaultHistoryWorkers(): number {
  return Math.min(2, Math.max(0, availableParallelism() - 1));
}

/**
 * Starts `threads` workers.
 * @throws RangeError when `threads` is not a positive integer.
 */
export function openHistoryWorkers(threads: number): HistoryWorkers {
  if (!Number.isSafeInteger(threads) || threads < 1)
    throw new RangeError(`threads must be a positive integer, got ${threads}`);
  // From TypeScript sources (tsx, vitest) the worker registers tsx first; a build runs the .js.
  const ts = import.meta.url.endsWith('.ts');
  const filename = new URL(ts ? './history-worker-tsx.mjs' : './history-worker.js', import.meta.url).href;
  const pool = new Piscina<HistoryWorkerTask, HistoryWorkerAnswer>({
    filename,
    minThreads: threads,
    maxThreads: threads,
  });
  return {
    async prepare(inputs, onBadRecord, copyForTenant) {
      const out = await pool.run({
        inputs,
        onBadRecord,
        ...(copyForTenant !== undefined ? { copyForTenant } : {}),
      });
      if (out.ok) return out.chunk;
      throw out.code ? new TriageError(out.code, out.message, out.errors ?? []) : new Error(out.message);
    },
    close: () => pool.destroy(),
  };
}
