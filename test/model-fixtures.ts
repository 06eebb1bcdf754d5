/**
 * Small seeded model specs and feature rows for the model-platform tests (ONNX export,
 * sessions, registry, scorers, explanations). Not shipped.
 */
import { mulberry32 } from '../datasets/samples/build-samples.js';
import { LINE_FEATURES } from '../features/schema.js';
import type { ModelCardDraft } from '../models/card.js';
import type { CalibrationSpec, ModelTask, TrainedModelSpec } from '../models/spec.js';

/** mulberry32: a seeded uniform [0, 1) generator (the sample builder's). */
export const rng = mulberry32;

/** Standard normal draws (Box-Muller) from a seeded generator. */
export function normal(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** The coding-mismatch line feature names of the current schema. */
export const LINE_NAMES = LINE_FEATURES.map((f) => f.name);

/** Realistic ranges of the line features: [min, max] per feature, in schema order. */
export const LINE_RANGES: [number, number][] = [
  [-1, 1], // desc_ref_cosine
  [0, 1], // desc_ref_token_overlap
  [0, 1], // code_known (bool)
  [0, 1], // code_terminated (bool)
  [-4, 6], // unit_price_fee_log_ratio
  [-250_000, 250_000], // line_amount_gap_cents
];

/** Rows drawn within {@link LINE_RANGES} (booleans as 0/1). */
export function lineRows(n: number, seed: number): number[][] {
  const u = rng(seed);
  return Array.from({ length: n }, () =>
    LINE_RANGES.map(([lo, hi], i) => (i === 2 || i === 3 ? (u() < 0.5 ? 0 : 1) : lo + (hi - lo) * u())),
  );
}

/** Rows of standard-normal noise scaled by `scale` around the spec's means. */
export function randomRows(spec: TrainedModelSpec, n: number, seed: number, scale = 3): number[][] {
  const g = normal(rng(seed));
  const { mean, std } = spec.standardise;
  return Array.from({ length: n }, () => mean.map((m, i) => m + scale * std[i]! * g()));
}

/** Options of {@link makeSpec}. */
export interface MakeSpecOptions {
  task?: ModelTask;
  architecture?: 'logistic' | 'mlp';
  hidden?: number[];
  calibration?: CalibrationSpec;
  featureNames?: string[];
  featureSchemaVersion?: string;
  seed?: number;
  /** Scale of the random weights; default 0.8. */
  weightScale?: number;
}

/** A random but valid spec; line-feature names and realistic standardisation by default. */
export function makeSpec(o: MakeSpecOptions = {}): TrainedModelSpec {
  const seed = o.seed ?? 7;
  const g = normal(rng(seed));
  const names = o.featureNames ?? LINE_NAMES;
  const f = names.length;
  const ranges = names === LINE_NAMES ? LINE_RANGES : names.map((): [number, number] => [-1, 1]);
  const architecture = o.architecture ?? (o.hidden && o.hidden.length > 0 ? 'mlp' : 'logistic');
  const widths = [f, ...(architecture === 'mlp' ? (o.hidden ?? [16, 8]) : []), 1];
  const ws = o.weightScale ?? 0.8;
  const layers = widths.slice(1).map((out, k) => {
    const inDim = widths[k]!;
    return {
      weights: Array.from({ length: inDim }, () =>
        Array.from({ length: out }, () => (ws * g()) / Math.sqrt(inDim)),
      ),
      bias: Array.from({ length: out }, () => 0.1 * g()),
      activation: (k === widths.length - 2 ? 'linear' : 'relu') as 'linear' | 'relu',
    };
  });
  return {
    task: o.task ?? 'coding-mismatch',
    architecture,
    featureNames: [...names],
    featureSchemaVersion: o.featureSchemaVersion ?? 'fs-test',
    standardise: {
      mean: ranges.map(([lo, hi]) => (lo + hi) / 2),
      std: ranges.map(([lo, hi]) => (hi - lo) / 4),
    },
    layers,
    calibration: o.calibration ?? { kind: 'platt', a: 1.3, b: -0.4 },
    seed,
  };
}

/** An isotonic calibration with a tie (a jump) and flat ends. */
export const ISOTONIC_WITH_TIE: CalibrationSpec = {
  kind: 'isotonic',
  x: [0.05, 0.2, 0.35, 0.35, 0.6, 0.8, 0.95],
  y: [0.01, 0.04, 0.1, 0.22, 0.5, 0.81, 0.97],
};

/** Options of {@link makeCardDraft}. */
export interface CardDraftOptions {
  prAuc?: number;
  evalHash?: string;
  metric?: 'pr_auc' | 'roc_auc';
}

/** A valid card draft for a spec: headline PR-AUC on an evaluation set identified by `evalHash`. */
export function makeCardDraft(spec: TrainedModelSpec, o: CardDraftOptions = {}): ModelCardDraft {
  const value = o.prAuc ?? 0.8;
  const slice = {
    n: 1000,
    positives: 100,
    rocAuc: 0.9,
    prAuc: value,
    ece: 0.02,
    precision: 0.7,
    recall: 0.6,
  };
  return {
    task: spec.task,
    architecture: spec.architecture,
    featureSchema: { hash: spec.featureSchemaVersion, names: [...spec.featureNames] },
    trainingData: { hash: 'a'.repeat(64), size: 5000, description: 'test fixture' },
    seed: spec.seed,
    evaluation: {
      metric: o.metric ?? 'pr_auc',
      value,
      datasetHash: o.evalHash ?? 'e'.repeat(64),
      size: 1000,
      split: 'benchmark-test',
    },
    metrics: { overall: slice, byKind: { description_mismatch: { ...slice, n: 300, positives: 40 } } },
    thresholds: { autoApprove: 0.1, hold: 0.9, method: 'fixture', targetErrorRate: 0.005, coverage: 0.7 },
    calibration: {
      kind: spec.calibration.kind,
      eceBefore: 0.08,
      eceAfter: 0.02,
      heldOutSize: 500,
    },
    architectureComparison: [
      {
        architecture: 'logistic',
        metric: 'pr_auc',
        value: value - 0.01,
        chosen: spec.architecture === 'logistic',
      },
      { architecture: 'mlp', metric: 'pr_auc', value, chosen: spec.architecture === 'mlp' },
    ],
  };
}
