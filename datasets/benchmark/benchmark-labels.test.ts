/**
 * The benchmark generator's labels, on a generated benchmark (test/generated-benchmark.ts):
 * duplicates of each kind differ from their original by the documented change only, hard
 * negatives are not duplicates by construction, coding labels have their defect against the
 * reference data, and combined perturbations are documented in the changes.
 */
import { describe, expect, it } from 'vitest';
import type { Invoice, InvoiceLine } from '../../core/invoice.js';
import { dayNumber } from '../synth.js';
import { COMBINABLE_KINDS, combinationOf, EXTRA_CHANGES } from './combine.js';
import { applyNumberEdit, parseNumberEdit } from './number-edits.js';
import { categoryKeyOfCode, parseCmsBillingUnit, plausibleQuantity, PROFILES } from './profiles.js';
import type { BenchmarkRecord } from './types.js';
import { vendorMasterApprovals, type BenchmarkVendor } from './vendors.js';
import { codeApproved } from '../../core/vendor.js';
import {
  byId,
  card,
  get,
  records,
  ref,
  useGeneratedBenchmark,
  vendorOf,
} from '../../test/generated-benchmark.js';

useGeneratedBenchmark();

/** JSON pointers of the leaves that differ between two values. */
function diff(a: unknown, b: unknown, path = ''): string[] {
  if (a === b) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return [path || '/'];
  if (Array.isArray(a) !== Array.isArray(b)) return [path];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) =>
    diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}/${k}`),
  );
}

function sameExceptNumber(a: InvoiceLine, b: InvoiceLine): boolean {
  return diff({ ...a, line_number: 0 }, { ...b, line_number: 0 }).length === 0;
}

/** Duplicates of one kind carrying that change alone (the combined ones are tested below). */
const withKind = (kind: string) =>
  records.filter((r) => r.label.duplicate?.kind === kind && !r.label.duplicate.combined);
const negatives = (kind: string) => records.filter((r) => r.label.hard_negative?.kind === kind);

describe('benchmark generator: duplicate labels', () => {
  it('exact resubmissions equal their original except invoice_id', () => {
    const dups = withKind('exact_resubmission');
    expect(dups.length).toBeGreaterThan(0);
    for (const d of dups) {
      const o = get(d.label.duplicate?.of as string);
      expect(diff(d.invoice, o.invoice)).toEqual(['/invoice_id']);
      expect(d.label.duplicate?.changes).toEqual([]);
    }
  });

  it('re-keyed numbers differ only in invoice_number, by the documented edits (replayed)', () => {
    const dups = withKind('rekeyed_number');
    expect(dups.length).toBeGreaterThan(0);
    for (const d of dups) {
      const o = get(d.label.duplicate?.of as string);
      expect(diff(d.invoice, o.invoice).sort()).toEqual(['/invoice_id', '/invoice_number']);
      const changes = d.label.duplicate?.changes ?? [];
      expect(changes.length).toBeGreaterThan(0);
      let n = o.invoice.invoice_number;
      for (const c of changes) {
        const edit = parseNumberEdit(c);
        expect(edit, c).not.toBeNull();
        n = applyNumberEdit(n, edit as NonNullable<typeof edit>);
      }
      expect(n).toBe(d.invoice.invoice_number);
    }
  });

  it('date-shifted duplicates move invoice and due date by the documented days, nothing else', () => {
    for (const d of withKind('date_shifted')) {
      const o = get(d.label.duplicate?.of as string);
      expect(diff(d.invoice, o.invoice).sort()).toEqual(['/due_date', '/invoice_date', '/invoice_id']);
      const shift = Number(/^invoice_date:([+-]\d+)d$/.exec(d.label.duplicate?.changes[0] ?? '')?.[1]);
      expect(shift).not.toBe(0);
      expect(Math.abs(shift)).toBeLessThanOrEqual(10);
      expect(dayNumber(d.invoice.invoice_date) - dayNumber(o.invoice.invoice_date)).toBe(shift);
      expect(dayNumber(d.invoice.due_date as string) - dayNumber(o.invoice.due_date as string)).toBe(shift);
    }
  });

  it('vendor variants change only the vendor id (to an alternate id) and/or name (to a known variant)', () => {
    const dups = withKind('vendor_variant');
    expect(dups.length).toBeGreaterThan(0);
    for (const d of dups) {
      const o = get(d.label.duplicate?.of as string);
      const v = vendorOf.get(d.label.vendor_profile) as BenchmarkVendor;
      const changed = diff(d.invoice, o.invoice).filter((p) => p !== '/invoice_id');
      expect(changed.length).toBeGreaterThan(0);
      for (const p of changed) expect(['/vendor/id', '/vendor/name']).toContain(p);
      if (changed.includes('/vendor/id')) expect(v.alt_ids).toContain(d.invoice.vendor.id);
      if (changed.includes('/vendor/name')) expect(v.name_variants).toContain(d.invoice.vendor.name);
      expect(d.label.duplicate?.changes).toHaveLength(changed.length);
    }
  });

  it('partial resubmissions bill a strict subset of the original lines, renumbered, same header', () => {
    for (const d of withKind('partial_resubmission')) {
      const o = get(d.label.duplicate?.of as string);
      const kept = JSON.parse((d.label.duplicate?.changes[0] ?? '').replace('lines:subset:', '')) as number[];
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThan(o.invoice.lines.length);
      kept.forEach((n, i) => {
        const ol = o.invoice.lines.find((l) => l.line_number === n) as InvoiceLine;
        expect(sameExceptNumber(d.invoice.lines[i] as InvoiceLine, ol)).toBe(true);
        expect(d.invoice.lines[i]?.line_number).toBe(i + 1);
      });
      const header = diff({ ...d.invoice, lines: [] }, { ...o.invoice, lines: [] }).sort();
      expect(header).toEqual(['/invoice_id', '/total_cents']);
    }
  });

  it('line-level duplicates repeat one or two earlier lines exactly on a new invoice of the vendor', () => {
    const dups = withKind('line_level_duplicate');
    expect(dups.length).toBeGreaterThan(0);
    for (const d of dups) {
      const o = get(d.label.duplicate?.of as string);
      const copied = JSON.parse(
        (d.label.duplicate?.changes.find((c) => c.startsWith('lines:copied:')) ?? '').replace(
          'lines:copied:',
          '',
        ),
      ) as number[];
      const list = (prefix: string): number[] =>
        JSON.parse(
          d.label.duplicate?.changes.find((c) => c.startsWith(prefix))?.slice(prefix.length) ?? '[]',
        ) as number[];
      const to = list('lines:copied_to:');
      const reworded = list('lines:reworded:');
      const undated = d.label.duplicate?.changes.includes('lines:undated') ?? false;
      expect(to).toHaveLength(copied.length);
      copied.forEach((n, j) => {
        const ol = o.invoice.lines.find((l) => l.line_number === n) as InvoiceLine;
        const nl = d.invoice.lines[to[j]! - 1]!;
        // A reworded copy loses its code and description; an undated invoice its service dates.
        const expected = {
          ...ol,
          ...(reworded.includes(to[j]!)
            ? { description: nl.description, code: undefined, modifiers: undefined }
            : {}),
          ...(undated ? { service_date: undefined } : {}),
        };
        expect(
          sameExceptNumber(JSON.parse(JSON.stringify(nl)), JSON.parse(JSON.stringify(expected))),
          `${d.invoice.invoice_id} copies line ${n}`,
        ).toBe(true);
        if (reworded.includes(to[j]!)) expect(nl.description).not.toBe(ol.description);
      });
      expect(d.label.vendor_profile).toBe(o.label.vendor_profile);
      expect(d.invoice.invoice_number).not.toBe(o.invoice.invoice_number);
      expect(d.invoice.invoice_date > o.invoice.invoice_date).toBe(true);
    }
  });

  it('amount duplicates round the total to whole dollars or add one sales-tax line', () => {
    for (const d of withKind('amount_rounding_or_tax')) {
      const o = get(d.label.duplicate?.of as string);
      const changed = diff({ ...d.invoice, lines: [] }, { ...o.invoice, lines: [] }).sort();
      expect(changed).toEqual(['/invoice_id', '/total_cents']);
      if (d.label.duplicate?.changes[0]?.startsWith('total_cents:rounded:')) {
        expect(d.invoice.lines).toEqual(o.invoice.lines);
        expect(d.invoice.total_cents % 100).toBe(0);
        expect(Math.abs(d.invoice.total_cents - o.invoice.total_cents)).toBeLessThanOrEqual(50);
      } else {
        expect(d.invoice.lines.slice(0, -1)).toEqual(o.invoice.lines);
        const tax = d.invoice.lines.at(-1) as InvoiceLine;
        expect(tax.code).toBeUndefined();
        expect(tax.description).toMatch(/sales tax/i);
        const rate = tax.amount_cents / o.invoice.total_cents;
        expect(rate).toBeGreaterThan(0.035);
        expect(rate).toBeLessThan(0.09);
      }
    }
  });
});

describe('benchmark generator: hard negatives are not duplicates by construction', () => {
  it('recurring rentals bill the next service period under a new number', () => {
    const ns = negatives('recurring_monthly');
    expect(ns.length).toBeGreaterThan(0);
    for (const n of ns) {
      const o = get(n.label.hard_negative?.related as string);
      const p = n.invoice.service_period as NonNullable<Invoice['service_period']>;
      const q = o.invoice.service_period as NonNullable<Invoice['service_period']>;
      expect(dayNumber(p.start)).toBe(dayNumber(q.end) + 1);
      expect(n.invoice.invoice_number).not.toBe(o.invoice.invoice_number);
      expect(n.invoice.total_cents).toBe(o.invoice.total_cents);
      n.invoice.lines.forEach((l, i) => {
        const earlier = o.invoice.lines[i]!;
        // A new month is a new delivery: a vendor that prints delivery references prints a new one.
        expect(diff(l, earlier).filter((x) => x !== '/service_date' && x !== '/delivery_reference')).toEqual(
          [],
        );
        if (l.delivery_reference !== undefined)
          expect(l.delivery_reference).not.toBe(earlier.delivery_reference);
      });
    }
  });

  it('credit memos reverse their invoice: negative quantities and total, document type credit_memo', () => {
    for (const n of negatives('credit_memo_reversal')) {
      const o = get(n.label.hard_negative?.related as string);
      expect(n.invoice.document_type).toBe('credit_memo');
      expect(o.invoice.document_type).toBe('invoice');
      expect(n.invoice.total_cents).toBe(-o.invoice.total_cents);
      n.invoice.lines.forEach((l, i) => expect(l.quantity).toBe(-(o.invoice.lines[i]?.quantity ?? 0)));
    }
  });

  it('rebills follow a credit memo of the same original and correct it', () => {
    const ns = negatives('rebill_after_credit');
    expect(ns.length).toBeGreaterThan(0);
    for (const n of ns) {
      const related = n.label.hard_negative?.related as string;
      const credit = records.find(
        (r) =>
          r.label.hard_negative?.kind === 'credit_memo_reversal' && r.label.hard_negative.related === related,
      );
      expect(credit, `credit memo before rebill ${n.invoice.invoice_id}`).toBeDefined();
      expect((credit as BenchmarkRecord).label.seq).toBeLessThan(n.label.seq);
      expect(n.label.coding).toEqual([]);
      const o = get(related);
      expect(diff(n.invoice.lines, o.invoice.lines).length).toBeGreaterThan(0);
    }
  });

  it('reused numbers come back at least a year later on other lines', () => {
    for (const n of negatives('number_reused_years_later')) {
      const o = get(n.label.hard_negative?.related as string);
      expect(n.invoice.invoice_number).toBe(o.invoice.invoice_number);
      expect(n.invoice.vendor.id).toBe(o.invoice.vendor.id);
      expect(dayNumber(n.invoice.invoice_date) - dayNumber(o.invoice.invoice_date)).toBeGreaterThanOrEqual(
        365,
      );
    }
  });

  it('same amount and date at another vendor: a different vendor in every identifier', () => {
    for (const n of negatives('same_amount_date_other_vendor')) {
      const o = get(n.label.hard_negative?.related as string);
      expect(n.invoice.total_cents).toBe(o.invoice.total_cents);
      expect(n.invoice.invoice_date).toBe(o.invoice.invoice_date);
      expect(n.label.vendor_profile).not.toBe(o.label.vendor_profile);
      expect(n.invoice.vendor.id).not.toBe(o.invoice.vendor.id);
      expect(n.invoice.vendor.tax_id).not.toBe(o.invoice.vendor.tax_id);
      expect(n.invoice.vendor.name).not.toBe(o.invoice.vendor.name);
    }
  });

  it('separate partial shipments share vendor and PO but have their own number and date', () => {
    for (const n of negatives('separate_partial_shipment')) {
      const o = get(n.label.hard_negative?.related as string);
      expect(n.invoice.po_number).toBeDefined();
      expect(n.invoice.po_number).toBe(o.invoice.po_number);
      expect(n.invoice.invoice_number).not.toBe(o.invoice.invoice_number);
      expect(n.invoice.invoice_date > o.invoice.invoice_date).toBe(true);
      // The backorder: fewer items than the first shipment, none in a larger quantity.
      expect(n.invoice.lines.length).toBeLessThan(o.invoice.lines.length);
      for (const l of n.invoice.lines) {
        const first = o.invoice.lines.find(
          (x) => x.code?.value === l.code?.value && x.description === l.description,
        );
        expect(first, `${n.invoice.invoice_id} ships an item of the first shipment`).toBeDefined();
        expect(Math.abs(l.quantity)).toBeLessThanOrEqual(Math.abs(first?.quantity ?? 0));
      }
    }
  });
});

describe('benchmark generator: coding labels have the defect against the reference data', () => {
  const lines = (kind: string) =>
    records.flatMap((r) =>
      r.label.coding
        .filter((c) => c.kind === kind)
        .map((c) => ({
          r,
          c,
          line: r.invoice.lines.find((l) => l.line_number === c.line_number) as InvoiceLine,
        })),
    );
  const serviceDate = (r: BenchmarkRecord, l: InvoiceLine) => l.service_date ?? r.invoice.invoice_date;

  it('terminated codes are terminated before the date of service', () => {
    const xs = lines('terminated_code');
    expect(xs.length).toBeGreaterThan(0);
    for (const { r, line } of xs) {
      const code = ref.hcpcs.get(line.code?.value ?? '');
      expect(code?.terminationDate).not.toBeNull();
      expect((code?.terminationDate ?? '') < serviceDate(r, line)).toBe(true);
    }
  });

  it('unknown codes are not HCPCS codes; the true code is', () => {
    for (const { line, c } of lines('unknown_code')) {
      expect(ref.hcpcs.has(line.code?.value ?? '')).toBe(false);
      expect(line.code?.value).toMatch(/^[A-Z]\d{4}$/);
      expect(ref.hcpcs.has(c.true_code ?? '')).toBe(true);
    }
  });

  it('wrong codes of the same family: same first 3 characters and BETOS, both active, not the true code', () => {
    const xs = lines('wrong_code_same_family');
    expect(xs.length).toBeGreaterThan(0);
    for (const { line, c } of xs) {
      const billed = ref.hcpcs.get(line.code?.value ?? '');
      const truth = ref.hcpcs.get(c.true_code ?? '');
      expect(billed && truth).toBeTruthy();
      expect(billed?.code).not.toBe(truth?.code);
      expect(billed?.code.slice(0, 3)).toBe(truth?.code.slice(0, 3));
      expect(billed?.betos).toBe(truth?.betos);
      expect(billed?.terminationDate).toBeNull();
    }
  });

  it('outside-category codes lie outside the vendor approved categories and the vendor master', () => {
    const xs = lines('outside_vendor_categories');
    expect(xs.length).toBeGreaterThan(0);
    for (const { r, line } of xs) {
      const v = vendorOf.get(r.label.vendor_profile) as BenchmarkVendor;
      const approved = new Set(v.approved_categories.map((a) => `${a.section}:${a.betos}`));
      const code = ref.hcpcs.get(line.code?.value ?? '') as NonNullable<ReturnType<typeof ref.hcpcs.get>>;
      expect(code).toBeDefined();
      expect(approved.has(categoryKeyOfCode(code))).toBe(false);
      // What the service checks (the vendor master the benchmark registers) must see it too: a
      // code of an approved BETOS code in another section is no exception it could ever raise.
      expect(codeApproved(vendorMasterApprovals(v), code.code, code.betos), code.code).toBe(false);
    }
  });

  it('price outliers bill at least k x the CMS fee of the code and modifier', () => {
    const xs = lines('price_outlier');
    expect(xs.length).toBeGreaterThan(0);
    for (const { r, line } of xs) {
      const v = vendorOf.get(r.label.vendor_profile) as BenchmarkVendor;
      const modifier = line.modifiers?.[0] ?? '';
      const fees = (ref.fees.get(line.code?.value ?? '') ?? []).filter(
        (f) => f.modifier === modifier && PROFILES[v.service_line].sources.includes(f.source),
      );
      expect(fees.length, line.code?.value).toBeGreaterThan(0);
      for (const f of fees)
        expect(line.unit_price_cents).toBeGreaterThanOrEqual(card.options.price_outlier_k * f.amountCents);
    }
  });

  it('implausible quantities are at least 10x the plausible maximum', () => {
    for (const { line } of lines('implausible_quantity')) {
      const code = ref.hcpcs.get(line.code?.value ?? '');
      const modifier = line.modifiers?.[0] ?? '';
      const fee =
        (ref.fees.get(line.code?.value ?? '') ?? []).find((f) => f.modifier === modifier)?.amountCents ??
        100_000;
      const max = plausibleQuantity(code as NonNullable<typeof code>, modifier, fee)[1];
      expect(line.quantity).toBeGreaterThanOrEqual(Math.max(10, 10 * max));
    }
  });

  it('unit/dose mismatches bill the printed dose as the quantity instead of CMS billing units', () => {
    const xs = lines('unit_dose_mismatch');
    expect(xs.length).toBeGreaterThan(0);
    for (const { line, c } of xs) {
      const unit = parseCmsBillingUnit(
        (ref.fees.get(line.code?.value ?? '') ?? []).find((f) => f.source === 'ASP')?.billingUnit ?? null,
      );
      expect(unit).not.toBeNull();
      const size = (unit as NonNullable<typeof unit>).size;
      expect(size === 1).toBe(false);
      const expected = Number(c.evidence?.units_expected);
      expect(line.quantity).toBeCloseTo(expected * size, 3);
      const printed = /(?:- |\(|dose )([\d.]+) [a-z ]+\)?$/i.exec(line.description)?.[1];
      expect(Number(printed)).toBeCloseTo(line.quantity, 3);
    }
  });
});

describe('combined perturbations', () => {
  it('give a share of whole-copy duplicates extra changes of other kinds, each documented in changes', () => {
    const dups = records.filter(
      (r) => r.label.duplicate && COMBINABLE_KINDS.includes(r.label.duplicate.kind),
    );
    const combined = dups.filter((r) => (r.label.duplicate!.combined ?? []).length > 0);
    expect(dups.length).toBeGreaterThan(50);
    // 40% drawn; a vendor variant can fall back to nothing when the vendor has one name and id
    expect(combined.length / dups.length).toBeGreaterThan(0.25);
    expect(combined.length / dups.length).toBeLessThan(0.55);
    const prefix: Record<string, string> = {
      rekeyed_number: 'invoice_number:',
      date_shifted: 'invoice_date:',
      retotalled: 'total_cents:',
      vendor_variant: 'vendor.',
    };
    for (const r of combined) {
      const d = r.label.duplicate!;
      expect(d.combined!.length).toBeLessThanOrEqual(2);
      for (const x of d.combined!) {
        expect(EXTRA_CHANGES).toContain(x);
        expect(
          d.changes.some((c) => c.startsWith(prefix[x]!)),
          `${d.kind} + ${x}`,
        ).toBe(true);
      }
      const o = byId.get(d.of)!.invoice;
      if (d.combined!.includes('retotalled')) expect(r.invoice.total_cents).not.toBe(o.total_cents);
    }
    expect(combinationOf('exact_resubmission', ['date_shifted'])).toBeNull();
    expect(combinationOf('rekeyed_number', ['retotalled', 'date_shifted'])).toBe(
      'date_shifted+rekeyed_number+retotalled',
    );
  });
});
