/**
 * Which stored lines of an invoice are counted in its vendor's quantity and unit-price baselines
 * (`vendor_code_bins`, store/vendor-stats.ts): at scoring, from the decision's reason codes
 * ({@link BASELINE_EXCLUSIONS}); after reviews, from the reviewers' verdicts
 * ({@link reviewedBaselineLines}). Each line records whether it is counted
 * (`invoice_lines.in_baseline`), so a review adds or removes a line exactly once
 * ({@link reconcileReviewedBaseline}).
 */
import type { DecisionResponse, ReasonCode } from '../core/decision.js';
import type { ReviewOutcome, ReviewTask } from './reviews.js';
import type { SqlExecutor } from './sql.js';
import { addVendorLineStats } from './vendor-stats.js';

/**
 * The rule that keeps a scored line out of its vendor's baselines; every other stored line of a
 * scored invoice enters them, whatever the invoice's route (held for a PO mismatch, reviewed for
 * another line's flag):
 *
 * - `ownLine`: the line carries a reason of its own with a positive weight in the decision's
 *   `lines[].reasons` (coding model and reference checks, raised only above the coding reason
 *   threshold; vendor profile, line arithmetic, printed code: inference/stages/rules.ts), or an
 *   invoice reason of these codes names it (evidence `line_number`): its quantity or price is off
 *   the PO, the contract or the receipts (inference/procurement/checks.ts);
 * - `wholeInvoice`: the invoice carries one of these reasons (present only when the duplicate
 *   score reached review, inference/stages/duplicates.ts): its lines are an earlier invoice's again,
 *   and counting them twice would bias the baseline;
 * - `rebilledLines`: these reasons name lines billed again (evidence `lines[].line_number`,
 *   inference/stages/line-rebills.ts), which are an earlier invoice's lines for the same reason.
 *
 * Invoice reasons that do not name a line's quantity or price (a total mismatch, an unknown or
 * closed PO, an item not on the PO, a missing receipt, an NPI) keep no line out.
 */
export const BASELINE_EXCLUSIONS = {
  ownLine: [
    'PRICE_ABOVE_PO',
    'PRICE_ABOVE_CONTRACT',
    'QUANTITY_ABOVE_RECEIVED',
    'PO_EXHAUSTED',
    'UOM_MISMATCH',
  ],
  wholeInvoice: ['DUPLICATE_SUSPECTED', 'DUPLICATE_SAME_NUMBER'],
  rebilledLines: ['LINE_REBILLED'],
} as const satisfies Record<string, readonly ReasonCode[]>;

/** The parts of a decision the baseline rule reads. */
export type BaselineDecision = Pick<DecisionResponse, 'reasons' | 'lines'>;

const has = (codes: readonly string[], r: { code: string }): boolean => codes.includes(r.code);
const lineNumberOf = (e: unknown): number | null =>
  typeof e === 'object' && e !== null && typeof (e as { line_number?: unknown }).line_number === 'number'
    ? (e as { line_number: number }).line_number
    : null;

/** Line numbers the `ownLine` rule of {@link BASELINE_EXCLUSIONS} keeps out. */
function ownExcluded(d: BaselineDecision): Set<number> {
  const out = new Set<number>();
  for (const l of d.lines) if (l.reasons.some((r) => r.weight > 0)) out.add(l.line_number);
  for (const r of d.reasons) {
    const n = has(BASELINE_EXCLUSIONS.ownLine, r) ? lineNumberOf(r.evidence) : null;
    if (n !== null) out.add(n);
  }
  return out;
}

/** Line numbers the `rebilledLines` rule of {@link BASELINE_EXCLUSIONS} names. */
function rebilledLines(d: BaselineDecision): Set<number> {
  const out = new Set<number>();
  for (const r of d.reasons) {
    if (!has(BASELINE_EXCLUSIONS.rebilledLines, r)) continue;
    const lines = r.evidence.lines;
    if (Array.isArray(lines))
      for (const l of lines) {
        const n = lineNumberOf(l);
        if (n !== null) out.add(n);
      }
  }
  return out;
}

/** Line numbers (of `all`, the invoice's) the duplicate rules (`wholeInvoice`, `rebilledLines`) keep out. */
function duplicateExcluded(d: BaselineDecision, all: readonly number[]): Set<number> {
  if (d.reasons.some((r) => has(BASELINE_EXCLUSIONS.wholeInvoice, r))) return new Set(all);
  return rebilledLines(d);
}

/**
 * The lines of an invoice confirmed a duplicate: the re-billed lines when only lines were found
 * billed again, else every line (an invoice-level duplicate, or one the scorers missed).
 */
function confirmedDuplicateLines(d: BaselineDecision, all: readonly number[]): Set<number> {
  const rebilled = d.reasons.some((r) => has(BASELINE_EXCLUSIONS.wholeInvoice, r)) ? null : rebilledLines(d);
  return rebilled && rebilled.size > 0 ? rebilled : new Set(all);
}

/**
 * The line numbers of a scored invoice (`lines`: the invoice's) that enter its vendor's
 * baselines ({@link BASELINE_EXCLUSIONS}).
 */
export function scoredBaselineLines(
  d: BaselineDecision,
  lines: readonly { line_number: number }[],
): Set<number> {
  const all = lines.map((l) => l.line_number);
  const own = ownExcluded(d);
  const dup = duplicateExcluded(d, all);
  return new Set(all.filter((n) => !own.has(n) && !dup.has(n)));
}

/** A stored review as the baseline reads it. */
export interface BaselineReview {
  task: ReviewTask;
  outcome: ReviewOutcome;
  lineNumber: number | null;
}

/**
 * The line numbers of a reviewed invoice that belong in its vendor's baselines, given its
 * decision and its reviews in the order they were made (the latest verdict on a question wins,
 * so a reversal restores what the reversed review changed):
 *
 * - the line's own flag: the latest review of the line (coding or other task) — a false
 *   positive clears it, a confirmation or corrected code keeps the line out; without one, the
 *   latest invoice-level coding or other review — a false positive clears every line's flag, a
 *   confirmation leaves the scoring rule's; without one, the scoring rule's;
 * - the duplicate question: the latest duplicate review (always per invoice) — a false positive
 *   clears it, a confirmation keeps out the re-billed lines when only lines were found billed again
 *   (`LINE_REBILLED`), else every line; without one, the scoring rule's.
 */
export function reviewedBaselineLines(
  d: BaselineDecision,
  lines: readonly { line_number: number }[],
  reviews: readonly BaselineReview[],
): Set<number> {
  const all = lines.map((l) => l.line_number);
  const own = ownExcluded(d);
  const lineVerdict = new Map<number, boolean>();
  let invoiceVerdict: boolean | null = null;
  let duplicateVerdict: boolean | null = null;
  for (const r of reviews) {
    const fp = r.outcome === 'false_positive';
    if (r.task === 'duplicate') duplicateVerdict = fp;
    else if (r.lineNumber !== null) lineVerdict.set(r.lineNumber, fp);
    else invoiceVerdict = fp;
  }
  const dupOut =
    duplicateVerdict === null
      ? duplicateExcluded(d, all)
      : duplicateVerdict
        ? new Set<number>()
        : confirmedDuplicateLines(d, all);
  return new Set(
    all.filter((n) => {
      const verdict = lineVerdict.get(n) ?? (invoiceVerdict === true ? true : null);
      const ownOut = verdict === null ? own.has(n) : !verdict;
      return !ownOut && !dupOut.has(n);
    }),
  );
}

/**
 * Brings the baseline membership of a reviewed invoice's lines to {@link reviewedBaselineLines}
 * of its decision and every review of it so far (the review just stored last): adds the lines
 * that belong but are not counted, takes out those counted that no longer belong (histogram
 * counts decremented), and records each line's membership. Call inside the review's
 * transaction, after storing the review, with the decision row locked.
 */
export async function reconcileReviewedBaseline(
  tx: SqlExecutor,
  tenantId: string,
  invoicePk: string,
  decisionId: string,
  reviewId: string,
  decision: BaselineDecision,
): Promise<void> {
  const reviews = await tx.query<{ task: ReviewTask; outcome: ReviewOutcome; line_number: number | null }>(
    `SELECT task, outcome, line_number FROM reviews WHERE decision_id = $1
     ORDER BY (id = $2), created_at, id`,
    [decisionId, reviewId],
  );
  const rows = await tx.query<{
    vendor_id: string;
    line_number: number;
    in_baseline: boolean;
    code_system: string | null;
    code: string | null;
    quantity: string | number;
    unit_price_cents: string | number;
  }>(
    `SELECT i.vendor_id, l.line_number, l.in_baseline, l.code_system, l.code, l.quantity, l.unit_price_cents
       FROM invoices i JOIN invoice_lines l ON l.invoice_pk = i.pk WHERE i.pk = $1 ORDER BY l.line_number`,
    [invoicePk],
  );
  const want = reviewedBaselineLines(
    decision,
    rows,
    reviews.map((r) => ({ task: r.task, outcome: r.outcome, lineNumber: r.line_number })),
  );
  const changed = rows.filter((r) => r.in_baseline !== want.has(r.line_number));
  if (changed.length === 0) return;
  const asLine = (r: (typeof rows)[number]) => ({
    line_number: r.line_number,
    code: r.code_system && r.code ? { system: r.code_system as 'HCPCS', value: r.code } : undefined,
    quantity: Number(r.quantity),
    unit_price_cents: Number(r.unit_price_cents),
  });
  const vendorId = changed[0]!.vendor_id;
  await addVendorLineStats(tx, tenantId, [
    { vendorId, lines: changed.filter((r) => !r.in_baseline).map(asLine), baseline: true, count: false },
    {
      vendorId,
      lines: changed.filter((r) => r.in_baseline).map(asLine),
      baseline: true,
      count: false,
      sign: -1,
    },
  ]);
  await tx.query(
    `UPDATE invoice_lines l SET in_baseline = u.v FROM unnest($2::int[], $3::boolean[]) AS u(n, v)
      WHERE l.invoice_pk = $1 AND l.line_number = u.n`,
    [invoicePk, changed.map((r) => r.line_number), changed.map((r) => !r.in_baseline)],
  );
}
