import { describe, expect, it } from 'vitest';
import type { Invoice } from '../../core/invoice.js';
import { createOracleDetector, createSapDetector } from './baselines.js';
import type { Detector, InvoiceOutput } from './detector.js';

function invoice(id: string, over: Partial<Invoice> = {}): Invoice {
  return {
    invoice_id: id,
    vendor: { id: 'V-1', name: 'Keystone Home Medical Equipment, LLC' },
    invoice_number: 'INV-1008',
    invoice_date: '2025-03-01',
    currency: 'USD',
    total_cents: 21_500,
    document_type: 'invoice',
    lines: [
      {
        line_number: 1,
        description: 'CPAP device',
        quantity: 1,
        unit_price_cents: 21_500,
        amount_cents: 21_500,
      },
    ],
    ...over,
  };
}

async function run(d: Detector, invoices: Invoice[]): Promise<InvoiceOutput[]> {
  async function* gen() {
    yield* invoices;
  }
  const out: InvoiceOutput[] = [];
  for await (const o of d.run(gen())) out.push(o);
  return out;
}

describe('SAP-style exact duplicate rule', () => {
  it('flags the same vendor, reference, amount, date and currency, naming the first invoice', async () => {
    const out = await run(createSapDetector(), [invoice('a'), invoice('b'), invoice('c')]);
    expect(out.map((o) => o.duplicateScore)).toEqual([0, 1, 1]);
    expect(out[1]?.duplicateOf).toBe('a');
    expect(out[2]?.duplicateOf).toBe('a');
    expect(out.every((o) => o.lines.length === 0)).toBe(true);
  });

  it('misses any difference in the five fields (re-keyed number, date, amount, currency, vendor)', async () => {
    const out = await run(createSapDetector(), [
      invoice('a'),
      invoice('b', { invoice_number: 'INV-10O8' }),
      invoice('c', { invoice_date: '2025-03-02' }),
      invoice('d', { total_cents: 21_501 }),
      invoice('e', { currency: 'CAD' }),
      invoice('f', { vendor: { id: 'V-2', name: 'Keystone Home Medical Equipment, LLC' } }),
      // Differences outside the key do not matter.
      invoice('g', { po_number: 'PO-9', vendor: { id: 'V-1', name: 'KEYSTONE HME' } }),
    ]);
    expect(out.map((o) => o.duplicateScore)).toEqual([0, 0, 0, 0, 0, 0, 1]);
  });

  it('neither checks nor indexes credit memos', async () => {
    const out = await run(createSapDetector(), [
      invoice('cm1', { document_type: 'credit_memo' }),
      invoice('cm2', { document_type: 'credit_memo' }),
      invoice('a'),
    ]);
    expect(out.map((o) => o.duplicateScore)).toEqual([0, 0, 0]);
  });
});

describe('Oracle-style supplier + invoice number rule', () => {
  it('flags a reused number of the same supplier whatever the amount, date or document type', async () => {
    const out = await run(createOracleDetector(), [
      invoice('a'),
      invoice('b', { total_cents: 99, invoice_date: '2027-01-01' }),
      invoice('c', { document_type: 'credit_memo', total_cents: -21_500 }),
    ]);
    expect(out.map((o) => o.duplicateScore)).toEqual([0, 1, 1]);
    expect(out[2]?.duplicateOf).toBe('a');
  });

  it('keeps suppliers apart and compares numbers exactly as keyed', async () => {
    const out = await run(createOracleDetector(), [
      invoice('a'),
      invoice('b', { vendor: { id: 'V-2', name: 'Other' } }),
      invoice('c', { invoice_number: 'inv-1008' }),
      invoice('d', { invoice_number: 'INV 1008' }),
    ]);
    expect(out.map((o) => o.duplicateScore)).toEqual([0, 0, 0, 0]);
  });
});
