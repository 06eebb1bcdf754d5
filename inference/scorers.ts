/**
 * Scorer interfaces: heuristic scorers and trained, calibrated ONNX models serve behind the
 * same interfaces (a registry maps the task names `coding-mismatch` and `duplicate` to a
 * scorer, its feature schema and its version); each scorer declares its `kind`.
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
import type { VendorProfile } from '../core/vendor.js';
import type { VendorCodeBaseline } from '../features/baselines.js';

/**
 * What the store knows about the invoice's vendor when it is scored, for scorers whose features
 * need it (the trained coding model's vendor features, as training built them).
 */
export interface ScoringContext {
  /** The tenant's vendor master record of `invoice.vendor.id`, null when none is registered. */
  vendorProfile: VendorProfile | null;
  /**
   * HCPCS code -> number of lines the tenant's earlier invoices of this vendor billed with it
   * (upper-case codes; the vendor's history, before this invoice). Empty for a new vendor.
   */
  vendorCodeCounts: ReadonlyMap<string, number>;
  /**
   * Upper-case HCPCS code -> the vendor's own quantity and unit-price baselines for the codes of
   * this invoice (features/baselines.ts; learned from its imported history and the scored lines
   * store/baseline-lines.ts lets in). Absent or missing codes: no history.
   */
  vendorBaselines?: ReadonlyMap<string, VendorCodeBaseline>;
  /**
   * The coding review threshold of the policy in effect for the invoice (`coding.review_at`,
   * probability in [0, 1]): a model scorer gives reasons from it when it is below the card's
   * threshold ({@link codingReasonThreshold}). Absent: the card's threshold.
   */
  codingReviewAt?: number;
}

/** The threshold a coding line's score must exceed to carry a reason, and where it comes from. */
export interface CodingReasonThreshold {
  /** Probability in [0, 1]. */
  value: number;
  /** `model-card` (the card's auto-approve threshold) or `policy` (the stricter `coding.review_at`). */
  source: 'model-card' | 'policy';
}

/**
 * The one rule for when a coding line carries a reason: its score exceeds
 * `min(card threshold, policy coding.review_at)`, so a policy stricter than the card (a
 * certification below scale 1) reviews lines the card would approve, and a laxer one still gets
 * the card's reasons. Serving (inference/model-scorers.ts) and the certification
 * (training/certify.ts, the scored rows' reason floor) read it.
 * @param card the coding card's auto-approve threshold, probability in [0, 1]
 * @param policyReviewAt the policy's `coding.review_at`; undefined: the card's applies
 */
export function codingReasonThreshold(
  card: number,
  policyReviewAt: number | undefined,
): CodingReasonThreshold {
  return policyReviewAt !== undefined && policyReviewAt < card
    ? { value: policyReviewAt, source: 'policy' }
    : { value: card, source: 'model-card' };
}

/** A value or a promise of it. */
export type MaybePromise<T> = T | Promise<T>;

/**
 * How a scorer scores: `heuristic` (hand-set rules and weights, explained exactly by their
 * terms) or `model` (a trained model, explained by feature-group attributions).
 */
export type ScorerKind = 'heuristic' | 'model';

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
  /**
   * Set instead of `explanation` when the model can explain the line but the explanation was
   * not computed (a line at or below the reason threshold, whose reasons do not need it): the
   * stored explanation keeps this input row and the explanation is computed when read
   * ({@link CodingMismatchScorer.explainStored}), with the same numbers.
   */
  explainLater?: DeferredLineExplanation;
  /** The model's input row (schema order) behind `score`, for drift monitoring; absent for heuristics. */
  features?: ArrayLike<number>;
}

/**
 * What a line's explanation is computed from later: the model version (`<name>@<version>`)
 * and its input row in schema order, rounded to float32 as the model reads it (so the JSON
 * numbers convert back to the same float32 values).
 */
export interface DeferredLineExplanation {
  model: string;
  features: number[];
}

/** Scores each line of an invoice for coding mismatch. */
export interface CodingMismatchScorer<R extends MaybePromise<LineScore[]> = LineScore[]> {
  readonly task: 'coding-mismatch';
  readonly kind: ScorerKind;
  /** e.g. `heuristic-coding@1`; for hot-reloaded models the version serving new calls. */
  readonly version: string;
  /** @param context the vendor's master record and history; scorers that do not need it ignore it. */
  scoreLines(invoice: Invoice, lines: readonly LineFeatures[], context?: ScoringContext): R;
  /** See {@link DuplicatePairScorer.thresholds}. */
  readonly thresholds?: CardThresholds | null;
  /**
   * The score a line must exceed to carry a coding reason, for the version serving new calls;
   * routing reviews a coding score only with a reason, so no coding review threshold at or
   * below it can apply. Absent or null: every scored line can carry a reason (heuristics).
   */
  readonly reasonFloor?: ReasonFloor | null;
  /** True when `scoreLines` reads `context.vendorCodeCounts` (the caller then queries the vendor's history). */
  readonly usesVendorHistory?: boolean;
  /**
   * Computes a deferred line explanation ({@link LineScore.explainLater}): the explanation the
   * model version named there gives its input row, the same as when scoring. Absent for
   * scorers that never defer.
   * @returns null when that version is no longer in the registry or cannot be explained.
   */
  explainStored?(deferred: DeferredLineExplanation): Promise<ModelExplanation | null>;
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
  /**
   * For scorers whose explanation costs more than the score (integrated gradients): computes
   * `contributions` and `explanation` on demand, for the pairs that are reported; until then
   * `contributions` is empty and `explanation` absent.
   */
  explain?: () => Pick<PairScore, 'contributions' | 'explanation'>;
}

/** Scores candidate pairs from their comparison vectors. */
export interface DuplicatePairScorer<R extends MaybePromise<PairScore> = PairScore> {
  readonly task: 'duplicate';
  readonly kind: ScorerKind;
  readonly version: string;
  /** Log-odds intercept of a linear scorer (its contributions plus this make the logit); absent otherwise. */
  readonly intercept?: number;
  scorePair(c: PairComparison): R;
  /** Scores many pairs at once (one model run), when the scorer can; same results as `scorePair` each. */
  scorePairs?(cs: readonly PairComparison[]): Promise<PairScore[]>;
  /**
   * The calibrated routing thresholds of the model's card (invoice-level score: auto-approve at
   * or below `autoApprove`, hold at or above `hold`), with the card's label; absent for heuristics.
   */
  readonly thresholds?: CardThresholds | null;
}

/** A coding model's reason floor: lines carry a coding reason only when their score exceeds `value`. */
export interface ReasonFloor {
  /** e.g. `coding-mismatch@4`. */
  model: string;
  /** Probability in [0, 1]. */
  value: number;
}

/** Thresholds a model card certifies (Learn-then-Test), with the model version they belong to. */
export interface CardThresholds {
  /** e.g. `coding-mismatch@1`. */
  model: string;
  /** Invoice scores at or below this go straight through; probability in [0, 1]. */
  autoApprove: number;
  /** Invoice scores at or above this are held; probability in [0, 1]. */
  hold: number;
}
