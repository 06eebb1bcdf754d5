/**
 * Heuristic duplicate pair scorer: a hand-set logistic model over the pair comparison vector,
 * plus document-kind rules. Contributions are exact (the model is linear in log-odds, with the
 * scorer's `intercept`), so explanations add up to the score. Served when no trained pair
 * model is (`MODELS_DIR=none`).
 */
import type { PairComparison } from '../features/pair.js';
import type { DuplicatePairScorer, PairScore } from './scorers.js';
import { sigmoid } from '../models/spec.js';

/** Weights in log-odds; changing any of them must bump `version`. */
export const HEURISTIC_DUPLICATE_PARAMS = {
  version: 'heuristic-duplicate@1',
  bias: -6,
  sameVendor: 2.5,
  vendorNameSimilar: 1.5, // Jaro-Winkler >= 0.92 on normalised names, different vendor ids
  differentVendor: -4, // neither the same vendor nor a similar name
  invoiceNumberEqual: 3.5,
  invoiceNumberCanonicalEqual: 2.5, // equal only after OCR folding
  invoiceNumberOneEdit: 1.5,
  invoiceNumberFar: -2.5, // 3+ edits apart, same invoice date (a re-numbered resubmission stays suspicious)
  invoiceNumberFarOtherDay: -4.5, // 3+ edits apart on another date: usually a separate purchase
  amountEqual: 3,
  amountWithin1Pct: 1.5,
  amountFar: -2, // more than 10% apart
  sameDay: 1.5,
  within7Days: 0.8,
  over60Days: -1.5,
  lineOverlap: 2, // x Jaccard
  embeddingClose: 2, // x max(0, (cosine - 0.8) / 0.2)
  servicePeriodsDisjoint: -6,
  differentPo: -1.5,
} as const;

/** Creates the heuristic pair scorer. */
export function createHeuristicDuplicateScorer(p = HEURISTIC_DUPLICATE_PARAMS): DuplicatePairScorer {
  return {
    task: 'duplicate',
    kind: 'heuristic',
    version: p.version,
    intercept: p.bias,
    scorePair(c: PairComparison): PairScore {
      const contrib: Record<string, number> = {};
      const add = (name: string, v: number): void => {
        if (v !== 0) contrib[name] = Math.round(v * 1000) / 1000;
      };
      if (c.sameVendor) add('same_vendor', p.sameVendor);
      else if (c.vendorNameJw >= 0.92) add('vendor_name_similar', p.vendorNameSimilar);
      else add('different_vendor', p.differentVendor);
      if (c.invoiceNumberEqual) add('invoice_number_equal', p.invoiceNumberEqual);
      else if (c.invoiceNumberCanonicalEqual)
        add('invoice_number_canonical_equal', p.invoiceNumberCanonicalEqual);
      else if (c.invoiceNumberEdit === 1) add('invoice_number_one_edit', p.invoiceNumberOneEdit);
      else if (c.invoiceNumberEdit >= 3) {
        if (c.daysApart === 0) add('invoice_number_far', p.invoiceNumberFar);
        else add('invoice_number_far_other_day', p.invoiceNumberFarOtherDay);
      }
      if (c.amountEqual) add('amount_equal', p.amountEqual);
      else if (c.amountRelDiff <= 0.01) add('amount_within_1pct', p.amountWithin1Pct);
      else if (c.amountRelDiff > 0.1) add('amount_far', p.amountFar);
      if (c.daysApart === 0) add('same_day', p.sameDay);
      else if (c.daysApart <= 7) add('within_7_days', p.within7Days);
      else if (c.daysApart > 60) add('over_60_days', p.over60Days);
      add('line_overlap', p.lineOverlap * c.lineOverlap);
      add('embedding_close', p.embeddingClose * Math.max(0, (c.embeddingCosine - 0.8) / 0.2));
      if (c.servicePeriodsDisjoint) add('service_periods_disjoint', p.servicePeriodsDisjoint);
      if (c.samePo === false) add('different_po', p.differentPo);
      const z = p.bias + Object.values(contrib).reduce((a, b) => a + b, 0);
      let score = sigmoid(z);
      let rule: string | null = null;
      // Document-kind rules: a credit memo against an invoice is a reversal, not a resubmission.
      const [a, b] = c.documentTypes.split('/');
      if (a !== b && (a === 'credit_memo' || b === 'credit_memo')) {
        rule = 'credit_memo_reverses_invoice';
        score = Math.min(score, 0.05);
      }
      return { score: Math.round(score * 1000) / 1000, contributions: contrib, rule };
    },
  };
}
