/**
 * Reasons of the coding model for one line: each feature group with a declared reason code and
 * a positive contribution to the logit gives a reason weighted by its share of the positive
 * contributions (see ./model-scorers.ts), with the explanation's numbers as evidence; the price
 * group's reason follows the direction of the price vs the fee, and without a known fee is
 * `CODING_MODEL_RISK` ({@link priceDirection}).
 */
import type { Reason, ReasonCode } from '../core/decision.js';
import { reason } from './explain.js';
import type { ModelExplanation } from './explain-model.js';
import type { LoadedModel } from './onnx-champion.js';

/** Evidence block shared by every model reason: where the numbers come from. */
export function modelEvidence(m: LoadedModel, e: ModelExplanation): Record<string, unknown> {
  return {
    model: m.label,
    method: e.method,
    baseline: e.baseline,
    base_value: e.baseValue,
    logit: e.logit,
    completeness_gap: e.completenessGap,
  };
}

/** Column of each feature name, per loaded spec. */
const featureIndexes = new WeakMap<object, Map<string, number>>();

function featureIndex(spec: NonNullable<LoadedModel['spec']>): Map<string, number> {
  let index = featureIndexes.get(spec);
  if (!index) {
    index = new Map(spec.featureNames.map((n, i) => [n, i]));
    featureIndexes.set(spec, index);
  }
  return index;
}

/** Per feature of a group, in the group's order: its value in the row and its contribution. */
function featureEvidence(
  contributions: Record<string, number>,
  values: ArrayLike<number>,
  index: Map<string, number>,
): Record<string, { value: number; contribution: number }> {
  const out: Record<string, { value: number; contribution: number }> = {};
  for (const k of Object.keys(contributions))
    out[k] = { value: values[index.get(k)!]!, contribution: contributions[k]! };
  return out;
}

/**
 * The price reason of a line in the direction of its price vs the fee: the price group declares
 * `PRICE_ABOVE_FEE_SCHEDULE`, which becomes `PRICE_BELOW_FEE_SCHEDULE` when the fee is known
 * (`fee_known` 1) and the price is below it (`unit_price_fee_log_ratio` < 0): the model also
 * scores a price far below the fee as risky, and calling that "above" would mislead. Without a
 * known fee (an unknown, terminated or carrier-priced code, or a currency the fee schedule is not
 * in) the model compared the price with nothing: what raised the risk is the missing fee and the
 * price level itself, so the reason is `CODING_MODEL_RISK` (neither above nor below anything).
 */
export function priceDirection(
  code: ReasonCode,
  values: ArrayLike<number>,
  index: ReadonlyMap<string, number>,
): ReasonCode {
  if (code !== 'PRICE_ABOVE_FEE_SCHEDULE') return code;
  const at = (name: string): number | undefined => {
    const i = index.get(name);
    return i === undefined ? undefined : values[i];
  };
  const feeKnown = at('fee_known');
  // Every served line vector reads `fee_known`; a model that does not keeps the declared code.
  if (feeKnown === undefined) return code;
  if (feeKnown !== 1) return 'CODING_MODEL_RISK';
  return (at('unit_price_fee_log_ratio') ?? 0) < 0 ? 'PRICE_BELOW_FEE_SCHEDULE' : code;
}

/**
 * `e` (an explanation of the feature row `values` of a model of `spec`) with each contribution's
 * reason code in the direction of the price ({@link priceDirection}), so the explanation names
 * the reason the line carries.
 */
export function directedExplanation(
  spec: NonNullable<LoadedModel['spec']>,
  e: ModelExplanation,
  values: ArrayLike<number>,
): ModelExplanation {
  const index = featureIndex(spec);
  return {
    ...e,
    contributions: e.contributions.map((c) =>
      c.reason ? { ...c, reason: priceDirection(c.reason, values, index) } : c,
    ),
  };
}

/**
 * The model reasons of a line scored `p` (calibrated probability) with explanation `e` of its
 * feature row `values` (schema order): one per group with a reason code and a positive
 * contribution, largest first, weights adding up to `p`; the evidence of the same reason in
 * `from` (the rule-based scorer's) is merged in. With `threshold`, each reason is
 * {@link withReasonThreshold} of it.
 */
export function modelReasons(
  m: LoadedModel,
  p: number,
  e: ModelExplanation,
  values: ArrayLike<number>,
  from: readonly Reason[],
  threshold?: ReasonThreshold,
): Reason[] {
  const index = featureIndex(m.spec!);
  const positive = e.contributions.filter((c) => c.reason && c.value > 0);
  const total = positive.reduce((s, c) => s + c.value, 0);
  return positive
    .sort((a, b) => b.value - a.value)
    .map((c) => {
      const code = priceDirection(c.reason!, values, index);
      // One evidence object, keys in the order of `{ ...rules, ...modelEvidence, group, ... }`.
      const evidence: Record<string, unknown> = { ...from.find((r) => r.code === code)?.evidence };
      evidence.model = m.label;
      evidence.method = e.method;
      evidence.baseline = e.baseline;
      evidence.base_value = e.baseValue;
      evidence.logit = e.logit;
      evidence.completeness_gap = e.completenessGap;
      evidence.group = c.group;
      evidence.contribution = c.value;
      evidence.features = featureEvidence(c.features, values, index);
      const r = reason(code, (p * c.value) / total, evidence);
      if (!threshold) return r;
      addReasonThreshold(evidence, threshold);
      return policyMessage(r, threshold);
    });
}

/** A reason threshold that applied: its value (probability) and where it came from. */
export interface ReasonThreshold {
  value: number;
  /** `model-card:<model>`, `policy:coding.review_at` or `scorer`. */
  source: string;
}

/** Adds `reason_at` and `reason_at_source` to `evidence` (changed in place). */
function addReasonThreshold(evidence: Record<string, unknown>, t: ReasonThreshold): void {
  evidence.reason_at = t.value;
  evidence.reason_at_source = t.source;
}

/** `r` itself, or with the message saying so when the policy's stricter threshold applied. */
function policyMessage(r: Reason, t: ReasonThreshold): Reason {
  return t.source.startsWith('policy:')
    ? {
        ...r,
        message: `${r.message} (above the policy's coding review threshold ${t.value}, below the card's)`,
      }
    : r;
}

/**
 * `r` with the reason threshold that applied in its evidence (`reason_at`, probability;
 * `reason_at_source`: `model-card:<model>`, `policy:coding.review_at` or `scorer`); when the
 * policy's stricter threshold applied, the message says so.
 */
export function withReasonThreshold(r: Reason, t: ReasonThreshold): Reason {
  const evidence = { ...r.evidence };
  addReasonThreshold(evidence, t);
  return policyMessage({ ...r, evidence }, t);
}
