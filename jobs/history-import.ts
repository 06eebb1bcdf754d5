/**
 * The `import-history` job: imports a staged history import (store/history-imports.ts) chunk by
 * chunk from its first record not committed. Each chunk goes through the synchronous import's
 * path (inference/history.ts `importHistoryChunk`: validation, skip of invoices stored with the
 * same content, one transaction per chunk with its `history.imported` audit entry) and records
 * its progress in that same transaction, guarded by the index it started from: a retried,
 * stalled-and-rerun or duplicated job, or one resumed after a crash, never imports or counts a
 * record twice, and loses none. A record whose invoice id was stored with other content after
 * the import was accepted is refused (counted and listed on the import), not retried. When its
 * queue or worker closes, the job stops between chunks and is resumed later.
 */
import { setImmediate } from 'node:timers/promises';
import { TriageError } from '../core/errors.js';
import { importHistoryChunk, type HistoryInput } from '../inference/history.js';
import type { HistoryStore } from '../store/history.js';
import type { HistoryImportStatus, HistoryImportStore } from '../store/history-imports.js';
import {
  JobStopped,
  type ImportHistoryData,
  type ImportHistoryResult,
  type JobContext,
  type JobQueue,
} from './types.js';

/** What the `import-history` processor needs. */
export interface HistoryImportDeps {
  /** Where invoices are imported (store/history.ts). */
  history: HistoryStore;
  /** Where imports are staged and their progress kept. */
  imports: HistoryImportStore;
}

/** Job id of an import. BullMQ ids may not contain ':'. */
export function historyImportJobId(importId: string): string {
  return `hi.${importId}`;
}

/**
 * Enqueues an import's job (a no-op while a job of that id exists).
 * @throws TriageError `TRIAGE_QUEUE_UNAVAILABLE` when the queue does not answer (the import stays
 *   staged; the recovery sweep enqueues it later).
 */
export async function enqueueHistoryImport(
  queue: JobQueue,
  tenantId: string,
  importId: string,
): Promise<string> {
  return queue.add('import-history', { tenantId, importId }, { jobId: historyImportJobId(importId) });
}

/** The chunk's progress moved on under this run (another run of the same import committed it). */
class MovedOn extends Error {}

function resultOf(s: HistoryImportStatus): ImportHistoryResult {
  return { records: s.recordsTotal, imported: s.imported, skipped: s.skipped, refused: s.refused };
}

function checkData(d: ImportHistoryData): void {
  const ok =
    typeof d === 'object' && d !== null && typeof d.tenantId === 'string' && typeof d.importId === 'string';
  if (!ok) throw new TriageError('TRIAGE_REQUEST_INVALID', 'malformed import-history job data');
}

/**
 * The `import-history` processor.
 * @throws TriageError `TRIAGE_REQUEST_INVALID` (not retried) for malformed data or an unknown
 *   import; a store error is retried, and the next run resumes where this one stopped.
 */
export function createHistoryImportProcessor(
  deps: HistoryImportDeps,
): (
  data: ImportHistoryData,
  ctx: Pick<JobContext, 'updateProgress' | 'signal'>,
) => Promise<ImportHistoryResult> {
  const { history, imports } = deps;
  return async (data, ctx) => {
    checkData(data);
    const current = async (): Promise<HistoryImportStatus> => {
      const s = await imports.get(data.tenantId, data.importId);
      if (!s) throw new TriageError('TRIAGE_REQUEST_INVALID', `no history import ${data.importId}`);
      return s;
    };
    let s = await current();
    if (s.state === 'done' || s.state === 'failed') return resultOf(s);
    await imports.start(data.importId);
    try {
      for (s = await current(); s.nextIndex < s.recordsTotal; s = await current()) {
        const from = s.nextIndex;
        // The process is closing: stop between chunks; a retry or the recovery sweep resumes here.
        if (ctx.signal?.aborted)
          throw new JobStopped(`the import stopped with its queue at record /${from}; it resumes there`);
        const to = Math.min(s.recordsTotal, from + s.chunkSize);
        const inputs: HistoryInput[] = (await imports.records(data.importId, from, to)).map((r) => ({
          location: `/${r.index}`,
          ...(r.line === undefined ? {} : { line: r.line }),
          text: r.text,
        }));
        let recorded = false;
        try {
          const out = await importHistoryChunk(history, data.tenantId, inputs, {
            actorKeyId: s.submittedByKeyId,
            onBadRecord: 'report',
            commit: async (tx, o) => {
              const progress = { imported: o.imported, skipped: o.skipped, refused: o.invalid };
              if (!(await imports.advance(data.importId, from, to, progress, tx))) throw new MovedOn();
              recorded = true;
            },
          });
          // Nothing written (every record stored before, or refused): the progress alone.
          if (!recorded)
            await imports.advance(data.importId, from, to, {
              imported: out.imported,
              skipped: out.skipped,
              refused: out.invalid,
            });
        } catch (e) {
          if (!(e instanceof MovedOn)) throw e;
        }
        await ctx.updateProgress(Math.floor((to / s.recordsTotal) * 100)).catch(() => undefined);
        // The embedded engine runs on this thread: a turn between chunks for other requests.
        await setImmediate();
      }
      await imports.finish(data.importId);
      return resultOf(await current());
    } catch (e) {
      if (e instanceof TriageError && !e.retryable)
        await imports.fail(data.importId, { code: e.code, detail: e.message }).catch(() => undefined);
      throw e;
    }
  };
}
