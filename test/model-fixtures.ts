/**
 * Small seeded model specs and feature rows for the model-platform tests (ONNX export,
 * sessions, registry, scorers, explanations). Not shipped.
 */
import { mulberry32 } from '../datasets/synth.js';
import type { Evaluation } from '../models/card.js';
import type { CalibrationSpec, ModelCardDraft, ModelTask, TrainedModelSpec } from '../models/spec.js';

/** mulberry32: a seeded uniform [0, 1) generator (the sample builder's). */
export const rng = mulberry32;

/** Standard normal draws (Box-Muller) from a seeded generator. */
export function normal(u: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/**
 * Six line features for small test models. Fixed here on purpose: the
 * platform tests must not change when the served feature schema does.
 */
export const LINE_NAMES = [
  'desc_ref_cosine',
  'desc_ref_token_overlap',
  'code_known',
  'code_terminated',
  'unit_price_fee_log_ratio',
  'line_amount_gap_cents',
];

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

/** An isotonic calibration (strictly increasing knots in [0, 1], flat ends). */
export const ISOTONIC: CalibrationSpec = {
  kind: 'isotonic',
  x: [0.05, 0.2, 0.35, 0.36, 0.6, 0.8, 0.95],
  y: [0.01, 0.04, 0.1, 0.22, 0.5, 0.81, 0.97],
};

/** Options of {@link makeCardDraft}. */
export interface CardDraftOptions {
  /** Test PR-AUC at the model's unit. */
  prAuc?: number;
  /** sha256 of the benchmark file (part of the derived evaluation-set identity). */
  benchmarkSha?: string;
}

const operatingPoint = (threshold: number) => ({
  threshold,
  tp: 60,
  fp: 20,
  tn: 880,
  fn: 40,
  precision: 0.75,
  recall: 0.6,
});

const thresholdChoice = (threshold: number, risk: string) => ({
  threshold,
  risk,
  alpha: 0.005,
  delta: 0.05,
  method: 'learn-then-test/binomial',
  calibrationN: 2000,
  calibrationSelected: 1400,
  calibrationErrors: 3,
  coverageCalibration: 0.7,
  coverageTest: 0.69,
  riskTest: 0.003,
  feasible: true,
});

/** A valid training card draft (the trainer's `ModelCardDraft`) for a spec. */
export function makeCardDraft(spec: TrainedModelSpec, o: CardDraftOptions = {}): ModelCardDraft {
  const prAuc = o.prAuc ?? 0.8;
  const split = (unit: 'line' | 'pair' | 'invoice') => ({
    split: 'test',
    unit,
    n: 1000,
    positives: 100,
    rocAuc: 0.9,
    prAuc,
    ece: 0.02,
    atReview: operatingPoint(0.1),
    atHold: operatingPoint(0.9),
  });
  const arch = (kind: 'logistic' | 'mlp', hidden: number[], value: number) => ({
    id: kind === 'logistic' ? 'logistic-l2' : `mlp-${hidden.join('-')}`,
    architecture: kind,
    hidden,
    parameters: 7,
    validLogLoss: 0.3,
    validRocAuc: 0.88,
    validPrAuc: value,
    chosen: spec.architecture === kind,
  });
  return {
    task: spec.task,
    architecture: spec.architecture,
    featureSchemaVersion: spec.featureSchemaVersion,
    featureNames: [...spec.featureNames],
    seed: spec.seed,
    trainedAt: '2026-01-02T03:04:05.000Z',
    training: { epochs: 30 },
    data: {
      hash: 'a'.repeat(64),
      rows: { train: 5000, test: 1000 },
      invoices: { train: 800, test: 160 },
      positives: { train: 500, test: 100 },
      rowsFrom: 'test fixture',
    },
    labels: {
      hash: 'b'.repeat(64),
      benchmark: {
        files: [{ path: 'fixture.jsonl', sha256: o.benchmarkSha ?? 'c'.repeat(64), records: 960 }],
        rows: 6000,
      },
      reviews: { ids: [], superseded: [], skipped: [], weight: 1 },
    },
    architectureComparison: [arch('logistic', [], prAuc - 0.01), arch('mlp', [16, 8], prAuc)],
    calibration: {
      chosen: spec.calibration.kind,
      selection: 'fixture',
      candidates: [{ kind: spec.calibration.kind, cvLogLoss: 0.3, cvEce: 0.02 }],
      eceBeforeTest: 0.08,
      eceAfterTest: 0.02,
      eceBeforeCalibration: 0.07,
      eceAfterCalibration: 0.01,
    },
    thresholds: {
      autoApprove: thresholdChoice(0.1, 'P(exception | auto-approved)'),
      hold: thresholdChoice(0.9, 'P(clean | held)'),
    },
    metrics: {
      test: [split(spec.task === 'coding-mismatch' ? 'line' : 'pair'), split('invoice')],
      perKind: [
        {
          kind: 'price_outlier',
          isHardNegative: false,
          n: 40,
          rocAuc: 0.95,
          prAuc,
          precisionAtReview: 0.7,
          recallAtReview: 0.8,
          precisionAtHold: 0.9,
          recallAtHold: 0.5,
          flaggedRateAtReview: null,
          flaggedRateAtHold: null,
        },
      ],
    },
    notes: [],
  };
}

/** A headline evaluation: `value` of `metric` (default PR-AUC) on the test set `datasetHash` (default `e...e`). */
export function makeEvaluation(value: number, over: Partial<Evaluation> = {}): Evaluation {
  return {
    metric: 'pr_auc',
    value,
    datasetHash: 'e'.repeat(64),
    split: 'test',
    unit: 'line',
    size: 1000,
    baselines: [],
    ...over,
  };
}
