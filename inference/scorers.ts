/**
 * Scorer seams. The walking skeleton ships heuristic scorers; the training issue replaces them
 * with trained, calibrated ONNX models behind the same interfaces (a registry maps the task
 * names `coding-mismatch` and `duplicate` to a scorer, its feature schema and its version).
 */
import type { Invoice } from '../core/invoice.js';
import type { Reason, SuggestedCode } from './explain.js';
import type { LineFeatures } from '../features/invoice-features.js';
import type { PairComparison } from '../features/pair.js';

/** Coding-mismatch result of one line. `score` is P(exception) in [0,1], null when not scorable. */
export interface LineScore {
  lineNumber: number;
  score: number | null;
  reasons: Reason[];
  suggestedCodes: SuggestedCode[];
}

/** Scores each line of an invoice for coding mismatch. */
export interface CodingMismatchScorer {
  readonly task: 'coding-mismatch';
  /** e.g. `heuristic-coding@1`. */
  readonly version: string;
  scoreLines(invoice: Invoice, lines: readonly LineFeatures[]): LineScore[];
}

/** Duplicate probability of one candidate pair with the comparison's contributions. */
export interface PairScore {
  /** P(duplicate) in [0, 1]. */
  score: number;
  /** Additive contributions to the log-odds, by comparison; they sum to logit(score) - bias. */
  contributions: Record<string, number>;
  /** Document-kind rule that overrode the model, if any (e.g. credit memo reversing an invoice). */
  rule: string | null;
}

/** Scores candidate pairs from their comparison vectors. */
export interface DuplicatePairScorer {
  readonly task: 'duplicate';
  readonly version: string;
  scorePair(c: PairComparison): PairScore;
}
