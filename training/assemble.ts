/**
 * Dataset assembly: the training table of one task from the benchmark and from reviewer
 * labels, with exactly which labels were used.
 *
 * - **coding-mismatch**: one row per line the model scores (`FeatureProvider.lineVectors`),
 *   label 1 when the benchmark lists a coding exception on that line (kind = its
 *   `CodingKind`).
 * - **duplicate**: one row per candidate pair from {@link candidatePairs} (core/blocking.ts spec,
 *   within a split, earlier invoices only). Label 1 when both invoices belong to the same
 *   duplicate cluster (following `duplicate.of` links to the original, so two copies of one
 *   original are also a duplicate pair); kind = the later invoice's `DuplicateKind`, or its
 *   `HardNegativeKind` when the pair is the hard negative's documented relation.
 * - **labels** ({@link LabelSource}: reviewer, audit-sample and ERP labels, each with its
 *   provenance), optionally filtered to `labelSources`, deduplicated (per invoice + line + task,
 *   by provenance rank then latest, core/labels.ts), weigh `labelWeights[source]`, else
 *   `reviewWeight` (default 3), against 1 for a benchmark row: they are real invoices, while the
 *   benchmark is synthetic. They go to the training
 *   split only, never to calibration, threshold or test data: reviewed invoices were chosen
 *   by the current model, so they are not a random sample and would bias calibration and void
 *   the threshold guarantee. A review of an invoice that is in the benchmark's valid/test split
 *   is skipped (leakage); a review whose row key equals a benchmark row replaces that row.
 */
import { createHash } from 'node:crypto';
import type { BenchmarkRecord } from '../datasets/benchmark/types.js';
import { LABEL_PROVENANCES, type LabelProvenance } from '../core/labels.js';
import type { LabelsUsed, ModelTask } from '../models/spec.js';
import { BLOCKING_SPEC, vendorBillingIntervalDays } from '../core/blocking.js';
import { candidatePairs, type BlockingOptions } from './blocking.js';
import type { LoadedBenchmark } from './benchmark.js';
import type { Dataset, RowMeta } from './data.js';
import type { FeatureProvider, InvoiceKeys } from './features.js';
import { dedupeLabels, type LabelSource, type ReviewLabel } from './labels.js';

/** Invoice-level truth of a benchmark invoice (for invoice-level metrics and thresholds). */
export interface InvoiceTruth {
  invoiceId: string;
  split: 'train' | 'valid' | 'test';
  /** 1 when the invoice has an exception for the task (any coding exception / is a duplicate). */
  label: 0 | 1;
  /** The exception kind (coding: the first listed line's kind), or null. */
  kind: string | null;
  /** Hard-negative kind for the duplicate task, or null. */
  hardNegative: string | null;
}

/** An assembled task. */
export interface AssembledData {
  task: ModelTask;
  featureSchemaVersion: string;
  data: Dataset;
  invoices: InvoiceTruth[];
  labels: LabelsUsed;
  rowsFrom: string;
  /** Duplicate task: how many true duplicates have their original among the candidates. */
  blocking: { pairs: number; duplicates: number; originalInCandidates: number } | null;
}

/** Options of {@link assembleTask}. */
export interface AssembleOptions {
  labels?: LabelSource;
  /** Weight of a label relative to a benchmark row, for provenances not in `labelWeights` (default 3). */
  reviewWeight?: number;
  /** Weight per provenance (e.g. `{ erp: 1 }`); absent provenances weigh `reviewWeight`. */
  labelWeights?: Partial<Record<LabelProvenance, number>>;
  /** Only labels of these provenances are used (before deduplication); default all. */
  labelSources?: readonly LabelProvenance[];
  blocking?: BlockingOptions;
  /**
   * Duplicate task: weight of a train-split benchmark pair of a hard-negative kind (the pair with
   * the invoice it resembles, e.g. a number its vendor reused years later) against 1 for every
   * other benchmark row (default 1). Regions of the vector such pairs alone occupy rest on few
   * rows (28 numbers reused years later in the seed-42 20k benchmark's train split).
   */
  hardNegativeWeight?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

interface Row {
  x: number[];
  y: 0 | 1;
  w: number;
  meta: RowMeta;
}

/** Root of an invoice's duplicate cluster: follow `duplicate.of` to the original. */
function clusterRoots(records: readonly BenchmarkRecord[]): Map<string, string> {
  const of = new Map(records.map((r) => [r.invoice.invoice_id, r.label.duplicate?.of ?? null]));
  const root = new Map<string, string>();
  for (const id of of.keys()) {
    let cur = id;
    const seen = new Set<string>();
    while (of.get(cur) && !seen.has(cur)) {
      seen.add(cur);
      cur = of.get(cur)!;
    }
    root.set(id, cur);
  }
  return root;
}

function benchmarkCodingRows(
  records: readonly BenchmarkRecord[],
  p: FeatureProvider,
  progress: AssembleOptions['onProgress'],
): Row[] {
  const rows: Row[] = [];
  records.forEach((r, i) => {
    const kinds = new Map(r.label.coding.map((c) => [c.line_number, c.kind]));
    for (const { lineNumber, x } of p.lineVectors(r.invoice)) {
      const kind = kinds.get(lineNumber) ?? null;
      const key = `${r.invoice.invoice_id}#${lineNumber}`;
      rows.push({
        x,
        y: kind ? 1 : 0,
        w: 1,
        meta: {
          key,
          invoiceId: r.invoice.invoice_id,
          kind,
          source: 'benchmark',
          split: r.label.split,
          labelId: `bench:${key}`,
          lineNumber,
        },
      });
    }
    if (i % 500 === 0) progress?.('line features', i, records.length);
  });
  return rows;
}

function benchmarkPairRows(
  records: readonly BenchmarkRecord[],
  p: FeatureProvider,
  o: AssembleOptions,
): { rows: Row[]; blocking: NonNullable<AssembledData['blocking']> } {
  const keys: InvoiceKeys[] = records.map((r, i) => {
    if (i % 500 === 0) o.onProgress?.('invoice keys', i, records.length);
    return p.keys(r.invoice);
  });
  const pairs = candidatePairs(
    keys,
    records.map((r) => r.label.split),
    o.blocking,
  );
  const roots = clusterRoots(records);
  const rows: Row[] = [];
  const found = new Set<string>();
  // each new invoice's vendor billing interval, from its candidates as the service reads it
  const candidatesOf = new Map<number, InvoiceKeys[]>();
  for (const pair of pairs) {
    const list = candidatesOf.get(pair.a) ?? [];
    list.push(keys[pair.b]!);
    candidatesOf.set(pair.a, list);
  }
  const interval = new Map<number, number | null>();
  for (const [a, cs] of candidatesOf) interval.set(a, vendorBillingIntervalDays(BLOCKING_SPEC, keys[a]!, cs));
  pairs.forEach((pair, i) => {
    const a = records[pair.a]!;
    const b = records[pair.b]!;
    const ida = a.invoice.invoice_id;
    const idb = b.invoice.invoice_id;
    const y = roots.get(ida) === roots.get(idb) ? 1 : 0;
    if (y && a.label.duplicate) found.add(ida);
    const kind = y
      ? (a.label.duplicate?.kind ?? b.label.duplicate?.kind ?? 'duplicate')
      : a.label.hard_negative?.related === idb
        ? a.label.hard_negative.kind
        : null;
    const key = `${ida}>${idb}`;
    const hardNegative = !y && kind !== null && a.label.split === 'train';
    rows.push({
      x: p.pairVector(a.invoice, b.invoice, keys[pair.a]!, keys[pair.b]!, interval.get(pair.a) ?? null),
      y,
      w: hardNegative ? (o.hardNegativeWeight ?? 1) : 1,
      meta: {
        key,
        invoiceId: ida,
        kind,
        source: 'benchmark',
        split: a.label.split,
        labelId: `bench:${key}`,
        otherInvoiceId: idb,
      },
    });
    if (i % 2000 === 0) o.onProgress?.('pair features', i, pairs.length);
  });
  const duplicates = records.filter((r) => r.label.duplicate).length;
  return { rows, blocking: { pairs: pairs.length, duplicates, originalInCandidates: found.size } };
}

/** Rows from reviewer labels (see the module doc for the rules); records why a label is skipped. */
async function reviewRows(
  task: ModelTask,
  p: FeatureProvider,
  source: LabelSource,
  weightOf: (l: ReviewLabel) => number,
  benchmarkSplit: ReadonlyMap<string, string>,
  sources: readonly LabelProvenance[] | undefined,
): Promise<{
  rows: Row[];
  used: ReviewLabel[];
  superseded: string[];
  skipped: { id: string; reason: string }[];
}> {
  const all = (await source.listLabels()).filter(
    (l) => l.task === task && (!sources || sources.includes(l.source ?? 'reviewer')),
  );
  const { kept, superseded } = dedupeLabels(all);
  const ids = [...new Set(kept.flatMap((l) => [l.invoiceId, ...(l.duplicateOf ? [l.duplicateOf] : [])]))];
  const invoices = await source.getInvoices(ids);
  const rows: Row[] = [];
  const used: ReviewLabel[] = [];
  const skipped: { id: string; reason: string }[] = [];
  const meta = (l: ReviewLabel, key: string): RowMeta => ({
    key,
    invoiceId: l.invoiceId,
    kind: l.label ? 'reviewed' : null,
    source: 'review',
    split: 'train',
    labelId: l.id,
  });
  for (const l of kept) {
    const weight = weightOf(l);
    const inv = invoices.get(l.invoiceId);
    const split = benchmarkSplit.get(l.invoiceId);
    if (split && split !== 'train') {
      skipped.push({ id: l.id, reason: `invoice is in the benchmark ${split} split` });
      continue;
    }
    if (!inv) {
      skipped.push({ id: l.id, reason: 'invoice payload not found' });
      continue;
    }
    if (task === 'coding-mismatch') {
      const vectors = p.lineVectors(inv);
      const chosen = l.lineNumber === null ? vectors : vectors.filter((v) => v.lineNumber === l.lineNumber);
      if (l.lineNumber === null && l.label === 1) {
        skipped.push({ id: l.id, reason: 'invoice-level coding label 1 names no line' });
        continue;
      }
      if (chosen.length === 0) {
        skipped.push({ id: l.id, reason: 'line not scored by the coding model' });
        continue;
      }
      for (const v of chosen)
        rows.push({ x: v.x, y: l.label, w: weight, meta: meta(l, `${l.invoiceId}#${v.lineNumber}`) });
    } else {
      const other = l.duplicateOf ? invoices.get(l.duplicateOf) : undefined;
      if (!l.duplicateOf || !other) {
        skipped.push({
          id: l.id,
          reason: l.duplicateOf ? 'duplicate-of invoice not found' : 'no duplicate-of invoice',
        });
        continue;
      }
      // a reviewer's pair comes without the candidate set: no billing interval
      const x = p.pairVector(inv, other, p.keys(inv), p.keys(other), null);
      rows.push({ x, y: l.label, w: weight, meta: meta(l, `${l.invoiceId}>${l.duplicateOf}`) });
    }
    used.push(l);
  }
  return { rows, used, superseded, skipped };
}

/**
 * The label mix of a run: per provenance, the labels used (after filtering and deduplication),
 * their rows, positives and weight; and the provenance filter applied.
 */
function labelMix(
  used: readonly ReviewLabel[],
  rows: readonly Row[],
  weightOf: (s: LabelProvenance) => number,
  sources: readonly LabelProvenance[] | undefined,
): NonNullable<LabelsUsed['mix']> {
  const bySource = new Map(used.map((l) => [l.id, l.source ?? 'reviewer']));
  const perSource = Object.fromEntries(
    LABEL_PROVENANCES.map((s) => {
      const mine = rows.filter((r) => bySource.get(r.meta.labelId) === s);
      return [
        s,
        {
          labels: used.filter((l) => (l.source ?? 'reviewer') === s).length,
          rows: mine.length,
          positives: mine.filter((r) => r.y === 1).length,
          weight: weightOf(s),
        },
      ];
    }),
  );
  return { sources: sources ? [...sources] : [...LABEL_PROVENANCES], perSource };
}

/** sha256 of the sorted `labelId, label, weight` triples. */
export function labelsHash(rows: readonly { meta: RowMeta; y: number; w: number }[]): string {
  const lines = rows.map((r) => `${r.meta.labelId}\t${r.y}\t${r.w}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/**
 * Assembles the table of `task` from the benchmark and (optionally) reviewer labels.
 * @throws RangeError when a feature vector's length differs from the provider's names.
 */
export async function assembleTask(
  task: ModelTask,
  bench: LoadedBenchmark,
  p: FeatureProvider,
  o: AssembleOptions = {},
): Promise<AssembledData> {
  const reviewWeight = o.reviewWeight ?? 3;
  const weightOf = (source: LabelProvenance): number => o.labelWeights?.[source] ?? reviewWeight;
  const featureNames = task === 'coding-mismatch' ? p.lineFeatureNames : p.pairFeatureNames;
  let rows: Row[];
  let blocking: AssembledData['blocking'] = null;
  if (task === 'coding-mismatch') rows = benchmarkCodingRows(bench.records, p, o.onProgress);
  else ({ rows, blocking } = benchmarkPairRows(bench.records, p, o));
  const benchRows = rows.length;
  const reviews = o.labels
    ? await reviewRows(
        task,
        p,
        o.labels,
        (l) => weightOf(l.source ?? 'reviewer'),
        new Map(bench.records.map((r) => [r.invoice.invoice_id, r.label.split])),
        o.labelSources,
      )
    : { rows: [], used: [], superseded: [], skipped: [] };
  if (reviews.rows.length > 0) {
    const replaced = new Set(reviews.rows.map((r) => r.meta.key));
    rows = [...rows.filter((r) => !replaced.has(r.meta.key)), ...reviews.rows];
  }
  for (const r of rows)
    if (r.x.length !== featureNames.length)
      throw new RangeError(`${r.meta.key}: ${r.x.length} features, want ${featureNames.length}`);
  const invoices: InvoiceTruth[] = bench.records.map((r) => ({
    invoiceId: r.invoice.invoice_id,
    split: r.label.split,
    label: (task === 'coding-mismatch' ? r.label.coding.length > 0 : r.label.duplicate !== null) ? 1 : 0,
    kind: task === 'coding-mismatch' ? (r.label.coding[0]?.kind ?? null) : (r.label.duplicate?.kind ?? null),
    hardNegative: task === 'duplicate' ? (r.label.hard_negative?.kind ?? null) : null,
  }));
  return {
    task,
    featureSchemaVersion: p.schemaVersions[task === 'coding-mismatch' ? 'line' : 'pair'],
    data: {
      featureNames,
      X: rows.map((r) => r.x),
      y: Float64Array.from(rows, (r) => r.y),
      w: Float64Array.from(rows, (r) => r.w),
      meta: rows.map((r) => r.meta),
    },
    invoices,
    labels: {
      hash: labelsHash(rows),
      benchmark: { files: bench.files, rows: rows.filter((r) => r.meta.source === 'benchmark').length },
      reviews: {
        ids: reviews.used.map((l) => l.id),
        superseded: reviews.superseded,
        skipped: reviews.skipped,
        weight: reviewWeight,
      },
      mix: labelMix(reviews.used, reviews.rows, weightOf, o.labelSources),
    },
    rowsFrom:
      task === 'coding-mismatch'
        ? `one row per scored line (${benchRows} benchmark rows)`
        : `candidate pairs within each split, earlier invoices only, by core/blocking.ts BLOCKING_SPEC as the service's findDuplicateCandidates: kNN k=${o.blocking?.k ?? BLOCKING_SPEC.k} on the invoice embedding, vendor kNN within ${BLOCKING_SPEC.vendorWindowDays} days, exact keys (${BLOCKING_SPEC.exactKeys.map((r) => r.name).join(', ')})${(o.hardNegativeWeight ?? 1) !== 1 ? `; train pairs of a hard-negative kind weigh ${o.hardNegativeWeight}` : ''}`,
    blocking,
  };
}
