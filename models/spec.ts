/**
 * The contract between training (`training/`) and export, registry and serving:
 * a trained model is a plain JSON {@link TrainedModelSpec}, and each training run also writes a
 * {@link ModelCardDraft} that the registry completes (version, parent, ONNX hash, created time).
 *
 * A spec is the whole scoring function, so it can be turned into ONNX, into a tfjs model
 * (`toTfjsModel` in `training/`) or evaluated in plain JS ({@link predictProbability}) with the
 * same result up to float32 rounding:
 *
 * ```
 * z0 = (x - standardise.mean) / standardise.std         // per feature, in featureNames order
 * z_{k+1} = act_k(z_k · layers[k].weights + layers[k].bias)   // weights are [in][out]
 * logit = z_L (1 output, last activation 'linear')
 * p = calibration(logit)                                  // platt | isotonic | none
 * ```
 *
 * Pure module: no tfjs, no onnxruntime, no I/O.
 */
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { TriageError } from '../core/errors.js';

/** The two scoring tasks with trained models. */
export const ModelTask = Type.Union([Type.Literal('coding-mismatch'), Type.Literal('duplicate')]);
export type ModelTask = Static<typeof ModelTask>;

/** Architecture families declared in `models/specs/`. */
export const ArchitectureKind = Type.Union([Type.Literal('logistic'), Type.Literal('mlp')]);
export type ArchitectureKind = Static<typeof ArchitectureKind>;

/** One dense layer: `out = act(in · weights + bias)`, `weights` is `[in][out]`. */
export const DenseLayer = Type.Object(
  {
    weights: Type.Array(Type.Array(Type.Number())),
    bias: Type.Array(Type.Number()),
    activation: Type.Union([Type.Literal('relu'), Type.Literal('linear')]),
  },
  { additionalProperties: false },
);
export type DenseLayer = Static<typeof DenseLayer>;

/**
 * Calibration of the logit into a probability.
 * - `platt`: `p = sigmoid(a * logit + b)`.
 * - `isotonic`: `u = sigmoid(logit)`, then piecewise-linear interpolation through the knots
 *   `(x[i], y[i])` (`x` strictly increasing, `y` non-decreasing, both in [0, 1]); `u` below
 *   `x[0]` gives `y[0]`, above `x[n-1]` gives `y[n-1]` (clamped at the ends).
 * - `none`: `p = sigmoid(logit)`.
 */
export const CalibrationSpec = Type.Union([
  Type.Object(
    { kind: Type.Literal('platt'), a: Type.Number(), b: Type.Number() },
    { additionalProperties: false },
  ),
  Type.Object(
    { kind: Type.Literal('isotonic'), x: Type.Array(Type.Number()), y: Type.Array(Type.Number()) },
    { additionalProperties: false },
  ),
  Type.Object({ kind: Type.Literal('none') }, { additionalProperties: false }),
]);
export type CalibrationSpec = Static<typeof CalibrationSpec>;

/** A trained model as plain JSON (see the module doc for the scoring function). */
export const TrainedModelSpec = Type.Object(
  {
    task: ModelTask,
    architecture: ArchitectureKind,
    /** Input features, in input order; must equal the feature schema's names for the task. */
    featureNames: Type.Array(Type.String()),
    /** Feature schema version the model was trained on (`fs-…`); the service refuses others. */
    featureSchemaVersion: Type.String(),
    /** Applied first: `(x - mean) / std`; `std` entries are > 0. */
    standardise: Type.Object(
      { mean: Type.Array(Type.Number()), std: Type.Array(Type.Number()) },
      { additionalProperties: false },
    ),
    layers: Type.Array(DenseLayer),
    calibration: CalibrationSpec,
    /** Seed of the training run (initialisers, shuffling, splits). */
    seed: Type.Integer(),
  },
  { additionalProperties: false },
);
export type TrainedModelSpec = Static<typeof TrainedModelSpec>;

const specValidator = Compile(TrainedModelSpec);

const invalid = (detail: string): TriageError =>
  new TriageError('TRIAGE_MODEL_INVALID', `model spec invalid: ${detail}`);

/** Validates `value` against a compiled schema, throwing `TRIAGE_MODEL_INVALID` with the first error. */
function checkShape<T>(
  validator: {
    Check(v: unknown): boolean;
    Errors(v: unknown): Iterable<{ instancePath?: string; message?: string }>;
  },
  value: unknown,
  what: string,
): T {
  if (!validator.Check(value)) {
    const first = [...validator.Errors(value)][0];
    throw new TriageError(
      'TRIAGE_MODEL_INVALID',
      `${what} invalid: ${first?.instancePath || '/'} ${first?.message ?? 'does not match the schema'}`,
    );
  }
  return value as T;
}

/**
 * Checks the JSON shape (TypeBox) and the internal consistency of a spec: layer sizes chain
 * from `featureNames.length` to 1, the last layer is linear, `std > 0`, isotonic knots sorted.
 * @returns the spec, typed.
 * @throws TriageError `TRIAGE_MODEL_INVALID` naming the first problem found.
 */
export function assertModelSpec(value: unknown): TrainedModelSpec {
  const spec = checkShape<TrainedModelSpec>(specValidator, value, 'model spec');
  const d = spec.featureNames.length;
  if (d === 0) throw invalid('featureNames is empty');
  if (spec.standardise.mean.length !== d || spec.standardise.std.length !== d)
    throw invalid(`standardise needs ${d} means and stds`);
  if (!spec.standardise.std.every((s) => Number.isFinite(s) && s > 0))
    throw invalid('standardise.std must be finite and > 0');
  if (spec.layers.length === 0) throw invalid('no layers');
  let width = d;
  spec.layers.forEach((l, k) => {
    if (l.weights.length !== width)
      throw invalid(`layers[${k}].weights has ${l.weights.length} rows, want ${width}`);
    const out = l.bias.length;
    if (out === 0 || !l.weights.every((row) => row.length === out))
      throw invalid(`layers[${k}] weights/bias widths disagree`);
    if (![...l.bias, ...l.weights.flat()].every(Number.isFinite))
      throw invalid(`layers[${k}] has a non-finite value`);
    width = out;
  });
  const last = spec.layers[spec.layers.length - 1]!;
  if (width !== 1) throw invalid('the last layer must have 1 output');
  if (last.activation !== 'linear') throw invalid('the last layer must be linear (a logit)');
  if (spec.architecture === 'logistic' && spec.layers.length !== 1)
    throw invalid('logistic has exactly 1 layer');
  const c = spec.calibration;
  if (c.kind === 'isotonic') {
    if (c.x.length === 0 || c.x.length !== c.y.length)
      throw invalid('isotonic x and y must be non-empty, same length');
    for (let i = 0; i < c.x.length; i++) {
      if (!(c.x[i]! >= 0 && c.x[i]! <= 1 && c.y[i]! >= 0 && c.y[i]! <= 1))
        throw invalid('isotonic knots must lie in [0, 1]');
      if (i > 0 && !(c.x[i]! > c.x[i - 1]! && c.y[i]! >= c.y[i - 1]!))
        throw invalid('isotonic x must increase strictly and y must not decrease');
    }
  } else if (c.kind === 'platt' && !(Number.isFinite(c.a) && Number.isFinite(c.b))) {
    throw invalid('platt a and b must be finite');
  }
  return spec;
}

/** Logistic function, stable for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Piecewise-linear interpolation through sorted knots, clamped at the ends. */
export function interpolateClamped(x: readonly number[], y: readonly number[], u: number): number {
  const n = x.length;
  if (u <= x[0]!) return y[0]!;
  if (u >= x[n - 1]!) return y[n - 1]!;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x[mid]! <= u) lo = mid;
    else hi = mid;
  }
  const t = (u - x[lo]!) / (x[hi]! - x[lo]!);
  return y[lo]! + t * (y[hi]! - y[lo]!);
}

/** Maps a logit to a probability with a calibration spec. */
export function applyCalibration(c: CalibrationSpec, logit: number): number {
  switch (c.kind) {
    case 'platt':
      return sigmoid(c.a * logit + c.b);
    case 'isotonic':
      return interpolateClamped(c.x, c.y, sigmoid(logit));
    case 'none':
      return sigmoid(logit);
  }
}

/**
 * The uncalibrated logit of one feature vector (float64 reference implementation).
 * @param x feature values in `spec.featureNames` order.
 * @throws RangeError when `x` has the wrong length.
 */
export function specLogit(spec: TrainedModelSpec, x: ArrayLike<number>): number {
  if (x.length !== spec.featureNames.length)
    throw new RangeError(`expected ${spec.featureNames.length} features, got ${x.length}`);
  let z: number[] = Array.from(x, (v, i) => (v - spec.standardise.mean[i]!) / spec.standardise.std[i]!);
  for (const l of spec.layers) {
    const out = l.bias.slice();
    for (let i = 0; i < z.length; i++) {
      const zi = z[i]!;
      if (zi === 0) continue;
      const row = l.weights[i]!;
      for (let j = 0; j < out.length; j++) out[j]! += zi * row[j]!;
    }
    z = l.activation === 'relu' ? out.map((v) => (v > 0 ? v : 0)) : out;
  }
  return z[0]!;
}

/** Calibrated probability in [0, 1] of one feature vector (float64 reference implementation). */
export function predictProbability(spec: TrainedModelSpec, x: ArrayLike<number>): number {
  return applyCalibration(spec.calibration, specLogit(spec, x));
}

// ---------------------------------------------------------------------------------------------
// Model card draft
// ---------------------------------------------------------------------------------------------

/** A metric that is undefined on the data (e.g. ROC-AUC without positives) is `null`. */
const Metric = Type.Union([Type.Number(), Type.Null()]);

/** Confusion at one operating point (positive = flagged, i.e. `score > threshold` for review). */
export const OperatingPoint = Type.Object({
  threshold: Type.Number(),
  tp: Type.Integer(),
  fp: Type.Integer(),
  tn: Type.Integer(),
  fn: Type.Integer(),
  precision: Metric,
  recall: Metric,
});
export type OperatingPoint = Static<typeof OperatingPoint>;

/** Headline metrics of a model on one split, at the unit it scores (line or candidate pair) or per invoice. */
export const SplitMetrics = Type.Object({
  split: Type.String(),
  /** `line` (coding), `pair` (duplicate candidate pair) or `invoice` (max over the invoice's lines/pairs). */
  unit: Type.Union([Type.Literal('line'), Type.Literal('pair'), Type.Literal('invoice')]),
  n: Type.Integer(),
  positives: Type.Integer(),
  rocAuc: Metric,
  prAuc: Metric,
  ece: Metric,
  /** Flagged for review or hold: score > the auto-approve threshold. */
  atReview: OperatingPoint,
  /** Held: score >= the hold threshold. */
  atHold: OperatingPoint,
});
export type SplitMetrics = Static<typeof SplitMetrics>;

/**
 * Metrics of one exception kind (e.g. `price_outlier`, `rekeyed_number`) against the clean
 * units: positives are the units of this kind, negatives every clean unit; precision is
 * `tp_kind / (tp_kind + fp_clean)`. For hard negatives (`isHardNegative`), `n` counts the
 * units of that kind and `flaggedRate*` the share wrongly flagged; the other fields are null.
 */
export const KindMetrics = Type.Object({
  kind: Type.String(),
  isHardNegative: Type.Boolean(),
  n: Type.Integer(),
  rocAuc: Metric,
  prAuc: Metric,
  precisionAtReview: Metric,
  recallAtReview: Metric,
  precisionAtHold: Metric,
  recallAtHold: Metric,
  flaggedRateAtReview: Metric,
  flaggedRateAtHold: Metric,
});
export type KindMetrics = Static<typeof KindMetrics>;

/** One threshold chosen with a finite-sample guarantee (see `training/thresholds.ts`). */
export const ThresholdChoice = Type.Object({
  /** Calibrated invoice-level probability; AUTO_APPROVE when `score <= threshold`, HOLD when `score >= threshold`. */
  threshold: Type.Number(),
  /** The risk bounded: e.g. `P(exception | auto-approved)` or `P(clean | held)`. */
  risk: Type.String(),
  /** Target risk level (e.g. 0.005). */
  alpha: Type.Number(),
  /** Allowed probability that the guarantee fails over the draw of the calibration data (e.g. 0.05). */
  delta: Type.Number(),
  method: Type.String(),
  /** Invoices in the threshold-calibration split and how many fall on this side of the threshold. */
  calibrationN: Type.Integer(),
  calibrationSelected: Type.Integer(),
  calibrationErrors: Type.Integer(),
  /** Share of invoices on this side (coverage for auto-approve), on the calibration and test splits. */
  coverageCalibration: Type.Number(),
  coverageTest: Metric,
  /** Observed risk on the test split (exceptions among approved / clean among held); null when none selected. */
  riskTest: Metric,
  /** False when no threshold passed the test: the safe default (approve nothing / hold nothing) is used. */
  feasible: Type.Boolean(),
});
export type ThresholdChoice = Static<typeof ThresholdChoice>;

/** A candidate architecture and its validation metrics. */
export const ArchitectureResult = Type.Object({
  id: Type.String(),
  architecture: ArchitectureKind,
  hidden: Type.Array(Type.Integer()),
  parameters: Type.Integer(),
  validLogLoss: Type.Number(),
  validRocAuc: Metric,
  validPrAuc: Metric,
  chosen: Type.Boolean(),
});
export type ArchitectureResult = Static<typeof ArchitectureResult>;

/** Calibration candidates and ECE before/after. */
export const CalibrationReport = Type.Object({
  chosen: Type.Union([Type.Literal('platt'), Type.Literal('isotonic'), Type.Literal('none')]),
  /** How the choice was made, e.g. `5-fold CV log-loss on the calibration split`. */
  selection: Type.String(),
  candidates: Type.Array(
    Type.Object({ kind: Type.String(), cvLogLoss: Type.Number(), cvEce: Type.Number() }),
  ),
  /** ECE (10 equal-width bins) of sigmoid(logit) and of the calibrated score, on the test split. */
  eceBeforeTest: Metric,
  eceAfterTest: Metric,
  eceBeforeCalibration: Metric,
  eceAfterCalibration: Metric,
});
export type CalibrationReport = Static<typeof CalibrationReport>;

/** The labels a run used: enough to reproduce and audit it. */
export const LabelsUsed = Type.Object({
  /** sha256 of the canonical list of label ids with their values and weights. */
  hash: Type.String(),
  benchmark: Type.Object({
    files: Type.Array(Type.Object({ path: Type.String(), sha256: Type.String(), records: Type.Integer() })),
    rows: Type.Integer(),
  }),
  reviews: Type.Object({
    /** Review (label) ids used after deduplication, sorted. */
    ids: Type.Array(Type.String()),
    /** Review ids dropped as superseded by a later review of the same invoice+line+task. */
    superseded: Type.Array(Type.String()),
    /** Review ids that could not be used (e.g. invoice payload missing), with why. */
    skipped: Type.Array(Type.Object({ id: Type.String(), reason: Type.String() })),
    weight: Type.Number(),
  }),
  /**
   * Label mix by provenance (core/labels.ts): the provenances admitted and, per provenance
   * (reviewer, audit_sample, erp), labels used, their rows, positive rows and weight. Absent
   * in cards trained before provenance was recorded.
   */
  mix: Type.Optional(
    Type.Object({
      sources: Type.Array(Type.String()),
      perSource: Type.Record(
        Type.String(),
        Type.Object({
          labels: Type.Integer(),
          rows: Type.Integer(),
          positives: Type.Integer(),
          weight: Type.Number(),
        }),
      ),
    }),
  ),
});
export type LabelsUsed = Static<typeof LabelsUsed>;

/** What a training run hands to the registry next to the spec. */
export const ModelCardDraft = Type.Object({
  task: ModelTask,
  architecture: ArchitectureKind,
  featureSchemaVersion: Type.String(),
  featureNames: Type.Array(Type.String()),
  seed: Type.Integer(),
  /** ISO 8601 time the run finished (the only field that differs between identical runs). */
  trainedAt: Type.String(),
  /** Training hyper-parameters of the chosen architecture. */
  training: Type.Record(Type.String(), Type.Unknown()),
  data: Type.Object({
    /** sha256 of the training rows (features, label, weight) in order. */
    hash: Type.String(),
    /** Rows (lines or pairs) per split and invoices per split. */
    rows: Type.Record(Type.String(), Type.Integer()),
    invoices: Type.Record(Type.String(), Type.Integer()),
    positives: Type.Record(Type.String(), Type.Integer()),
    /** How candidate pairs were generated (duplicate task) or rows formed (coding task). */
    rowsFrom: Type.String(),
  }),
  labels: LabelsUsed,
  architectureComparison: Type.Array(ArchitectureResult),
  calibration: CalibrationReport,
  thresholds: Type.Object({ autoApprove: ThresholdChoice, hold: ThresholdChoice }),
  metrics: Type.Object({
    test: Type.Array(SplitMetrics),
    perKind: Type.Array(KindMetrics),
  }),
  /** Free-text caveats an auditor should read (assumptions of the guarantees, data provenance). */
  notes: Type.Array(Type.String()),
});
export type ModelCardDraft = Static<typeof ModelCardDraft>;

const cardValidator = Compile(ModelCardDraft);

/**
 * Checks a card draft's JSON shape.
 * @throws TriageError `TRIAGE_MODEL_INVALID` naming the first field at fault.
 */
export function assertModelCardDraft(value: unknown): ModelCardDraft {
  return checkShape<ModelCardDraft>(cardValidator, value, 'model card');
}
