import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type RoutingPolicy } from '../inference/policy.js';
import { reason } from '../inference/explain.js';
import { certifyDecision, thresholdScores, type CertifyRow } from './certify.js';
import { mulberry32 } from './rng.js';

const served: RoutingPolicy = {
  ...DEFAULT_POLICY,
  codingReview: 0.02,
  codingHold: 0.13,
  duplicateReview: 0.03,
  duplicateHold: 0.9,
};

function row(
  vendorId: string,
  exception: boolean,
  coding: number,
  extra: Partial<CertifyRow> = {},
): CertifyRow {
  return {
    vendorId,
    exception,
    coding,
    duplicate: 0,
    reasons: [reason('CODING_MODEL_RISK', coding, { line_number: 1 })],
    ...extra,
  };
}

describe('joint certification of the coding thresholds', () => {
  it('acts on the coding score only where nothing else decides the invoice', () => {
    const rows = [
      row('A', false, 0.01),
      row('A', false, 0.01, {
        reasons: [reason('TOTAL_MISMATCH', 0.6, {}), reason('CODING_MODEL_RISK', 0.01, {})],
      }),
      row('B', true, 0.5, { duplicate: 0.95 }),
      row('C', false, 0.3, { reasons: [] }),
    ];
    const { approve, hold } = thresholdScores(rows, served);
    // a forced review reason or a duplicate review never auto-approve, whatever the coding threshold
    expect(approve).toEqual([0.01, Infinity, Infinity, 0.3]);
    // held anyway by the duplicate score; no coding reason: never held on the coding score
    expect(hold).toEqual([0.01, 0.01, Infinity, -Infinity]);
  });

  it('certifies thresholds whose decision meets the promise on fresh vendors, and none on too little data', () => {
    // 600 vendors x 10 invoices: 6% exceptions scored high, clean invoices low.
    const draw = (seed: number, vendors: number): CertifyRow[] => {
      const rng = mulberry32(seed);
      const out: CertifyRow[] = [];
      for (let v = 0; v < vendors; v++)
        for (let j = 0; j < 10; j++) {
          const exception = rng() < 0.06;
          out.push(
            row(`V${seed}-${v}`, exception, exception ? 0.05 + 0.95 * rng() ** 0.5 : 0.2 * rng() ** 3),
          );
        }
      return out;
    };
    const cert = certifyDecision(draw(1, 600), served, {
      alpha: 0.005,
      holdAlpha: 0.1,
      delta: 0.05,
      seed: 42,
    });
    expect(cert.autoApprove.feasible).toBe(true);
    expect(cert.hold.feasible).toBe(true);
    expect(cert.vendors.design + cert.vendors.test).toBe(600);
    expect(cert.codingReviewAt).toBeGreaterThan(0);
    expect(cert.codingHoldAt).toBeGreaterThan(cert.codingReviewAt);
    // the decision routed with them on 2,000 fresh vendors
    const fresh = draw(2, 2000);
    const approved = fresh.filter((r) => r.coding < cert.codingReviewAt);
    const held = fresh.filter((r) => r.coding >= cert.codingHoldAt!);
    expect(approved.filter((r) => r.exception).length / approved.length).toBeLessThanOrEqual(0.005);
    expect(held.filter((r) => !r.exception).length / held.length).toBeLessThanOrEqual(0.1);
    const small = certifyDecision(draw(3, 20), served, {
      alpha: 0.005,
      holdAlpha: 0.1,
      delta: 0.05,
      seed: 42,
    });
    expect(small.autoApprove.feasible).toBe(false);
    expect(small.codingReviewAt).toBe(0);
  });
});
