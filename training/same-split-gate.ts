/**
 * The promotion gate on one test split. `perKindRefusal` (models/promotion-gate.ts) compares
 * the per-kind figures two training cards recorded, and refuses cards measured on different
 * benchmark files. This module re-measures both models on one assembled test split (the
 * challenger's benchmark, assembled as `npm run train` assembles it), each at its own card's
 * serving thresholds and with the code that writes a training card's figures
 * (`test-figures.ts`), then applies the same rule to the two re-measured cards.
 * `npm run models -- gate <name> <version> --data <dir>` prints the result; `models promote
 * --data <dir>` promotes on it.
 */
import { evaluationFromTrainingCard, type ModelCard } from '../models/card.js';
import { perKindRefusal, PROMOTION_GATE } from '../models/promotion-gate.js';
import type { KindMetrics, TrainedModelSpec } from '../models/spec.js';
import type { AssembledData } from './assemble.js';
import { specTestFigures } from './test-figures.js';

/** A registered model: its card and its spec (weights and calibration). */
export interface GateModel {
  card: ModelCard;
  spec: TrainedModelSpec;
}

/** One line of the side-by-side table: a kind's figures for the challenger and the champion. */
export interface GateRow {
  /** Exception kind, hard-negative kind, or `clean` (clean invoices). */
  kind: string;
  /** `recall` for exception kinds (higher is better), `flagged` otherwise (lower is better). */
  measure: 'recall' | 'flagged';
  /** Invoices (duplicate) or lines (coding) of the kind on the split. */
  n: number;
  /** Shares in [0, 1] at review (not auto-approved) and at hold; null when not defined. */
  challenger: { review: number | null; hold: number | null };
  champion: { review: number | null; hold: number | null };
}

/** Result of {@link sameSplitGate}. */
export interface SameSplitGate {
  /** The promotion rule's refusal ({@link perKind} and {@link headline} together); null when both pass. */
  refusal: string | null;
  /** `perKindRefusal` of the two re-measured cards; null when it passes. */
  perKind: string | null;
  /** The headline part: the challenger's PR-AUC below the champion's on the split; null when not lower. */
  headline: string | null;
  /** The challenger's card with its figures re-measured and, in `evaluation.baselines`, the champion's PR-AUC on the split. */
  challenger: ModelCard;
  /** The champion's card with its figures re-measured on the challenger's split (its own thresholds). */
  champion: ModelCard;
  rows: GateRow[];
  /**
   * True when the re-measured challenger figures equal those its card recorded (the split is
   * the one it was trained and tested on); false when `data` is another benchmark.
   */
  challengerReproduced: boolean;
}

/**
 * `card` with `training.metrics` re-measured on `a`'s test split at the card's serving
 * thresholds, its split identity (benchmark files, test rows and invoices) set to `a`'s, and
 * `evaluation` the PR-AUC at the card's unit on that split (`evaluationFromTrainingCard`).
 * @throws RangeError when the card has no training draft or its task differs from `a`'s;
 *   RangeError (from `inputProjection`) when `a`'s vector lacks one of the model's inputs;
 *   TriageError `TRIAGE_MODEL_INVALID` when the split has no PR-AUC (no positive test unit).
 */
export function remeasuredCard(m: GateModel, a: AssembledData): ModelCard {
  const { card } = m;
  const t = card.training;
  if (!t) throw new RangeError(`${card.name}@${card.version} has no training draft to re-measure`);
  if (card.task !== a.task) throw new RangeError(`card task ${card.task}, data task ${a.task}`);
  const f = specTestFigures(a, m.spec, card.thresholds);
  const training = {
    ...t,
    labels: { ...t.labels, benchmark: a.labels.benchmark },
    data: {
      ...t.data,
      rows: { ...t.data.rows, test: f.unitScored.length },
      invoices: { ...t.data.invoices, test: f.invScored.length },
    },
    metrics: { test: f.test, perKind: f.perKind },
  };
  return { ...card, evaluation: evaluationFromTrainingCard(training), training };
}

const cleanShare = (c: ModelCard, at: 'atReview' | 'atHold'): number | null => {
  const m = c.training!.metrics.test.find((s) => s.split === 'test' && s.unit === 'invoice');
  if (!m) return null;
  const { fp, tn } = m[at];
  return fp + tn > 0 ? fp / (fp + tn) : null;
};

function kindShares(k: KindMetrics | undefined): { review: number | null; hold: number | null } {
  if (!k) return { review: null, hold: null };
  return k.isHardNegative
    ? { review: k.flaggedRateAtReview, hold: k.flaggedRateAtHold }
    : { review: k.recallAtReview, hold: k.recallAtHold };
}

/**
 * Re-measures `challenger` and `champion` on `a`'s test split ({@link remeasuredCard}) and
 * applies the promotion rule to the two: the per-kind gate (`perKindRefusal`,
 * {@link PROMOTION_GATE}) and the headline PR-AUC (the champion's value on this split is put in
 * the challenger's `evaluation.baselines`, as `promotionRefusal` reads it), each reported apart.
 * @throws RangeError as {@link remeasuredCard}, or when the two models have different names or tasks.
 */
export function sameSplitGate(challenger: GateModel, champion: GateModel, a: AssembledData): SameSplitGate {
  if (challenger.card.name !== champion.card.name || challenger.card.task !== champion.card.task)
    throw new RangeError(
      `${challenger.card.name}@${challenger.card.version} and ${champion.card.name}@${champion.card.version} are not versions of one model`,
    );
  const h = remeasuredCard(champion, a);
  const measured = remeasuredCard(challenger, a);
  const c: ModelCard = {
    ...measured,
    evaluation: {
      ...measured.evaluation,
      baselines: [{ version: champion.card.version, value: h.evaluation.value }],
    },
  };
  const stored = challenger.card.training!.metrics;
  const challengerReproduced = JSON.stringify(stored) === JSON.stringify(c.training!.metrics);
  const perKind = perKindRefusal(c, h);
  const headline =
    c.evaluation.value < h.evaluation.value
      ? `pr_auc ${c.evaluation.value.toFixed(4)} is worse than the champion's ${h.evaluation.value.toFixed(4)} on the same test split`
      : null;
  const kinds = new Map(c.training!.metrics.perKind.map((k) => [k.kind, k]));
  const theirs = new Map(h.training!.metrics.perKind.map((k) => [k.kind, k]));
  const rows: GateRow[] = [...new Set([...theirs.keys(), ...kinds.keys()])].sort().map((kind) => {
    const k = (kinds.get(kind) ?? theirs.get(kind))!;
    return {
      kind,
      measure: k.isHardNegative ? 'flagged' : 'recall',
      n: k.n,
      challenger: kindShares(kinds.get(kind)),
      champion: kindShares(theirs.get(kind)),
    };
  });
  const invoiceUnit = c.training!.metrics.test.find((s) => s.unit === 'invoice');
  rows.push({
    kind: 'clean',
    measure: 'flagged',
    n: invoiceUnit ? invoiceUnit.n - invoiceUnit.positives : 0,
    challenger: { review: cleanShare(c, 'atReview'), hold: cleanShare(c, 'atHold') },
    champion: { review: cleanShare(h, 'atReview'), hold: cleanShare(h, 'atHold') },
  });
  const r = [perKind, headline].filter((x): x is string => x !== null);
  return {
    refusal: r.length ? r.join('; ') : null,
    perKind,
    headline,
    challenger: c,
    champion: h,
    rows,
    challengerReproduced,
  };
}

/** Counts out of `n` (a share times `n`, rounded), or `-` when the share is null. */
const count = (share: number | null, n: number): string =>
  share === null ? '-' : `${Math.round(share * n)}/${n}`;

/** The side-by-side table of a {@link SameSplitGate} as text lines (counts at review and at hold). */
export function renderGate(g: SameSplitGate): string[] {
  const c = `${g.challenger.name}@${g.challenger.version}`;
  const h = `${g.champion.name}@${g.champion.version}`;
  const width = Math.max(...g.rows.map((r) => r.kind.length), 4);
  const lines = [
    `same-split gate: ${c} (challenger) vs ${h} (champion), each at its own card's thresholds ` +
      `(${c} ${g.challenger.thresholds.autoApprove} / ${g.challenger.thresholds.hold}, ` +
      `${h} ${g.champion.thresholds.autoApprove} / ${g.champion.thresholds.hold}), rule tolerance ${PROMOTION_GATE.tolerance}`,
    `${'kind'.padEnd(width)}  measure  ${c} review  hold      ${h} review  hold`,
  ];
  for (const r of g.rows)
    lines.push(
      `${r.kind.padEnd(width)}  ${r.measure.padEnd(7)}  ${count(r.challenger.review, r.n).padEnd(c.length + 7)} ` +
        `${count(r.challenger.hold, r.n).padEnd(9)} ${count(r.champion.review, r.n).padEnd(h.length + 7)} ` +
        `${count(r.champion.hold, r.n)}`,
    );
  lines.push(
    `pr_auc (test ${g.challenger.evaluation.unit}s): ${c} ${g.challenger.evaluation.value.toFixed(4)}, ` +
      `${h} ${g.champion.evaluation.value.toFixed(4)}`,
    `${c}'s card figures ${g.challengerReproduced ? 'reproduced on this split' : 'NOT reproduced: this is not the split its card was measured on'}`,
    `per-kind gate: ${g.perKind === null ? 'pass' : 'refused'}; headline PR-AUC: ${g.headline === null ? 'pass' : 'refused'}`,
    g.refusal === null ? 'PASS' : `REFUSED: ${g.refusal}`,
  );
  return lines;
}
