import { describe, expect, it } from 'vitest';
import { generateProcurementBenchmark } from '../datasets/procurement/generator.js';
import { PROCUREMENT_CASE_KINDS, procurementVendorsProblem, rawDuplicateScore } from './certify-rows.js';
import type { DecisionResponse } from '../core/decision.js';

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

describe('certification rows carry the duplicate score routing compares', () => {
  const decision = (shown: number, candidates: number[]) =>
    ({
      scores: { coding_mismatch: 0, duplicate: shown },
      duplicates: candidates.map((score) => ({ score })),
    }) as unknown as Pick<DecisionResponse, 'scores' | 'duplicates'>;

  it('takes the best candidate unrounded (0.95135 shows as 0.951 but is below a 0.95139 hold)', () => {
    expect(rawDuplicateScore(decision(0.951, [0.2, 0.95135]))).toBe(0.95135);
    expect(rawDuplicateScore(decision(1, [0.99996]))).toBe(0.99996);
  });

  it('keeps the shown score when no candidate rounds to it, and 0 without candidates', () => {
    expect(rawDuplicateScore(decision(0.05, [0.9]))).toBe(0.05);
    expect(rawDuplicateScore(decision(0, []))).toBe(0);
  });
});
