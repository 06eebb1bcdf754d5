/**
 * The test figures a training card records (`metrics.test` per unit and per invoice,
 * `metrics.perKind`), computed from a model's scores of an assembled task's test split. A
 * training run (`pipeline.ts`) and a re-measurement of any other model on that split (the
 * promotion gate on one split, `same-split-gate.ts`) use this same code.
 */
import { HARD_NEGATIVE_KINDS } from '../datasets/benchmark/types.js';
import { inputProjection } from '../models/signature.js';
import {
  predictProbability,
  type KindMetrics,
  type SplitMetrics,
  type TrainedModelSpec,
} from '../models/spec.js';
import type { AssembledData } from './assemble.js';
import { datasetRows, type DatasetRow } from './data.js';
import { perKindMetrics, splitMetrics, type KindScored } from './evaluate.js';

/** Operating points on the calibrated score: flagged when `score > autoApprove`, held when `score >= hold`. */
export interface Thresholds {
  autoApprove: number;
  hold: number;
}

/** A model's figures on the test split, with the scored units and invoices behind them. */
export interface TestFigures {
  /** Test rows (pairs or lines) of the benchmark, in table order. */
  unitScored: KindScored[];
  /** Test invoices (kind: exception kind, hard-negative kind or null), in assembly order. */
  invScored: KindScored[];
  /** Per unit (`pair` or `line`), then per invoice. */
  test: SplitMetrics[];
  /** Per kind: per line for the coding model, per invoice for the duplicate model. */
  perKind: KindMetrics[];
}

/** The benchmark rows of the test split, in table order (reviewer rows never are test rows). */
export function testRows(a: AssembledData): DatasetRow[] {
  return datasetRows(a.data).filter((r) => r.meta.split === 'test' && r.meta.source === 'benchmark');
}

/**
 * The figures of {@link TestFigures} from scores.
 * @param rowScore calibrated score of a test row.
 * @param invoiceScore an invoice's score: the maximum over its scored rows, 0 when it has none.
 */
export function testFigures(
  a: AssembledData,
  rowScore: (r: DatasetRow) => number,
  invoiceScore: (invoiceId: string) => number,
  thresholds: Thresholds,
): TestFigures {
  const unitScored: KindScored[] = testRows(a).map((r) => ({
    score: rowScore(r),
    label: r.y as 0 | 1,
    kind: r.meta.kind,
  }));
  const invScored: KindScored[] = a.invoices
    .filter((inv) => inv.split === 'test')
    .map((inv) => ({
      score: invoiceScore(inv.invoiceId),
      label: inv.label,
      kind: inv.label ? inv.kind : inv.hardNegative,
    }));
  const hardNeg = new Set<string>(HARD_NEGATIVE_KINDS);
  const unitName = a.task === 'coding-mismatch' ? 'line' : 'pair';
  return {
    unitScored,
    invScored,
    test: [
      splitMetrics('test', unitName, unitScored, thresholds),
      splitMetrics('test', 'invoice', invScored, thresholds),
    ],
    perKind: perKindMetrics(a.task === 'coding-mismatch' ? unitScored : invScored, thresholds, hardNeg),
  };
}

/**
 * {@link testFigures} of `spec` (its calibration included) at `thresholds`: each test row scored
 * with the model's inputs picked from the assembled vector by name (a model of an earlier vector
 * edition reads the later vector restricted to its features, as served), each invoice scored as
 * the maximum of its rows.
 * @throws RangeError (from `inputProjection`) naming a model input the assembled vector lacks.
 */
export function specTestFigures(
  a: AssembledData,
  spec: TrainedModelSpec,
  thresholds: Thresholds,
): TestFigures {
  const projection = inputProjection(spec.featureNames, a.data.featureNames);
  const scores = new Map<number, number>();
  const byInvoice = new Map<string, number>();
  for (const r of testRows(a)) {
    const x = projection ? Array.from(projection, (j) => r.x[j]!) : r.x;
    const s = predictProbability(spec, x);
    scores.set(r.index, s);
    byInvoice.set(r.meta.invoiceId, Math.max(byInvoice.get(r.meta.invoiceId) ?? 0, s));
  }
  return testFigures(
    a,
    (r) => scores.get(r.index)!,
    (id) => byInvoice.get(id) ?? 0,
    thresholds,
  );
}
