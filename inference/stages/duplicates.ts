/**
 * Stage 6, duplicates: every candidate scored as a pair (the pair scorer, then document-kind
 * rules), a credit memo matched to the invoice it reverses, the candidates worth reporting,
 * and the duplicate reason when the best candidate reaches the policy's review threshold. A
 * low-confidence invoice number (extraction) also scores each pair with the number neutralised.
 */
import type { Reason } from '../../core/decision.js';
import type { CandidateInvoice } from '../../store/repository.js';
import {
  assessDuplicates,
  ruleScoreCap,
  type DuplicateAssessment,
  type ScoredCandidate,
} from '../duplicate-detector.js';
import { reason } from '../explain.js';
import { invoiceNumberUncertain } from '../extraction-confidence.js';
import type { RoutingPolicy } from '../policy.js';
import type { DuplicatePairScorer, MaybePromise, PairScore } from '../scorers.js';
import type { Prepared } from './prepare.js';

/** Default lowest duplicate score reported (when below the policy's review threshold). */
export const DEFAULT_REPORT_DUPLICATE_AT = 0.3;

/** An earlier invoice whose lines the new invoice bills again (line-rebills.ts), with the line pairs. */
export interface RebilledInvoice {
  candidate: CandidateInvoice;
  /** The duplicate score the re-billed lines give the invoice, probability in [0, 1]. */
  score: number;
  /** Each re-billed line: its number, the earlier line's, the line-pair model's score in [0, 1]. */
  lines: readonly { lineNumber: number; earlierLineNumber: number; score: number }[];
}

/** Result of {@link scoreDuplicates}. */
export interface DuplicatesResult {
  assessment: DuplicateAssessment;
  /** The best reported candidate's score, 0 without one; probability in [0, 1]. */
  score: number;
  /** The best reported candidate when its score reaches the review threshold, else null. */
  flagged: ScoredCandidate | null;
  /** `DUPLICATE_SAME_NUMBER` or `DUPLICATE_SUSPECTED` for the flagged candidate; none otherwise. */
  reasons: Reason[];
  /** Earlier invoices with lines billed again (added by line-rebills.ts `withLineRebills`; none here). */
  rebilled: readonly RebilledInvoice[];
}

/** The duplicate reason of a flagged candidate: same canonical invoice number or not. */
export function duplicateReason(p: Prepared, top: ScoredCandidate): Reason {
  const sameNumber = top.candidate.invoiceNumberCanonical === p.features.invoiceNumber.canonical;
  return reason(sameNumber ? 'DUPLICATE_SAME_NUMBER' : 'DUPLICATE_SUSPECTED', top.score, {
    duplicate_of: top.candidate.invoiceId,
    earlier_decision: top.candidate.decision,
    earlier_approved: top.candidate.approval !== null,
    earlier_approval: top.candidate.approval,
    contributions: top.contributions,
    rule: top.rule,
    ...(top.invoiceNumberNeutralised ? { invoice_number_neutralised: true } : {}),
  });
}

/**
 * Scores the candidates of a prepared invoice; candidates are reported from
 * min(`reportAt`, the policy's duplicate review threshold).
 */
export async function scoreDuplicates(
  p: Prepared,
  candidates: readonly CandidateInvoice[],
  scorer: DuplicatePairScorer<MaybePromise<PairScore>>,
  policy: RoutingPolicy,
  reportAt: number,
): Promise<DuplicatesResult> {
  const assessment = await assessDuplicates(
    p.invoice,
    p.pairSide,
    candidates,
    scorer,
    Math.min(reportAt, policy.duplicateReview),
    invoiceNumberUncertain(p.invoice, policy.extraction),
    ruleScoreCap(policy.duplicateReview),
  );
  const top = assessment.reported[0];
  const score = top?.score ?? 0;
  const flagged = top && score >= policy.duplicateReview ? top : null;
  return { assessment, score, flagged, reasons: flagged ? [duplicateReason(p, flagged)] : [], rebilled: [] };
}
