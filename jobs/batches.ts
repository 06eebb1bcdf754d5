/**
 * Batches on the queue: a stored batch becomes one `score-batch` job per chunk of items, with a
 * deterministic job id (`sb.<batch id>.<chunk>`) so that enqueuing twice is a no-op. The
 * recovery sweep re-enqueues the chunks of batches that still have pending items but no live job
 * (and the jobs of history imports still queued or running): after Redis lost its data, a job
 * failed all its attempts during a long outage, the API died between storing and enqueuing, or
 * the embedded server restarted.
 */
import type { BatchRepository, OpenBatch } from '../store/batches.js';
import type { HistoryImportStore } from '../store/history-imports.js';
import { enqueueHistoryImport, historyImportJobId } from './history-import.js';
import { LIVE_STATES, type JobQueue, type ScoreBatchData } from './types.js';

/** Job id of a batch chunk. BullMQ ids may not contain ':'. */
export function chunkJobId(batchId: string, chunk: number): string {
  return `sb.${batchId}.${chunk}`;
}

/** The jobs of a batch's chunks `chunks` (chunk numbers). */
export function chunkJobs(
  b: Pick<OpenBatch, 'tenantId' | 'batchId'>,
  chunks: readonly number[],
): { id: string; data: ScoreBatchData }[] {
  return chunks.map((chunk) => ({
    id: chunkJobId(b.batchId, chunk),
    data: { tenantId: b.tenantId, batchId: b.batchId, chunk },
  }));
}

/**
 * Enqueues every chunk of a stored batch.
 * @param chunks the batch's number of chunks (`CreateBatchResult.chunks` of store/batches.ts).
 * @returns the job ids, in chunk order.
 * @throws TriageError `TRIAGE_QUEUE_UNAVAILABLE` when the queue does not answer (the batch stays
 *   stored; the recovery sweep enqueues it later).
 */
export async function enqueueBatch(
  queue: JobQueue,
  b: Pick<OpenBatch, 'tenantId' | 'batchId'>,
  chunks: number,
): Promise<string[]> {
  const jobs = chunkJobs(
    b,
    Array.from({ length: chunks }, (_, i) => i),
  );
  await Promise.all(jobs.map((j) => queue.add('score-batch', j.data, { jobId: j.id })));
  return jobs.map((j) => j.id);
}

/** Options of {@link createRecoverySweep}. */
export interface RecoverySweepOptions {
  queue: JobQueue;
  batches: BatchRepository;
  /** Staged history imports, whose `import-history` jobs are swept too; absent: none. */
  imports?: Pick<HistoryImportStore, 'open'>;
  /** Batches (and imports) younger than this are left to the request that stored them, ms; default 10 000. */
  graceMs?: number;
  /** Time between sweeps once started, ms; default 30 000. */
  intervalMs?: number;
  /** Batches looked at per sweep; default 200. */
  limit?: number;
  /** A sweep that could not finish (store or queue down); the next one tries again. */
  onError?: (e: unknown) => void;
}

/** Outcome of one sweep. */
export interface SweepReport {
  /** Jobs added again (batch chunks and history imports). */
  requeued: number;
  /** Batches found settled but not marked complete (crash between the two writes). */
  completed: number;
}

/** The recovery sweep. */
export interface RecoverySweep {
  /** One sweep now. */
  runOnce(): Promise<SweepReport>;
  /** Sweeps now and then every `intervalMs` until {@link RecoverySweep.stop}. */
  start(): void;
  /** Stops and waits for a running sweep. */
  stop(): Promise<void>;
}

/** Creates the recovery sweep (run by every worker process, and by the embedded server). */
export function createRecoverySweep(opts: RecoverySweepOptions): RecoverySweep {
  const graceMs = opts.graceMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 30_000;
  const limit = opts.limit ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<SweepReport> | null = null;

  async function sweep(): Promise<SweepReport> {
    const completed = await opts.batches.completeFinished();
    let requeued = 0;
    for (const b of await opts.batches.openBatches(graceMs, limit)) {
      for (const job of chunkJobs(b, b.chunks)) {
        const existing = await opts.queue.getJob('score-batch', job.id);
        if (existing && LIVE_STATES.has(existing.state)) continue;
        // A finished job keeps its id: remove it so the id can run again.
        if (existing) await opts.queue.remove('score-batch', job.id);
        await opts.queue.add('score-batch', job.data, { jobId: job.id });
        requeued++;
      }
    }
    for (const imp of (await opts.imports?.open(graceMs, limit)) ?? []) {
      const id = historyImportJobId(imp.importId);
      const existing = await opts.queue.getJob('import-history', id);
      if (existing && LIVE_STATES.has(existing.state)) continue;
      if (existing) await opts.queue.remove('import-history', id);
      await enqueueHistoryImport(opts.queue, imp.tenantId, imp.importId);
      requeued++;
    }
    return { requeued, completed };
  }

  const runOnce = (): Promise<SweepReport> => {
    current ??= sweep().finally(() => {
      current = null;
    });
    return current;
  };

  return {
    runOnce,
    start() {
      if (timer) return;
      const tick = (): void => {
        runOnce().catch((e: unknown) => opts.onError?.(e));
      };
      tick();
      timer = setInterval(tick, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await current?.catch(() => undefined);
    },
  };
}
