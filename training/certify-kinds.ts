/**
 * What reaches a decision, by exception kind: the certification record and console break the
 * exceptions among auto-approved invoices down by the kinds its rows record
 * (`CertifyRow.kinds`, training/certify.ts).
 */
import type { CertifyRow } from './certify.js';

/** Exceptions among some invoices, by kind. */
export interface ExceptionKinds {
  /** Exception invoices. */
  invoices: number;
  /**
   * Kind -> invoices carrying it, most first (an invoice with several kinds counts in each; one
   * without recorded kinds counts as `unrecorded`).
   */
  kinds: Record<string, number>;
}

/**
 * The exceptions among the selected rows, by kind (`duplicate:<kind>`, e.g.
 * `duplicate:line_level_duplicate`; `coding:<kind>`; `procurement:<kind>`): what reaches a
 * decision (AUTO_APPROVE) and of which kind.
 */
export function exceptionKinds(rows: readonly CertifyRow[], selected: readonly boolean[]): ExceptionKinds {
  const counts = new Map<string, number>();
  let invoices = 0;
  rows.forEach((r, i) => {
    if (!selected[i] || !r.exception) return;
    invoices++;
    const kinds = r.kinds && r.kinds.length > 0 ? r.kinds : ['unrecorded'];
    for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
  });
  const kinds = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
  return { invoices, kinds };
}

/** One line of text: `n exceptions: kind a, kind b, ...`. */
export function renderExceptionKinds(e: ExceptionKinds): string {
  const parts = Object.entries(e.kinds).map(([k, n]) => `${k} ${n}`);
  return `${e.invoices} exceptions${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}
