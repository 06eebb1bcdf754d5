/**
 * The model card (`card.json`) of a registered model version: what it was trained on, how it
 * scores, how it was calibrated, the thresholds it ships with and what happened to it
 * (registration, promotions). Validated with TypeBox on every write and read.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { TriageError } from '../core/errors.js';
import { toFieldErrors } from '../core/validate.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Probability = Type.Number({ minimum: 0, maximum: 1 });

/** Metrics of one slice of an evaluation set (overall, or one exception kind). Extra fields allowed. */
export const MetricSet = Type.Object({
  n: Type.Integer({ minimum: 0, description: 'Examples in the slice.' }),
  positives: Type.Integer({ minimum: 0, description: 'Positive (exception) examples in the slice.' }),
  rocAuc: Nullable(Probability),
  prAuc: Nullable(Probability),
  ece: Nullable(Type.Number({ minimum: 0 })),
  precision: Nullable(Probability),
  recall: Nullable(Probability),
  threshold: Type.Optional(Probability),
});
export type MetricSet = Static<typeof MetricSet>;

/** The metric that decides promotions. */
export const EvaluationMetric = Type.Union([Type.Literal('pr_auc'), Type.Literal('roc_auc')]);
export type EvaluationMetric = Static<typeof EvaluationMetric>;

/**
 * The headline evaluation: one metric on one identified evaluation set. Promotion compares
 * two cards' `value` only when `metric` and `datasetHash` are equal.
 */
export const Evaluation = Type.Object({
  metric: EvaluationMetric,
  value: Probability,
  /** sha256 (hex) of the evaluation examples, as the trainer computes it. */
  datasetHash: Type.String({ minLength: 8 }),
  size: Type.Integer({ minimum: 1 }),
  /** e.g. `benchmark-test`. */
  split: Type.String({ minLength: 1 }),
});
export type Evaluation = Static<typeof Evaluation>;

/** Thresholds on the calibrated probability: `p < autoApprove` approves, `p >= hold` holds. */
export const Thresholds = Type.Object({
  autoApprove: Probability,
  hold: Probability,
  /** e.g. `conformal-risk-control`, `learn-then-test`. */
  method: Type.Optional(Type.String()),
  /** Target error rate the auto-approve threshold guarantees, e.g. 0.005. */
  targetErrorRate: Type.Optional(Probability),
  /** Share of the evaluation set that goes straight through at `autoApprove`. */
  coverage: Type.Optional(Probability),
});
export type Thresholds = Static<typeof Thresholds>;

/** Calibration as recorded in the card (parameters live in spec.json). */
export const CardCalibration = Type.Object({
  kind: Type.Union([
    Type.Literal('platt'),
    Type.Literal('isotonic'),
    Type.Literal('none'),
    Type.Literal('external'),
  ]),
  eceBefore: Nullable(Type.Number({ minimum: 0 })),
  eceAfter: Nullable(Type.Number({ minimum: 0 })),
  heldOutSize: Type.Optional(Type.Integer({ minimum: 0 })),
});

/** One architecture tried during training, and whether it was kept. */
export const ArchitectureTrial = Type.Object({
  architecture: Type.String(),
  metric: EvaluationMetric,
  value: Probability,
  chosen: Type.Boolean(),
  notes: Type.Optional(Type.String()),
});

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
  /** The champion before this promotion (on `promoted`) or after it (on `demoted`). */
  otherVersion: Type.Optional(Nullable(Type.String())),
});
export type CardHistoryEntry = Static<typeof CardHistoryEntry>;

/** What the trainer (or whoever brings a model) supplies; the registry adds the rest. */
export const ModelCardDraft = Type.Object({
  task: Type.Union([Type.Literal('coding-mismatch'), Type.Literal('duplicate')]),
  architecture: Type.String({ minLength: 1, description: 'logistic, mlp, or e.g. sklearn-logistic.' }),
  featureSchema: Type.Object({
    /** The feature schema hash the model was trained on, e.g. `fs-1a2b3c4d5e6f`. */
    hash: Type.String({ minLength: 1 }),
    names: Type.Array(Type.String(), { minItems: 1 }),
  }),
  trainingData: Type.Object({
    /** sha256 (hex) of the training examples. */
    hash: Type.String({ minLength: 8 }),
    size: Type.Integer({ minimum: 0 }),
    description: Type.Optional(Type.String()),
  }),
  seed: Nullable(Type.Integer()),
  evaluation: Evaluation,
  metrics: Type.Object({ overall: MetricSet, byKind: Type.Record(Type.String(), MetricSet) }),
  thresholds: Thresholds,
  calibration: CardCalibration,
  architectureComparison: Type.Array(ArchitectureTrial),
  /** Version this one was derived from; defaults to the champion at registration. */
  parentVersion: Type.Optional(Nullable(Type.String())),
  notes: Type.Optional(Type.String()),
});
export type ModelCardDraft = Static<typeof ModelCardDraft>;

/** The full card as stored in `card.json`. */
export const ModelCard = Type.Object({
  cardSchema: Type.Literal(1),
  name: Type.String(),
  version: Type.String(),
  source: Type.Union([Type.Literal('trained'), Type.Literal('external')]),
  createdAt: Type.String({ format: 'date-time' }),
  ...ModelCardDraft.properties,
  parentVersion: Nullable(Type.String()),
  artefacts: Type.Object({
    onnxSha256: Type.String({ minLength: 64, maxLength: 64 }),
    specSha256: Nullable(Type.String({ minLength: 64, maxLength: 64 })),
  }),
  history: Type.Array(CardHistoryEntry),
});
export type ModelCard = Static<typeof ModelCard>;

const draftValidator = Compile(ModelCardDraft);
const cardValidator = Compile(ModelCard);

function check<T>(
  validator: { Check(v: unknown): boolean; Errors(v: unknown): Iterable<unknown> },
  v: unknown,
  what: string,
): T {
  if (validator.Check(v)) return v as T;
  const errors = toFieldErrors([...validator.Errors(v)] as Parameters<typeof toFieldErrors>[0]);
  throw new TriageError(
    'TRIAGE_MODEL_INVALID',
    `Invalid ${what}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
    errors,
  );
}

/** Validates a card draft. @throws TriageError `TRIAGE_MODEL_INVALID` with field errors. */
export function validateCardDraft(v: unknown): ModelCardDraft {
  const d = check<ModelCardDraft>(draftValidator, v, 'model card draft');
  if (d.thresholds.autoApprove > d.thresholds.hold)
    throw new TriageError(
      'TRIAGE_MODEL_INVALID',
      'Invalid model card draft: thresholds.autoApprove > thresholds.hold',
      [{ path: '/thresholds/autoApprove', message: 'must be <= thresholds.hold' }],
    );
  return d;
}

/** Validates a stored card. @throws TriageError `TRIAGE_MODEL_INVALID` with field errors. */
export function validateCard(v: unknown): ModelCard {
  return check<ModelCard>(cardValidator, v, 'model card');
}
