/**
 * Worker-thread task of a history import (started by inference/history-workers.ts through
 * piscina): validates and featurises one chunk ({@link prepareHistoryRecords}) and answers the
 * prepared chunk, or the error's code, message and field errors (a class does not cross threads).
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { isTriageError, type ErrorCode, type FieldError } from '../core/errors.js';
import {
  prepareHistoryRecords,
  type BadRecordPolicy,
  type HistoryInput,
  type PreparedHistoryChunk,
} from './history.js';

/** One task: a chunk of records, what to do with a bad one, and the tenant to encode COPY rows for. */
export interface HistoryWorkerTask {
  inputs: readonly HistoryInput[];
  onBadRecord: BadRecordPolicy;
  copyForTenant?: string;
}

/** The answer to a task: the prepared chunk, or the error it threw. */
export type HistoryWorkerAnswer =
  | { ok: true; chunk: PreparedHistoryChunk }
  | { ok: false; message: string; code?: ErrorCode; errors?: FieldError[] };

/**
 * Prepares one chunk; never throws (the error travels in the answer). Encoded COPY rows are
 * moved to the calling thread (their ArrayBuffers transferred, not copied).
 */
export default function prepareChunk(task: HistoryWorkerTask): unknown {
  try {
    const chunk = prepareHistoryRecords(task.inputs, task.onBadRecord, task.copyForTenant);
    const buffers = new Set<ArrayBuffer>();
    for (const v of chunk.valid)
      if (v.rows) buffers.add(v.rows.invoice.buffer as ArrayBuffer).add(v.rows.lines.buffer as ArrayBuffer);
    const answer: HistoryWorkerAnswer = { ok: true, chunk };
    if (buffers.size === 0) return answer;
    return move({ [transferableSymbol]: [...buffers], [valueSymbol]: answer });
  } catch (e) {
    return {
      ok: false,
      message: e instanceof Error ? e.message : String(e),
      ...(isTriageError(e) ? { code: e.code, errors: e.errors } : {}),
    };
  }
}
