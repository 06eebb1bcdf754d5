/**
 * The per-kind gate of a promotion: a challenger must not be worse than the champion on any
 * exception kind or on the clean invoices, as both training cards record them on the same test
 * split. It reads `training.metrics.perKind` (coding: per line, duplicate: per invoice) and the
 * invoice-unit entry of `training.metrics.test`; the rule is {@link PROMOTION_GATE}.
 */
import { createHash } from 'node:crypto';
import type { ModelCard } from './card.js';
import type { KindMetrics, ModelCardDraft } from './spec.js';

/**
 * The gate's rule, declared once. Compared between challenger and champion on the same test
 * split (see {@link perKindSplitIdentity}):
 * - every exception kind the champion's card reports: recall at review and at hold must not be
 *   lower (a kind the challenger's card lacks is refused);
 * - every hard-negative kind the champion's card reports: the share flagged at review and at
 *   hold must not be higher;
 * - clean invoices (invoice unit, `fp / (fp + tn)`): the share flagged at review and at hold
 *   must not be higher.
 *
 * `tolerance` is the allowed slack on each of those shares (0: any worse figure refuses; per-kind
 * counts are small, so one invoice of 9 is 11 points, and a tolerance would hide it). Figures a
 * card records as null (no unit of that kind) are not compared.
 *
 * `holdSide`: where the hold-side figures are taken when both models are re-measured on one split
 * (training/same-split-gate.ts): `equal-coverage` measures the challenger at the hold threshold at
 * which it holds no more test invoices than the champion holds at its card's (a lower card
 * threshold that holds more is not compared against a higher one that holds fewer); stored cards
 * compared without a re-measure are compared as recorded.
 */
export const PROMOTION_GATE = {
  recall: ['recallAtReview', 'recallAtHold'],
  hardNegativeFlagged: ['flaggedRateAtReview', 'flaggedRateAtHold'],
  cleanFlagged: ['atReview', 'atHold'],
  tolerance: 0,
  holdSide: 'equal-coverage' as 'equal-coverage' | 'card',
} as const;

/** Rounding slack of stored floating-point shares (not a tolerance). */
const EPS = 1e-9;

/**
 * Identity of the test split a training card's per-kind figures were measured on: sha256 of the
 * benchmark files (sha256 and record count each, sorted: another generator version or seed gives
 * other files) and the test split's invoice count.
 */
export function perKindSplitIdentity(d: ModelCardDraft): string {
  const identity = {
    benchmark: d.labels.benchmark.files.map((f) => `${f.sha256}:${f.records}`).sort(),
    split: 'test',
    invoices: d.data.invoices.test ?? null,
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** Share of clean invoices flagged at one operating point of the invoice-unit test metrics. */
function cleanFlagged(d: ModelCardDraft, at: 'atReview' | 'atHold'): number | null {
  const m = d.metrics.test.find((s) => s.split === 'test' && s.unit === 'invoice');
  if (!m) return null;
  const { fp, tn } = m[at];
  return fp + tn > 0 ? fp / (fp + tn) : null;
}

/**
 * Where `candidate` is worse than `champion` under {@link PROMOTION_GATE}.
 * @returns `null` when the gate passes (or there is no champion), else the refusal naming every
 *   kind and figure that is worse, or saying that the two cards' per-kind figures are not
 *   comparable (an external card, or another test split or generator).
 */
export function perKindRefusal(candidate: ModelCard, champion: ModelCard | null): string | null {
  if (champion === null) return null;
  const c = candidate.training;
  const h = champion.training;
  if (c === null || h === null)
    return (
      `per-kind gate: ${c === null ? `${candidate.name}@${candidate.version}` : `the champion ${champion.version}`} ` +
      `is an external model whose card records per-kind figures in its producer's shape: not comparable`
    );
  const ci = perKindSplitIdentity(c);
  const hi = perKindSplitIdentity(h);
  if (ci !== hi)
    return (
      `per-kind gate: the cards' per-kind figures were measured on different test splits or generators ` +
      `(challenger ${ci.slice(0, 12)}, ${c.data.invoices.test ?? '?'} test invoices; champion ${hi.slice(0, 12)}, ` +
      `${h.data.invoices.test ?? '?'} test invoices): not comparable`
    );
  const worse: string[] = [];
  const tol = PROMOTION_GATE.tolerance + EPS;
  const byKind = new Map(c.metrics.perKind.map((k) => [k.kind, k]));
  for (const k of h.metrics.perKind) {
    const mine: KindMetrics | undefined = byKind.get(k.kind);
    const fields = k.isHardNegative ? PROMOTION_GATE.hardNegativeFlagged : PROMOTION_GATE.recall;
    for (const f of fields) {
      const theirs = k[f];
      if (theirs === null) continue;
      const ours = mine?.[f] ?? null;
      if (ours === null) worse.push(`${k.kind} ${f}: no figure (champion ${pct(theirs)})`);
      else if (k.isHardNegative ? ours > theirs + tol : ours < theirs - tol)
        worse.push(`${k.kind} ${f} ${pct(ours)} vs champion ${pct(theirs)}`);
    }
  }
  for (const at of PROMOTION_GATE.cleanFlagged) {
    const theirs = cleanFlagged(h, at);
    if (theirs === null) continue;
    const ours = cleanFlagged(c, at);
    if (ours === null) worse.push(`clean invoices flagged ${at}: no figure (champion ${pct(theirs)})`);
    else if (ours > theirs + tol)
      worse.push(`clean invoices flagged ${at} ${pct(ours)} vs champion ${pct(theirs)}`);
  }
  return worse.length === 0
    ? null
    : `per-kind gate: worse than the champion on the same test split: ${worse.join('; ')}`;
}
