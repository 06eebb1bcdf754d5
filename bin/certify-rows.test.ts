import { describe, expect, it } from 'vitest';
import { generateProcurementBenchmark } from '../datasets/procurement/generator.js';
import { PROCUREMENT_CASE_KINDS, procurementVendorsProblem } from './certify-rows.js';

/** Per vendor, the case kinds it bills in the generated procurement benchmark. */
function kindsPerVendor(perKind: number, vendors: number): number[] {
  const b = generateProcurementBenchmark({ seed: 303, perKind, vendors });
  const by = new Map<string, Set<string>>();
  for (const c of b.cases) {
    const s = by.get(c.invoice.vendor.id) ?? new Set<string>();
    s.add(c.kind);
    by.set(c.invoice.vendor.id, s);
  }
  return [...by.values()].map((s) => s.size);
}

describe('procurement vendors of the certification', () => {
  it('counts 15 case kinds', () => {
    expect(PROCUREMENT_CASE_KINDS).toBe(15);
  });

  it('refuses a vendor count sharing a factor with the kinds, naming the factor and a usable count', () => {
    expect(procurementVendorsProblem(60)).toBe(
      'must be coprime with the 15 case kinds (60 shares the factor 15: each vendor would bill only some kinds), e.g. 61',
    );
    expect(procurementVendorsProblem(180)).toContain('e.g. 181');
    expect(procurementVendorsProblem(24)).toContain('shares the factor 3');
    expect(procurementVendorsProblem(24)).toContain('e.g. 26');
    expect(procurementVendorsProblem(0)).toBe('must be a positive integer');
    for (const n of [61, 181, 481, 1]) expect(procurementVendorsProblem(n)).toBeNull();
  });

  it('a refused count confounds vendor with kind; a coprime one gives each vendor several kinds', () => {
    // 60 vendors: each bills one or two kinds (the PO-backed stratum's design effect of 4.8).
    expect(Math.max(...kindsPerVendor(20, 60))).toBeLessThanOrEqual(2);
    // 61 vendors: 300 cases, about 5 per vendor, each of another kind.
    const mixed = kindsPerVendor(20, 61);
    expect(mixed).toHaveLength(61);
    expect(Math.min(...mixed)).toBeGreaterThanOrEqual(4);
  });
});
