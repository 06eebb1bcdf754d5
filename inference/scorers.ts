/**
 * Scorer seams. The walking skeleton ships heuristic scorers; the training issue replaces them
 * with trained, calibrated ONNX models behind the same interfaces (a registry maps the task
 * names `coding-mismatch` and `duplicate` to a scorer, its feature schema and its version).
 *
 * ONNX Runtime scores asynchronously, so the interfaces take the result type as a parameter:
 * the heuristics are synchronous (the default), the model scorers (`model-scorers.ts`) return
 * promises. Callers that accept both use `CodingMismatchScorer<MaybePromise<LineScore[]>>`
 * and `await` the result.
 */
import type { Invoice } from '../core/invoice.js';
import type { Reason, SuggestedCode } from './explain.js';
import type { LineFeatures } from '../features/invoice-features.js';
import type { PairComparison } from '../features/pair.js';
import type { ModelExplanation } from './explain-model.js';

/** A value or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/** Coding-mismatch result of one line. `score` is P(exception) in [0,1], null when not scorable. */
export interface LineScore {
  lineNumber: number;
  score: number | null;
  reasons: Reason[];
  suggestedCodes: SuggestedCode[];
  /** Model version that produced `score` when it differs per call (hot-reloaded models). */
  modelVersion?: string;
  /** Model explanation (contributions to the logit by feature group), when the model has one. */
  explanation?: ModelExplanation;
}

/** Scores each line of an invoice for coding mismatch. */
export interface CodingMismatchScorer<R extends MaybePromise<LineScore[]> = LineScore[]> {
  readonly task: 'coding-mismatch';
  /** e.g. `heuristic-coding@1`; for hot-reloaded models the version serving new calls. */
  readonly version: string;
  scoreLines(invoice: Invoice, lines: readonly LineFeatures[]): R;
}

/** Duplicate probability of one candidate pair with the comparison's contributions. */
export interface PairScore {
  /** P(duplicate) in [0, 1]. */
  score: number;
  /** Additive contributions to the log-odds, by comparison; they sum to logit(score) - bias. */
  contributions: Record<string, number>;
  /** Document-kind rule that overrode the model, if any (e.g. credit memo reversing an invoice). */
  rule: string | null;
  /** Model version that produced `score` when it differs per call (hot-reloaded models). */
  modelVersion?: string;
  /** Model explanation (contributions to the logit by feature group), when the model has one. */
  explanation?: ModelExplanation;
}

/** Scores candidate pairs from their comparison vectors. */
export interface DuplicatePairScorer<R extends MaybePromise<PairScore> = PairScore> {
  readonly task: 'duplicate';
  readonly version: string;
  scorePair(c: PairComparison): R;
}
