/**
 * Worker-thread task of a history import (started by inference/history-workers.ts through
 * piscina): validates and featurises one chunk ({@link prepareHistoryRecords}) and answers the
 * prepared chunk, or the error's code, message and field errors (a class does not cross threads).
 */
import { isTriageError, type ErrorCode, type FieldError } from '../core/errors.js';
import {
  prepareHistoryRecords,
  type BadRecordPolicy,
  type HistoryInput,
  type PreparedHistoryChunk,
} from './history.js';

/** One task: a chunk of records and what to do with a bad one. */
export interface HistoryWorkerTask {
  inputs: readonly HistoryInput[];
  onBadRecord: BadRecordPolicy;
}

/** The answer to a task: the prepared chunk, or the error it threw. */
export type HistoryWorkerAnswer =
  | { ok: true; chunk: PreparedHistoryChunk }
  | { ok: false; message: string; code?: ErrorCode; errors?: FieldError[] };

/** Prepares one chunk; never throws (the error travels in the answer). */
export default function prepareChunk(task: HistoryWorkerTask): HistoryWorkerAnswer {
  try {
    return { ok: true, chunk: prepareHistoryRecords(task.inputs, task.onBadRecord) };
  } catch (e) {
    return {
      ok: false,
      message: e instanceof Error ? e.message : String(e),
      ...(isTriageError(e) ? { code: e.code, errors: e.errors } : {}),
    };
  }
}
