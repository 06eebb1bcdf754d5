/**
 * Benchmark invoices: the base invoice of a vendor, and the invoices derived from an earlier
 * one, labelled duplicates and hard negatives. Each derived invoice records what differs from
 * its original in `changes` (vocabulary in `datasets/benchmark/README.md`):
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
import { addDays, cumulative, dayNumber, isoOfDay, monthEnd, sumLines } from '../synth.js';
import { describeLine, generateLine, reprice, type CodingLabel, type LineContext } from './lines.js';
import { drawNumberEdits, formatNumberEdit } from './number-edits.js';
import { itemDescription } from './phrasing.js';
import { PROFILES, type ServiceLineProfile } from './profiles.js';
import type { BenchmarkLabel, DuplicateKind, HardNegativeKind } from './types.js';
import { VendorNumbering, type CatalogueEntry, type VendorProfile } from './vendors.js';

/** A vendor while invoices are generated: profile, numbering and line context. */
export class VendorState {
  readonly profile: ServiceLineProfile;
  readonly numbering: VendorNumbering;
  readonly cumWeights: number[];
  private readonly standingPo = new Map<string, string>();
  constructor(
    readonly v: VendorProfile,
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

// ---------------------------------------------------------------------------------------------
// Derived invoices
// ---------------------------------------------------------------------------------------------

/** What derivations need besides the original. */
export interface DeriveContext {
  rng: Rng;
  hospital: Hospital;
  /** Other vendors of the split with the same service line (for same-amount-other-vendor); never empty. */
  peers: (vs: VendorState) => VendorState[];
  /** First and last day of the split's window. */
  window: { start: number; end: number };
}

/** A deep copy of the original as a new draft (labels reset, lines and coding labels copied). */
function copyOf(orig: Draft, received: number): Draft {
  return {
    invoice: structuredClone(orig.invoice),
    vendor: orig.vendor,
    duplicate: null,
    hardNegative: null,
    coding: structuredClone(orig.coding),
    clean: structuredClone(orig.clean),
    received,
    tasks: [],
  };
}

function shiftDays(date: string, days: number): string {
  return addDays(date, days);
}

function signed(n: number): string {
  return n >= 0 ? `+${n}` : String(n);
}

/** Received day of a derived invoice dated `date`: after its own date and after the original. */
function receivedAfter(orig: Draft, date: string, rng: Rng, minGap = 1): number {
  return Math.max(dayNumber(date) + rng.int(0, 5), orig.received + minGap);
}

/** A freshly built invoice as a derived draft, received after the original. */
function asDraft(fresh: ReturnType<typeof buildInvoice>, orig: Draft, rng: Rng): Draft {
  return {
    ...fresh,
    duplicate: null,
    hardNegative: null,
    received: receivedAfter(orig, fresh.invoice.invoice_date, rng),
    tasks: [],
  };
}

function retotal(inv: Invoice): void {
  inv.total_cents = sumLines(inv.lines);
}

/** Keeps the lines at the given indexes, renumbered from 1, with their coding labels. */
function keepLines(d: Draft, indexes: readonly number[]): void {
  const numbers = indexes.map((i) => d.invoice.lines[i]?.line_number ?? -1);
  d.invoice.lines = indexes.map((i, k) => ({ ...(d.invoice.lines[i] as InvoiceLine), line_number: k + 1 }));
  d.clean = indexes.map((i, k) => ({ ...(d.clean[i] as InvoiceLine), line_number: k + 1 }));
  d.coding = d.coding
    .filter((c) => numbers.includes(c.line_number))
    .map((c) => ({ ...c, line_number: numbers.indexOf(c.line_number) + 1 }));
}

/** A duplicate of `orig` (written as `origId`) of the given kind. */
export function deriveDuplicate(kind: DuplicateKind, orig: Draft, origId: string, g: DeriveContext): Draft {
  const { rng } = g;
  const o = orig.invoice;
  const changes: string[] = [];
  let d: Draft;
  switch (kind) {
    case 'exact_resubmission':
      d = copyOf(orig, orig.received + rng.int(14, 60));
      break;
    case 'rekeyed_number': {
      d = copyOf(orig, orig.received + rng.int(7, 60));
      const { edits, result } = drawNumberEdits(o.invoice_number, rng);
      d.invoice.invoice_number = result;
      changes.push(...edits.map(formatNumberEdit));
      break;
    }
    case 'date_shifted': {
      let shift = rng.int(1, 10) * (rng.chance(0.5) ? 1 : -1);
      if (dayNumber(o.invoice_date) + shift < g.window.start) shift = -shift;
      d = copyOf(orig, orig.received + rng.int(10, 45));
      d.invoice.invoice_date = shiftDays(o.invoice_date, shift);
      changes.push(`invoice_date:${signed(shift)}d`);
      if (o.due_date) {
        d.invoice.due_date = shiftDays(o.due_date, shift);
        changes.push(`due_date:${signed(shift)}d`);
      }
      break;
    }
    case 'vendor_variant': {
      d = copyOf(orig, orig.received + rng.int(5, 60));
      const v = orig.vendor.v;
      const useId = v.alt_ids.length > 0 && rng.chance(0.6);
      if (useId) {
        const alt = rng.pick(v.alt_ids);
        d.invoice.vendor.id = alt;
        changes.push(`vendor.id:${JSON.stringify(o.vendor.id)}>${JSON.stringify(alt)}`);
      }
      if (!useId || rng.chance(0.5)) {
        const name = rng.pick(v.name_variants);
        d.invoice.vendor.name = name;
        changes.push(`vendor.name:${JSON.stringify(o.vendor.name)}>${JSON.stringify(name)}`);
      }
      break;
    }
    case 'partial_resubmission': {
      d = copyOf(orig, orig.received + rng.int(20, 90));
      const n = o.lines.length;
      const keep = rng
        .shuffle([...Array(n).keys()])
        .slice(0, rng.int(1, n - 1))
        .sort((a, b) => a - b);
      keepLines(d, keep);
      retotal(d.invoice);
      changes.push(`lines:subset:${JSON.stringify(keep.map((i) => o.lines[i]?.line_number))}`);
      changes.push(`total_cents:${o.total_cents}>${d.invoice.total_cents}`);
      break;
    }
    case 'line_level_duplicate': {
      const delay = rng.int(15, 75);
      const fresh = buildInvoice(orig.vendor, g.hospital, dayNumber(o.invoice_date) + delay, rng.int(1, 3));
      const copiedIdx = rng
        .shuffle([...Array(o.lines.length).keys()])
        .slice(0, rng.int(1, Math.min(2, o.lines.length)))
        .sort((a, b) => a - b);
      const copied = copiedIdx.map((i) => o.lines[i] as InvoiceLine);
      const copiedNumbers = copied.map((l) => l.line_number);
      const lines = [...fresh.invoice.lines];
      const clean = [...fresh.clean];
      const coding = fresh.coding.map((c) => ({ ...c }));
      // Where each copied line lands, then renumber everything from 1.
      const order: { line: InvoiceLine; clean: InvoiceLine; coding: CodingLabel | null }[] = lines.map(
        (l, i) => ({
          line: l,
          clean: clean[i] as InvoiceLine,
          coding: coding.find((c) => c.line_number === l.line_number) ?? null,
        }),
      );
      for (const i of copiedIdx) {
        const at = rng.int(0, order.length);
        const line = o.lines[i] as InvoiceLine;
        order.splice(at, 0, {
          line: structuredClone(line),
          clean: structuredClone(orig.clean[i] as InvoiceLine),
          coding: orig.coding.find((c) => c.line_number === line.line_number) ?? null,
        });
      }
      d = asDraft(fresh, orig, rng);
      d.invoice.lines = order.map((x, k) => ({ ...x.line, line_number: k + 1 }));
      d.clean = order.map((x, k) => ({ ...x.clean, line_number: k + 1 }));
      d.coding = order.flatMap((x, k) => (x.coding ? [{ ...x.coding, line_number: k + 1 }] : []));
      retotal(d.invoice);
      changes.push('invoice_number:new', `invoice_date:+${delay}d`);
      changes.push(
        `lines:copied:${JSON.stringify(copiedNumbers)}`,
        `lines:new:${fresh.invoice.lines.length}`,
      );
      break;
    }
    case 'amount_rounding_or_tax': {
      d = copyOf(orig, orig.received + rng.int(10, 45));
      if (o.total_cents % 100 !== 0 && rng.chance(0.5)) {
        d.invoice.total_cents = Math.round(o.total_cents / 100) * 100;
        changes.push(`total_cents:rounded:${o.total_cents}>${d.invoice.total_cents}`);
      } else {
        const rate = rng.pick([4, 4.5, 5, 6, 6.25, 6.5, 7, 7.25, 8.25]);
        const tax = Math.max(1, Math.round((o.total_cents * rate) / 100));
        const text =
          orig.vendor.v.description_style.casing === 'upper' ? `SALES TAX ${rate}%` : `Sales tax ${rate}%`;
        const taxLine: InvoiceLine = {
          line_number: Math.max(...o.lines.map((l) => l.line_number)) + 1,
          description: text,
          quantity: 1,
          unit_price_cents: tax,
          amount_cents: tax,
        };
        d.invoice.lines.push(taxLine);
        d.clean.push(structuredClone(taxLine));
        retotal(d.invoice);
        changes.push(`lines:tax:${rate}%`, `total_cents:${o.total_cents}>${d.invoice.total_cents}`);
      }
      break;
    }
  }
  d.duplicate = { kind, of: origId, changes };
  return d;
}

/** A hard negative related to `orig` (written as `origId`) of the given kind. */
export function deriveHardNegative(
  kind: HardNegativeKind,
  orig: Draft,
  origId: string,
  g: DeriveContext,
): Draft {
  const { rng } = g;
  const o = orig.invoice;
  const vs = orig.vendor;
  const changes: string[] = [];
  let d: Draft;
  switch (kind) {
    case 'recurring_monthly': {
      const period = o.service_period;
      if (!period) throw new Error('recurring_monthly needs a service period');
      const start = addDays(period.end, 1);
      const [y, m] = start.split('-').map(Number) as [number, number];
      const next = { start, end: monthEnd(y, m) };
      const delay = dayNumber(next.start) - dayNumber(period.start);
      const date = shiftDays(o.invoice_date, delay);
      d = copyOf(orig, receivedAfter(orig, date, rng));
      d.invoice.invoice_date = date;
      d.invoice.due_date = addDays(date, vs.v.terms.net_days);
      d.invoice.service_period = next;
      d.invoice.invoice_number = vs.numbering.next(date);
      if (d.invoice.po_number) d.invoice.po_number = vs.standingPoFor(date.slice(0, 4), g.hospital);
      for (const l of [...d.invoice.lines, ...d.clean]) l.service_date = next.start;
      changes.push('invoice_number:new', `invoice_date:+${delay}d`, 'service_period:+1m');
      break;
    }
    case 'credit_memo_reversal': {
      const date = shiftDays(o.invoice_date, rng.int(10, 60));
      d = copyOf(orig, receivedAfter(orig, date, rng));
      d.invoice.document_type = 'credit_memo';
      d.invoice.invoice_number = vs.numbering.credit(o.invoice_number);
      d.invoice.invoice_date = date;
      d.invoice.due_date = date;
      for (const l of [...d.invoice.lines, ...d.clean]) {
        l.quantity = -l.quantity;
        reprice(l);
      }
      retotal(d.invoice);
      changes.push(
        'document_type:credit_memo',
        'invoice_number:credit',
        `invoice_date:+${dayNumber(date) - dayNumber(o.invoice_date)}d`,
        'lines:negated',
      );
      break;
    }
    case 'rebill_after_credit':
      throw new Error('a rebill is derived from its credit memo: use deriveRebill');
    case 'number_reused_years_later': {
      const day = dayNumber(o.invoice_date);
      const delay = rng.int(365, Math.max(365, Math.min(1100, g.window.end - day)));
      const fresh = buildInvoice(vs, g.hospital, day + delay, drawLineCount(vs.profile, rng), {
        invoiceNumber: o.invoice_number,
      });
      d = asDraft(fresh, orig, rng);
      changes.push('invoice_number:reused', `invoice_date:+${delay}d`, 'lines:new');
      break;
    }
    case 'same_amount_date_other_vendor': {
      const peers = g.peers(vs);
      if (peers.length === 0) throw new Error(`vendor ${vs.v.id} has no peer of its service line`);
      const other = rng.pick(peers);
      d = copyOf(orig, orig.received + rng.int(0, 3));
      d.vendor = other;
      d.invoice.vendor = other.vendorBlock();
      d.invoice.invoice_number = other.numbering.next(o.invoice_date);
      d.invoice.due_date = addDays(o.invoice_date, other.v.terms.net_days);
      delete d.invoice.po_number;
      if (rng.chance(other.profile.poRate)) d.invoice.po_number = g.hospital.nextPo();
      d.invoice.facility_id = rng.pick(other.v.facilities);
      // The other vendor describes the items its own way.
      d.invoice.lines.forEach((l, i) => {
        const c = d.clean[i] as InvoiceLine;
        // Describe the item actually supplied: the true code when the billed one is wrong.
        const label = d.coding.find((x) => x.line_number === l.line_number);
        const billed = l.code?.value ?? '';
        const code = label?.true_code && label.true_code !== billed ? label.true_code : billed;
        const quantity = c.code?.value === code ? c.quantity : l.quantity;
        const own = other.v.catalogue.find((x) => x.code === code);
        const item = own ?? vs.v.catalogue.find((x) => x.code === code);
        const hcpcs = other.lines.cref.ref.hcpcs.get(code);
        const base =
          own?.description ??
          (hcpcs ? itemDescription(hcpcs, other.v.description_style, rng) : l.description);
        l.description = item ? describeLine(other.lines, base, item, quantity) : base;
        if (c.code?.value === code) c.description = l.description;
      });
      changes.push(
        'vendor:other',
        'invoice_number:new',
        `total_cents:${o.total_cents}>${d.invoice.total_cents}`,
      );
      break;
    }
    case 'separate_partial_shipment': {
      const delay = rng.int(2, 21);
      const date = shiftDays(o.invoice_date, delay);
      d = copyOf(orig, receivedAfter(orig, date, rng));
      d.invoice.invoice_number = vs.numbering.next(date);
      d.invoice.invoice_date = date;
      d.invoice.due_date = addDays(date, vs.v.terms.net_days);
      // The backordered part of the order: a strict subset of the items (at least two were
      // ordered), clean multi-unit items in a smaller quantity than the first shipment.
      const n = o.lines.length;
      const keep = rng
        .shuffle([...Array(n).keys()])
        .slice(0, rng.int(1, n - 1))
        .sort((a, b) => a - b);
      keepLines(d, keep);
      const labelled = new Set(d.coding.map((c) => c.line_number));
      const quantities: number[] = [];
      d.invoice.lines.forEach((l, i) => {
        const c = d.clean[i] as InvoiceLine;
        // Labelled lines keep their (defective) quantity; clean ones ship what was backordered.
        if (!labelled.has(l.line_number) && Number.isInteger(l.quantity) && l.quantity > 1) {
          l.quantity = rng.int(1, l.quantity - 1);
          c.quantity = l.quantity;
          reprice(l);
          reprice(c);
        }
        quantities.push(l.quantity);
        l.service_date = addDays(date, -rng.int(0, 3));
        c.service_date = l.service_date;
      });
      retotal(d.invoice);
      changes.push(
        'invoice_number:new',
        `invoice_date:+${delay}d`,
        `lines:subset:${JSON.stringify(keep.map((i) => o.lines[i]?.line_number))}`,
        `lines:quantities:${JSON.stringify(quantities)}`,
      );
      break;
    }
  }
  d.hardNegative = { kind, related: origId, changes };
  return d;
}

/**
 * The rebill after a credit memo: the credited original billed again, corrected (coding
 * exceptions fixed, else one line's quantity or price corrected), under a new number or the
 * original number with an `-R` suffix. Related to the original, not to the credit memo.
 */
export function deriveRebill(credit: Draft, original: { draft: Draft; id: string }, g: DeriveContext): Draft {
  const { rng } = g;
  const orig = original.draft;
  const o = orig.invoice;
  const vs = orig.vendor;
  const date = shiftDays(credit.invoice.invoice_date, rng.int(2, 20));
  const d = copyOf(orig, Math.max(dayNumber(date) + rng.int(0, 5), credit.received + 1));
  d.invoice.invoice_date = date;
  d.invoice.due_date = addDays(date, vs.v.terms.net_days);
  const suffixed = rng.chance(0.3);
  d.invoice.invoice_number = suffixed ? `${o.invoice_number}-R`.slice(0, 64) : vs.numbering.next(date);
  const changes = [
    suffixed ? 'invoice_number:suffix-R' : 'invoice_number:new',
    `invoice_date:+${dayNumber(date) - dayNumber(o.invoice_date)}d`,
  ];
  if (orig.coding.length > 0) {
    const fixed = orig.coding.map((c) => c.line_number);
    d.invoice.lines = structuredClone(orig.clean);
    d.coding = [];
    changes.push(`lines:corrected:${JSON.stringify(fixed)}`);
  } else {
    const i = rng.int(0, d.invoice.lines.length - 1);
    const l = d.invoice.lines[i] as InvoiceLine;
    const c = d.clean[i] as InvoiceLine;
    if (Number.isInteger(l.quantity) && l.quantity > 1) l.quantity -= 1;
    else l.unit_price_cents = Math.max(1, Math.round(l.unit_price_cents * 0.95));
    reprice(l);
    c.quantity = l.quantity;
    c.unit_price_cents = l.unit_price_cents;
    reprice(c);
    changes.push(`lines:corrected:${JSON.stringify([l.line_number])}`);
  }
  retotal(d.invoice);
  d.hardNegative = { kind: 'rebill_after_credit', related: original.id, changes };
  return d;
}
