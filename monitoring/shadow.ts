/**
 * Shadow challengers: a registered challenger put in shadow for a tenant scores every invoice
 * beside the champion, after the champion's decision is stored (off the response's critical
 * path), without affecting it; both invoice-level scores are stored (`shadow_scores`).
 *
 * The comparison reads the invoices reviewers labelled (latest review of the model's task:
 * `confirmed` / `corrected_code` = exception, `false_positive` = clean) and gives, for each
 * model at its own card's thresholds (review when score > autoApprove, hold when score >= hold):
 * ROC-AUC, precision/recall at the review and hold thresholds, the share of all shadowed
 * invoices each would send to review or hold (review load), and the agreement of the two
 * routes (approve / review / hold) on all shadowed and on labelled invoices.
 *
 * Labels come from reviews, and reviewers only see what the champion sent to review (plus the
 * audit sample of auto-approved invoices): the labelled set is selected by the champion, so
 * recall there overstates recall on all traffic for both models alike. The audit sample is the
 * unbiased part.
 */
import type { ShadowAssignment, ShadowPair } from '../store/monitoring.js';
import { precisionRecall, rocAuc, type LabelledScore } from './stats.js';

/** Card thresholds of one model (calibrated probability). */
export interface RouteThresholds {
  autoApprove: number;
  hold: number;
}

/** Route an invoice score would get from a model's card thresholds alone. */
export function routeOf(score: number, t: RouteThresholds): 'approve' | 'review' | 'hold' {
  return score >= t.hold ? 'hold' : score > t.autoApprove ? 'review' : 'approve';
}

/** Figures of one side of the comparison. */
export interface ShadowSide {
  model: string;
  thresholds: RouteThresholds;
  roc_auc: number | null;
  at_review: { precision: number | null; recall: number | null; flagged: number };
  at_hold: { precision: number | null; recall: number | null; flagged: number };
  /** Share of all shadowed invoices the model would send to review or hold. */
  review_load: number | null;
}

/** The comparison of a shadow assignment. */
export interface ShadowComparison {
  assignment: ShadowAssignment;
  /** Invoices scored by both. */
  invoices: number;
  labelled: number;
  positives: number;
  champion: ShadowSide;
  challenger: ShadowSide;
  /** Share of invoices whose two routes agree. */
  agreement: { all: number | null; labelled: number | null };
  /** The promotion rule: labelled invoices needed, and whether this record meets it. */
  promotion: { min_labelled: number; ready: boolean };
}

const r6 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1e6) / 1e6);

function side(
  model: string,
  t: RouteThresholds,
  all: readonly number[],
  labelled: readonly LabelledScore[],
): ShadowSide {
  const pr = (f: (s: number) => boolean) => {
    const x = precisionRecall(labelled, f);
    return { precision: r6(x.precision), recall: r6(x.recall), flagged: x.flagged };
  };
  return {
    model,
    thresholds: t,
    roc_auc: r6(rocAuc(labelled)),
    at_review: pr((s) => s > t.autoApprove),
    at_hold: pr((s) => s >= t.hold),
    review_load: all.length ? r6(all.filter((s) => s > t.autoApprove).length / all.length) : null,
  };
}

/**
 * Compares champion and challenger over the stored pairs of an assignment.
 * @param servingChampion `<name>@<version>` of the champion serving now: the champion side's
 *   name before any invoice is shadowed (afterwards, the champion that scored the latest pair).
 */
export function compareShadow(
  assignment: ShadowAssignment,
  pairs: readonly ShadowPair[],
  thresholds: { champion: RouteThresholds; challenger: RouteThresholds },
  minLabelled: number,
  servingChampion: string,
): ShadowComparison {
  const labelled = pairs.filter((p) => p.label !== null);
  const agreeShare = (ps: readonly ShadowPair[]): number | null =>
    ps.length
      ? r6(
          ps.filter(
            (p) =>
              routeOf(p.champion_score, thresholds.champion) ===
              routeOf(p.challenger_score, thresholds.challenger),
          ).length / ps.length,
        )
      : null;
  const names = {
    champion: pairs[pairs.length - 1]?.champion ?? servingChampion,
    challenger: pairs[0]?.challenger ?? `${assignment.model_name}@${assignment.version}`,
  };
  return {
    assignment,
    invoices: pairs.length,
    labelled: labelled.length,
    positives: labelled.filter((p) => p.label === 1).length,
    champion: side(
      names.champion,
      thresholds.champion,
      pairs.map((p) => p.champion_score),
      labelled.map((p) => ({ score: p.champion_score, y: p.label! })),
    ),
    challenger: side(
      names.challenger,
      thresholds.challenger,
      pairs.map((p) => p.challenger_score),
      labelled.map((p) => ({ score: p.challenger_score, y: p.label! })),
    ),
    agreement: { all: agreeShare(pairs), labelled: agreeShare(labelled) },
    promotion: { min_labelled: minLabelled, ready: labelled.length >= minLabelled },
  };
}
