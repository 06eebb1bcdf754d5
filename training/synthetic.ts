/**
 * Seeded synthetic tables for tests and benchmarks of the training code (no real data).
 * Features are standard normal; the true logit is `bias + sum_j coef_j x_j`, plus
 * `interaction * x_0 * x_1` when set (a pattern only a non-linear model can fit).
 */
import type { BenchmarkRecord } from '../datasets/benchmark/types.js';
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

/**
 * A synthetic benchmark of `n` two-line invoices (valid per `core/validate.ts`) for CLI and
 * assembly tests: about `codingRate` of invoices carry a `price_outlier` on line 2, whose
 * unit price is then 3-8x the usual; splits 60/20/20 in submission order. No duplicates.
 */
export function syntheticBenchmark(n: number, seed: number, codingRate = 0.2): BenchmarkRecord[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, (_, i): BenchmarkRecord => {
    const bad = rng() < codingRate;
    const p1 = 1000 + Math.floor(rng() * 9000);
    const p2 = Math.round((bad ? 3 + 5 * rng() : 0.7 + 0.6 * rng()) * 5000);
    const q2 = 1 + Math.floor(rng() * 3);
    const day = String(1 + (i % 28)).padStart(2, '0');
    return {
      invoice: {
        invoice_id: `syn-${i}`,
        vendor: { id: `V-${i % 17}`, name: `Vendor ${i % 17} Medical Supply` },
        invoice_number: `N-${100000 + i}`,
        invoice_date: `2025-03-${day}`,
        currency: 'USD',
        total_cents: p1 + p2 * q2,
        document_type: 'invoice',
        lines: [
          {
            line_number: 1,
            description: 'Oxygen concentrator rental',
            quantity: 1,
            unit_price_cents: p1,
            amount_cents: p1,
          },
          {
            line_number: 2,
            description: 'Nebulizer supplies',
            quantity: q2,
            unit_price_cents: p2,
            amount_cents: p2 * q2,
          },
        ],
      },
      label: {
        split: i < 0.6 * n ? 'train' : i < 0.8 * n ? 'valid' : 'test',
        seq: i,
        vendor_profile: 'dme',
        duplicate: null,
        hard_negative: null,
        coding: bad ? [{ line_number: 2, kind: 'price_outlier', true_code: null }] : [],
      },
    };
  });
}
