/**
 * Which scored task a reason code belongs to: the reasons whose weights feed the
 * coding-mismatch score and those that carry the duplicate score. The one declaration read by
 * the explanation and the policy (inference/explain.ts re-exports it), by the review settlement
 * (store/settlement.ts, store/reviews.ts), by the ERP's rejection labels (store/erp.ts) and by
 * the reviewers' console (console/src/invoice.ts), which bundles this module: it imports
 * nothing.
 */

/** The scored tasks a review or a label can be about (every other finding is task `other`). */
export type LabelTask = 'coding-mismatch' | 'duplicate';

/** Reason codes whose weights are risks combined (noisy-OR) into a line's coding-mismatch score. */
export const CODING_SCORE_CODES: ReadonlySet<string> = new Set([
  'CODE_UNKNOWN',
  'CODE_TERMINATED',
  'DESCRIPTION_CODE_MISMATCH',
  'PRICE_ABOVE_FEE_SCHEDULE',
  'PRICE_BELOW_FEE_SCHEDULE',
  'QUANTITY_IMPLAUSIBLE',
  'CODING_MODEL_RISK',
]);

/**
 * Reason codes that carry the duplicate score: the invoice pair's (`DUPLICATE_SAME_NUMBER`,
 * `DUPLICATE_SUSPECTED`) and lines of an earlier invoice billed again (`LINE_REBILLED`).
 */
export const DUPLICATE_SCORE_CODES: ReadonlySet<string> = new Set([
  'DUPLICATE_SAME_NUMBER',
  'DUPLICATE_SUSPECTED',
  'LINE_REBILLED',
]);

/** Which score a reason feeds: `rule` for a reason that feeds neither (arithmetic, NPI, PO...). */
export function scoreOfReason(code: string): 'coding_mismatch' | 'duplicate' | 'rule' {
  return CODING_SCORE_CODES.has(code)
    ? 'coding_mismatch'
    : DUPLICATE_SCORE_CODES.has(code)
      ? 'duplicate'
      : 'rule';
}

/**
 * The scored tasks a decision has findings of, given its (invoice-level) reason codes, in the
 * order `coding-mismatch`, `duplicate`: a reason that feeds the coding-mismatch score or the
 * duplicate score ({@link scoreOfReason}). A HOLD is released only when each of them is cleared
 * by a review (store/settlement.ts).
 */
export function tasksWithFindings(reasonCodes: readonly string[]): LabelTask[] {
  const scores = new Set(reasonCodes.map(scoreOfReason));
  return [
    ...(scores.has('coding_mismatch') ? (['coding-mismatch'] as const) : []),
    ...(scores.has('duplicate') ? (['duplicate'] as const) : []),
  ];
}
