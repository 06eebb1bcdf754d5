/**
 * Training and measurement of the line-pair model (models/line-pair.ts).
 *
 * Fit: an L2-penalised logistic regression (full-batch Adam from zero weights, deterministic)
 * on the train split's line pairs of a benchmark generated with a raised line-level duplicate
 * rate; invoice-level duplicates are left out (see training/line-pairs.ts). Whether lines are
 * dated and print a delivery reference is each vendor's print format in the benchmark
 * (datasets/benchmark/print-format.ts), on plain invoices and duplicates alike, so a missing
 * date or reference is no evidence of a re-bill by itself.
 *
 * Threshold: on the valid split, the lowest score at which at most
 * {@link PLAIN_FLAG_TARGET} of plain invoices have a flagged line: the most line-level recall
 * that keeps plain invoices flagged under half the 1% target.
 */
import { LINE_PAIR_FEATURE_NAMES } from '../features/line-pair.js';
import {
  linePairVersion,
  loadLinePairModel,
  LINE_PAIR_FORMAT,
  type LinePairSpec,
} from '../models/line-pair.js';
import type { LinePairInvoice } from './line-pairs.js';

/** Most plain invoices with a flagged line on the valid split at the chosen threshold. */
export const PLAIN_FLAG_TARGET = 0.005;

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/**
 * Logistic regression by full-batch Adam on the mean log-loss plus `l2` x the squared weights.
 * @returns standardisation, weights and bias (rounded to 6 decimals, as stored).
 */
export function fitLinePairLogistic(
  x: readonly Float64Array[],
  y: readonly (0 | 1)[],
  l2 = 1e-6,
  epochs = 800,
): Pick<LinePairSpec, 'mean' | 'std' | 'weights' | 'bias'> {
  const n = x.length;
  const d = LINE_PAIR_FEATURE_NAMES.length;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const v of x) for (let k = 0; k < d; k++) mean[k]! += v[k]! / n;
  for (const v of x) for (let k = 0; k < d; k++) std[k]! += (v[k]! - mean[k]!) ** 2 / n;
  for (let k = 0; k < d; k++) std[k] = Math.sqrt(std[k]!) > 1e-9 ? Math.sqrt(std[k]!) : 1;
  const z = x.map((v) => Float64Array.from(v, (t, k) => (t - mean[k]!) / std[k]!));
  const w = new Float64Array(d + 1);
  const m1 = new Float64Array(d + 1);
  const m2 = new Float64Array(d + 1);
  const g = new Float64Array(d + 1);
  for (let t = 1; t <= epochs; t++) {
    g.fill(0);
    for (let i = 0; i < n; i++) {
      const zi = z[i]!;
      let s = w[d]!;
      for (let k = 0; k < d; k++) s += w[k]! * zi[k]!;
      const r = (1 / (1 + Math.exp(-s)) - y[i]!) / n;
      for (let k = 0; k < d; k++) g[k]! += r * zi[k]!;
      g[d]! += r;
    }
    for (let k = 0; k < d; k++) g[k]! += 2 * l2 * w[k]!;
    for (let k = 0; k <= d; k++) {
      m1[k] = 0.9 * m1[k]! + 0.1 * g[k]!;
      m2[k] = 0.999 * m2[k]! + 0.001 * g[k]! ** 2;
      w[k]! -= (0.05 * (m1[k]! / (1 - 0.9 ** t))) / (Math.sqrt(m2[k]! / (1 - 0.999 ** t)) + 1e-8);
    }
  }
  return {
    mean: mean.map(round6),
    std: std.map(round6),
    weights: [...w.slice(0, d)].map(round6),
    bias: round6(w[d]!),
  };
}

/** A line's finding: its best candidate's score and that candidate. */
export interface LineFinding {
  lineNumber: number;
  score: number;
  invoiceId: string;
  earlierLineNumber: number;
}

/** Per line of an invoice, its best-scoring candidate (ties: the first in block order). */
export function bestPerLine(inv: LinePairInvoice, score: (x: Float64Array) => number): LineFinding[] {
  const best = new Map<number, LineFinding>();
  inv.candidates.forEach((c, i) => {
    const s = score(inv.vectors[i]!);
    const b = best.get(c.lineNumber);
    if (!b || s > b.score)
      best.set(c.lineNumber, {
        lineNumber: c.lineNumber,
        score: s,
        invoiceId: c.invoiceId,
        earlierLineNumber: c.earlierLineNumber,
      });
  });
  return [...best.values()];
}

/** Figures of a set of invoices at a threshold. */
export interface LinePairFigures {
  /** Copied lines of line-level duplicates flagged naming the right earlier invoice and line. */
  linesCaught: number;
  lines: number;
  /** Copied lines present in the block at all (recall bound of the blocking). */
  linesInBlock: number;
  /** Line-level duplicate invoices with a flagged line naming the earlier invoice. */
  invoicesCaught: number;
  invoices: number;
  /** Copied lines by change: as copied (code kept, dated), reworded without code, undated, and undated with no delivery reference on the copy. */
  plainCopies: { caught: number; of: number };
  reworded: { caught: number; of: number };
  undated: { caught: number; of: number };
  undatedUnreferenced: { caught: number; of: number };
  /** Copied lines whose copy and original print the same delivery reference. */
  referenced: { caught: number; of: number };
  plainFlagged: number;
  plain: number;
  /** Hard negatives flagged, by kind: [flagged, of]. */
  hardNegatives: Record<string, [number, number]>;
}

/**
 * Figures at `threshold`. `reworded` and `undated` count copied lines whose copy has no code
 * (reworded, re-keyed) and copies on invoices without line service dates.
 */
export function linePairFigures(
  invs: readonly LinePairInvoice[],
  score: (x: Float64Array) => number,
  threshold: number,
  flagged: (
    inv: LinePairInvoice,
  ) => { lineNumber: number; invoiceId: string; earlierLineNumber: number }[] = (inv) =>
    bestPerLine(inv, score).filter((f) => f.score >= threshold),
): LinePairFigures {
  const out: LinePairFigures = {
    linesCaught: 0,
    lines: 0,
    linesInBlock: 0,
    invoicesCaught: 0,
    invoices: 0,
    plainCopies: { caught: 0, of: 0 },
    reworded: { caught: 0, of: 0 },
    undated: { caught: 0, of: 0 },
    undatedUnreferenced: { caught: 0, of: 0 },
    referenced: { caught: 0, of: 0 },
    plainFlagged: 0,
    plain: 0,
    hardNegatives: {},
  };
  for (const inv of invs) {
    if (inv.wholeDuplicate) continue;
    const found = flagged(inv);
    if (inv.kind === 'plain') {
      out.plain++;
      if (found.length > 0) out.plainFlagged++;
    } else if (inv.kind !== 'line_level_duplicate') {
      const h = (out.hardNegatives[inv.kind] ??= [0, 0]);
      h[1]++;
      if (found.length > 0) h[0]++;
    } else {
      out.invoices++;
      const of = [...inv.copies.values()][0]?.[0];
      if (found.some((f) => f.invoiceId === of)) out.invoicesCaught++;
      for (const [n, [eid, eln]] of inv.copies) {
        out.lines++;
        const right = found.some(
          (f) => f.lineNumber === n && f.invoiceId === eid && f.earlierLineNumber === eln,
        );
        if (right) out.linesCaught++;
        if (
          inv.candidates.some((c) => c.lineNumber === n && c.invoiceId === eid && c.earlierLineNumber === eln)
        )
          out.linesInBlock++;
        const count = (c: { caught: number; of: number }): void => {
          c.of++;
          if (right) c.caught++;
        };
        if (inv.reworded.has(n)) count(out.reworded);
        if (inv.undated) count(out.undated);
        if (inv.undated && !inv.referenced.has(n)) count(out.undatedUnreferenced);
        if (!inv.reworded.has(n) && !inv.undated) count(out.plainCopies);
        if (inv.referenced.has(n)) count(out.referenced);
      }
    }
  }
  return out;
}

/**
 * The lowest threshold at which at most `target` of `invs`' plain invoices have a flagged line
 * (thresholds tried: every plain invoice's best score, just above it).
 */
export function chooseThreshold(
  invs: readonly LinePairInvoice[],
  score: (x: Float64Array) => number,
  target = PLAIN_FLAG_TARGET,
): number {
  const plainBest = invs
    .filter((i) => i.kind === 'plain' && !i.wholeDuplicate)
    .map((i) => Math.max(0, ...bestPerLine(i, score).map((f) => f.score)))
    .sort((a, b) => b - a);
  const allowed = Math.floor(target * plainBest.length);
  const t = plainBest[allowed] ?? 0;
  return round6(Math.min(1, t + 1e-6));
}

/** Fits the model on `train`, chooses its threshold on `valid`, and returns the spec. */
export function trainLinePair(
  train: readonly LinePairInvoice[],
  valid: readonly LinePairInvoice[],
  card: Record<string, unknown>,
): LinePairSpec {
  const use = train.filter((i) => !i.wholeDuplicate);
  const x = use.flatMap((i) => i.vectors);
  const y = use.flatMap((i) => i.labels);
  const fitted = fitLinePairLogistic(x, y);
  const draft = { features: [...LINE_PAIR_FEATURE_NAMES], ...fitted, threshold: 1 };
  const probe = loadLinePairModel({
    format: LINE_PAIR_FORMAT,
    ...draft,
    version: linePairVersion(draft),
    card: {},
  });
  const threshold = chooseThreshold(valid, probe.score);
  const content = { ...draft, threshold };
  return {
    format: LINE_PAIR_FORMAT,
    version: linePairVersion(content),
    ...content,
    card: { ...card, train_pairs: x.length, train_positive_pairs: y.filter((v) => v === 1).length },
  };
}
