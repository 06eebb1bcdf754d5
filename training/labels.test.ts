import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { parseReviewLabel, storeLabelSource, type StoreLabelRow } from './labels.js';

const example = JSON.parse(readFileSync('datasets/samples/example-invoice.json', 'utf8')) as Invoice;
const inv = (id: string): Invoice => ({ ...structuredClone(example), invoice_id: id });

const row = (over: Partial<StoreLabelRow>): StoreLabelRow => ({
  review_id: 'rv-1',
  decision_id: 'd-1',
  invoice_id: 'a',
  line_number: 2,
  task: 'coding-mismatch',
  label: 1,
  corrected_code: 'E1130',
  duplicate_of_invoice_id: null,
  reviewer_key_id: 'key-coder',
  created_at: '2026-01-01T00:00:00Z',
  invoice: inv('a'),
  ...over,
});

describe('storeLabelSource', () => {
  it('maps store rows to labels (one id per review and line) and serves invoices from the rows', async () => {
    let asked: unknown;
    const source = storeLabelSource({
      listLabels: (opts) => {
        asked = opts;
        return Promise.resolve([
          row({}),
          row({ line_number: 3 }),
          row({
            review_id: 'rv-2',
            task: 'duplicate',
            line_number: null,
            duplicate_of_invoice_id: 'b',
            label: 0,
          }),
        ]);
      },
    });
    const labels = await source.listLabels();
    expect(asked).toEqual({ includeInvoice: true, latestOnly: false });
    expect(labels.map((l) => l.id)).toEqual(['rv-1#2', 'rv-1#3', 'rv-2']);
    expect(labels[2]).toMatchObject({ task: 'duplicate', duplicateOf: 'b', label: 0, reviewer: 'key-coder' });
    const found = await source.getInvoices(['a', 'b']);
    expect([...found.keys()]).toEqual(['a']);
  });

  it('fetches the other invoice of a duplicate pair through the callback', async () => {
    const source = storeLabelSource(
      {
        listLabels: () =>
          Promise.resolve([row({ task: 'duplicate', line_number: null, duplicate_of_invoice_id: 'b' })]),
      },
      (ids) => Promise.resolve(new Map(ids.map((id) => [id, inv(id)]))),
    );
    expect([...(await source.getInvoices(['a', 'b'])).keys()]).toEqual(['a', 'b']);
  });
});

describe('parseReviewLabel', () => {
  it('names the field at fault', () => {
    const ok = {
      id: 'x',
      decisionId: 'd',
      invoiceId: 'i',
      lineNumber: 1,
      task: 'coding-mismatch',
      label: 1,
      reviewer: 'r',
      createdAt: '2026-01-01T00:00:00Z',
    };
    expect(parseReviewLabel(ok, 'f:1')).toMatchObject({ correctedCode: null, duplicateOf: null });
    expect(() => parseReviewLabel({ ...ok, label: 2 }, 'f:1')).toThrow(/f:1: label/);
    expect(() => parseReviewLabel({ ...ok, task: 'fraud' }, 'f:2')).toThrow(/f:2: task/);
    expect(() => parseReviewLabel({ ...ok, lineNumber: 0 }, 'f:3')).toThrow(/lineNumber/);
    expect(() => parseReviewLabel({ ...ok, createdAt: 'yesterday' }, 'f:4')).toThrow(/createdAt/);
  });
});
