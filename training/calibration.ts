/**
 * Post-hoc calibration of a model's logits on held-out data: Platt scaling and isotonic
 * regression (pool-adjacent-violators), chosen by cross-validated log-loss, with the expected
 * calibration error (ECE, `training/eval/metrics.ts`) before and after.
 *
 * The fitted maps are the {@link CalibrationSpec}s of `models/spec.ts`, so what is selected
 * here is exactly what the ONNX and tfjs models compute.
 */
import { applyCalibration, sigmoid, type CalibrationSpec } from '../models/spec.js';
import { calibration as eceOf } from './eval/metrics.js';
import { deriveSeed, keyUniform } from './rng.js';

/** Logits with 0/1 labels and optional weights (default 1). */
export interface LogitSet {
  logit: ArrayLike<number>;
  y: ArrayLike<number>;
  w?: ArrayLike<number>;
}

const EPS = 1e-7;

/** Mean (weighted) negative log-likelihood of probabilities `p`, each clipped to [1e-7, 1 - 1e-7]. */
export function logLoss(p: ArrayLike<number>, y: ArrayLike<number>, w?: ArrayLike<number>): number {
  let s = 0;
  let sw = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - EPS, Math.max(EPS, p[i]!));
    const wi = w ? w[i]! : 1;
    s += wi * (y[i] ? -Math.log(q) : -Math.log(1 - q));
    sw += wi;
  }
  return sw > 0 ? s / sw : Number.NaN;
}

/** ECE (10 equal-width bins) of probabilities `p` against labels `y`. */
export function ece(p: ArrayLike<number>, y: ArrayLike<number>): number {
  return eceOf(Array.from(p, (score, i) => ({ score, label: (y[i] ? 1 : 0) as 0 | 1 }))).ece;
}

/**
 * Platt scaling: fits `p = sigmoid(a * logit + b)` by Newton's method on the weighted
 * log-likelihood, with Platt's (1999) smoothed targets `(N+ + 1) / (N+ + 2)` for positives and
 * `1 / (N- + 2)` for negatives (counts weighted), which keeps `a` finite on separable data.
 * @throws RangeError when the set is empty.
 */
export function fitPlatt(d: LogitSet): Extract<CalibrationSpec, { kind: 'platt' }> {
  const n = d.logit.length;
  if (n === 0) throw new RangeError('no examples to calibrate on');
  const w = (i: number): number => (d.w ? d.w[i]! : 1);
  let nPos = 0;
  let nNeg = 0;
  for (let i = 0; i < n; i++) {
    if (d.y[i]) nPos += w(i);
    else nNeg += w(i);
  }
  const tPos = (nPos + 1) / (nPos + 2);
  const tNeg = 1 / (nNeg + 2);
  const nll = (a: number, b: number): number => {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const f = a * d.logit[i]! + b;
      const t = d.y[i] ? tPos : tNeg;
      // softplus(f) - t f, stable
      s += w(i) * ((f > 0 ? f + Math.log1p(Math.exp(-f)) : Math.log1p(Math.exp(f))) - t * f);
    }
    return s;
  };
  let a = 1;
  let b = 0;
  let cur = nll(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12;
    for (let i = 0; i < n; i++) {
      const z = d.logit[i]!;
      const p = sigmoid(a * z + b);
      const r = w(i) * (p - (d.y[i] ? tPos : tNeg));
      const v = w(i) * p * (1 - p);
      ga += r * z;
      gb += r;
      haa += v * z * z;
      hab += v * z;
      hbb += v;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    // backtracking line search keeps every step a descent step
    let step = 1;
    let next = nll(a - step * da, b - step * db);
    while (next > cur && step > 1e-10) {
      step /= 2;
      next = nll(a - step * da, b - step * db);
    }
    if (next > cur) break;
    a -= step * da;
    b -= step * db;
    const done = Math.abs(cur - next) <= 1e-12 * Math.max(1, Math.abs(cur));
    cur = next;
    if (done) break;
  }
  return { kind: 'platt', a, b };
}

/**
 * Weighted isotonic regression of labels on `u = sigmoid(logit)` by pool-adjacent-violators:
 * the non-decreasing step function minimising the weighted squared error. Equal `u` values are
 * pooled first. Each fitted block contributes knots at its smallest and largest `u` (one knot
 * when they coincide), so the spec's piecewise-linear interpolation is flat inside a block and
 * linear between blocks (as scikit-learn's `IsotonicRegression` predicts), and continuous,
 * so float32 runtimes agree with it closely.
 * @throws RangeError when the set is empty.
 */
export function fitIsotonic(d: LogitSet): Extract<CalibrationSpec, { kind: 'isotonic' }> {
  const n = d.logit.length;
  if (n === 0) throw new RangeError('no examples to calibrate on');
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d.logit[i]! - d.logit[j]! || i - j);
  // blocks: [uMin, uMax, sumW, sumWY]
  const uMin: number[] = [];
  const uMax: number[] = [];
  const sw: number[] = [];
  const swy: number[] = [];
  for (const i of order) {
    const u = sigmoid(d.logit[i]!);
    const wi = d.w ? d.w[i]! : 1;
    const yi = d.y[i] ? 1 : 0;
    const top = uMin.length - 1;
    if (top >= 0 && uMax[top] === u) {
      sw[top]! += wi;
      swy[top]! += wi * yi;
    } else {
      uMin.push(u);
      uMax.push(u);
      sw.push(wi);
      swy.push(wi * yi);
    }
    // pool while the last block's mean is below the previous one's
    while (uMin.length > 1) {
      const k = uMin.length - 1;
      if (swy[k - 1]! / sw[k - 1]! <= swy[k]! / sw[k]!) break;
      uMax[k - 1] = uMax[k]!;
      sw[k - 1]! += sw[k]!;
      swy[k - 1]! += swy[k]!;
      uMin.pop();
      uMax.pop();
      sw.pop();
      swy.pop();
    }
  }
  const x: number[] = [];
  const y: number[] = [];
  for (let k = 0; k < uMin.length; k++) {
    const mean = swy[k]! / sw[k]!;
    x.push(uMin[k]!);
    y.push(mean);
    if (uMax[k]! > uMin[k]!) {
      x.push(uMax[k]!);
      y.push(mean);
    }
  }
  return { kind: 'isotonic', x, y };
}

/** Applies a calibration to every logit. */
export function calibrateAll(c: CalibrationSpec, logit: ArrayLike<number>): Float64Array {
  return Float64Array.from(logit, (z) => applyCalibration(c, z));
}

/** Result of {@link selectCalibration}. */
export interface CalibrationSelection {
  chosen: CalibrationSpec;
  /** Cross-validated log-loss and ECE of each candidate (pooled over the held-out folds). */
  candidates: { kind: CalibrationSpec['kind']; cvLogLoss: number; cvEce: number }[];
  /** ECE of `sigmoid(logit)` and of the chosen map refitted on all the data, on that data. */
  eceBefore: number;
  eceAfter: number;
  selection: string;
}

/**
 * Chooses between no calibration, Platt and isotonic by `folds`-fold cross-validated log-loss
 * on `d` (folds assigned by a seeded hash of `keys`, so the choice does not depend on row
 * order), then refits the winner on all of `d`. Log-loss rather than ECE decides because ECE
 * depends on the binning and rewards a constant prediction; ties go to the simpler map.
 * @param keys one stable key per example (e.g. invoice id + line), used to assign folds.
 * @throws RangeError when `d` is empty or `keys` has the wrong length.
 */
export function selectCalibration(
  d: LogitSet,
  keys: readonly string[],
  seed: number,
  folds = 5,
): CalibrationSelection {
  const n = d.logit.length;
  if (n === 0) throw new RangeError('no examples to calibrate on');
  if (keys.length !== n) throw new RangeError('one key per example');
  const foldSeed = deriveSeed(seed, 'calibration-folds');
  const fold = keys.map((k) => Math.floor(keyUniform(foldSeed, k) * folds));
  const fitters: { kind: CalibrationSpec['kind']; fit: (s: LogitSet) => CalibrationSpec }[] = [
    { kind: 'none', fit: () => ({ kind: 'none' }) },
    { kind: 'platt', fit: fitPlatt },
    { kind: 'isotonic', fit: fitIsotonic },
  ];
  const candidates = fitters.map(({ kind, fit }) => {
    const p = new Float64Array(n);
    for (let f = 0; f < folds; f++) {
      const tr: number[] = [];
      const te: number[] = [];
      for (let i = 0; i < n; i++) (fold[i] === f ? te : tr).push(i);
      if (te.length === 0) continue;
      const c =
        tr.length === 0
          ? ({ kind: 'none' } as const)
          : fit({
              logit: tr.map((i) => d.logit[i]!),
              y: tr.map((i) => d.y[i]!),
              w: d.w ? tr.map((i) => d.w![i]!) : undefined,
            });
      for (const i of te) p[i] = applyCalibration(c, d.logit[i]!);
    }
    return { kind, cvLogLoss: logLoss(p, d.y, d.w), cvEce: ece(p, d.y) };
  });
  // strictly better needed to pick a more complex map (order: none < platt < isotonic)
  let best = candidates[0]!;
  for (const c of candidates.slice(1)) if (c.cvLogLoss < best.cvLogLoss - 1e-9) best = c;
  const chosen = fitters.find((f) => f.kind === best.kind)!.fit(d);
  return {
    chosen,
    candidates,
    eceBefore: ece(calibrateAll({ kind: 'none' }, d.logit), d.y),
    eceAfter: ece(calibrateAll(chosen, d.logit), d.y),
    selection: `${folds}-fold cross-validated log-loss on the calibration split (lowest wins; ties to the simpler map)`,
  };
}
