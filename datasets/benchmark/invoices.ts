/**
 * Benchmark invoices: the vendor and hospital state of a split, and the base invoice of a
 * vendor. The invoices derived from an earlier one (labelled duplicates and hard negatives,
 * `derive.ts`) record what differs from their original in `changes` (vocabulary in
 * `datasets/benchmark/README.md`):
 *
 * - `invoice_number:<op>@<at>:"from">"to"` (see number-edits.ts), `invoice_number:new`,
 *   `invoice_number:reused`, `invoice_number:credit`
 * - `invoice_date:+Nd`, `due_date:+Nd` (signed day shifts)
 * - `vendor.id:"a">"b"`, `vendor.name:"a">"b"`, `vendor:other`
 * - `lines:subset:[1,3]` (original line numbers kept, renumbered from 1), `lines:copied:[2]`,
 *   `lines:new:N`, `lines:tax:6.25%`, `lines:negated`, `lines:corrected:[..]`,
 *   `lines:quantities:[..]`, `service_period:+1m`
 * - `total_cents:A>B`, `total_cents:rounded:A>B`, `document_type:credit_memo`
 */
import type { Invoice, InvoiceLine } from '../../core/invoice.js';
import type { Rng } from '../synth.js';
import { addDays, cumulative, isoOfDay, monthEnd, sumLines } from '../synth.js';
import { generateLine, type CodingLabel, type LineContext } from './lines.js';
import { PROFILES, type ServiceLineProfile } from './profiles.js';
import type { BenchmarkLabel, DuplicateKind, HardNegativeKind } from './types.js';
import { VendorNumbering, type CatalogueEntry, type BenchmarkVendor } from './vendors.js';

/** A vendor while invoices are generated: profile, numbering and line context. */
export class VendorState {
  readonly profile: ServiceLineProfile;
  readonly numbering: VendorNumbering;
  readonly cumWeights: number[];
  private readonly standingPo = new Map<string, string>();
  constructor(
    readonly v: BenchmarkVendor,
    readonly lines: LineContext,
    rng: Rng,
  ) {
    this.profile = PROFILES[v.service_line];
    this.numbering = new VendorNumbering(v, rng);
    this.cumWeights = cumulative(v.catalogue.map((c) => c.weight));
  }

  /** The standing PO of a rental vendor for a year (one PO covers a year of rentals). */
  standingPoFor(year: string, hospital: Hospital): string {
    let po = this.standingPo.get(year);
    if (!po) {
      po = hospital.nextPo();
      this.standingPo.set(year, po);
    }
    return po;
  }

  /** The vendor block of an invoice. */
  vendorBlock(): Invoice['vendor'] {
    const out: Invoice['vendor'] = { id: this.v.id, name: this.v.name, tax_id: this.v.tax_id };
    if (this.v.npi) out.npi = this.v.npi;
    return out;
  }
}

/** The buying hospital's PO numbering (SAP-style 45xxxxxxxx), one per split. */
export class Hospital {
  private po: number;
  constructor(private readonly rng: Rng) {
    this.po = 4_500_000_000 + rng.int(0, 99_999);
  }
  nextPo(): string {
    this.po += this.rng.int(1, 40);
    return String(this.po);
  }
}

/** An invoice on its way to the output: the invoice, its labels and bookkeeping. */
export interface Draft {
  invoice: Invoice;
  vendor: VendorState;
  duplicate: BenchmarkLabel['duplicate'];
  hardNegative: BenchmarkLabel['hard_negative'];
  coding: CodingLabel[];
  /** Lines as billed without coding exceptions, parallel to `invoice.lines`. */
  clean: InvoiceLine[];
  /** Day number the invoice reached AP (output order). */
  received: number;
  /** Derived invoices to create once this one is written (its invoice_id is then known). */
  tasks: DeriveTask[];
}

/** A derived invoice to create from a written one. */
export interface DeriveTask {
  kind: DuplicateKind | HardNegativeKind;
  /** For a credit memo: also rebill the original after it. */
  rebill?: boolean;
  /** For a rebill: the credited original. */
  original?: { draft: Draft; id: string };
}

/** Draws the lines of a new invoice: distinct catalogue items by popularity. */
function pickItems(vs: VendorState, count: number, rng: Rng): CatalogueEntry[] {
  const cat = vs.v.catalogue;
  if (vs.profile.id === 'ambulance') {
    // One transport level, the mileage, and optional extras.
    const levels = cat.filter((c) => ['A0426', 'A0427', 'A0428', 'A0429', 'A0433', 'A0434'].includes(c.code));
    const mileage = cat.find((c) => c.code === 'A0425');
    const extras = rng.shuffle(cat.filter((c) => !levels.includes(c) && c !== mileage));
    return [rng.pick(levels), ...(mileage ? [mileage] : []), ...extras.slice(0, Math.max(0, count - 2))];
  }
  const n = Math.min(count, cat.length);
  const picked = new Set<number>();
  for (let guard = 0; picked.size < n && guard < n * 20; guard++)
    picked.add(rng.weightedIndex(vs.cumWeights));
  for (let i = 0; picked.size < n; i++) picked.add(i);
  return [...picked].map((i) => cat[i] as CatalogueEntry);
}

/** Service period of a period-dated invoice: the previous month early in the month, else this month. */
function periodFor(date: string): { start: string; end: string } {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const prev = d <= 10;
  const year = prev && m === 1 ? y - 1 : y;
  const month = prev ? (m === 1 ? 12 : m - 1) : m;
  const start = `${year}-${String(month).padStart(2, '0')}-01`;
  return { start, end: monthEnd(year, month) };
}

/** Lines, coding labels and clean lines of a new invoice. */
function freshLines(
  vs: VendorState,
  items: readonly CatalogueEntry[],
  date: string,
  period: Invoice['service_period'],
) {
  const rng = vs.lines.rng;
  const dating = vs.profile.dating;
  const shared =
    dating === 'period' && period
      ? period.start
      : addDays(date, dating === 'shipment' ? -rng.int(0, 10) : -rng.int(1, 30));
  const perLine = dating === 'service' && rng.chance(0.3);
  const lines: InvoiceLine[] = [];
  const clean: InvoiceLine[] = [];
  const coding: CodingLabel[] = [];
  items.forEach((item, i) => {
    const serviceDate = perLine ? addDays(date, -rng.int(1, 30)) : shared;
    const g = generateLine(vs.lines, item, i + 1, serviceDate);
    lines.push(g.line);
    clean.push(g.clean);
    if (g.coding) coding.push(g.coding);
  });
  return { lines, clean, coding };
}

/** Number of lines of a new invoice: the profile's range with a decreasing tail. */
export function drawLineCount(profile: ServiceLineProfile, rng: Rng): number {
  const [lo, hi] = profile.lines;
  return lo + Math.floor((hi - lo + 1) * rng.float() ** 1.7);
}

/**
 * A new invoice of the vendor dated `day` with `lineCount` lines, the next invoice number,
 * due date by the vendor's terms, PO (always when `forcePo`), facility and service period.
 */
export function buildInvoice(
  vs: VendorState,
  hospital: Hospital,
  day: number,
  lineCount: number,
  opts: { forcePo?: boolean; invoiceNumber?: string } = {},
): Omit<Draft, 'received' | 'tasks' | 'duplicate' | 'hardNegative'> {
  const rng = vs.lines.rng;
  const date = isoOfDay(day);
  const period = vs.profile.dating === 'period' ? periodFor(date) : undefined;
  const items = pickItems(vs, lineCount, rng);
  const { lines, clean, coding } = freshLines(vs, items, date, period);
  const invoice: Invoice = {
    invoice_id: 'pending',
    vendor: vs.vendorBlock(),
    invoice_number: opts.invoiceNumber ?? vs.numbering.next(date),
    invoice_date: date,
    due_date: addDays(date, vs.v.terms.net_days),
    currency: 'USD',
    total_cents: sumLines(lines),
    document_type: 'invoice',
    lines,
  };
  if (opts.forcePo || rng.chance(vs.profile.poRate)) {
    invoice.po_number = period ? vs.standingPoFor(date.slice(0, 4), hospital) : hospital.nextPo();
  }
  if (rng.chance(0.85)) invoice.facility_id = rng.pick(vs.v.facilities);
  if (period) invoice.service_period = period;
  return { invoice, vendor: vs, coding, clean };
}
