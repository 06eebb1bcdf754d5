import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InvoiceLine } from '../../core/invoice.js';
import { loadReferenceData } from '../reference.js';
import { generateBenchmark } from './generator.js';
import { PRINT_FORMAT_RATES, PrintFormats } from './print-format.js';
import { readSplitRecords } from './read.js';
import type { BenchmarkRecord } from './types.js';

const SEED = 17;
let printed: BenchmarkRecord[];
let drawn: BenchmarkRecord[];
const dirs: string[] = [];
const formats = new PrintFormats(SEED);

beforeAll(async () => {
  const reference = loadReferenceData();
  for (const printFormats of [true, false]) {
    const out = mkdtempSync(join(tmpdir(), 'bm-print-'));
    dirs.push(out);
    await generateBenchmark({
      invoices: 1200,
      seed: SEED,
      out,
      reference,
      printFormats,
      rates: { line_level_duplicate: 0.05 },
    });
  }
  printed = await readSplitRecords(dirs[0]!);
  drawn = await readSplitRecords(dirs[1]!);
}, 600_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const lineRefs = (r: BenchmarkRecord): (string | undefined)[] =>
  r.invoice.lines.map((l) => l.delivery_reference);

/** A record without what the print format changes: delivery references, undated lines' dates, `lines:undated`. */
function unprinted(r: BenchmarkRecord, undated: boolean): string {
  const strip = (l: InvoiceLine): InvoiceLine => {
    const { delivery_reference: _ref, service_date, ...rest } = l;
    return undated ? rest : { ...rest, ...(service_date ? { service_date } : {}) };
  };
  const d = r.label.duplicate;
  return JSON.stringify({
    invoice: { ...r.invoice, lines: r.invoice.lines.map(strip) },
    label: { ...r.label, duplicate: d && { ...d, changes: d.changes.filter((c) => c !== 'lines:undated') } },
  });
}

describe('benchmark print formats (vendor-level delivery references and undated lines)', () => {
  it('change nothing but delivery references and undated vendors\u2019 line dates, for every kind', () => {
    expect(printed.length).toBe(drawn.length);
    printed.forEach((r, i) => {
      const undated = !formats.format(r.label.vendor_profile).lineDates;
      expect(unprinted(r, undated), r.invoice.invoice_id).toBe(unprinted(drawn[i]!, undated));
    });
    expect(drawn.every((r) => r.invoice.lines.every((l) => l.delivery_reference === undefined))).toBe(true);
  });

  it('are per vendor: a vendor prints references on every line or on none, dates on all or none', () => {
    const byVendor = new Map<string, BenchmarkRecord[]>();
    for (const r of printed)
      byVendor.set(r.label.vendor_profile, [...(byVendor.get(r.label.vendor_profile) ?? []), r]);
    let printing = 0;
    let undated = 0;
    for (const [id, rs] of byVendor) {
      const f = formats.format(id);
      const lines = rs.flatMap((r) => r.invoice.lines);
      expect(lines.every((l) => (l.delivery_reference !== undefined) === f.deliveryReference)).toBe(true);
      if (!f.lineDates) expect(lines.every((l) => l.service_date === undefined)).toBe(true);
      if (f.deliveryReference) printing++;
      if (!f.lineDates) undated++;
    }
    expect(Math.abs(printing / byVendor.size - PRINT_FORMAT_RATES.delivery_reference)).toBeLessThan(0.2);
    expect(Math.abs(undated / byVendor.size - PRINT_FORMAT_RATES.undated_lines)).toBeLessThan(0.2);
  });

  it('repeat the earlier delivery on copied lines and issue a new one to re-orders and recurring months', () => {
    const byId = new Map(printed.map((r) => [r.invoice.invoice_id, r]));
    let copies = 0;
    for (const r of printed) {
      const d = r.label.duplicate;
      if (d?.kind !== 'line_level_duplicate' || !formats.format(r.label.vendor_profile).deliveryReference)
        continue;
      const list = (p: string): number[] =>
        JSON.parse(d.changes.find((c) => c.startsWith(p))!.slice(p.length));
      const from = list('lines:copied:');
      const to = list('lines:copied_to:');
      const o = byId.get(d.of)!;
      const fresh = r.invoice.lines.filter((l) => !to.includes(l.line_number));
      to.forEach((n, j) => {
        const ref = r.invoice.lines[n - 1]!.delivery_reference;
        expect(ref).toBe(o.invoice.lines.find((l) => l.line_number === from[j])!.delivery_reference);
        expect(fresh.every((l) => l.delivery_reference !== ref)).toBe(true);
        copies++;
      });
      expect(new Set(fresh.map((l) => l.delivery_reference)).size).toBe(1);
    }
    expect(copies).toBeGreaterThan(5);
    const monthly = printed.filter(
      (r) =>
        r.label.hard_negative?.kind === 'recurring_monthly' &&
        formats.format(r.label.vendor_profile).deliveryReference,
    );
    expect(monthly.length).toBeGreaterThan(0);
    for (const r of monthly) {
      const earlier = new Set(lineRefs(byId.get(r.label.hard_negative!.related)!));
      expect(lineRefs(r).some((ref) => earlier.has(ref))).toBe(false);
    }
  });
});
