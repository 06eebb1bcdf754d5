/**
 * The stages of scoring one invoice, in order. `score()` in ../pipeline.ts runs them, one line
 * each:
 *
 * 1. {@link prepare} (prepare.ts): features, one {@link LineRecord} per line, index keys, fingerprint;
 * 2. {@link scoreCoding} (coding.ts): the coding-mismatch scorer's result per line, then
 *    {@link withBaselineEvidence} (baselines.ts): which quantity / price baseline each line's reasons rest on;
 * 3. {@link applyRules} (rules.ts): vendor-profile, line-amount and invoice checks, reasons lifted to the invoice;
 * 4. {@link thresholdsFor} (thresholds.ts): the policy in effect, card thresholds merged in;
 * 5. {@link findCandidates} (candidates.ts): earlier invoices by kNN and blocking keys, in the scoring transaction;
 * 6. {@link scoreDuplicates} (duplicates.ts): pair scores, document-kind rules, reversal, the duplicate reason;
 *    {@link findLineRebills} (line-rebills.ts): lines of an earlier invoice billed again, `LINE_REBILLED`;
 * 6b. {@link matchProcurement} (procurement.ts): PO, receipt and contract match of a PO-backed invoice;
 * 7. {@link routeInvoice} (route.ts): AUTO_APPROVE / REVIEW(queue) / HOLD with the reasons that fired;
 * 8. {@link prioritise} (priority.ts): expected cost, discount and SLA terms;
 * 9. {@link buildDecision} (decision.ts) and {@link buildExplanation} (explanation.ts): the response, its audit payload, its explanation;
 * 10. {@link persist} (persist.ts): one transactional write with the audit entry.
 *
 * Stages are functions of their inputs (the database stages take the transaction; none reads
 * the environment or the clock) and return new values: no stage changes what an earlier one
 * returned. Line data travels as {@link LineRecord}s (`{ line, features, score }`), never as
 * arrays matched by position.
 *
 * Adding a stage (e.g. PO / goods-receipt matching before routing, line-level duplicates after
 * candidates) is one module here, exporting a function from the records it reads to a new
 * record or reasons, re-exported below, plus one line in `score()` that calls it and passes
 * its reasons on to {@link routeInvoice}.
 */
export * from './types.js';
export * from './prepare.js';
export * from './coding.js';
export * from './baselines.js';
export * from './rules.js';
export * from './thresholds.js';
export * from './candidates.js';
export * from './duplicates.js';
export * from './line-rebills.js';
export * from './procurement.js';
export * from './route.js';
export * from './priority.js';
export * from './decision.js';
export * from './explanation.js';
export * from './persist.js';
