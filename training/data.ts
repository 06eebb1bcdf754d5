/**
 * The generic training table every model is fitted on: feature rows, 0/1 labels, weights, and
 * for each row the group (invoice) it belongs to and the exception kind behind its label.
 */

/** A labelled table. All arrays have one entry per row. */
export interface LabelledRows {
  /** Feature names, in column order. */
  featureNames: readonly string[];
  /** Feature rows, each of length `featureNames.length`. */
  X: readonly ArrayLike<number>[];
  /** 1 = exception (coding mismatch / duplicate pair), 0 = clean. */
  y: ArrayLike<number>;
  /** Example weights (> 0); reviewer labels weigh more than benchmark labels. */
  w: ArrayLike<number>;
}

/** Extra per-row metadata used for splitting, invoice-level aggregation and per-kind metrics. */
export interface RowMeta {
  /** Stable row key, e.g. `inv-123#2` (line) or `inv-9>inv-3` (pair). */
  key: string;
  /** The invoice the row is scored for (the later invoice of a pair). */
  invoiceId: string;
  /** Exception or hard-negative kind behind the label, or null when clean. */
  kind: string | null;
  /** Where the label comes from. */
  source: 'benchmark' | 'review';
  /** Benchmark split of the row's invoice (review rows are always `train`). */
  split: 'train' | 'valid' | 'test';
  /** Label id (review id, or `bench:<key>`), recorded in the card. */
  labelId: string;
  /** Coding rows: the line number. */
  lineNumber?: number;
  /** Duplicate rows: the earlier invoice of the pair. */
  otherInvoiceId?: string;
}

/** A table with metadata, as dataset assembly produces it. */
export interface Dataset extends LabelledRows {
  meta: readonly RowMeta[];
}

/** One row of a {@link Dataset} as a record: its position in the table and its entries. */
export interface DatasetRow {
  /** Position of the row in the table. */
  index: number;
  x: ArrayLike<number>;
  y: number;
  w: number;
  meta: RowMeta;
}

/**
 * Rows of a table as records, so that callers iterate rows instead of indexing the parallel
 * columns: rows `idx` in that order, every row when `idx` is omitted.
 * @throws RangeError when an index is outside the table or a column is shorter than `X`.
 */
export function datasetRows(d: Dataset, idx?: readonly number[]): DatasetRow[] {
  const at = (i: number): DatasetRow => {
    const x = d.X[i];
    const meta = d.meta[i];
    const y = d.y[i];
    const w = d.w[i];
    if (x === undefined || meta === undefined || y === undefined || w === undefined)
      throw new RangeError(`row ${i} is not in the table (${d.X.length} rows)`);
    return { index: i, x, y, w, meta };
  };
  return idx ? idx.map(at) : Array.from({ length: d.X.length }, (_, i) => at(i));
}

/** Rows `idx` of a table, in that order. */
export function subset(d: Dataset, idx: readonly number[]): Dataset {
  const rows = datasetRows(d, idx);
  return {
    featureNames: d.featureNames,
    X: rows.map((r) => r.x),
    y: Float64Array.from(rows, (r) => r.y),
    w: Float64Array.from(rows, (r) => r.w),
    meta: rows.map((r) => r.meta),
  };
}

/**
 * Checks that a table is rectangular, labels are 0/1 and weights positive and finite.
 * @throws RangeError naming the first bad row.
 */
export function assertRows(d: LabelledRows): void {
  const n = d.X.length;
  if (d.y.length !== n || d.w.length !== n) throw new RangeError('X, y and w must have the same length');
  const cols = d.featureNames.length;
  for (let i = 0; i < n; i++) {
    const row = d.X[i]!;
    if (row.length !== cols) throw new RangeError(`row ${i} has ${row.length} features, want ${cols}`);
    for (let j = 0; j < cols; j++)
      if (!Number.isFinite(row[j]!))
        throw new RangeError(`row ${i} feature ${d.featureNames[j]} is not finite`);
    if (d.y[i] !== 0 && d.y[i] !== 1) throw new RangeError(`row ${i} label must be 0 or 1`);
    if (!(d.w[i]! > 0 && Number.isFinite(d.w[i]!))) throw new RangeError(`row ${i} weight must be > 0`);
  }
}
