/** Test fixtures: a valid invoice builder and store configs for both engines. */
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { randomUUID } from 'node:crypto';
import type { DecisionResponse } from '../core/decision.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { pairSideOfInvoice } from '../features/pair.js';
import { indexKeysOf, payloadSha256 } from '../inference/stages/prepare.js';
import type { StoreConfig } from '../store/index.js';
import type { CandidateInvoice, InvoiceIndexKeys, TriageRepository } from '../store/repository.js';

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

/**
 * An invoice of `vendor` dated `date` holding `lines` as given, its total their sum (cents), with
 * no due date and no PO, numbered by its id in upper case; `over` sets any other field.
 */
export function invoiceOfLines(
  id: string,
  vendor: Invoice['vendor'],
  date: string,
  lines: InvoiceLine[],
  over: Partial<Invoice> = {},
): Invoice {
  return makeInvoice({
    invoice_id: id,
    invoice_number: id.toUpperCase(),
    vendor,
    invoice_date: date,
    due_date: undefined,
    po_number: undefined,
    total_cents: lines.reduce((s, l) => s + l.amount_cents, 0),
    lines,
    ...over,
  });
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

/** The blocking keys and vectors the store indexes with `inv` (as the pipeline computes them). */
export function keysOf(inv: Invoice) {
  const f = extractInvoiceFeatures(inv);
  return {
    vendorKey: f.vendorKey,
    invoiceNumberNormalised: f.invoiceNumber.normalised,
    invoiceNumberCanonical: f.invoiceNumber.canonical,
    embedding: f.embedding,
    lines: f.lines.map((l) => ({ lineNumber: l.lineNumber, matchKey: l.matchKey, embedding: l.embedding })),
  };
}

/** A minimal stored decision of `inv` (fixed scores and versions). */
export function decisionFor(
  inv: Invoice,
  kind: DecisionResponse['decision'] = 'AUTO_APPROVE',
): DecisionResponse {
  return {
    decision_id: randomUUID(),
    invoice_id: inv.invoice_id,
    decision: kind,
    priority: 12.34,
    scores: { coding_mismatch: 0.1, duplicate: 0 },
    reasons: [],
    duplicates: [],
    lines: [],
    versions: { models: { duplicate: 'x@1' }, feature_schema: 'fs-test', policy: 'p@1', reference_data: 'r' },
    created_at: new Date('2025-03-02T10:00:00Z').toISOString(),
  };
}

/**
 * Writes `items` through the batch write (`ScoringTx.insertMany` in one chunk transaction of
 * tenant `tenantId`), each with {@link decisionFor} and the payload hash `h-<invoice id>`.
 */
export async function insertBatch(
  repo: TriageRepository,
  tenantId: string,
  items: readonly { inv: Invoice; keys: InvoiceIndexKeys }[],
): Promise<void> {
  await repo.withChunkLock(tenantId, [], (tx) =>
    tx.insertMany(
      items.map((b) => ({
        pk: tx.newPk(),
        invoice: b.inv,
        payloadSha256: `h-${b.inv.invoice_id}`,
        keys: b.keys,
        decision: decisionFor(b.inv),
        extras: {},
      })),
    ),
  );
}

/**
 * Imports `items` as history of tenant `tenantId` (`HistoryStore.importChunk`: binary COPY on
 * PostgreSQL, INSERT on PGlite), each with its index keys (`keys` over the invoice's own).
 */
export async function importHistory(
  repo: TriageRepository,
  tenantId: string,
  items: readonly { inv: Invoice; keys: InvoiceIndexKeys }[],
): Promise<void> {
  await repo.history.importChunk(
    tenantId,
    items.map((r, j) => ({
      location: `/${j}`,
      invoice: r.inv,
      payloadSha256: payloadSha256(r.inv),
      keys: { ...indexKeysOf(extractInvoiceFeatures(r.inv)), ...r.keys },
    })),
    null,
  );
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

/**
 * A clean two-line ambulance invoice (A0428 and A0425 billed under their CMS descriptors at
 * usual quantities; 54,217 cents), so that only the duplicate check can keep it from
 * auto-approval. Used by the duplicate champion's tests.
 */
export function ambulanceInvoice(over: Partial<Invoice> = {}): Invoice {
  return {
    invoice_id: 'a1',
    vendor: { id: 'V-300042', name: 'Heritage Ambulance Service Co.', tax_id: '97-2456213' },
    invoice_number: 'HAS-2024-00027',
    invoice_date: '2024-07-01',
    due_date: '2024-08-15',
    currency: 'USD',
    total_cents: 54_217,
    document_type: 'invoice',
    lines: [
      {
        line_number: 1,
        description: 'Ambulance service, basic life support, non-emergency transport',
        code: { system: 'HCPCS', value: 'A0428' },
        quantity: 1,
        unit_price_cents: 46_411,
        amount_cents: 46_411,
        service_date: '2024-06-28',
      },
      {
        line_number: 2,
        description: 'Ground mileage, per statute mile',
        code: { system: 'HCPCS', value: 'A0425' },
        quantity: 6,
        unit_price_cents: 1_301,
        amount_cents: 7_806,
        service_date: '2024-06-28',
      },
    ],
    ...over,
  };
}

/**
 * Issue 14's two-change resubmission: a clean ambulance invoice (`original`, id `orig`) and the
 * same vendor and number billed again (`resubmitted`, id `again`) one day later (2024-07-02) with
 * the total and the last line 5 cents higher (54,222 cents).
 */
export function twoChangeResubmission(): { original: Invoice; resubmitted: Invoice } {
  const original = ambulanceInvoice({ invoice_id: 'orig' });
  const resubmitted: Invoice = {
    ...original,
    invoice_id: 'again',
    invoice_date: '2024-07-02',
    total_cents: 54_222,
    lines: [original.lines[0]!, { ...original.lines[1]!, unit_price_cents: 1_301, amount_cents: 7_811 }],
  };
  return { original, resubmitted };
}
