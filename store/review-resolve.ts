/**
 * A review checked against its decision before anything is written: the task inferred, the
 * line and the corrected code checked against the invoice's lines, the duplicate pair's earlier
 * invoice found (used by store/reviews.ts and the ERP labels of store/labels.ts).
 */
import type { DecisionResponse } from '../core/decision.js';
import { TriageError, type FieldError } from '../core/errors.js';
import { tasksWithFindings } from '../core/review-tasks.js';
import type { ReviewInput, ReviewTask } from './reviews.js';
import type { SqlExecutor } from './sql.js';

/** A line of the reviewed invoice as a review is checked against it: its number and billed code. */
export interface ReviewedLine {
  line_number: number;
  /** The code the line bills as stored (null when the line names none). */
  code: { system: string; value: string } | null;
}

/** The fields of a review after inference and checks against its decision. */
export interface ResolvedReview {
  task: ReviewTask;
  lineNumber: number | null;
  duplicateOfInvoiceId: string | null;
}

/**
 * Infers and checks a review against its decision:
 * - task: as given; else `coding-mismatch` when a line or a corrected code is given; else, when
 *   the decision has findings of both scored tasks ({@link tasksWithFindings}), it must be named;
 *   else `duplicate` when the decision has a duplicate reason, else `coding-mismatch` for the
 *   coding queue, else `other`;
 * - `corrected_code` needs the code and a line (the only line when the invoice has one), and
 *   must name another code than the one that line bills (same system, value compared
 *   case-insensitively): a correction to the billed code changes nothing;
 * - a line must be on the invoice; duplicate reviews are per invoice;
 * - duplicate reviews label a pair: `duplicate_of` defaults to the decision's top candidate.
 * @throws TriageError `TRIAGE_REVIEW_INVALID` (422) naming each field that does not fit.
 */
export function resolveReview(
  decision: DecisionResponse,
  lines: readonly ReviewedLine[],
  input: Pick<ReviewInput, 'task' | 'outcome' | 'lineNumber' | 'correctedCode' | 'duplicateOfInvoiceId'>,
): ResolvedReview {
  const errors: FieldError[] = [];
  const lineNumbers = lines.map((l) => l.line_number);
  const findings = tasksWithFindings(decision.reasons.map((r) => r.code));
  const codingGiven =
    input.lineNumber !== null || input.outcome === 'corrected_code' || input.correctedCode !== null;
  if (input.task === null && !codingGiven && findings.length > 1)
    throw new TriageError('TRIAGE_REVIEW_INVALID', `review does not fit decision ${decision.decision_id}`, [
      {
        path: '/task',
        message: `is required: the decision has findings of more than one task (${findings.join(', ')}); review each`,
      },
    ]);
  const task: ReviewTask =
    input.task ??
    (codingGiven
      ? 'coding-mismatch'
      : findings.includes('duplicate')
        ? 'duplicate'
        : decision.queue === 'coding'
          ? 'coding-mismatch'
          : 'other');
  let lineNumber = input.lineNumber;
  if (input.outcome === 'corrected_code') {
    if (input.correctedCode === null)
      errors.push({ path: '/corrected_code', message: 'is required with outcome corrected_code' });
    if (task !== 'coding-mismatch')
      errors.push({ path: '/task', message: 'must be coding-mismatch with outcome corrected_code' });
    if (lineNumber === null) {
      if (lineNumbers.length === 1) lineNumber = lineNumbers[0]!;
      else errors.push({ path: '/line_number', message: 'is required with outcome corrected_code' });
    }
  } else if (input.correctedCode !== null) {
    errors.push({ path: '/corrected_code', message: 'is allowed only with outcome corrected_code' });
  }
  if (lineNumber !== null && !lineNumbers.includes(lineNumber))
    errors.push({ path: '/line_number', message: `is not a line of invoice ${decision.invoice_id}` });
  const billed = lines.find((l) => l.line_number === lineNumber)?.code ?? null;
  if (input.outcome === 'corrected_code' && input.correctedCode !== null && billed !== null) {
    const same =
      billed.system === input.correctedCode.system &&
      billed.value.toUpperCase() === input.correctedCode.value.toUpperCase();
    if (same)
      errors.push({
        path: '/corrected_code',
        message:
          `is the code line ${lineNumber} already bills (${billed.system} ${billed.value.toUpperCase()}); ` +
          'a correction names another code (outcome confirmed keeps the billed code)',
      });
  }
  let duplicateOf = input.duplicateOfInvoiceId;
  if (task === 'duplicate') {
    if (lineNumber !== null)
      errors.push({ path: '/line_number', message: 'is not allowed for a duplicate review' });
    duplicateOf ??= decision.duplicates[0]?.invoice_id ?? null;
    if (duplicateOf === null)
      errors.push({ path: '/duplicate_of', message: 'is required: the decision names no earlier invoice' });
    if (duplicateOf === decision.invoice_id)
      errors.push({ path: '/duplicate_of', message: 'must name another invoice' });
  } else if (duplicateOf !== null) {
    errors.push({ path: '/duplicate_of', message: 'is allowed only for a duplicate review' });
  }
  if (errors.length > 0)
    throw new TriageError(
      'TRIAGE_REVIEW_INVALID',
      `review does not fit decision ${decision.decision_id}`,
      errors,
    );
  return { task, lineNumber, duplicateOfInvoiceId: duplicateOf };
}

/**
 * {@link resolveReview} against a stored decision: reads the invoice's lines (numbers and billed
 * codes) and checks
 * that the pair's earlier invoice is one of the tenant's.
 * @throws TriageError `TRIAGE_REVIEW_INVALID` (422) naming each field that does not fit.
 */
export async function resolveStoredReview(
  tx: SqlExecutor,
  tenantId: string,
  d: { response: DecisionResponse; invoice_pk: string },
  input: Parameters<typeof resolveReview>[2],
): Promise<ResolvedReview> {
  const rows = await tx.query<{ line_number: number; code_system: string | null; code: string | null }>(
    'SELECT line_number, code_system, code FROM invoice_lines WHERE invoice_pk = $1 ORDER BY line_number',
    [d.invoice_pk],
  );
  const lines = rows.map((l) => ({
    line_number: Number(l.line_number),
    code: l.code_system !== null && l.code !== null ? { system: l.code_system, value: l.code } : null,
  }));
  const resolved = resolveReview(d.response, lines, input);
  if (resolved.duplicateOfInvoiceId !== null) {
    const other = await tx.query('SELECT 1 FROM invoices WHERE tenant_id = $1 AND invoice_id = $2', [
      tenantId,
      resolved.duplicateOfInvoiceId,
    ]);
    if (other.length === 0)
      throw new TriageError('TRIAGE_REVIEW_INVALID', 'duplicate_of names no invoice of this tenant', [
        { path: '/duplicate_of', message: 'is not an invoice of this tenant' },
      ]);
  }
  return resolved;
}
