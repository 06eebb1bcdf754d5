/**
 * Builds the synthetic healthcare supplier invoices of `hcpcs_invoices.jsonl` and their labels:
 * each sample vendor's base invoices priced within ±15% of the CMS 2025 fee-schedule amount
 * (`vendors.ts`), then the seeded exceptions (`seeding.ts`), then ids in arrival order. The only
 * randomness is the mulberry32 generator of `datasets/synth.ts` with {@link SAMPLE_SEED}.
 */
import type { Invoice } from '../../core/invoice.js';
import type { ReferenceData } from '../../core/reference.js';
import { Rng, addDays, iso, makeNpi, monthEnd, monthStart, sumLines } from '../synth.js';
import {
  seedDescriptionMismatch,
  seedDuplicates,
  seedHardNegatives,
  seedPriceOutliers,
  seedTerminatedCodes,
  type Draft,
  type SampleLabel,
} from './seeding.js';
import {
  FACILITIES,
  VENDORS,
  buildCatalogue,
  makeLine,
  vendorBlock,
  type Vendor,
  type VendorSpec,
} from './vendors.js';

export { REKEYED_FIELDS, ocrConfuse, type SampleLabel } from './seeding.js';

/** Seed of the sample builder; change it and every synthetic invoice changes. */
export const SAMPLE_SEED = 20250117;

/** Invoice dates of a vendor's base invoices: spread over 2025, month by month for rentals. */
function invoiceDates(spec: VendorSpec, rng: Rng): string[] {
  const months = rng.shuffle([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]).slice(0, spec.invoices);
  months.sort((a, b) => a - b);
  return months.map((m) =>
    iso(new Date(Date.UTC(2025, m - 1, spec.rental ? rng.int(1, 5) : rng.int(2, 27)))),
  );
}

/** One base invoice of a vendor: a random subset of its catalogue, service dates before the invoice date (or the rental month). */
function buildBaseInvoice(v: Vendor, seq: number, date: string, rng: Rng): Invoice {
  const [minLines, maxLines] = v.spec.lines;
  const items = rng.shuffle(v.catalogue).slice(0, rng.int(minLines, maxLines));
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  const period = v.spec.rental ? { start: monthStart(year, month), end: monthEnd(year, month) } : undefined;
  const lines = items.map((item, i) => {
    const serviceDate = period ? period.start : addDays(date, -rng.int(1, 20));
    return makeLine(item, i + 1, serviceDate < '2025-01-01' ? '2025-01-02' : serviceDate, rng);
  });
  const invoice: Invoice = {
    invoice_id: 'pending',
    vendor: vendorBlock(v),
    invoice_number: v.spec.invoiceNumber(seq, date, rng),
    invoice_date: date,
    due_date: addDays(date, v.spec.termsDays),
    currency: 'USD',
    total_cents: sumLines(lines),
    document_type: 'invoice',
    lines,
  };
  if (rng.chance(0.75)) invoice.po_number = `PO-4500${rng.digits(6)}`;
  if (rng.chance(0.6)) invoice.facility_id = rng.pick(FACILITIES);
  if (period) invoice.service_period = period;
  return invoice;
}

/** Synthetic HCPCS invoices with their labels. */
export interface HcpcsSamples {
  invoices: Invoice[];
  labels: SampleLabel[];
}

/**
 * Builds the synthetic healthcare supplier invoices: vendors × base invoices priced within
 * ±15% of the CMS reference amount, then the seeded exceptions, then ids in arrival order.
 */
export function buildHcpcsSamples(ref: ReferenceData, seed = SAMPLE_SEED): HcpcsSamples {
  const rng = new Rng(seed);
  const vendors: Vendor[] = VENDORS.map((spec) => {
    const vendor: Vendor = {
      spec,
      taxId: `${rng.int(20, 94)}-${rng.digits(7)}`,
      catalogue: buildCatalogue(ref, spec, rng),
    };
    if (spec.hasNpi) vendor.npi = makeNpi(rng);
    return vendor;
  });
  const drafts: Draft[] = [];
  for (const v of vendors) {
    invoiceDates(v.spec, rng).forEach((date, i) => {
      drafts.push({ invoice: buildBaseInvoice(v, i + 1, date, rng), received: addDays(date, rng.int(1, 6)) });
    });
  }
  const seeded = [
    ...seedDescriptionMismatch(ref, drafts, rng),
    ...seedTerminatedCodes(ref, drafts),
    ...seedPriceOutliers(ref, drafts, rng),
  ];
  const dups = seedDuplicates(drafts);
  const negatives = seedHardNegatives(drafts, vendors, rng);
  const all = [...drafts, ...dups.extra, ...negatives.extra];
  all.sort(
    (a, b) =>
      a.received.localeCompare(b.received) || a.invoice.invoice_date.localeCompare(b.invoice.invoice_date),
  );
  all.forEach((d, i) => {
    d.invoice.invoice_id = `hc-2025-${String(i + 1).padStart(4, '0')}`;
  });
  const labels = [...seeded, ...dups.seeded, ...negatives.seeded].map(({ draft, label }) => {
    const { of, relation, ...rest } = label;
    const out: SampleLabel = { invoice_id: draft.invoice.invoice_id, ...rest };
    if (of && relation === 'dup') out.duplicate_of = of.invoice.invoice_id;
    if (of && relation === 'similar') out.similar_to = of.invoice.invoice_id;
    return out;
  });
  labels.sort(
    (a, b) => a.invoice_id.localeCompare(b.invoice_id) || (a.line_number ?? 0) - (b.line_number ?? 0),
  );
  return { invoices: all.map((d) => d.invoice), labels };
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------
