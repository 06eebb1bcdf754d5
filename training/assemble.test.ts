import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTriageError } from '../core/errors.js';
import type { Invoice } from '../core/invoice.js';
import type { BenchmarkLabel, BenchmarkRecord } from '../datasets/benchmark/types.js';
import { assembleTask } from './assemble.js';
import { loadBenchmark } from './benchmark.js';
import { invoiceKeys, type FeatureProvider } from './features.js';
import { dedupeLabels, fileLabelSource, type ReviewLabel } from './labels.js';

const example = JSON.parse(readFileSync('datasets/samples/example-invoice.json', 'utf8')) as Invoice;

function invoice(id: string, over: Partial<Invoice> = {}): Invoice {
  return { ...structuredClone(example), invoice_id: id, due_date: '2025-12-31', ...over };
}
function label(
  seq: number,
  split: BenchmarkLabel['split'],
  over: Partial<BenchmarkLabel> = {},
): BenchmarkLabel {
  return { split, seq, vendor_profile: 'dme', duplicate: null, hard_negative: null, coding: [], ...over };
}

/** A transparent provider: line = [amount in dollars, quantity]; pair = [same vendor id, |total gap| in dollars]. */
const provider: FeatureProvider = {
  schemaVersions: { line: 'fs-fake', pair: 'fs-fake' },
  lineFeatureNames: ['amount_dollars', 'quantity'],
  pairFeatureNames: ['same_vendor', 'total_gap_dollars'],
  lineVectors: (inv) =>
    inv.lines.map((l) => ({ lineNumber: l.line_number, x: [l.amount_cents / 100, l.quantity] })),
  keys: invoiceKeys,
  pairVector: (a, b) => [a.vendor.id === b.vendor.id ? 1 : 0, Math.abs(a.total_cents - b.total_cents) / 100],
};

const records: BenchmarkRecord[] = [
  { invoice: invoice('i1', { invoice_number: 'A-100' }), label: label(0, 'train') },
  {
    invoice: invoice('i2', { invoice_number: 'A-200', invoice_date: '2025-04-01' }),
    label: label(1, 'train'),
  },
  {
    invoice: invoice('i3', { invoice_number: 'A-1OO' }),
    label: label(2, 'train', {
      duplicate: { kind: 'rekeyed_number', of: 'i1', changes: ['invoice_number:0->O@3'] },
    }),
  },
  {
    invoice: invoice('i4', { invoice_number: 'A-300', invoice_date: '2025-05-01' }),
    label: label(3, 'train', { hard_negative: { kind: 'recurring_monthly', related: 'i1' } }),
  },
  {
    invoice: invoice('i5', { invoice_number: 'A-100' }),
    label: label(4, 'train', {
      duplicate: { kind: 'exact_resubmission', of: 'i3', changes: [] },
      coding: [{ line_number: 2, kind: 'wrong_code_same_family', true_code: 'E1130' }],
    }),
  },
  { invoice: invoice('v1', { invoice_number: 'B-1' }), label: label(5, 'valid') },
];

const dir = mkdtempSync(join(tmpdir(), 'assemble-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const benchDir = join(dir, 'bench');
const jsonl = (xs: readonly unknown[]): string => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';
// two files, out of order: loading sorts by seq
mkdirSync(benchDir);
writeFileSync(join(benchDir, 'part-b.jsonl'), jsonl(records.slice(3)));
writeFileSync(join(benchDir, 'part-a.jsonl'), jsonl(records.slice(0, 3)));

/** A builder of coding-mismatch review labels of line 1 with these defaults; `over` sets the rest. */
const reviewLabels =
  (defaults: Pick<ReviewLabel, 'invoiceId' | 'reviewer' | 'createdAt'>) =>
  (id: string, over: Partial<ReviewLabel>): ReviewLabel => ({
    id,
    decisionId: `d-${id}`,
    lineNumber: 1,
    task: 'coding-mismatch',
    label: 1,
    correctedCode: null,
    duplicateOf: null,
    ...defaults,
    ...over,
  });
describe('loadBenchmark', () => {
  it('reads every .jsonl file, sorts by seq and hashes each file', () => {
    const b = loadBenchmark(benchDir);
    expect(b.records.map((r) => r.invoice.invoice_id)).toEqual(['i1', 'i2', 'i3', 'i4', 'i5', 'v1']);
    expect(b.files.map((f) => [f.path, f.records])).toEqual([
      ['part-a.jsonl', 3],
      ['part-b.jsonl', 3],
    ]);
    expect(b.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a repeated invoice id and a bad label with TRIAGE_FILE_INVALID', () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'x.jsonl'), jsonl([records[0], records[0]]));
    expect(() => loadBenchmark(bad)).toThrow(expect.objectContaining({ code: 'TRIAGE_FILE_INVALID' }));
    writeFileSync(
      join(bad, 'x.jsonl'),
      jsonl([{ ...records[0], label: { ...records[0]!.label, split: 'dev' } }]),
    );
    try {
      loadBenchmark(bad);
      throw new Error('expected a throw');
    } catch (e) {
      expect(isTriageError(e, 'TRIAGE_FILE_INVALID')).toBe(true);
    }
  });
});

describe('assembleTask', () => {
  const bench = loadBenchmark(benchDir);

  it('coding: one row per line, labelled from the benchmark', async () => {
    const a = await assembleTask('coding-mismatch', bench, provider);
    expect(a.data.X).toHaveLength(12);
    const positive = a.data.meta.filter((_, i) => a.data.y[i] === 1);
    expect(positive.map((m) => [m.key, m.kind])).toEqual([['i5#2', 'wrong_code_same_family']]);
    expect(a.invoices.find((i) => i.invoiceId === 'i5')!.label).toBe(1);
    expect(a.labels.benchmark.rows).toBe(12);
    expect(a.featureSchemaVersion).toBe('fs-fake');
  });

  it('duplicate: candidate pairs within a split, labelled by duplicate cluster, hard negatives kept', async () => {
    const a = await assembleTask('duplicate', bench, provider);
    const byKey = new Map(
      a.data.meta.map((m, i) => [m.key, { y: a.data.y[i], kind: m.kind, split: m.split }]),
    );
    expect(byKey.get('i3>i1')).toEqual({ y: 1, kind: 'rekeyed_number', split: 'train' });
    // i5 duplicates i3 which duplicates i1: both pairs are duplicates
    expect(byKey.get('i5>i3')?.y).toBe(1);
    expect(byKey.get('i5>i1')).toEqual({ y: 1, kind: 'exact_resubmission', split: 'train' });
    expect(byKey.get('i4>i1')).toEqual({ y: 0, kind: 'recurring_monthly', split: 'train' });
    expect(byKey.get('i2>i1')?.y).toBe(0);
    // the valid invoice is never paired with train invoices; nothing pairs with a later invoice
    expect([...byKey.keys()].some((k) => k.includes('v1'))).toBe(false);
    expect([...byKey.keys()].some((k) => k.startsWith('i1>'))).toBe(false);
    expect(a.blocking).toEqual({ pairs: a.data.X.length, duplicates: 2, originalInCandidates: 2 });
  });

  it('weighs train pairs of a hard-negative kind by hardNegativeWeight, every other row 1', async () => {
    const plain = await assembleTask('duplicate', bench, provider);
    const weighted = await assembleTask('duplicate', bench, provider, { hardNegativeWeight: 5 });
    const weightOf = (a: typeof plain, key: string): number =>
      a.data.w[a.data.meta.findIndex((m) => m.key === key)]!;
    expect(weightOf(plain, 'i4>i1')).toBe(1);
    expect(weightOf(weighted, 'i4>i1')).toBe(5);
    const others = weighted.data.meta.filter((m) => m.key !== 'i4>i1');
    expect(others.length).toBeGreaterThan(0);
    for (const m of others) expect(weightOf(weighted, m.key), m.key).toBe(1);
    expect(weighted.data.X).toEqual(plain.data.X);
    expect(weighted.rowsFrom).toContain('hard-negative kind weigh 5');
    expect(plain.rowsFrom).not.toContain('hard-negative');
  });

  it('merges reviewer labels: latest review wins, weighted, replacing the benchmark row; skips what it cannot use', async () => {
    const rdir = join(dir, 'reviews');
    mkdirSync(rdir);
    const review = reviewLabels({ invoiceId: 'r1', reviewer: 'coder-7', createdAt: '2026-01-01T10:00:00Z' });
    const labels = [
      review('a1', { label: 1 }),
      review('a2', { label: 0, createdAt: '2026-01-02T10:00:00Z' }), // later: wins
      review('b1', { invoiceId: 'i2', lineNumber: 2, label: 1 }), // replaces the benchmark row i2#2
      review('c1', { invoiceId: 'v1', lineNumber: 1 }), // valid split: skipped
      review('e1', { invoiceId: 'missing' }),
      review('f1', { lineNumber: null, label: 1 }), // names no line: skipped
      review('g1', { task: 'duplicate', invoiceId: 'r1', lineNumber: null, duplicateOf: 'i1' }),
    ];
    writeFileSync(join(rdir, 'labels.jsonl'), jsonl(labels));
    writeFileSync(
      join(rdir, 'invoices.jsonl'),
      jsonl([
        invoice('r1', { invoice_number: 'R-1' }),
        records[1]!.invoice,
        records[5]!.invoice,
        records[0]!.invoice,
      ]),
    );
    const source = fileLabelSource(rdir);
    const a = await assembleTask('coding-mismatch', bench, provider, { labels: source, reviewWeight: 4 });
    const rows = a.data.meta.map((m, i) => ({ ...m, y: a.data.y[i], w: a.data.w[i] }));
    expect(rows.filter((r) => r.key === 'r1#1')).toEqual([
      expect.objectContaining({ y: 0, w: 4, source: 'review', split: 'train', labelId: 'a2' }),
    ]);
    expect(rows.filter((r) => r.key === 'i2#2')).toEqual([
      expect.objectContaining({ y: 1, w: 4, source: 'review', labelId: 'b1' }),
    ]);
    expect(a.labels.reviews.ids).toEqual(['a2', 'b1']);
    expect(a.labels.reviews.superseded).toEqual(['a1']);
    expect(a.labels.reviews.skipped.map((s) => s.id).sort()).toEqual(['c1', 'e1', 'f1']);
    expect(a.labels.benchmark.rows).toBe(11);
    // the duplicate review feeds the duplicate task only
    const dup = await assembleTask('duplicate', bench, provider, { labels: source });
    expect(dup.labels.reviews.ids).toEqual(['g1']);
    expect(dup.data.meta.find((m) => m.key === 'r1>i1')?.source).toBe('review');
    // the labels hash changes when a label changes
    const base = await assembleTask('coding-mismatch', bench, provider);
    expect(a.labels.hash).not.toBe(base.labels.hash);
  });

  it('labels by provenance: a person beats the ERP whatever the order, weights and filter per source, mix in the card', async () => {
    const mem = (labels: ReviewLabel[]) => ({
      listLabels: () => Promise.resolve(labels),
      getInvoices: (ids: readonly string[]) =>
        Promise.resolve(
          new Map(
            records
              .map((r) => r.invoice)
              .filter((i) => ids.includes(i.invoice_id))
              .map((i) => [i.invoice_id, i] as const),
          ),
        ),
    });
    const l = reviewLabels({ invoiceId: 'i1', reviewer: 'k', createdAt: '2026-02-01T00:00:00Z' });
    const labels = [
      l('rev', { label: 1, source: 'reviewer' }),
      l('erp-late', { label: 0, source: 'erp', createdAt: '2026-03-01T00:00:00Z' }), // loses to the reviewer
      l('erp', { invoiceId: 'i2', label: 0, source: 'erp' }),
      l('aud', { invoiceId: 'i4', lineNumber: 2, label: 1, source: 'audit_sample' }),
      l('old', { invoiceId: 'i4', lineNumber: 1, label: 0 }), // no source: a reviewer label
    ];
    const a = await assembleTask('coding-mismatch', bench, provider, {
      labels: mem(labels),
      reviewWeight: 3,
      labelWeights: { erp: 0.5 },
    });
    const w = (labelId: string) => a.data.w[a.data.meta.findIndex((m) => m.labelId === labelId)];
    const y = (labelId: string) => a.data.y[a.data.meta.findIndex((m) => m.labelId === labelId)];
    expect(a.labels.reviews.superseded).toEqual(['erp-late']);
    expect(a.labels.reviews.ids).toEqual(['aud', 'erp', 'old', 'rev']);
    expect([w('rev'), y('rev'), w('erp'), w('aud'), w('old')]).toEqual([3, 1, 0.5, 3, 3]);
    expect(a.labels.mix).toEqual({
      sources: ['reviewer', 'audit_sample', 'erp'],
      perSource: {
        reviewer: { labels: 2, rows: 2, positives: 1, weight: 3 },
        audit_sample: { labels: 1, rows: 1, positives: 1, weight: 3 },
        erp: { labels: 1, rows: 1, positives: 0, weight: 0.5 },
      },
    });
    // only ERP labels: the late ERP label is now the only one on i1#1
    const erpOnly = await assembleTask('coding-mismatch', bench, provider, {
      labels: mem(labels),
      labelSources: ['erp'],
    });
    expect(erpOnly.labels.reviews.ids).toEqual(['erp', 'erp-late']);
    expect(erpOnly.labels.mix?.perSource.reviewer).toEqual({ labels: 0, rows: 0, positives: 0, weight: 3 });
    expect(erpOnly.labels.mix?.sources).toEqual(['erp']);
    expect(erpOnly.labels.hash).not.toBe(a.labels.hash);
  });

  it('dedupeLabels breaks createdAt ties by id', () => {
    const l = (id: string): ReviewLabel => ({
      id,
      decisionId: 'd',
      invoiceId: 'x',
      lineNumber: 3,
      task: 'coding-mismatch',
      label: 1,
      correctedCode: null,
      duplicateOf: null,
      reviewer: 'r',
      createdAt: '2026-01-01T00:00:00Z',
    });
    expect(dedupeLabels([l('b'), l('a'), l('c')])).toEqual({ kept: [l('c')], superseded: ['a', 'b'] });
  });
});
