/** Test fixtures: a valid invoice builder and store configs for both engines. */
import type { Invoice } from '../core/invoice.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { pairSideOfInvoice } from '../features/pair.js';
import type { StoreConfig } from '../store/index.js';
import type { CandidateInvoice } from '../store/repository.js';

/** A valid two-line DME invoice; override any field. */
export function makeInvoice(over: Partial<Invoice> = {}): Invoice {
  return {
    invoice_id: 'inv-0001',
    vendor: { id: 'V-100', name: 'Acme Medical Supply, Inc.', npi: '1234567893' },
    invoice_number: 'INV-1008',
    invoice_date: '2025-03-01',
    due_date: '2025-03-31',
    currency: 'USD',
    total_cents: 21_500,
    document_type: 'invoice',
    po_number: 'PO-77',
    lines: [
      {
        line_number: 1,
        description: 'Oxygen concentrator, single delivery port, monthly rental',
        code: { system: 'HCPCS', value: 'E1390' },
        modifiers: ['RR'],
        quantity: 1,
        unit_price_cents: 20_000,
        amount_cents: 20_000,
      },
      {
        line_number: 2,
        description: 'Nebulizer with compressor',
        code: { system: 'HCPCS', value: 'E0570' },
        modifiers: ['RR'],
        quantity: 1,
        unit_price_cents: 1_500,
        amount_cents: 1_500,
      },
    ],
    ...over,
  };
}

/** True when the PostgreSQL suite must run (CI): a missing database is then a failure. */
export const REQUIRE_PG = process.env.INVOICE_TRIAGE_REQUIRE_PG === '1';
/** The test database, e.g. postgres://postgres@127.0.0.1:5432/invoice_triage_test. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;

let seq = 0;
/** A fresh, unique schema name for one test file or case. */
export function uniqueSchema(prefix: string): string {
  seq++;
  return `t_${prefix}_${process.pid}_${Date.now().toString(36)}_${seq}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
}

/** Store configs to run a suite on: PGlite always, PostgreSQL when configured (or required). */
export function engines(prefix: string): { name: string; config: () => StoreConfig }[] {
  const list: { name: string; config: () => StoreConfig }[] = [
    { name: 'pglite', config: () => ({ engine: 'pglite' }) },
  ];
  if (TEST_DATABASE_URL || REQUIRE_PG) {
    list.push({
      name: 'postgres',
      config: () => {
        if (!TEST_DATABASE_URL)
          throw new Error('INVOICE_TRIAGE_REQUIRE_PG=1 but TEST_DATABASE_URL is not set');
        return {
          engine: 'postgres',
          connectionString: TEST_DATABASE_URL,
          schema: uniqueSchema(prefix),
          maxConnections: 4,
        };
      },
    });
  }
  return list;
}

/** A stored duplicate candidate built from an invoice (auto-approved, found by kNN); override any field. */
export function candidateOf(inv: Invoice, over: Partial<CandidateInvoice> = {}): CandidateInvoice {
  const side = pairSideOfInvoice(inv, extractInvoiceFeatures(inv));
  return {
    ...side,
    invoiceId: inv.invoice_id,
    decisionId: `d-${inv.invoice_id}`,
    decision: 'AUTO_APPROVE',
    vendorName: inv.vendor.name,
    invoiceNumber: inv.invoice_number,
    currency: inv.currency,
    lineMatchKeys: [...side.lineMatchKeys],
    embeddingDistance: 0.01,
    sources: ['knn'],
    approval: 'auto_approved',
    reversedCents: 0,
    reversedBy: [],
    ...over,
  };
}
