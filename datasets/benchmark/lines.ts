/**
 * Invoice lines of the benchmark and the coding exceptions seeded on them.
 *
 * A clean line bills an active catalogue code at the vendor's list price (CMS fee x vendor
 * markup 0.88-1.22 x 0.97-1.03, raised 0-4% each later year) in a plausible quantity. A line with a coding
 * exception carries exactly one defect, checkable against the reference data:
 *
 * | kind | defect |
 * | --- | --- |
 * | `wrong_code_same_family` | billed code is a different active code of the same HCPCS family (first 3 characters) and BETOS category; description and price are those of the true code |
 * | `outside_vendor_categories` | billed code (correctly described and priced) of another service line, outside the vendor master's approvals (the BETOS codes of the vendor's categories: a code of an approved BETOS code in another section is billed as a clean line) |
 * | `unit_dose_mismatch` | ASP drug billed with quantity = the dose in the drug's measure (mg, ml, units) instead of CMS billing units |
 * | `price_outlier` | unit price >= k x the CMS fee of the code/modifier (k = `priceOutlierK`, default 3) |
 * | `implausible_quantity` | quantity >= max(10, 10 x the highest plausible quantity for the code) |
 * | `terminated_code` | billed code was terminated in HCPCS before the line's date of service |
 * | `unknown_code` | billed code is a keying error of the true code that does not exist in HCPCS 2025-01 |
 */
import type { InvoiceLine } from '../../core/invoice.js';
import type { HcpcsCode, ReferenceData } from '../../core/reference.js';
import type { Rng } from '../synth.js';
import { addTypo, doseText, itemDescription } from './phrasing.js';
import { categoryKeyOfCode, parseCmsBillingUnit, type PoolItem } from './profiles.js';
import { codeApproved } from '../../core/vendor.js';
import { vendorMasterApprovals, type CatalogueEntry, type BenchmarkVendor } from './vendors.js';
import { CODING_KINDS, type BenchmarkLabel, type CodingKind } from './types.js';

/** A coding label of one line. */
export type CodingLabel = BenchmarkLabel['coding'][number];

/** Rates of the coding exceptions: share of the lines eligible for each kind. */
export type CodingRates = Record<CodingKind, number>;

/** Reference lookups the line builder needs, computed once per reference edition. */
export class CodingReference {
  private readonly siblingCache = new Map<string, string[]>();
  private readonly terminatedByCategory = new Map<string, HcpcsCode[]>();
  private readonly active: HcpcsCode[];
  constructor(readonly ref: ReferenceData) {
    this.active = [...ref.hcpcs.values()].filter((c) => c.terminationDate === null);
    for (const c of ref.hcpcs.values()) {
      if (c.terminationDate === null) continue;
      const key = categoryKeyOfCode(c);
      const list = this.terminatedByCategory.get(key) ?? [];
      list.push(c);
      this.terminatedByCategory.set(key, list);
    }
    for (const list of this.terminatedByCategory.values())
      list.sort(
        (a, b) =>
          (a.terminationDate ?? '').localeCompare(b.terminationDate ?? '') || a.code.localeCompare(b.code),
      );
  }

  code(code: string): HcpcsCode {
    const c = this.ref.hcpcs.get(code);
    if (!c) throw new Error(`code ${code} is not in the reference data`);
    return c;
  }

  /**
   * Active codes of the same family as `code` (same first 3 characters and BETOS category),
   * nearest code number first, added on or before `asOf`.
   */
  siblings(code: string, asOf: string): string[] {
    const key = `${code}@${asOf}`;
    const hit = this.siblingCache.get(key);
    if (hit) return hit;
    const me = this.code(code);
    const num = (c: string) => Number.parseInt(c.slice(1).replace(/\D/g, ''), 10) || 0;
    const out = this.active
      .filter(
        (c) =>
          c.code !== code &&
          c.code.slice(0, 3) === code.slice(0, 3) &&
          c.betos === me.betos &&
          (c.addedDate === null || c.addedDate <= asOf),
      )
      .sort(
        (a, b) =>
          Math.abs(num(a.code) - num(code)) - Math.abs(num(b.code) - num(code)) ||
          a.code.localeCompare(b.code),
      )
      .map((c) => c.code);
    this.siblingCache.set(key, out);
    return out;
  }

  private readonly terminatedCache = new Map<string, HcpcsCode[]>();

  /** Codes of the given categories terminated before `date` (exclusive), oldest first. */
  terminatedBefore(categories: readonly string[], date: string): HcpcsCode[] {
    return this.terminatedList(categories).slice(0, this.terminatedCount(categories, date));
  }

  /** How many codes of the given categories were terminated before `date`. */
  terminatedCount(categories: readonly string[], date: string): number {
    const all = this.terminatedList(categories);
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((all[mid]?.terminationDate ?? '') < date) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private terminatedList(categories: readonly string[]): HcpcsCode[] {
    const key = categories.join(',');
    let all = this.terminatedCache.get(key);
    if (!all) {
      all = categories
        .flatMap((k) => this.terminatedByCategory.get(k) ?? [])
        .filter((c) => c.addedDate === null || c.addedDate < (c.terminationDate ?? ''))
        .sort(
          (a, b) =>
            (a.terminationDate ?? '').localeCompare(b.terminationDate ?? '') || a.code.localeCompare(b.code),
        );
      this.terminatedCache.set(key, all);
    }
    return all;
  }

  /**
   * A keying error of `code` that is not a HCPCS code at all: two adjacent digits swapped, the
   * last digit changed, or the section letter struck as its neighbour. Null when none is found.
   */
  unknownVariant(code: string, rng: Rng): string | null {
    for (let attempt = 0; attempt < 20; attempt++) {
      const chars = [...code];
      const op = rng.int(0, 2);
      if (op === 0) {
        const i = rng.int(1, 3);
        [chars[i], chars[i + 1]] = [chars[i + 1] as string, chars[i] as string];
      } else if (op === 1) {
        chars[4] = String((Number(chars[4]) + rng.int(1, 9)) % 10);
      } else {
        const letters = 'ABCEGHJKLMPQRSTUV';
        chars[0] = rng.pick([...letters]);
      }
      const candidate = chars.join('');
      if (candidate !== code && /^[A-Z][0-9]{4}$/.test(candidate) && !this.ref.hcpcs.has(candidate))
        return candidate;
    }
    return null;
  }
}

/** Everything a line needs from its invoice. */
export interface LineContext {
  cref: CodingReference;
  vendor: BenchmarkVendor;
  /** Approved category keys of the vendor (`section:betos`), sorted. */
  approved: readonly string[];
  /** Codes of other service lines, for lines billed outside the vendor's categories. */
  foreign: readonly PoolItem[];
  rates: CodingRates;
  priceOutlierK: number;
  /** Window start of the vendor's split: codes added later are not billed. */
  asOf: string;
  rng: Rng;
}

/** A generated line with its coding label (if any) and, for a defective line, its clean form. */
export interface GeneratedLine {
  line: InvoiceLine;
  coding: CodingLabel | null;
  /** The line as it would have been billed without the exception (used by rebills). */
  clean: InvoiceLine;
  /** Highest plausible quantity of the billed item. */
  qtyMax: number;
}

/** True for a Part B drug item priced per ASP billing unit. */
export function isDrug(item: PoolItem): boolean {
  return item.feeSource === 'ASP';
}

function drawQuantity(item: PoolItem, rng: Rng): number {
  const [lo, hi] = item.qty;
  if (lo === hi) return lo;
  if (isDrug(item)) return Math.max(lo, Math.min(hi, Math.round(rng.logUniform(lo, hi + 0.999))));
  // Small quantities are commoner than large ones.
  return lo + Math.floor((hi - lo + 1) * rng.float() ** 1.6);
}

/**
 * The vendor's unit price of an item on a date: its catalogue list price raised by the yearly
 * increase for every calendar year after the first of the vendor's window (a price list, so
 * repeat purchases of an item cost the same within a year). Items outside the catalogue are
 * priced at fee x the vendor's markup x 0.97-1.03.
 */
export function unitPrice(
  item: PoolItem | CatalogueEntry,
  vendor: BenchmarkVendor,
  date: string,
  rng: Rng,
): number {
  const base =
    'price_cents' in item
      ? item.price_cents
      : Math.round(item.feeCents * vendor.price_markup * rng.between(0.97, 1.03));
  const years = Math.max(0, Number(date.slice(0, 4)) - Number(vendor.active_from.slice(0, 4)));
  return Math.max(1, Math.round(base * (1 + vendor.annual_price_increase) ** years));
}

/**
 * Description of a line: the item-master text `base`, the dose of a drug (`quantity` billing
 * units x the unit size) or the rental suffix, and an occasional typo (vendor's rate).
 */
export function describeLine(ctx: LineContext, base: string, item: PoolItem, quantity: number): string {
  const style = ctx.vendor.description_style;
  let text = base;
  const unit = parseCmsBillingUnit(item.billingUnit);
  if (isDrug(item) && unit)
    text += doseText(style, Math.round(quantity * unit.size * 1000) / 1000, unit.measure);
  if (item.modifier === 'RR') text += style.rental_suffix;
  if (style.typo_rate > 0 && ctx.rng.chance(style.typo_rate)) text = addTypo(text, ctx.rng);
  return text.slice(0, 1000);
}

function build(
  ctx: LineContext,
  item: PoolItem,
  description: string,
  lineNumber: number,
  serviceDate: string,
  quantity: number,
  price: number,
): InvoiceLine {
  const line: InvoiceLine = {
    line_number: lineNumber,
    description: describeLine(ctx, description, item, quantity),
    code: { system: 'HCPCS', value: item.code },
    quantity,
    unit_price_cents: price,
    amount_cents: Math.round(quantity * price),
    service_date: serviceDate,
  };
  if (item.modifier !== '') line.modifiers = [item.modifier];
  return line;
}

/** Re-derives the extended amount after a quantity or price change. */
export function reprice(line: InvoiceLine): void {
  line.amount_cents = Math.round(line.quantity * line.unit_price_cents);
}

/** Which coding kinds a line can carry. */
function eligibleKinds(
  ctx: LineContext,
  item: PoolItem,
  serviceDate: string,
  quantity: number,
): CodingKind[] {
  const unit = parseCmsBillingUnit(item.billingUnit);
  const out: CodingKind[] = [];
  for (const kind of CODING_KINDS) {
    switch (kind) {
      case 'wrong_code_same_family':
        if (ctx.cref.siblings(item.code, ctx.asOf).length > 0) out.push(kind);
        break;
      case 'outside_vendor_categories':
        if (ctx.foreign.length > 0) out.push(kind);
        break;
      case 'unit_dose_mismatch':
        if (isDrug(item) && unit && (unit.size >= 2 || unit.size <= 0.5) && quantity * unit.size < 1_000_000)
          out.push(kind);
        break;
      case 'price_outlier':
        if (item.feeSource !== 'LIST') out.push(kind);
        break;
      case 'implausible_quantity':
        if (!isDrug(item)) out.push(kind);
        break;
      case 'terminated_code':
        if (ctx.cref.terminatedCount(ctx.approved, serviceDate) > 0) out.push(kind);
        break;
      case 'unknown_code':
        out.push(kind);
        break;
    }
  }
  return out;
}

/**
 * Draws one line of `item` for the vendor, then (with the per-kind rates over eligible lines)
 * at most one coding exception. One uniform draw picks the kind, so kinds never overlap.
 */
export function generateLine(
  ctx: LineContext,
  item: CatalogueEntry,
  lineNumber: number,
  serviceDate: string,
): GeneratedLine {
  const { rng } = ctx;
  const quantity = drawQuantity(item, rng);
  const price = unitPrice(item, ctx.vendor, serviceDate, rng);
  const clean = build(ctx, item, item.description, lineNumber, serviceDate, quantity, price);
  const qtyMax = item.qty[1];
  const u = rng.float();
  let acc = 0;
  let kind: CodingKind | null = null;
  for (const k of eligibleKinds(ctx, item, serviceDate, quantity)) {
    acc += ctx.rates[k];
    if (u < acc) {
      kind = k;
      break;
    }
  }
  if (kind === null) return { line: clean, coding: null, clean, qtyMax };
  const line: InvoiceLine = structuredClone(clean);
  const label = (true_code: string | null, evidence: Record<string, string | number>): GeneratedLine => ({
    line,
    coding: { line_number: lineNumber, kind: kind as CodingKind, true_code, evidence },
    clean,
    qtyMax,
  });
  switch (kind) {
    case 'wrong_code_same_family': {
      const siblings = ctx.cref.siblings(item.code, ctx.asOf).slice(0, 3);
      const billed = rng.pick(siblings);
      line.code = { system: 'HCPCS', value: billed };
      return label(item.code, { billed_instead_of: item.code });
    }
    case 'outside_vendor_categories': {
      const other = rng.pick(ctx.foreign);
      const code = ctx.cref.code(other.code);
      const q = drawQuantity(other, rng);
      const p = unitPrice(other, ctx.vendor, serviceDate, rng);
      const built = build(
        ctx,
        other,
        itemDescription(code, ctx.vendor.description_style, rng),
        lineNumber,
        serviceDate,
        q,
        p,
      );
      Object.assign(line, built);
      if (!built.modifiers) delete line.modifiers;
      // A code of another section whose BETOS category the vendor is approved for is inside the
      // vendor master the benchmark registers (vendors.ts `vendorMasterApprovals`): billing it
      // changes nothing the service can see, so the line is a clean line of that item.
      if (codeApproved(vendorMasterApprovals(ctx.vendor), code.code, code.betos))
        return { line, coding: null, clean: line, qtyMax: other.qty[1] };
      return label(null, { category: categoryKeyOfCode(code), replaced: item.code });
    }
    case 'unit_dose_mismatch': {
      const unit = parseCmsBillingUnit(item.billingUnit);
      if (!unit) throw new Error('unit_dose_mismatch needs a billing unit');
      line.quantity = Math.round(quantity * unit.size * 1000) / 1000;
      reprice(line);
      return label(item.code, { billing_unit: item.billingUnit ?? '', units_expected: quantity });
    }
    case 'price_outlier': {
      const ratio = rng.between(ctx.priceOutlierK, ctx.priceOutlierK * 2.5);
      line.unit_price_cents = Math.ceil(item.feeCents * ratio);
      reprice(line);
      return label(item.code, {
        fee_cents: item.feeCents,
        fee_source: item.feeSource,
        fee_modifier: item.modifier,
        ratio: Math.round((line.unit_price_cents / item.feeCents) * 100) / 100,
      });
    }
    case 'implausible_quantity': {
      line.quantity = Math.round(Math.max(10, 10 * qtyMax) * rng.between(1, 3));
      reprice(line);
      return label(item.code, { plausible_max: qtyMax });
    }
    case 'terminated_code': {
      const candidates = ctx.cref.terminatedBefore(ctx.approved, serviceDate);
      const code = rng.pick(candidates);
      line.code = { system: 'HCPCS', value: code.code };
      line.description = describeLine(
        ctx,
        itemDescription(code, ctx.vendor.description_style, rng),
        item,
        quantity,
      );
      return label(null, { termination_date: code.terminationDate ?? '', replaced: item.code });
    }
    case 'unknown_code': {
      const keyed = ctx.cref.unknownVariant(item.code, rng);
      if (keyed === null) return { line: clean, coding: null, clean, qtyMax };
      line.code = { system: 'HCPCS', value: keyed };
      return label(item.code, { keyed_from: item.code });
    }
  }
}
