/**
 * The model card (`card.json`) of a registered version. It keeps the training run's own
 * {@link ModelCardDraft} verbatim (data and label hashes, seed, architecture comparison,
 * calibration with ECE before/after, thresholds with their guarantees, metrics per exception
 * kind) or, for a model trained elsewhere, an {@link ExternalCardDraft}; and adds what the
 * registry knows: name, version, created time, parent version, artefact hashes, history, and
 * a flat summary read by the service (task, features, thresholds, the headline evaluation).
 * Validated with TypeBox on every write and read.
 */
import { createHash } from 'node:crypto';
import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { TriageError, type ErrorCode } from '../core/errors.js';
import { toFieldErrors } from '../core/validate.js';
import { ModelCardDraft, ModelTask } from './spec.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Probability = Type.Number({ minimum: 0, maximum: 1 });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
/** Extra artefact file names: plain names, not the registry's own files. */
export const FILE_NAME_PATTERN = '^(?!model\\.onnx$|spec\\.json$|card\\.json$)[a-z0-9][a-z0-9._-]{0,63}$';

/** The metric that decides promotions. */
export const EvaluationMetric = Type.Union([Type.Literal('pr_auc'), Type.Literal('roc_auc')]);
export type EvaluationMetric = Static<typeof EvaluationMetric>;

/**
 * The headline evaluation that decides promotions: one metric on one identified evaluation
 * set, plus other registered versions scored on that same set (e.g. the champion at training
 * time), so that a challenger evaluated on fresh data can still be compared.
 */
export const Evaluation = Type.Object({
  metric: EvaluationMetric,
  value: Probability,
  /** Identity of the evaluation examples (sha256 hex or another stable id). */
  datasetHash: Type.String({ minLength: 8 }),
  /** e.g. `test`. */
  split: Type.String({ minLength: 1 }),
  /** `line`, `pair` or `invoice`. */
  unit: Type.String({ minLength: 1 }),
  size: Type.Integer({ minimum: 1 }),
  /** Versions of the same model name scored on this same set with the same metric. */
  baselines: Type.Array(Type.Object({ version: Type.String(), value: Probability })),
});
export type Evaluation = Static<typeof Evaluation>;

/**
 * Serving thresholds on the calibrated probability: AUTO_APPROVE when `p <= autoApprove`, HOLD
 * when `p >= hold`. A value outside [0, 1] switches the side off: when no threshold met its
 * guarantee, training records the safe defaults `autoApprove = -1` (approve nothing) and
 * `hold = 2` (hold nothing).
 */
export const ServingThresholds = Type.Object({ autoApprove: Type.Number(), hold: Type.Number() });
export type ServingThresholds = Static<typeof ServingThresholds>;

/** What someone registering a model trained elsewhere (e.g. scikit-learn + skl2onnx) declares. */
export const ExternalCardDraft = Type.Object({
  task: ModelTask,
  /** e.g. `sklearn-logistic-regression`. */
  architecture: Type.String({ minLength: 1 }),
  /** Feature schema version and names the model was trained on; must equal the served schema. */
  featureSchemaVersion: Type.String({ minLength: 1 }),
  featureNames: Type.Array(Type.String(), { minItems: 1 }),
  /** e.g. `scikit-learn 1.5.2, skl2onnx 1.17.0`. */
  trainedWith: Type.String({ minLength: 1 }),
  trainingData: Type.Object({
    hash: Type.String({ minLength: 8 }),
    size: Type.Integer({ minimum: 0 }),
    description: Type.Optional(Type.String()),
  }),
  seed: Nullable(Type.Integer()),
  evaluation: Evaluation,
  thresholds: ServingThresholds,
  calibration: Type.Object({
    kind: Type.String({ description: 'e.g. sigmoid (Platt) via CalibratedClassifierCV, isotonic, none' }),
    eceBefore: Nullable(Type.Number({ minimum: 0 })),
    eceAfter: Nullable(Type.Number({ minimum: 0 })),
  }),
  /** Metrics per exception kind, in whatever shape the producer reports them. */
  metricsByKind: Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())),
  notes: Type.Array(Type.String()),
});
export type ExternalCardDraft = Static<typeof ExternalCardDraft>;

/** One event in a version's life. */
export const CardHistoryEntry = Type.Object({
  at: Type.String({ format: 'date-time' }),
  action: Type.Union([Type.Literal('registered'), Type.Literal('promoted'), Type.Literal('demoted')]),
  actor: Type.String(),
  reason: Type.Optional(Type.String()),
  /** Promoted although the promotion rule refused it. */
  forced: Type.Optional(Type.Boolean()),
  /** Why the rule refused, for a forced promotion. */
  overriddenRefusal: Type.Optional(Type.String()),
  /** A rollback to the champion that served immediately before (the rule is not applied). */
  rollback: Type.Optional(Type.Boolean()),
  /** The champion replaced (on `promoted`) or the replacing version (on `demoted`). */
  otherVersion: Type.Optional(Nullable(Type.String())),
});
export type CardHistoryEntry = Static<typeof CardHistoryEntry>;

/** The card as stored in `card.json`. Exactly one of `training` / `external` is set. */
export const ModelCard = Type.Object({
  cardSchema: Type.Literal(1),
  name: Type.String(),
  version: Type.String(),
  source: Type.Union([Type.Literal('trained'), Type.Literal('external')]),
  createdAt: Type.String({ format: 'date-time' }),
  parentVersion: Nullable(Type.String()),
  task: ModelTask,
  architecture: Type.String(),
  featureSchemaVersion: Type.String(),
  featureNames: Type.Array(Type.String()),
  seed: Nullable(Type.Integer()),
  evaluation: Evaluation,
  thresholds: ServingThresholds,
  training: Nullable(ModelCardDraft),
  external: Nullable(ExternalCardDraft),
  artefacts: Type.Object({
    onnxSha256: Sha256,
    specSha256: Nullable(Sha256),
    /** Other files the model needs to be served as trained (e.g. `line-context.json`), by name. */
    files: Type.Optional(Type.Record(Type.String({ pattern: FILE_NAME_PATTERN }), Sha256)),
  }),
  history: Type.Array(CardHistoryEntry),
});
export type ModelCard = Static<typeof ModelCard>;

const externalValidator = Compile(ExternalCardDraft);
const cardValidator = Compile(ModelCard);
const evaluationValidator = Compile(Evaluation);

function check<T>(
  validator: { Check(v: unknown): boolean; Errors(v: unknown): Iterable<unknown> },
  v: unknown,
  what: string,
  code: ErrorCode,
): T {
  if (validator.Check(v)) return v as T;
  const errors = toFieldErrors([...validator.Errors(v)] as Parameters<typeof toFieldErrors>[0]);
  throw new TriageError(
    code,
    `Invalid ${what}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
    errors,
  );
}

/**
 * Validates an external card draft (someone else's model: a client error when wrong).
 * @throws TriageError `TRIAGE_MODEL_UPLOAD_INVALID` with field errors.
 */
export function validateExternalCardDraft(v: unknown): ExternalCardDraft {
  const d = check<ExternalCardDraft>(externalValidator, v, 'model card draft', 'TRIAGE_MODEL_UPLOAD_INVALID');
  if (d.thresholds.autoApprove > d.thresholds.hold)
    throw new TriageError('TRIAGE_MODEL_UPLOAD_INVALID', 'Invalid model card draft: autoApprove > hold', [
      { path: '/thresholds/autoApprove', message: 'must be <= thresholds.hold' },
    ]);
  return d;
}

/** Validates an evaluation block. @throws TriageError `TRIAGE_MODEL_INVALID`. */
export function validateEvaluation(v: unknown): Evaluation {
  return check<Evaluation>(evaluationValidator, v, 'evaluation', 'TRIAGE_MODEL_INVALID');
}

/** Validates a stored card. @throws TriageError `TRIAGE_MODEL_INVALID` with field errors. */
export function validateCard(v: unknown): ModelCard {
  const c = check<ModelCard>(cardValidator, v, 'model card', 'TRIAGE_MODEL_INVALID');
  if ((c.training === null) === (c.external === null))
    throw new TriageError(
      'TRIAGE_MODEL_INVALID',
      'Invalid model card: exactly one of training / external is set',
    );
  return c;
}

/** The unit a task's model scores: coding lines or duplicate candidate pairs. */
export function modelUnit(task: ModelTask): 'line' | 'pair' {
  return task === 'coding-mismatch' ? 'line' : 'pair';
}

/**
 * The headline evaluation of a training run, when the caller gives none: PR-AUC on the `test`
 * split at the model's own unit (line or pair). `datasetHash` identifies the test examples by
 * what the card records about them: sha256 of the benchmark files (sha256 and record count of
 * each, sorted), the split, unit, and the split's example, positive, row and invoice counts.
 * Neither the seed nor reviewer labels enter it: the test split is the benchmark's own, and
 * reviews only ever go to the training part (training/README.md). So retraining on new labels
 * keeps the set; another benchmark, or another candidate blocking (another n), changes it, and
 * then the challenger needs the champion's score on its set in `baselines` (or a forced promotion).
 * @throws TriageError `TRIAGE_MODEL_INVALID` when the card has no test PR-AUC at that unit.
 */
export function evaluationFromTrainingCard(d: ModelCardDraft): Evaluation {
  const unit = modelUnit(d.task);
  const m = d.metrics.test.find((s) => s.split === 'test' && s.unit === unit);
  if (!m || m.prAuc === null)
    throw new TriageError(
      'TRIAGE_MODEL_INVALID',
      `model card has no PR-AUC on the test split at unit ${unit}`,
    );
  const identity = {
    benchmark: d.labels.benchmark.files.map((f) => `${f.sha256}:${f.records}`).sort(),
    split: m.split,
    unit,
    n: m.n,
    positives: m.positives,
    rows: d.data.rows[m.split] ?? null,
    invoices: d.data.invoices[m.split] ?? null,
  };
  return {
    metric: 'pr_auc',
    value: m.prAuc,
    datasetHash: createHash('sha256').update(JSON.stringify(identity)).digest('hex'),
    split: m.split,
    unit,
    size: m.n,
    baselines: [],
  };
}
