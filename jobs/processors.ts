/**
 * The processors of every job, shared by BullMQ workers and the in-process queue.
 *
 * `score-batch` is idempotent: it only touches items still `pending`, scoring goes through the
 * scoring service whose write is keyed by (tenant, invoice_id), and an item moves to `done` only
 * from `pending`. With the service's `scoreChunk`, the chunk's items are scored together and each
 * group's item states commit in the group's transaction; a group that fails leaves its items
 * pending and the rest of the chunk goes one by one, as without it. A retried, stalled-and-rerun or duplicated job therefore never writes a second
 * decision for an invoice: at worst it finds the stored decision and records it (`replayed`).
 */
import type { Invoice } from '../core/invoice.js';
import { TriageError } from '../core/errors.js';
import { validateInvoice } from '../core/validate.js';
import type { ScoringService } from '../inference/pipeline.js';
import type { ChunkSettled } from '../inference/chunk-scoring.js';
import { batchOrderKeys, scoringOrder } from '../inference/batch-partition.js';
import { createHistoryImportProcessor, type HistoryImportDeps } from './history-import.js';
import type { BatchItemError, BatchRepository, PendingItem, SettledItem } from '../store/batches.js';
import {
  JobStopped,
  type JobContext,
  type Processor,
  type Processors,
  type RetrainData,
  type RetrainResult,
  type ScoreBatchData,
  type ScoreBatchResult,
} from './types.js';

/**
 * Trains and registers a challenger model (training/ provides it; injected here). `ctx`, when
 * given, receives progress reports (percent), and its `signal`, aborted when the queue running
 * the job closes, cancels the run (`TRIAGE_TRAINING_CANCELLED`, nothing registered).
 */
export type TrainFn = (
  args: RetrainData,
  ctx?: Pick<JobContext, 'updateProgress' | 'signal'>,
) => Promise<RetrainResult>;

/** Dependencies of the processors. */
export interface ProcessorDeps {
  /** The scoring service; with `scoreChunk`, a chunk's pending items are scored together. */
  scoring: Pick<ScoringService, 'score' | 'scoreChunk'>;
  batches: BatchRepository;
  train: TrainFn;
  /** Sends one webhook delivery (events/delivery.ts); absent: this process does not deliver webhooks. */
  deliverWebhook?: Processor<'deliver-webhook'>;
  /** History imports (store, staged imports); absent: this process runs no `import-history` jobs. */
  history?: HistoryImportDeps;
  /**
   * Failed attempts at one item (errors other than a store outage, which is not counted) after
   * which the item is given up as `TRIAGE_BATCH_ITEM_ABANDONED`; default 10. Bounds a poison item.
   */
  maxItemAttempts?: number;
}

/** The error a failed item is recorded with: code, detail and field errors; never invoice contents. */
export function itemErrorOf(e: TriageError): BatchItemError {
  return { code: e.code, detail: e.message, ...(e.errors.length > 0 ? { errors: e.errors } : {}) };
}

/** A trainer for builds without the training module: every retrain fails at once, not retried. */
export const trainingUnavailable: TrainFn = async () => {
  throw new TriageError(
    'TRIAGE_TRAINING_UNAVAILABLE',
    'this build has no training module wired into the worker; retraining cannot run',
  );
};

function checkScoreBatchData(d: ScoreBatchData): void {
  const ok =
    typeof d === 'object' &&
    d !== null &&
    typeof d.tenantId === 'string' &&
    typeof d.batchId === 'string' &&
    Number.isInteger(d.chunk) &&
    d.chunk >= 0;
  if (!ok) throw new TriageError('TRIAGE_REQUEST_INVALID', 'malformed score-batch job data');
}

function checkRetrainData(d: RetrainData): void {
  const ok =
    typeof d === 'object' &&
    d !== null &&
    typeof d.tenantId === 'string' &&
    (d.task === 'coding-mismatch' || d.task === 'duplicate') &&
    Number.isSafeInteger(d.seed);
  if (!ok) throw new TriageError('TRIAGE_REQUEST_INVALID', 'malformed retrain job data');
}

/** What a `score-batch` run uses of its job. */
type BatchContext = Pick<JobContext, 'updateProgress' | 'signal'>;

/**
 * Stops a `score-batch` run between pages (and between items scored one by one) once its
 * job's signal aborted: what it scored is committed; a later run scores the items left pending.
 * @throws JobStopped when the signal aborted.
 */
function stopIfCancelled(ctx: BatchContext, data: ScoreBatchData): void {
  if (ctx.signal?.aborted)
    throw new JobStopped(
      `chunk ${data.chunk} of batch ${data.batchId} stopped with its worker; it resumes later`,
    );
}

/** A chunk's items read and scored at a time (bounds the memory of a chunk larger than its batch's chunk size). */
const ITEMS_PER_PAGE = 500;

/** Builds the processors of every job in the {@link JobMap}. */
export function createProcessors(deps: ProcessorDeps): Processors {
  const maxItemAttempts = deps.maxItemAttempts ?? 10;

  async function scoreBatch(data: ScoreBatchData, ctx: BatchContext): Promise<ScoreBatchResult> {
    checkScoreBatchData(data);
    const result: ScoreBatchResult = { scored: 0, replayed: 0, failed: 0, skipped: 0 };
    for (let after = -1; ;) {
      const page = await deps.batches.chunkItems(
        data.tenantId,
        data.batchId,
        data.chunk,
        after,
        ITEMS_PER_PAGE,
      );
      if (page.last === null) break;
      if (page.pending.length > 0) stopIfCancelled(ctx, data);
      result.skipped += page.settled;
      await scorePage(data, page.pending, after, ctx, result);
      after = page.last;
    }
    await deps.batches.completeIfFinished(data.batchId);
    return result;
  }

  /**
   * Scores a page's pending items: together when the service has `scoreChunk`, else (and the
   * items a failed group left pending) one by one. `after` is the page's cursor, to read it again.
   */
  async function scorePage(
    data: ScoreBatchData,
    pending: readonly PendingItem[],
    after: number,
    ctx: BatchContext,
    result: ScoreBatchResult,
  ): Promise<void> {
    let items = pending;
    if (deps.scoring.scoreChunk && items.length > 0) {
      try {
        await scoreAsChunk(deps.scoring.scoreChunk, data, items, result);
        await ctx.updateProgress(100).catch(() => undefined);
        return;
      } catch {
        // A group failed and was rolled back whole: the items still pending go one by one, which
        // counts attempts per item (a poison item is given up) and retries the job on an outage.
        const again = await deps.batches.chunkItems(
          data.tenantId,
          data.batchId,
          data.chunk,
          after,
          ITEMS_PER_PAGE,
        );
        items = again.pending;
      }
    }
    for (const [k, item] of items.entries()) {
      stopIfCancelled(ctx, data);
      let invoice: Invoice;
      try {
        invoice = validateInvoice(item.payload);
      } catch (e) {
        if (!(e instanceof TriageError)) throw e;
        if (await deps.batches.markFailed(data.batchId, item.index, itemErrorOf(e))) result.failed++;
        continue;
      }
      try {
        const out = await deps.scoring.score(invoice, data.tenantId, item.submittedByKeyId);
        await deps.batches.markDone(data.batchId, item.index, out.decision.decision_id, !out.created);
        if (out.created) result.scored++;
        else result.replayed++;
      } catch (e) {
        if (e instanceof TriageError && !e.retryable) {
          // E.g. TRIAGE_INVOICE_CONFLICT: the same id was scored with other content. Final.
          if (await deps.batches.markFailed(data.batchId, item.index, itemErrorOf(e))) result.failed++;
          continue;
        }
        // Transient (store restarting) or unknown: retry the job, unless this item keeps failing.
        // While the store is down the attempt cannot be recorded, so outages never use up items.
        const attempts = await deps.batches.recordAttempt(data.batchId, item.index).catch(() => 0);
        if (attempts >= maxItemAttempts) {
          const gaveUp = new TriageError(
            'TRIAGE_BATCH_ITEM_ABANDONED',
            `scoring failed ${attempts} times; the item is given up (quote the batch id when reporting it)`,
          );
          if (await deps.batches.markFailed(data.batchId, item.index, itemErrorOf(gaveUp))) result.failed++;
          continue;
        }
        throw e;
      }
      if (k % 10 === 9 || k === items.length - 1) {
        // Progress is informative: losing it (Redis blip) must not fail the chunk.
        await ctx.updateProgress(Math.round(((k + 1) / items.length) * 100)).catch(() => undefined);
      }
    }
  }

  /**
   * Scores the pending items as one chunk (ScoringService.scoreChunk): invalid payloads fail at
   * once, the rest settle in their group's transaction, so an item is done exactly when its
   * decision is stored. They are scored in {@link scoringOrder} (a vendor's items in item order,
   * items of different vendors side by side, so that groups are as wide as the chunk's vendors).
   */
  async function scoreAsChunk(
    scoreChunk: NonNullable<ScoringService['scoreChunk']>,
    data: ScoreBatchData,
    items: readonly PendingItem[],
    result: ScoreBatchResult,
  ): Promise<void> {
    const checked: { index: number; invoice: Invoice }[] = [];
    for (const item of items) {
      try {
        checked.push({ index: item.index, invoice: validateInvoice(item.payload) });
      } catch (e) {
        if (!(e instanceof TriageError)) throw e;
        if (await deps.batches.markFailed(data.batchId, item.index, itemErrorOf(e))) result.failed++;
      }
    }
    const valid = scoringOrder(checked.map((v) => batchOrderKeys(v.invoice))).map((i) => checked[i]!);
    const settledOf = (x: ChunkSettled): SettledItem => {
      const index = valid[x.index]!.index;
      return 'error' in x
        ? { index, error: itemErrorOf(x.error) }
        : { index, decisionId: x.outcome.decision.decision_id, replayed: !x.outcome.created };
    };
    await scoreChunk(
      valid.map((v) => v.invoice),
      data.tenantId,
      {
        // One batch, one submitter.
        actorKeyId: items[0]?.submittedByKeyId ?? null,
        commit: async (tx, settled) => {
          await deps.batches.settle(tx, data.batchId, settled.map(settledOf));
        },
        committed: (settled) => {
          for (const x of settled) {
            if ('error' in x) result.failed++;
            else if (x.outcome.created) result.scored++;
            else result.replayed++;
          }
        },
      },
    );
  }

  return {
    'score-batch': scoreBatch,
    retrain: async (data, ctx) => {
      checkRetrainData(data);
      return deps.train(data, ctx);
    },
    ...(deps.deliverWebhook ? { 'deliver-webhook': deps.deliverWebhook } : {}),
    ...(deps.history ? { 'import-history': createHistoryImportProcessor(deps.history) } : {}),
  };
}
