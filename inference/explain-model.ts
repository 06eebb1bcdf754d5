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
import { logitGradient, logitOfStandardised, standardiseRow } from '../models/spec-math.js';
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
 * A spec's layers as flat float64 arrays, with scratch buffers, for fast path walks. Each
 * layer is kept twice: `w` row-major by input (`w[i * outDim + j]`, the backward pass reads a
 * row per input) and `wt` row-major by output (`wt[j * inDim + i]`, the forward pass reads a
 * row per output), so both passes read contiguous memory and sum in the same order as the spec.
 */
class FlatNetwork {
  readonly layers: {
    w: Float64Array;
    wt: Float64Array;
    b: Float64Array;
    inDim: number;
    outDim: number;
    relu: boolean;
  }[];
  private readonly h: Float64Array[];
  private readonly dh: Float64Array[];
  private readonly mask: Uint8Array[];
  private readonly g: Float64Array[];
  /** Per width, the indices of the units that are on under the current masks. */
  private readonly on: Int32Array[];
  private readonly onCount: Int32Array;
  private readonly slope0: Float64Array;

  constructor(spec: TrainedModelSpec) {
    this.layers = spec.layers.map((l) => {
      const inDim = l.weights.length;
      const outDim = l.bias.length;
      const w = Float64Array.from(l.weights.flat());
      const wt = new Float64Array(w.length);
      for (let i = 0; i < inDim; i++) for (let j = 0; j < outDim; j++) wt[j * inDim + i] = w[i * outDim + j]!;
      return { w, wt, b: Float64Array.from(l.bias), inDim, outDim, relu: l.activation === 'relu' };
    });
    const widths = [spec.featureNames.length, ...spec.layers.map((l) => l.bias.length)];
    this.h = widths.map((n) => new Float64Array(n));
    this.dh = widths.map((n) => new Float64Array(n));
    this.mask = widths.map((n) => new Uint8Array(n).fill(1));
    this.g = widths.map((n) => new Float64Array(n));
    this.on = widths.map((n) => new Int32Array(n));
    this.onCount = new Int32Array(widths.length);
    this.slope0 = new Float64Array(widths[1] ?? 0);
  }

  /** The logit at `z`: the forward pass of `layerActivations` (models/spec-math.ts), same sums in the same order. */
  logit(z: Float64Array): number {
    let hin: Float64Array = z;
    for (let k = 0; k < this.layers.length; k++) {
      const { wt, b, inDim, outDim, relu } = this.layers[k]!;
      const hout = this.h[k + 1]!;
      for (let j = 0; j < outDim; j++) {
        let s = b[j]!;
        for (let i = 0, off = j * inDim; i < inDim; i++, off++) s += hin[i]! * wt[off]!;
        hout[j] = relu && s < 0 ? 0 : s;
      }
      hin = hout;
    }
    return hin[0]!;
  }

  /**
   * Starts a walk along `t z`: the first layer's pre-activation slopes `sum_i z_i w_ij`
   * (summed in input order, as the forward pass sums).
   */
  start(z: Float64Array): void {
    const { wt, inDim, outDim } = this.layers[0]!;
    for (let j = 0; j < outDim; j++) {
      let dp = 0;
      for (let i = 0, off = j * inDim; i < inDim; i++, off++) dp += z[i]! * wt[off]!;
      this.slope0[j] = dp;
    }
  }

  /**
   * Along `t z` (after {@link start} with the same `z`): the ReLU states just after `t` (kept in the masks) and the next `t' > t`
   * where one of them changes (1 when none does before the end of the path).
   */
  nextBreak(z: Float64Array, t: number): number {
    const h0 = this.h[0]!;
    for (let i = 0; i < z.length; i++) h0[i] = t * z[i]!;
    let next = 1;
    for (let k = 0; k < this.layers.length; k++) {
      const l = this.layers[k]!;
      const hin = this.h[k]!;
      const din = this.dh[k]!;
      const hout = this.h[k + 1]!;
      const dout = this.dh[k + 1]!;
      const mask = this.mask[k + 1]!;
      const on = this.on[k + 1]!;
      let count = 0;
      const { wt, b, inDim } = l;
      const first = k === 0;
      for (let j = 0; j < l.outDim; j++) {
        let p = b[j]!;
        // The first layer's slope along the path is the same at every t (start).
        let dp = first ? this.slope0[j]! : 0;
        if (first) for (let i = 0, off = j * inDim; i < inDim; i++, off++) p += hin[i]! * wt[off]!;
        else
          for (let i = 0, off = j * inDim; i < inDim; i++, off++) {
            p += hin[i]! * wt[off]!;
            dp += din[i]! * wt[off]!;
          }
        if (l.relu) {
          const atZero = Math.abs(p) <= 1e-12 * (1 + Math.abs(p));
          const isOn = atZero ? dp > 0 : p > 0;
          if (dp !== 0 && !atZero) {
            const cross = t - p / dp;
            if (cross > t + 1e-12 && cross < next) next = cross;
          }
          mask[j] = isOn ? 1 : 0;
          if (!isOn) {
            p = 0;
            dp = 0;
          } else on[count++] = j;
        } else on[count++] = j;
        hout[j] = p;
        dout[j] = dp;
      }
      this.onCount[k + 1] = count;
    }
    return next;
  }

  /**
   * Gradient of the logit w.r.t. the standardised input under the current masks. Units that
   * are off pass a zero gradient, whose terms are left out of the sums (adding `+-0` to a sum
   * that starts at `+0` never changes it).
   */
  gradient(): Float64Array {
    const last = this.layers.length;
    this.g[last]![0] = 1;
    for (let k = last - 1; k >= 0; k--) {
      const l = this.layers[k]!;
      const gout = this.g[k + 1]!;
      const gin = this.g[k]!;
      const on = this.on[k + 1]!;
      const count = this.onCount[k + 1]!;
      const { w, outDim } = l;
      for (let i = 0; i < l.inDim; i++) {
        let s = 0;
        const off = i * outDim;
        for (let n = 0; n < count; n++) {
          const j = on[n]!;
          s += w[off + j]! * gout[j]!;
        }
        gin[i] = s;
      }
    }
    return this.g[0]!;
  }
}

/**
 * Integrated gradients in standardised space. Exact: walk the path piece by piece (the ReLU
 * states are constant inside a piece, so the gradient is too) and weight each piece's
 * gradient by its length. Riemann: midpoint sum over `steps` points.
 */
function integratedGradients(
  spec: TrainedModelSpec,
  net: FlatNetwork,
  z: Float64Array,
  o: Required<ExplainOptions>,
): { phi: Float64Array; pieces: number; exact: boolean } {
  const phi = new Float64Array(z.length);
  if (o.method === 'exact') {
    let t = 0;
    let pieces = 0;
    net.start(z);
    while (t < 1 && pieces < MAX_PIECES) {
      const next = net.nextBreak(z, t);
      const g = net.gradient();
      const w = next - t;
      for (let i = 0; i < z.length; i++) phi[i]! += z[i]! * g[i]! * w;
      t = next;
      pieces++;
    }
    if (t >= 1) return { phi, pieces, exact: true };
    phi.fill(0);
  }
  const probe = new Float64Array(z.length);
  for (let k = 0; k < o.steps; k++) {
    const t = (k + 0.5) / o.steps;
    for (let i = 0; i < z.length; i++) probe[i] = t * z[i]!;
    const g = logitGradient(spec, probe);
    for (let i = 0; i < z.length; i++) phi[i]! += (z[i]! * g[i]!) / o.steps;
  }
  return { phi, pieces: o.steps, exact: false };
}

/**
 * Explains predictions of one trained spec by declared feature groups.
 * @throws RangeError when the groups do not cover every feature exactly once or name an
 *   unknown feature.
 */
export class ModelExplainer {
  private readonly index: Map<string, number>;
  /** Each group's features as indexes into `spec.featureNames`, in the group's order. */
  private readonly groupIndexes: Int32Array[];
  private readonly opts: Required<ExplainOptions>;
  private readonly net: FlatNetwork;
  /** Logit at the baseline (`z = 0`), the same for every row. */
  private readonly baseValue: number;

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
    this.groupIndexes = groups.map((g) => Int32Array.from(g.features, (f) => this.index.get(f)!));
    this.opts = { method: opts.method ?? 'exact', steps: opts.steps ?? 64 };
    this.net = new FlatNetwork(spec);
    this.baseValue =
      spec.layers.length === 1
        ? spec.layers[0]!.bias[0]!
        : logitOfStandardised(spec, new Float64Array(spec.featureNames.length));
  }

  /** Explains one raw feature row (in `spec.featureNames` order). */
  explain(x: ArrayLike<number>): ModelExplanation {
    const spec = this.spec;
    const z = standardiseRow(spec, x);
    const logit = this.net.logit(z);
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
      const ig = integratedGradients(spec, this.net, z, this.opts);
      phi = ig.phi;
      steps = ig.pieces;
      baseValue = this.baseValue;
      method = ig.exact ? 'integrated-gradients-exact' : 'integrated-gradients-riemann';
    }
    let total = baseValue;
    const contributions = this.groups.map((g, k) => {
      const features: Record<string, number> = {};
      const at = this.groupIndexes[k]!;
      let value = 0;
      for (let j = 0; j < at.length; j++) {
        const v = phi[at[j]!]!;
        features[g.features[j]!] = v;
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
