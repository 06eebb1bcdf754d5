/**
 * The promotion gate on one test split. `perKindRefusal` (models/promotion-gate.ts) compares
 * the per-kind figures two training cards recorded, and refuses cards measured on different
 * benchmark files. This module re-measures both models on one assembled test split (the
 * challenger's benchmark, assembled as `npm run train` assembles it), each at its own card's
 * serving thresholds and with the code that writes a training card's figures
 * (`test-figures.ts`), then applies the same rule to the two re-measured cards, with the hold
 * side compared at equal coverage ({@link PROMOTION_GATE}`.holdSide`, {@link equalCoverageHold}).
 * `npm run models -- gate <name> <version> --data <dir>` prints the result; `models promote
 * --data <dir>` promotes on it.
 */
import { evaluationFromTrainingCard, type ModelCard } from '../models/card.js';
import { perKindRefusal, PROMOTION_GATE } from '../models/promotion-gate.js';
import type { KindMetrics, TrainedModelSpec } from '../models/spec.js';
import type { AssembledData } from './assemble.js';
import { prAuc, type Scored } from './eval/metrics.js';
import { mulberry32 } from './rng.js';
import { specTestFigures, testRows, type TestFigures, type Thresholds } from './test-figures.js';

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
  /**
   * The headline's uncertainty: a paired bootstrap of the challenger's PR-AUC minus the
   * champion's over test invoices as units ({@link prAucDifferenceInterval}). Reported, not
   * part of the rule.
   */
  prAucDifference: PrAucDifference;
  /** The challenger's card with its figures re-measured and, in `evaluation.baselines`, the champion's PR-AUC on the split. */
  challenger: ModelCard;
  /** The champion's card with its figures re-measured on the challenger's split (its own thresholds). */
  champion: ModelCard;
  rows: GateRow[];
  /**
   * The hold side of the comparison ({@link equalCoverageHold}): test invoices the champion holds
   * at its card's hold threshold, those the challenger holds at its card's, and the challenger's
   * hold threshold its figures in {@link challenger} are measured at (its card's, or higher).
   */
  hold: { championHeld: number; challengerHeldAtCard: number; challengerThreshold: number };
  /**
   * True when the re-measured challenger figures equal those its card recorded (the split is
   * the one it was trained and tested on); false when `data` is another benchmark.
   */
  challengerReproduced: boolean;
}

/**
 * `card` with `training.metrics` re-measured on `a`'s test split at `thresholds` (default: the
 * card's serving thresholds), its split identity (benchmark files, test rows and invoices) set to
 * `a`'s, and `evaluation` the PR-AUC at the card's unit on that split
 * (`evaluationFromTrainingCard`); with the figures behind it. The card's own `thresholds` field is
 * left as it is.
 * @throws RangeError when the card has no training draft or its task differs from `a`'s;
 *   RangeError (from `inputProjection`) when `a`'s vector lacks one of the model's inputs;
 *   TriageError `TRIAGE_MODEL_INVALID` when the split has no PR-AUC (no positive test unit).
 */
function remeasure(
  m: GateModel,
  a: AssembledData,
  thresholds: Thresholds = m.card.thresholds,
): { card: ModelCard; figures: TestFigures } {
  const { card } = m;
  const t = card.training;
  if (!t) throw new RangeError(`${card.name}@${card.version} has no training draft to re-measure`);
  if (card.task !== a.task) throw new RangeError(`card task ${card.task}, data task ${a.task}`);
  const f = specTestFigures(a, m.spec, thresholds);
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
  return { card: { ...card, evaluation: evaluationFromTrainingCard(training), training }, figures: f };
}

/**
 * `m`'s card with its figures re-measured on `a`'s test split at the card's serving thresholds
 * (see {@link remeasure}).
 * @throws as {@link remeasure}.
 */
export function remeasuredCard(m: GateModel, a: AssembledData): ModelCard {
  return remeasure(m, a).card;
}

/** The smallest double above `x` (x finite). */
function nextUp(x: number): number {
  const b = new Float64Array([x === 0 ? 0 : x]);
  const bits = new BigInt64Array(b.buffer);
  bits[0] = bits[0]! + (x >= 0 ? 1n : -1n);
  return b[0]!;
}

/**
 * The hold threshold a challenger is compared at under {@link PROMOTION_GATE}`.holdSide`
 * (`equal-coverage`): its card's `cardHold` when at it the challenger holds no more of the test
 * invoices than the champion holds at its own card's threshold (`championHeld`); otherwise the
 * lowest threshold at which it holds at most `championHeld` (just above the score of its
 * `championHeld + 1`-th highest invoice, so tied scores are never split). The duplicate hold
 * threshold served is the whole-decision certification's (`datasets/policies/certified-policy.json`,
 * re-certified after a promotion), not a card's, so two rankings are compared at one hold volume.
 * Scores are calibrated probabilities; held means `score >= threshold`.
 * @param invoiceScores the challenger's score of every test invoice.
 * @throws RangeError when `championHeld` is negative or not an integer.
 */
export function equalCoverageHold(
  invoiceScores: readonly number[],
  cardHold: number,
  championHeld: number,
): number {
  if (!Number.isInteger(championHeld) || championHeld < 0)
    throw new RangeError(`championHeld must be a non-negative integer, got ${championHeld}`);
  const desc = [...invoiceScores].sort((x, y) => y - x);
  const heldAtCard = desc.filter((s) => s >= cardHold).length;
  if (heldAtCard <= championHeld) return cardHold;
  return Math.max(cardHold, nextUp(desc[championHeld]!));
}

/** A paired bootstrap interval of a PR-AUC difference (challenger minus champion). */
export interface PrAucDifference {
  /** The difference on the split itself. */
  observed: number;
  /** 2.5% and 97.5% quantiles of the resampled differences. */
  lo: number;
  hi: number;
  /** Resamples drawn, and the seed of their generator (mulberry32). */
  resamples: number;
  seed: number;
}

/**
 * Paired bootstrap of PR-AUC(challenger) - PR-AUC(champion) with the test invoices as units:
 * each resample draws invoices with replacement and takes all their scored units (pairs) with
 * both models' scores, so candidate pairs of one invoice stay together. Percentile interval.
 * @param units the split's scored units in one order: `invoice`, `label`, and both scores.
 * @throws RangeError when `resamples` is not a positive integer or there are no units.
 */
export function prAucDifferenceInterval(
  units: readonly { invoice: string; label: 0 | 1; challenger: number; champion: number }[],
  resamples = 400,
  seed = 1,
): PrAucDifference {
  if (!Number.isInteger(resamples) || resamples < 1)
    throw new RangeError(`resamples must be a positive integer, got ${resamples}`);
  if (units.length === 0) throw new RangeError('no scored units to resample');
  const byInvoice = new Map<string, number[]>();
  units.forEach((u, i) => {
    const list = byInvoice.get(u.invoice);
    if (list) list.push(i);
    else byInvoice.set(u.invoice, [i]);
  });
  const groups = [...byInvoice.values()];
  const diff = (idx: readonly number[]): number => {
    const c: Scored[] = idx.map((i) => ({ score: units[i]!.challenger, label: units[i]!.label }));
    const h: Scored[] = idx.map((i) => ({ score: units[i]!.champion, label: units[i]!.label }));
    return prAuc(c) - prAuc(h);
  };
  const rng = mulberry32(seed);
  const draws: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const idx: number[] = [];
    for (let g = 0; g < groups.length; g++) idx.push(...groups[Math.floor(rng() * groups.length)]!);
    const d = diff(idx);
    if (Number.isFinite(d)) draws.push(d);
  }
  draws.sort((x, y) => x - y);
  const q = (p: number): number => draws[Math.min(draws.length - 1, Math.floor(p * draws.length))]!;
  return { observed: diff(units.map((_, i) => i)), lo: q(0.025), hi: q(0.975), resamples, seed };
}

/** Test invoices held (`score >= hold`) in a re-measured card's invoice-unit figures. */
const heldInvoices = (c: ModelCard): number => {
  const m = c.training!.metrics.test.find((s) => s.split === 'test' && s.unit === 'invoice');
  return m ? m.atHold.tp + m.atHold.fp : 0;
};

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
 * The review side is compared at each card's auto-approve threshold (the certification keeps the
 * served review thresholds at or below the cards'); the hold side at equal coverage: the
 * challenger's figures at hold are measured at {@link equalCoverageHold}.
 * @throws RangeError as {@link remeasuredCard}, or when the two models have different names or tasks.
 */
export function sameSplitGate(challenger: GateModel, champion: GateModel, a: AssembledData): SameSplitGate {
  if (challenger.card.name !== champion.card.name || challenger.card.task !== champion.card.task)
    throw new RangeError(
      `${challenger.card.name}@${challenger.card.version} and ${champion.card.name}@${champion.card.version} are not versions of one model`,
    );
  const championRun = remeasure(champion, a);
  const h = championRun.card;
  const own = remeasure(challenger, a);
  const championHeld = heldInvoices(h);
  const cardT = challenger.card.thresholds;
  const holdAt =
    PROMOTION_GATE.holdSide === 'equal-coverage'
      ? equalCoverageHold(
          own.figures.invScored.map((x) => x.score),
          cardT.hold,
          championHeld,
        )
      : cardT.hold;
  const measured =
    holdAt === cardT.hold
      ? own.card
      : remeasure(challenger, a, { autoApprove: cardT.autoApprove, hold: holdAt }).card;
  const c: ModelCard = {
    ...measured,
    evaluation: {
      ...measured.evaluation,
      baselines: [{ version: champion.card.version, value: h.evaluation.value }],
    },
  };
  const stored = challenger.card.training!.metrics;
  const challengerReproduced = JSON.stringify(stored) === JSON.stringify(own.card.training!.metrics);
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
  const rows0 = testRows(a);
  const prAucDifference = prAucDifferenceInterval(
    own.figures.unitScored.map((u, i) => ({
      invoice: rows0[i]!.meta.invoiceId,
      label: u.label,
      challenger: u.score,
      champion: championRun.figures.unitScored[i]!.score,
    })),
  );
  const r = [perKind, headline].filter((x): x is string => x !== null);
  return {
    refusal: r.length ? r.join('; ') : null,
    perKind,
    headline,
    challenger: c,
    champion: h,
    rows,
    prAucDifference,
    hold: { championHeld, challengerHeldAtCard: heldInvoices(own.card), challengerThreshold: holdAt },
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
    `hold side at equal coverage: ${h} holds ${g.hold.championHeld} test invoices, ${c} ${g.hold.challengerHeldAtCard} at its ` +
      `card's threshold; ${c}'s hold figures below are at ${g.hold.challengerThreshold}`,
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
      `${h} ${g.champion.evaluation.value.toFixed(4)}; difference ${g.prAucDifference.observed.toFixed(4)}, ` +
      `95% paired bootstrap interval over test invoices [${g.prAucDifference.lo.toFixed(4)}, ${g.prAucDifference.hi.toFixed(4)}] ` +
      `(${g.prAucDifference.resamples} resamples, seed ${g.prAucDifference.seed})`,
    `${c}'s card figures ${g.challengerReproduced ? 'reproduced on this split' : 'NOT reproduced: this is not the split its card was measured on'}`,
    `per-kind gate: ${g.perKind === null ? 'pass' : 'refused'}; headline PR-AUC: ${g.headline === null ? 'pass' : 'refused'}`,
    g.refusal === null ? 'PASS' : `REFUSED: ${g.refusal}`,
  );
  return lines;
}
