/**
 * Label provenance: where a training label about a decision came from, and which label wins
 * when several sources label the same decision (task, line, pair).
 *
 * - `reviewer`: a reviewer's outcome on a worklist item (`POST /v1/reviews`).
 * - `audit_sample`: a reviewer's outcome on a decision drawn into the post-payment audit sample
 *   of `AUTO_APPROVE` decisions (also `POST /v1/reviews`; the decision is in `audit_samples`).
 * - `erp`: a status the ERP reported for the invoice (posting, rejection, payment), recorded with
 *   `recordLabel` (store/labels.ts).
 *
 * Precedence (documented in README "Labels and their provenance"): a person's outcome
 * (`reviewer`, `audit_sample`, same rank) beats an ERP status, whatever their order in time: an
 * ERP posting only says accounts payable let the invoice through, a review says what a person
 * found on it. Between labels of the same rank the latest wins (then the larger id, so the
 * choice is deterministic).
 */

/** Where a label came from. */
export type LabelProvenance = 'reviewer' | 'audit_sample' | 'erp';

/** Every provenance, in precedence order (highest first; the first two share a rank). */
export const LABEL_PROVENANCES: readonly LabelProvenance[] = ['reviewer', 'audit_sample', 'erp'];

/** Rank of a provenance: a label of higher rank supersedes any label of lower rank. */
export const LABEL_RANK: Readonly<Record<LabelProvenance, number>> = { reviewer: 2, audit_sample: 2, erp: 1 };

/** What {@link supersedes} compares. `createdAt` ISO 8601; `source` absent means `reviewer`. */
export interface RankedLabel {
  id: string;
  createdAt: string;
  source?: LabelProvenance | undefined;
}

/**
 * True when label `a` supersedes label `b` of the same decision key: higher rank, else later
 * `createdAt`, else larger id.
 */
export function supersedes(a: RankedLabel, b: RankedLabel): boolean {
  const ra = LABEL_RANK[a.source ?? 'reviewer'];
  const rb = LABEL_RANK[b.source ?? 'reviewer'];
  if (ra !== rb) return ra > rb;
  const ta = Date.parse(a.createdAt);
  const tb = Date.parse(b.createdAt);
  if (ta !== tb) return ta > tb;
  return a.id > b.id;
}

/** True when `v` is a {@link LabelProvenance}. */
export function isLabelProvenance(v: unknown): v is LabelProvenance {
  return typeof v === 'string' && (LABEL_PROVENANCES as readonly string[]).includes(v);
}
