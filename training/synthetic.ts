/**
 * Seeded synthetic tables for tests and benchmarks of the training code (no real data).
 * Features are standard normal; the true logit is `bias + sum_j coef_j x_j`, plus
 * `interaction * x_0 * x_1` when set (a pattern only a non-linear model can fit).
 */
import { sigmoid, type ModelTask } from '../models/spec.js';
import type { AssembledData } from './assemble.js';
import type { Dataset } from './data.js';
import { deriveSeed, keyUniform, mulberry32, normal } from './rng.js';

/** Parameters of a synthetic table. */
export interface SyntheticOptions {
  n: number;
  seed: number;
  coef?: readonly number[];
  bias?: number;
  interaction?: number;
}

/** A synthetic table with its true probabilities `p` (for checks against the truth). */
export function syntheticRows(o: SyntheticOptions): Dataset & { p: Float64Array } {
  const coef = o.coef ?? [2, -1.5, 1, 0];
  const bias = o.bias ?? -2;
  const rng = mulberry32(o.seed);
  const X: Float64Array[] = [];
  const y = new Float64Array(o.n);
  const p = new Float64Array(o.n);
  for (let i = 0; i < o.n; i++) {
    const x = Float64Array.from(coef, () => normal(rng));
    let z = bias;
    coef.forEach((c, j) => (z += c * x[j]!));
    if (o.interaction) z += o.interaction * x[0]! * x[1]!;
    p[i] = sigmoid(z);
    y[i] = rng() < p[i]! ? 1 : 0;
    X.push(x);
  }
  return {
    featureNames: coef.map((_, j) => `x${j}`),
    X,
    y,
    w: new Float64Array(o.n).fill(1),
    p,
    meta: X.map((_, i) => ({
      key: `r${i}`,
      invoiceId: `inv${i}`,
      kind: y[i] ? 'synthetic' : null,
      source: 'benchmark' as const,
      split: 'train' as const,
      labelId: `bench:r${i}`,
    })),
  };
}

/**
 * A synthetic assembled task: one row per invoice, invoices split train/valid/test
 * 60/25/15 by a seeded hash; the first true coefficient's sign decides the kind of a positive
 * (`kind_a` / `kind_b`), so per-kind metrics have something to report.
 */
export function syntheticAssembled(o: SyntheticOptions & { task?: ModelTask }): AssembledData {
  const rows = syntheticRows(o);
  const splitSeed = deriveSeed(o.seed, 'synthetic-split');
  const split = rows.meta.map((m): 'train' | 'valid' | 'test' => {
    const u = keyUniform(splitSeed, m.invoiceId);
    return u < 0.6 ? 'train' : u < 0.85 ? 'valid' : 'test';
  });
  const kind = (i: number): string | null => (rows.y[i] ? (rows.X[i]![0]! > 0 ? 'kind_a' : 'kind_b') : null);
  const meta = rows.meta.map((m, i) => ({ ...m, split: split[i]!, kind: kind(i) }));
  return {
    task: o.task ?? 'coding-mismatch',
    featureSchemaVersion: 'fs-synthetic',
    data: { ...rows, meta },
    invoices: meta.map((m, i) => ({
      invoiceId: m.invoiceId,
      split: m.split,
      label: rows.y[i] as 0 | 1,
      kind: m.kind,
      hardNegative: null,
    })),
    labels: {
      hash: 'synthetic',
      benchmark: { files: [], rows: rows.X.length },
      reviews: { ids: [], superseded: [], skipped: [], weight: 3 },
    },
    rowsFrom: 'synthetic rows, one per invoice',
    blocking: null,
  };
}
