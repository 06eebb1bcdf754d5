/**
 * Per-decision explanations of a trained model: contributions of declared feature groups to
 * the model's logit that add up to it.
 *
 * - **Logistic** models: exact. With `z_i = (x_i - mean_i) / std_i`, the logit is
 *   `b + sum_i w_i z_i`, so feature i contributes `w_i z_i` and the base value is `b` (the
 *   logit of the training mean). Gap 0 up to float rounding (~1e-15).
 * - **MLPs**: integrated gradients (Sundararajan, Taly, Yan 2017) from the baseline
 *   `x = training mean` (`z = 0`, documented in the card's standardisation) along the straight
 *   path `z(t) = t z`: `phi_i = z_i * integral_0^1 dlogit/dz_i(t z) dt`, base value
 *   `logit(mean)`. By completeness, `base + sum_i phi_i = logit(x)`.
 *   `method: 'exact'` (default) integrates exactly: a ReLU network is piecewise linear along
 *   the path, so the path is cut where a hidden unit switches and the constant gradient of
 *   each piece is weighted by its length (gap ~1e-12). `method: 'riemann'` uses the usual
 *   midpoint sum with `steps` points (32-64 in the literature) and reports its gap.
 *
 * Contributions are in logit units (log-odds before calibration); the calibrated probability
 * is a monotone function of the logit (`calibration` says which). Computed in float64 from
 * the spec, which the served ONNX graph reproduces to float32 precision.
 */
import type { ReasonCode } from '../core/decision.js';
import { layerActivations, logitGradient, logitOfStandardised, standardiseRow } from '../models/spec-math.js';
import { applyCalibration, type TrainedModelSpec } from '../models/spec.js';

/** A named group of features whose contributions are reported together. */
export interface FeatureGroup {
  /** Stable id, e.g. `description_fit`. */
  name: string;
  features: readonly string[];
  /** Reason code a positive contribution of this group supports, if any. */
  reason?: ReasonCode;
}

/** One group's contribution. */
export interface GroupContribution {
  group: string;
  /** Sum of the group's feature contributions, in logit units. */
  value: number;
  /** Per feature, in logit units. */
  features: Record<string, number>;
  reason?: ReasonCode;
}

/** An explanation of one prediction. */
export interface ModelExplanation {
  method: 'exact-linear' | 'integrated-gradients-exact' | 'integrated-gradients-riemann';
  /** Logit at the baseline (the training mean): the base value. */
  baseValue: number;
  /** The model's logit at the input (float64 reference). */
  logit: number;
  /** Calibrated probability at the input. */
  probability: number;
  calibration: TrainedModelSpec['calibration']['kind'];
  /** In the declared group order. */
  contributions: GroupContribution[];
  /** `logit - (baseValue + sum of contributions)`; reported, not hidden. */
  completenessGap: number;
  /** Path pieces (exact IG) or Riemann steps; 1 for linear models. */
  steps: number;
  baseline: 'training-mean';
}

/** Options of {@link ModelExplainer}. */
export interface ExplainOptions {
  /** Integration for MLPs; default `exact`. */
  method?: 'exact' | 'riemann';
  /** Riemann steps; default 64. */
  steps?: number;
}

/** Cap on path pieces for exact IG before falling back to the Riemann sum. */
const MAX_PIECES = 100_000;

/**
 * Path pieces of a ReLU network along `t z`, t in [0, 1]: breakpoints where a hidden unit's
 * pre-activation changes sign. Within a piece the network is affine in z, so its gradient is
 * constant and equals the gradient at the piece's midpoint.
 */
function pathBreakpoints(spec: TrainedModelSpec, z: Float64Array): number[] | null {
  const points = [0];
  let t = 0;
  while (t < 1) {
    // Forward pass at t with d/dt, choosing each ReLU's state just after t.
    let h = new Float64Array(z.length);
    let dh = new Float64Array(z.length);
    for (let i = 0; i < z.length; i++) {
      h[i] = t * z[i]!;
      dh[i] = z[i]!;
    }
    let next = 1;
    for (const l of spec.layers) {
      const out = l.bias.length;
      const p = new Float64Array(out);
      const dp = new Float64Array(out);
      for (let j = 0; j < out; j++) {
        let s = l.bias[j]!;
        let ds = 0;
        for (let i = 0; i < h.length; i++) {
          s += h[i]! * l.weights[i]![j]!;
          ds += dh[i]! * l.weights[i]![j]!;
        }
        p[j] = s;
        dp[j] = ds;
      }
      if (l.activation === 'relu') {
        for (let j = 0; j < out; j++) {
          const scale = 1 + Math.abs(p[j]!);
          const atZero = Math.abs(p[j]!) <= 1e-12 * scale;
          const on = atZero ? dp[j]! > 0 : p[j]! > 0;
          if (dp[j]! !== 0 && !atZero) {
            const cross = t - p[j]! / dp[j]!;
            if (cross > t + 1e-12 && cross < next) next = cross;
          }
          if (!on) {
            p[j] = 0;
            dp[j] = 0;
          }
        }
      }
      h = p;
      dh = dp;
    }
    points.push(next);
    if (points.length > MAX_PIECES) return null;
    t = next;
  }
  return points;
}

/** Integrated gradients in standardised space; returns per-feature contributions and the piece count. */
function integratedGradients(
  spec: TrainedModelSpec,
  z: Float64Array,
  o: Required<ExplainOptions>,
): { phi: Float64Array; pieces: number; exact: boolean } {
  const phi = new Float64Array(z.length);
  const points = o.method === 'exact' ? pathBreakpoints(spec, z) : null;
  const probe = new Float64Array(z.length);
  const accumulate = (t: number, weight: number): void => {
    for (let i = 0; i < z.length; i++) probe[i] = t * z[i]!;
    const g = logitGradient(spec, probe);
    for (let i = 0; i < z.length; i++) phi[i]! += z[i]! * g[i]! * weight;
  };
  if (points) {
    for (let k = 1; k < points.length; k++) {
      const a = points[k - 1]!;
      const b = points[k]!;
      accumulate((a + b) / 2, b - a);
    }
    return { phi, pieces: points.length - 1, exact: true };
  }
  for (let k = 0; k < o.steps; k++) accumulate((k + 0.5) / o.steps, 1 / o.steps);
  return { phi, pieces: o.steps, exact: false };
}

/**
 * Explains predictions of one trained spec by declared feature groups.
 * @throws RangeError when the groups do not cover every feature exactly once or name an
 *   unknown feature.
 */
export class ModelExplainer {
  private readonly index: Map<string, number>;
  private readonly opts: Required<ExplainOptions>;

  constructor(
    readonly spec: TrainedModelSpec,
    readonly groups: readonly FeatureGroup[],
    opts: ExplainOptions = {},
  ) {
    this.index = new Map(spec.featureNames.map((n, i) => [n, i]));
    const seen = new Set<string>();
    for (const g of groups)
      for (const f of g.features) {
        if (!this.index.has(f)) throw new RangeError(`group ${g.name}: unknown feature ${f}`);
        if (seen.has(f)) throw new RangeError(`feature ${f} is in more than one group`);
        seen.add(f);
      }
    const missing = spec.featureNames.filter((n) => !seen.has(n));
    if (missing.length > 0) throw new RangeError(`features in no group: ${missing.join(', ')}`);
    this.opts = { method: opts.method ?? 'exact', steps: opts.steps ?? 64 };
  }

  /** Explains one raw feature row (in `spec.featureNames` order). */
  explain(x: ArrayLike<number>): ModelExplanation {
    const spec = this.spec;
    const z = standardiseRow(spec, x);
    const acts = layerActivations(spec, z);
    const logit = acts[acts.length - 1]![0]!;
    let phi: Float64Array;
    let baseValue: number;
    let method: ModelExplanation['method'];
    let steps = 1;
    const linear = spec.layers.length === 1;
    if (linear) {
      const w = spec.layers[0]!.weights;
      phi = z.map((zi, i) => w[i]![0]! * zi);
      baseValue = spec.layers[0]!.bias[0]!;
      method = 'exact-linear';
    } else {
      const ig = integratedGradients(spec, z, this.opts);
      phi = ig.phi;
      steps = ig.pieces;
      baseValue = logitOfStandardised(spec, new Float64Array(z.length));
      method = ig.exact ? 'integrated-gradients-exact' : 'integrated-gradients-riemann';
    }
    let total = baseValue;
    const contributions = this.groups.map((g) => {
      const features: Record<string, number> = {};
      let value = 0;
      for (const f of g.features) {
        const v = phi[this.index.get(f)!]!;
        features[f] = v;
        value += v;
      }
      total += value;
      return { group: g.name, value, features, ...(g.reason ? { reason: g.reason } : {}) };
    });
    return {
      method,
      baseValue,
      logit,
      probability: applyCalibration(spec.calibration, logit),
      calibration: spec.calibration.kind,
      contributions,
      completenessGap: logit - total,
      steps,
      baseline: 'training-mean',
    };
  }
}
