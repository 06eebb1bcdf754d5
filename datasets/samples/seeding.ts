/**
 * The labelled exceptions seeded on the base HCPCS sample invoices: description/code
 * mismatches, terminated codes, price outliers against the CMS fee, exact and re-keyed
 * duplicate submissions, and hard negatives (next month's recurring rental, not a duplicate).
 */
import type { Invoice, InvoiceLine } from '../../core/invoice.js';
import type { ReferenceData } from '../../core/reference.js';
import { Rng, addDays, monthEnd, sumLines } from '../synth.js';
import { VENDORS, feeFor, makeLine, priceNear, repriceLine, type Vendor } from './vendors.js';

/** One labelled exception of the HCPCS sample set. */
export interface SampleLabel {
  invoice_id: string;
  kind:
    | 'description_mismatch'
    | 'terminated_code'
    | 'price_outlier'
    | 'exact_duplicate'
    | 'rekeyed_duplicate'
    | 'hard_negative';
  line_number?: number;
  duplicate_of?: string;
  /** For a hard negative: the invoice it resembles but does not duplicate. */
  similar_to?: string;
  note: string;
}

/** An invoice being built, with the day it reached AP. */
export interface Draft {
  invoice: Invoice;
  /** Sort key: the day the invoice reached AP. */
  received: string;
}

/** A deep copy (invoices are plain JSON). */
function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Re-derives `total_cents` of an invoice from its lines. */
export function retotal(invoice: Invoice): void {
  invoice.total_cents = sumLines(invoice.lines);
}

/** The base invoices of one vendor, in date order (exceptions are seeded on them by index). */
function draftsOf(drafts: readonly Draft[], vendorId: string): Draft[] {
  return drafts.filter((d) => d.invoice.vendor.id === vendorId);
}

/** The item at `i` (negative counts from the end). @throws Error when there is none. */
function nth<T>(items: readonly T[], i: number): T {
  const item = items.at(i);
  if (item === undefined) throw new Error(`no item at ${i}`);
  return item;
}

/** An exception seeded on a draft, with its label (ids are filled in once arrival order is known). */
export interface Seeded {
  draft: Draft;
  label: Omit<SampleLabel, 'invoice_id' | 'duplicate_of' | 'similar_to'> & {
    of?: Draft;
    relation?: 'dup' | 'similar';
  };
}

/** Two description/code mismatches: oxygen concentrator text under K0001, PSA screening text under G0480. */
export function seedDescriptionMismatch(ref: ReferenceData, drafts: Draft[], rng: Rng): Seeded[] {
  const out: Seeded[] = [];
  // 1. Oxygen concentrator text billed under the standard wheelchair code K0001 (DME supplier).
  const dme = nth(draftsOf(drafts, 'V-100421'), 2);
  const k0001 = feeFor(ref, 'K0001', 'RR', ['DMEPOS']);
  if (!k0001) throw new Error('K0001 RR fee missing');
  const line1: InvoiceLine = {
    line_number: dme.invoice.lines.length + 1,
    description: 'Oxygen concentrator, single delivery port, 5 LPM - monthly rental',
    code: { system: 'HCPCS', value: 'K0001' },
    modifiers: ['RR'],
    quantity: 1,
    unit_price_cents: priceNear(k0001, rng),
    amount_cents: 0,
    service_date: dme.invoice.service_period?.start ?? dme.invoice.invoice_date,
  };
  repriceLine(line1, line1.unit_price_cents);
  dme.invoice.lines.push(line1);
  retotal(dme.invoice);
  out.push({
    draft: dme,
    label: {
      kind: 'description_mismatch',
      line_number: line1.line_number,
      note: 'Description is an oxygen concentrator (E1390) but the line is billed as K0001 (standard wheelchair).',
    },
  });
  // 2. PSA screening text billed as a definitive drug test (lab).
  const lab = nth(draftsOf(drafts, 'V-200133'), 3);
  const target = lab.invoice.lines.find((l) => l.code?.value !== 'G0480') ?? nth(lab.invoice.lines, 0);
  const g0480 = feeFor(ref, 'G0480', '', ['CLFS']);
  if (!g0480) throw new Error('G0480 fee missing');
  target.code = { system: 'HCPCS', value: 'G0480' };
  delete target.modifiers;
  target.description = 'PSA screening, prostate specific antigen (total)';
  repriceLine(target, priceNear(g0480, rng));
  retotal(lab.invoice);
  out.push({
    draft: lab,
    label: {
      kind: 'description_mismatch',
      line_number: target.line_number,
      note: 'Description is a PSA screening (G0103) but the line is billed as G0480 (definitive drug test, 1-7 classes).',
    },
  });
  return out;
}

/** Two codes billed after their HCPCS termination date (J0135, E2300), priced by hand. */
export function seedTerminatedCodes(ref: ReferenceData, drafts: Draft[]): Seeded[] {
  const out: Seeded[] = [];
  const cases = [
    {
      vendor: 'V-300912',
      index: 1,
      code: 'J0135',
      quantity: 2,
      // No 2025 price exists for a discontinued code: a plausible list price, set by hand.
      unit: 95_000,
      description: 'Adalimumab 20 mg injection (Humira) - prefilled syringe',
    },
    {
      vendor: 'V-100421',
      index: 4,
      code: 'E2300',
      quantity: 1,
      unit: 285_000,
      description: 'Wheelchair accessory, power seat elevation system',
    },
  ];
  for (const c of cases) {
    const draft = nth(draftsOf(drafts, c.vendor), c.index);
    const code = ref.hcpcs.get(c.code);
    if (!code?.terminationDate || code.terminationDate >= draft.invoice.invoice_date) {
      throw new Error(`${c.code} is not terminated before ${draft.invoice.invoice_date}`);
    }
    const line: InvoiceLine = {
      line_number: draft.invoice.lines.length + 1,
      description: c.description,
      code: { system: 'HCPCS', value: c.code },
      quantity: c.quantity,
      unit_price_cents: c.unit,
      amount_cents: c.quantity * c.unit,
      service_date: nth(draft.invoice.lines, 0).service_date ?? draft.invoice.invoice_date,
    };
    draft.invoice.lines.push(line);
    retotal(draft.invoice);
    out.push({
      draft,
      label: {
        kind: 'terminated_code',
        line_number: line.line_number,
        note: `${c.code} (${code.shortDescription}) was terminated on ${code.terminationDate}; billed on ${draft.invoice.invoice_date}. Unit price set by hand (no 2025 fee).`,
      },
    });
  }
  return out;
}

/** Two lines repriced to about 5x their DMEPOS fee. */
export function seedPriceOutliers(ref: ReferenceData, drafts: Draft[], rng: Rng): Seeded[] {
  const out: Seeded[] = [];
  for (const [vendorId, index] of [
    ['V-500214', 2],
    ['V-400077', 4],
  ] as const) {
    const draft = nth(draftsOf(drafts, vendorId), index);
    const line = [...draft.invoice.lines].sort((a, b) => b.unit_price_cents - a.unit_price_cents)[0];
    if (!line) throw new Error('outlier invoice has no line');
    const code = line.code?.value ?? '';
    const fee = feeFor(ref, code, line.modifiers?.[0] ?? '', ['DMEPOS']);
    if (!fee) throw new Error(`no fee for outlier line ${code}`);
    const factor = 4.8 + rng.float() * 0.4;
    repriceLine(line, Math.round(fee.amountCents * factor));
    retotal(draft.invoice);
    out.push({
      draft,
      label: {
        kind: 'price_outlier',
        line_number: line.line_number,
        note: `${code} unit price ${line.unit_price_cents} cents is ${factor.toFixed(2)}x the ${fee.source} reference ${fee.amountCents} cents.`,
      },
    });
  }
  return out;
}

/** `INV-1008` → `INV-10O8`: the last 0 (or 1) of the number swapped for the letter O (or l). */
export function ocrConfuse(invoiceNumber: string): string {
  const swaps: ReadonlyArray<readonly [string, string]> = [
    ['0', 'O'],
    ['1', 'l'],
    ['5', 'S'],
    ['8', 'B'],
  ];
  for (const [digit, letter] of swaps) {
    const i = invoiceNumber.lastIndexOf(digit);
    // Keep the first character: a leading O looks like a different prefix, not noise.
    if (i > 0) return invoiceNumber.slice(0, i) + letter + invoiceNumber.slice(i + 1);
  }
  return `${invoiceNumber}-1`;
}

/** Fields in which a re-keyed duplicate differs from its original. */
export const REKEYED_FIELDS = ['invoice_id', 'invoice_number', 'vendor.name'] as const;

/** One exact resubmission and two re-keyed ones (OCR-confused number, vendor name variant). */
export function seedDuplicates(drafts: Draft[]): { extra: Draft[]; seeded: Seeded[] } {
  const extra: Draft[] = [];
  const seeded: Seeded[] = [];
  // Exact resubmission: the same document, sent again 3 weeks later under a new client id.
  const exactOf = [...draftsOf(drafts, 'V-700150')].sort(
    (a, b) => b.invoice.total_cents - a.invoice.total_cents,
  )[0];
  if (!exactOf) throw new Error('no diabetic supply invoice');
  const exact = { invoice: clone(exactOf.invoice), received: addDays(exactOf.received, 21) };
  extra.push(exact);
  seeded.push({
    draft: exact,
    label: {
      kind: 'exact_duplicate',
      of: exactOf,
      relation: 'dup',
      note: 'Exact resubmission of the original (all fields equal except invoice_id), received 21 days later.',
    },
  });
  // Re-keyed resubmissions: invoice number with an OCR confusion, vendor name keyed differently.
  for (const [vendorId, index] of [
    ['V-100421', 5],
    ['V-200133', 1],
  ] as const) {
    const of = nth(draftsOf(drafts, vendorId), index);
    const spec = VENDORS.find((v) => v.id === vendorId);
    if (!spec) throw new Error(vendorId);
    const copy = clone(of.invoice);
    copy.invoice_number = ocrConfuse(of.invoice.invoice_number);
    copy.vendor.name = spec.nameVariant;
    const draft = { invoice: copy, received: addDays(of.received, 35) };
    extra.push(draft);
    seeded.push({
      draft,
      label: {
        kind: 'rekeyed_duplicate',
        of,
        relation: 'dup',
        note: `Re-keyed resubmission: invoice_number "${copy.invoice_number}" (OCR confusion of "${of.invoice.invoice_number}"), vendor name "${copy.vendor.name}"; every other field equal.`,
      },
    });
  }
  return { extra, seeded };
}

/** Next month's rental invoice: same lines and amount, new period and number. Not a duplicate. */
export function seedHardNegatives(
  drafts: Draft[],
  vendors: readonly Vendor[],
  rng: Rng,
): { extra: Draft[]; seeded: Seeded[] } {
  const extra: Draft[] = [];
  const seeded: Seeded[] = [];
  for (const [vendorId, index, nextSeq, rentals] of [
    ['V-100421', 0, 90, ['E0601', 'E0562']],
    ['V-100587', 1, 90, ['E1390', 'E0431']],
  ] as const) {
    const of = nth(draftsOf(drafts, vendorId), index);
    const vendor = vendors.find((v) => v.spec.id === vendorId);
    const period = of.invoice.service_period;
    if (!vendor || !period) throw new Error(`hard negative needs a rental invoice of ${vendorId}`);
    const spec = vendor.spec;
    // The recurring invoice bills the same monthly rentals every month.
    of.invoice.lines = rentals.map((code, i) => {
      const item = vendor.catalogue.find((c) => c.code.code === code && c.fee.modifier === 'RR');
      if (!item) throw new Error(`${vendorId} does not rent ${code}`);
      return makeLine(item, i + 1, period.start, rng);
    });
    retotal(of.invoice);
    const start = addDays(period.end, 1);
    const year = Number(start.slice(0, 4));
    const month = Number(start.slice(5, 7));
    const copy = clone(of.invoice);
    copy.service_period = { start, end: monthEnd(year, month) };
    copy.invoice_date = addDays(of.invoice.invoice_date, Number(period.end.slice(8, 10)));
    copy.due_date = addDays(copy.invoice_date, spec.termsDays);
    copy.invoice_number = spec.invoiceNumber(nextSeq, copy.invoice_date, new Rng(nextSeq));
    for (const line of copy.lines) line.service_date = start;
    const draft = { invoice: copy, received: copy.invoice_date };
    extra.push(draft);
    seeded.push({
      draft,
      label: {
        kind: 'hard_negative',
        of,
        relation: 'similar',
        note: `Next month's recurring rental: same vendor, lines and total as the similar invoice, but service period ${start}..${copy.service_period.end} and a new invoice number. Not a duplicate.`,
      },
    });
  }
  return { extra, seeded };
}
