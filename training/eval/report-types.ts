/**
 * The shapes of an evaluation report (`npm run eval`): per detector, per exception kind,
 * with hard negatives, curves, calibration, the decision's guarantee and confusion examples.
 * Produced by training/eval/harness.ts, rendered by report*.ts.
 */
import type { DecisionGuarantee } from './guarantee.js';
import type {
  CodingKind,
  DuplicateKind,
  HardNegativeKind,
  BenchmarkSplit,
} from '../../datasets/benchmark/types.js';
import type { BinaryReport, PrPoint, ReliabilityBin } from './metrics.js';

/** Metrics of one kind (or overall) with the share of flagged duplicates matched to the right invoice. */
export interface KindReport extends BinaryReport {
  /** Flagged positives whose matched invoice is the original (or an earlier copy of it) / flagged positives. */
  matched?: number;
  /** Lines the detector named as this kind that are this kind / lines it named as this kind. */
  kindPrecision?: number;
}

/** Hard-negative outcome of one kind. */
export interface NegativeReport {
  n: number;
  flagged: number;
  /** flagged / n. */
  fpr: number;
  /** Flagged with the related invoice named as the one duplicated. */
  flaggedAgainstRelated: number;
}

/** A confusion example. */
export interface Example {
  invoice_id: string;
  line_number?: number;
  score: number;
  /**
   * What the example truly is: a duplicate kind (`exact_resubmission`), a hard-negative kind or
   * `plain` (not a duplicate), a coding kind (`unbundling`), or `clean` (a line without exception).
   */
  true_kind: string;
  /**
   * What the detector said: `duplicate` (flagged at its threshold), the coding kinds it named
   * (`unbundling,wrong_code`), `flagged` (a coding flag naming no kind), or `not flagged`.
   */
  predicted_kind: string;
  /** For duplicates: the labelled original or the invoice the detector matched. */
  other?: string | null;
  /** What differs, or the label's documented changes / evidence. */
  detail: string[];
}

/** Evaluation of one detector. */
export interface DetectorReport {
  name: string;
  version: string;
  thresholds: { duplicate: number; coding: number };
  invoices: number;
  seconds: number;
  invoicesPerSecond: number;
  decisions: Record<string, number>;
  /**
   * Per decision kind: invoices, and those with a true exception (a duplicate label or a coding
   * label on any line). `exceptionRate` of AUTO_APPROVE is what the card thresholds certify.
   */
  exceptionsByDecision: Record<string, { invoices: number; exceptions: number; exceptionRate: number }>;
  /** The routing promise tested on this split, with the review load (null without decisions; guarantee.ts). */
  guarantee?: DecisionGuarantee | null;
  /**
   * The same promise tested on each split when the evaluated invoices span several (`--split
   * all`); absent for a single split.
   */
  guaranteeBySplit?: Partial<Record<BenchmarkSplit, DecisionGuarantee>>;
  duplicate: {
    overall: KindReport;
    byKind: Record<DuplicateKind, KindReport>;
    /** Recall of the duplicates carrying two or more changes, by combination (`combinationOf`). */
    byCombination: Record<string, { n: number; flagged: number; recall: number }>;
    hardNegatives: Record<HardNegativeKind | 'plain', NegativeReport>;
    prCurve: PrPoint[];
    reliability: ReliabilityBin[];
  } | null;
  coding: {
    overall: KindReport;
    byKind: Record<CodingKind, KindReport>;
    /** Lines the detector gave no score (counted as 0). */
    notScored: number;
    /**
     * Lines by true kind (`clean` or a coding kind) and what the detector said at its threshold
     * (each kind it named, `flagged` naming none, or `not flagged`): true kind -> predicted -> lines.
     */
    confusion: Record<string, Record<string, number>>;
    prCurve: PrPoint[];
    reliability: ReliabilityBin[];
  } | null;
  examples: {
    duplicateFalseNegatives: Example[];
    duplicateFalsePositives: Example[];
    codingFalseNegatives: Example[];
    codingFalsePositives: Example[];
  };
}

/** The whole evaluation. */
export interface EvalReport {
  dataset: string;
  /** The split evaluated, or `all` (train, valid and test in submission order, one store). */
  split: BenchmarkSplit | 'all';
  /** Records evaluated (all of the split unless `limit` was given). */
  invoices: number;
  lines: number;
  limit: number | null;
  positives: {
    duplicates: Record<DuplicateKind, number>;
    hardNegatives: Record<HardNegativeKind, number>;
    coding: Record<CodingKind, number>;
  };
  detectors: DetectorReport[];
}

/** Options of {@link evaluate}. */
export interface EvalOptions {
  /** Split to evaluate, or `all` for the three in submission order; default `test`. */
  split?: BenchmarkSplit | 'all';
  /** Evaluate only the first `limit` records of the split (reported as such). */
  limit?: number;
  /** Confusion examples kept per category; default 8. */
  examples?: number;
  /** Called every 100 invoices per detector. */
  onProgress?: (detector: string, done: number, total: number) => void;
}
