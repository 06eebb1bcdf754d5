import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { featureArtifactsDir, SHIPPED_IDF_ID } from '../../features/idf.js';
import { fitShippedIdf } from './fit-idf.js';
import { recallAtK, toMatrix, topK } from './recall.js';
import { measureInvoiceRecall } from './invoice-recall.js';
import { makeInvoice } from '../../test/fixtures.js';
import { extractInvoiceFeatures, invoiceEmbedding } from '../../features/invoice-features.js';
import type { BenchmarkRecord } from '../../datasets/benchmark/types.js';

describe('shipped IDF artefact', () => {
  it('equals a fresh fit on the shipped reference data (run `npm run idf:fit` when this fails)', () => {
    const fresh = fitShippedIdf();
    expect(fresh.id).toBe(SHIPPED_IDF_ID);
    expect(readFileSync(join(featureArtifactsDir(), `${SHIPPED_IDF_ID}.json`), 'utf8')).toBe(fresh.text);
    expect(fresh.documents).toBe(8_259);
  });
});

describe('exact kNN recall', () => {
  const unit = (x: number, y: number): number[] => {
    const n = Math.hypot(x, y);
    return [x / n, y / n];
  };
  const corpus = toMatrix([unit(1, 0), unit(1, 1), unit(0, 1), unit(-1, 0)], 2);

  it('ranks by dot product, best first, ties to the lower index', () => {
    expect(topK(corpus, unit(1, 0.1), 3)).toEqual([0, 1, 2]);
    expect(topK(corpus, unit(0, 1), 2)).toEqual([2, 1]);
    expect(topK(toMatrix([unit(1, 0), unit(1, 0)], 2), unit(1, 0), 1)).toEqual([0]);
  });

  it('counts a hit at k when any true row is within the k nearest', () => {
    const r = recallAtK(
      corpus,
      [
        { vector: unit(1, 0.1), truth: new Set([0]) }, // rank 0
        { vector: unit(1, 0.1), truth: new Set([2, 3]) }, // rank 2
        { vector: unit(1, 0.1), truth: new Set([9]) }, // never
      ],
      [1, 3, 4],
    );
    expect(r.get(1)).toBeCloseTo(1 / 3, 10);
    expect(r.get(3)).toBeCloseTo(2 / 3, 10);
    expect(r.get(4)).toBeCloseTo(2 / 3, 10);
    expect(() => toMatrix([[1, 2, 3]], 2)).toThrow(RangeError);
  });
});

describe('invoice-embedding recall', () => {
  const label = (seq: number, over: Partial<BenchmarkRecord['label']> = {}): BenchmarkRecord['label'] => ({
    split: 'test',
    seq,
    vendor_profile: 'p',
    duplicate: null,
    hard_negative: null,
    coding: [],
    ...over,
  });
  const orig = makeInvoice({ invoice_id: 'a' });
  const lab = makeInvoice({ invoice_id: 'b', vendor: { id: 'V-9', name: 'Northside Clinical Lab' } });
  const other = {
    ...lab,
    invoice_number: '77-1',
    total_cents: 999,
    lines: [{ ...lab.lines[1]!, description: 'Blood count' }],
  };
  const dup = makeInvoice({ invoice_id: 'c', invoice_number: 'INV-10O8' });

  it('finds the duplicated invoice among earlier ones and counts by kind', () => {
    const records: BenchmarkRecord[] = [
      { invoice: orig, label: label(0) },
      { invoice: other, label: label(1) },
      { invoice: dup, label: label(2, { duplicate: { kind: 'rekeyed_number', of: 'a', changes: [] } }) },
    ];
    const r = measureInvoiceRecall(records, 'test', 'x', (inv) => extractInvoiceFeatures(inv).embedding, 128);
    expect(r.duplicates).toBe(1);
    expect(r.recall['@1']).toBe(1);
    expect(r.byKind).toEqual({ rekeyed_number: { n: 1, recall10: 1 } });
    // A duplicate whose original comes later (or is missing) is not counted as a hit.
    const late = measureInvoiceRecall(
      [records[2]!, records[0]!],
      'test',
      'x',
      (inv) => extractInvoiceFeatures(inv).embedding,
      128,
    );
    expect(late.recall['@10']).toBe(0);
  });

  it('the stored embedding is recipe 1 at 128 dims; other dims only for measurement', () => {
    const f = extractInvoiceFeatures(orig);
    const parts = {
      vendorKey: f.vendorKey,
      canonicalNumber: f.invoiceNumber.canonical,
      lineTexts: f.lines.map((l) => l.descriptionNormalised),
    };
    expect(invoiceEmbedding(orig, parts)).toEqual(f.embedding);
    expect(invoiceEmbedding(orig, parts, 64)).toHaveLength(64);
  });
});
