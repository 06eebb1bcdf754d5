/**
 * What the scoring pipeline tells model monitoring (drift, shadow challengers, audit sample):
 * two calls, both optional for the pipeline (`ScoringDeps.monitor`).
 */
import type { DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import type { LineFeatures } from '../features/invoice-features.js';
import type { PairComparison } from '../features/pair.js';
import type { LineScore, ScoringContext } from '../inference/scorers.js';
import type { AuditSampleDraw } from './audit-sample.js';

/** A new decision, after it was stored, with what its models saw. */
export interface ScoredEvent {
  tenantId: string;
  decision: DecisionResponse;
  invoice: Invoice;
  lineFeatures: readonly LineFeatures[];
  context: ScoringContext;
  /** The coding model's line scores (unrounded), with each line's feature vector when the model has one. */
  lineScores: readonly LineScore[];
  /** Candidate pairs the duplicate model scored: comparison and the model's own probability. */
  pairs: readonly { comparison: PairComparison; modelScore: number }[];
}

/** Monitoring as seen by the scoring pipeline. */
export interface ScoringMonitor {
  /**
   * The tenant's audit-sample draw, read before the scoring transaction: given a new decision,
   * its draw (AUTO_APPROVE only; null for other decisions), recorded in its audit entry and,
   * when sampled, in `audit_samples` in the same transaction.
   */
  auditSampler(
    tenantId: string,
  ): Promise<(decisionId: string, decision: DecisionResponse['decision']) => AuditSampleDraw | null>;
  /** Told after a new decision is stored (not for replays). Never throws, never waits for I/O. */
  scored(e: ScoredEvent): void;
}
