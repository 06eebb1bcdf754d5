/**
 * Benchmark invoices derived from an earlier one: labelled duplicates (exact, re-keyed,
 * date-shifted, vendor variant, partial, line-level, rounding/tax) and hard negatives
 * (recurring monthly, credit memo reversal, rebill after credit, number reused years later,
 * same amount and date at another vendor, separate partial shipment). Each derived invoice
 * records what differs from its original in `changes` (vocabulary in `invoices.ts` and
 * `datasets/benchmark/README.md`).
 */
import type { Invoice, InvoiceLine } from '../../core/invoice.js';
import type { Rng } from '../synth.js';
import { addDays, dayNumber, monthEnd, sumLines } from '../synth.js';
import { buildInvoice, drawLineCount, type Draft, type Hospital, type VendorState } from './invoices.js';
import { describeLine, reprice, type CodingLabel } from './lines.js';
import { drawNumberEdits, formatNumberEdit } from './number-edits.js';
import { abbreviateMore, itemDescription } from './phrasing.js';
import { reorder } from '../synth.js';
import { combinePerturbations } from './combine.js';
import type { DuplicateKind, HardNegativeKind } from './types.js';

/** What derivations need besides the original. */
export interface DeriveContext {
  rng: Rng;
  hospital: Hospital;
  /** Other vendors of the split with the same service line (for same-amount-other-vendor); never empty. */
  peers: (vs: VendorState) => VendorState[];
  /** First and last day of the split's window. */
  window: { start: number; end: number };
  /** The random stream of a duplicate's extra changes (`combine.ts`), by key; none: no combinations. */
  combineRng?: (key: string) => Rng;
  /** The random stream of a line-level duplicate's copy changes ({@link alterCopiedLines}), by key; none: exact copies. */
  copyRng?: (key: string) => Rng;
}

/**
 * Rate of the change a line-level duplicate's copied lines undergo (drawn from their own
 * stream, so every other kind stays byte-identical): the copied line re-keyed with a reworded
 * description and no code (`reworded`). Whether lines carry service dates is the vendor's print
 * format (`print-format.ts`), on all its invoices.
 */
export const LINE_COPY_CHANGE_RATES = { reworded: 0.3 } as const;

/** A re-keyed description of the same item: abbreviated, words reordered, casing changed. */
function reword(text: string, rng: Rng): string {
  const forms = [abbreviateMore(text), reorder(abbreviateMore(text)), text.toLowerCase()];
  const alt = forms.find((f) => f !== text && rng.chance(0.7)) ?? `${text} ea`;
  return rng.chance(0.5) ? alt.toUpperCase() : alt;
}

/**
 * Changes of a line-level duplicate's copied lines (1-based positions `at` on the new invoice):
 * each is reworded and loses its code at {@link LINE_COPY_CHANGE_RATES}`.reworded` (its coding
 * label goes with the code).
 * @returns the `changes` entries (`lines:reworded:[..]`).
 */
function alterCopiedLines(d: Draft, at: readonly number[], rng: Rng): string[] {
  const changes: string[] = [];
  const reworded = at.filter(() => rng.chance(LINE_COPY_CHANGE_RATES.reworded));
  for (const n of reworded) {
    const line = d.invoice.lines[n - 1]!;
    line.description = reword(line.description, rng);
    delete line.code;
    delete line.modifiers;
    d.clean[n - 1] = structuredClone(line);
    d.coding = d.coding.filter((c) => c.line_number !== n);
  }
  if (reworded.length > 0) changes.push(`lines:reworded:${JSON.stringify(reworded)}`);
  return changes;
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
      const copies: (typeof order)[number][] = [];
      for (const i of copiedIdx) {
        const at = rng.int(0, order.length);
        const line = o.lines[i] as InvoiceLine;
        copies.push({
          line: structuredClone(line),
          clean: structuredClone(orig.clean[i] as InvoiceLine),
          coding: orig.coding.find((c) => c.line_number === line.line_number) ?? null,
        });
        order.splice(at, 0, copies[copies.length - 1]!);
      }
      d = asDraft(fresh, orig, rng);
      d.invoice.lines = order.map((x, k) => ({ ...x.line, line_number: k + 1 }));
      d.clean = order.map((x, k) => ({ ...x.clean, line_number: k + 1 }));
      d.coding = order.flatMap((x, k) => (x.coding ? [{ ...x.coding, line_number: k + 1 }] : []));
      retotal(d.invoice);
      // The new line number of each copied line, in the order of `copiedNumbers`.
      const at = copies.map((c) => order.indexOf(c) + 1);
      changes.push('invoice_number:new', `invoice_date:+${delay}d`);
      changes.push(
        `lines:copied:${JSON.stringify(copiedNumbers)}`,
        `lines:copied_to:${JSON.stringify(at)}`,
        `lines:new:${fresh.invoice.lines.length}`,
      );
      if (g.copyRng) changes.push(...alterCopiedLines(d, at, g.copyRng(origId)));
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
  const combined = g.combineRng
    ? combinePerturbations(kind, d, changes, g.combineRng(`${kind}:${origId}`), g.window)
    : [];
  d.duplicate = { kind, of: origId, changes, ...(combined.length > 0 ? { combined } : {}) };
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
