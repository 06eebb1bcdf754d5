/**
 * Reference arithmetic of a {@link TrainedModelSpec} in float64: validation, the forward pass
 * (standardise -> dense layers -> logit), the calibration and the gradient of the logit.
 * The ONNX export reproduces exactly these formulas; explanations are computed from them.
 */
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { TriageError } from '../core/errors.js';
import type { CalibrationSpec, TrainedModelSpec } from './spec.js';

const Finite = Type.Number();
const DenseLayerSchema = Type.Object({
  weights: Type.Array(Type.Array(Finite)),
  bias: Type.Array(Finite),
  activation: Type.Union([Type.Literal('relu'), Type.Literal('linear')]),
});

/** TypeBox schema of a `spec.json` (shape only; {@link validateSpec} checks the dimensions). */
export const TrainedModelSpecSchema = Type.Object({
  task: Type.Union([Type.Literal('coding-mismatch'), Type.Literal('duplicate')]),
  architecture: Type.Union([Type.Literal('logistic'), Type.Literal('mlp')]),
  featureNames: Type.Array(Type.String(), { minItems: 1 }),
  featureSchemaVersion: Type.String({ minLength: 1 }),
  standardise: Type.Object({ mean: Type.Array(Finite), std: Type.Array(Finite) }),
  layers: Type.Array(DenseLayerSchema, { minItems: 1 }),
  calibration: Type.Union([
    Type.Object({ kind: Type.Literal('platt'), a: Finite, b: Finite }),
    Type.Object({ kind: Type.Literal('isotonic'), x: Type.Array(Finite), y: Type.Array(Finite) }),
    Type.Object({ kind: Type.Literal('none') }),
  ]),
  seed: Type.Integer(),
});

const specValidator = Compile(TrainedModelSpecSchema);

function invalid(detail: string): TriageError {
  return new TriageError('TRIAGE_MODEL_INVALID', `Invalid model spec: ${detail}`);
}

function allFinite(xs: readonly number[]): boolean {
  return xs.every((x) => Number.isFinite(x));
}

/**
 * Checks a parsed `spec.json`: the schema, then that the dimensions chain
 * (features -> standardise -> layer 0 -> ... -> 1 linear output), that every number is finite,
 * that every `std` is > 0 and that isotonic knots are ascending with matching `y`.
 * @returns the value typed as a spec.
 * @throws TriageError `TRIAGE_MODEL_INVALID` naming the first problem.
 */
export function validateSpec(value: unknown): TrainedModelSpec {
  if (!specValidator.Check(value)) {
    const first = [...specValidator.Errors(value)][0];
    throw invalid(`${first?.instancePath || '/'} ${first?.message ?? 'does not match the schema'}`);
  }
  const spec = value as TrainedModelSpec;
  const f = spec.featureNames.length;
  if (new Set(spec.featureNames).size !== f) throw invalid('featureNames has duplicates');
  const { mean, std } = spec.standardise;
  if (mean.length !== f || std.length !== f)
    throw invalid(`standardise has ${mean.length}/${std.length} entries for ${f} features`);
  if (!allFinite(mean) || !std.every((s) => Number.isFinite(s) && s > 0))
    throw invalid('standardise.mean must be finite and standardise.std finite and > 0');
  let width = f;
  spec.layers.forEach((l, i) => {
    if (l.weights.length !== width)
      throw invalid(`layers[${i}].weights has ${l.weights.length} rows, expected ${width}`);
    const out = l.bias.length;
    if (out === 0) throw invalid(`layers[${i}].bias is empty`);
    for (const row of l.weights) {
      if (row.length !== out) throw invalid(`layers[${i}].weights rows must have ${out} columns`);
      if (!allFinite(row)) throw invalid(`layers[${i}].weights has a non-finite value`);
    }
    if (!allFinite(l.bias)) throw invalid(`layers[${i}].bias has a non-finite value`);
    width = out;
  });
  const last = spec.layers[spec.layers.length - 1]!;
  if (width !== 1 || last.activation !== 'linear')
    throw invalid('the last layer must have 1 linear output (the logit)');
  if (spec.architecture === 'logistic' && spec.layers.length !== 1)
    throw invalid('a logistic model has exactly one (linear) layer');
  const c = spec.calibration;
  if (c.kind === 'platt' && !(Number.isFinite(c.a) && Number.isFinite(c.b)))
    throw invalid('platt a/b must be finite');
  if (c.kind === 'isotonic') {
    if (c.x.length < 2 || c.x.length !== c.y.length)
      throw invalid('isotonic needs >= 2 knots with as many x as y');
    if (!allFinite(c.x) || !allFinite(c.y)) throw invalid('isotonic knots must be finite');
    for (let i = 1; i < c.x.length; i++)
      if (c.x[i]! < c.x[i - 1]!) throw invalid('isotonic x must be ascending');
  }
  return spec;
}

/** Logistic function, 1 / (1 + e^-z). */
export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** ln(p / (1 - p)) with p clamped to [1e-12, 1 - 1e-12]. */
export function logit(p: number): number {
  const q = Math.min(1 - 1e-12, Math.max(1e-12, p));
  return Math.log(q / (1 - q));
}

/** Standardised input `(x - mean) / std`. */
export function standardiseRow(spec: TrainedModelSpec, x: ArrayLike<number>): Float64Array {
  const { mean, std } = spec.standardise;
  const z = new Float64Array(mean.length);
  for (let i = 0; i < z.length; i++) z[i] = (x[i]! - mean[i]!) / std[i]!;
  return z;
}

/** Activations of every layer for a standardised input: `[z, h1, ..., logit]`. */
export function layerActivations(spec: TrainedModelSpec, z: Float64Array): Float64Array[] {
  const acts: Float64Array[] = [z];
  let h = z;
  for (const l of spec.layers) {
    const out = new Float64Array(l.bias.length);
    for (let j = 0; j < out.length; j++) {
      let s = l.bias[j]!;
      for (let i = 0; i < h.length; i++) s += h[i]! * l.weights[i]![j]!;
      out[j] = l.activation === 'relu' && s < 0 ? 0 : s;
    }
    acts.push(out);
    h = out;
  }
  return acts;
}

/** The logit of one raw feature row. */
export function specLogit(spec: TrainedModelSpec, x: ArrayLike<number>): number {
  const acts = layerActivations(spec, standardiseRow(spec, x));
  return acts[acts.length - 1]![0]!;
}

/**
 * Calibrated probability of a logit. Isotonic: with `s = sigmoid(logit)` and knots
 * `(x_i, y_i)`, `f(s) = y_0 + sum over segments with x_i < x_{i+1} of
 * (y_{i+1} - y_i) * (clamp(s, x_i, x_{i+1}) - x_i) / (x_{i+1} - x_i)
 * + sum over tied knots x_i = x_{i+1} of (y_{i+1} - y_i) * [s >= x_i]`:
 * linear interpolation, constant beyond the end knots, right-continuous at a tie.
 */
export function calibrate(c: CalibrationSpec, z: number): number {
  if (c.kind === 'platt') return sigmoid(c.a * z + c.b);
  const s = sigmoid(z);
  if (c.kind === 'none') return s;
  let p = c.y[0]!;
  for (let i = 0; i + 1 < c.x.length; i++) {
    const lo = c.x[i]!;
    const hi = c.x[i + 1]!;
    const dy = c.y[i + 1]! - c.y[i]!;
    if (hi > lo) p += (dy / (hi - lo)) * (Math.min(Math.max(s, lo), hi) - lo);
    else if (s >= lo) p += dy;
  }
  return p;
}

/** Calibrated probability of one raw feature row. */
export function specProbability(spec: TrainedModelSpec, x: ArrayLike<number>): number {
  return calibrate(spec.calibration, specLogit(spec, x));
}

/**
 * Gradient of the logit with respect to the standardised input `z` (backpropagation through
 * the ReLUs; at exactly 0 the ReLU's derivative is taken as 0).
 */
export function logitGradient(spec: TrainedModelSpec, z: Float64Array): Float64Array {
  const acts = layerActivations(spec, z);
  let g = new Float64Array([1]);
  for (let k = spec.layers.length - 1; k >= 0; k--) {
    const l = spec.layers[k]!;
    const out = acts[k + 1]!;
    if (l.activation === 'relu') for (let j = 0; j < g.length; j++) if (out[j]! <= 0) g[j] = 0;
    const input = acts[k]!;
    const gi = new Float64Array(input.length);
    for (let i = 0; i < gi.length; i++) {
      let s = 0;
      const row = l.weights[i]!;
      for (let j = 0; j < g.length; j++) s += row[j]! * g[j]!;
      gi[i] = s;
    }
    g = gi;
  }
  return g;
}
