import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, route, type RoutingPolicy } from '../inference/policy.js';
import { reason } from '../inference/explain.js';
import {
  baseThresholds,
  certifyDecision,
  CODING_REASON_FLOOR_SCALE,
  codingRowsReviewAt,
  holdFloor,
  notCertifiedReason,
  scaledThresholds,
  thresholdScores,
  withThresholds,
  stratifiedLtt,
  type CertifyRow,
} from './certify.js';
import { exceptionKinds, renderExceptionKinds } from './certify-kinds.js';
import { learnThenTest } from './thresholds.js';
import { mulberry32 } from './rng.js';

const served: RoutingPolicy = {
  ...DEFAULT_POLICY,
  codingReview: 0.02,
  codingHold: 0.13,
  duplicateReview: 0.03,
  duplicateHold: 0.9,
};

/** The certification levels of these tests: 0.5% exceptions among approved, 10% clean among held. */
const LEVELS = { alpha: 0.005, holdAlpha: 0.1, delta: 0.05, seed: 42 };

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

/** A row the pair model scores `duplicate`, with its duplicate reason and a clean coding score. */
function duplicateRow(vendorId: string, exception: boolean, duplicate: number): CertifyRow {
  return row(vendorId, exception, 0.001, {
    duplicate,
    reasons: [reason('DUPLICATE_SUSPECTED', duplicate, {})],
  });
}

/**
 * `vendors` vendors x 10 invoices drawn with `mulberry32(seed)`: `invoice` makes each from the
 * generator and its vendor id (`V<seed>-<v>`).
 */
function draw(
  seed: number,
  vendors: number,
  invoice: (rng: () => number, vendorId: string) => CertifyRow,
): CertifyRow[] {
  const rng = mulberry32(seed);
  const out: CertifyRow[] = [];
  for (let v = 0; v < vendors; v++) for (let j = 0; j < 10; j++) out.push(invoice(rng, `V${seed}-${v}`));
  return out;
}

/** The decisions of `rows` routed under the served policy with `thresholds`. */
function decisions(rows: readonly CertifyRow[], thresholds: Parameters<typeof withThresholds>[1]): string[] {
  const policy = withThresholds(served, thresholds);
  return rows.map(
    (r) => route(policy, { coding_mismatch: r.coding, duplicate: r.duplicate }, r.reasons).decision,
  );
}

/** Exceptions among the approved rows and clean rows among the held ones, as fractions. */
function promiseRates(
  rows: readonly CertifyRow[],
  routed: readonly string[],
): { exceptionsApproved: number; cleanHeld: number; approved: number } {
  const approved = rows.filter((_, i) => routed[i] === 'AUTO_APPROVE');
  const held = rows.filter((_, i) => routed[i] === 'HOLD');
  return {
    exceptionsApproved: approved.filter((r) => r.exception).length / approved.length,
    cleanHeld: held.filter((r) => !r.exception).length / held.length,
    approved: approved.length,
  };
}

describe('joint certification of the coding thresholds', () => {
  it('scales the score thresholds only where nothing else decides the invoice', () => {
    const rows = [
      row('A', false, 0.01),
      row('A', false, 0.01, {
        reasons: [reason('TOTAL_MISMATCH', 0.6, {}), reason('CODING_MODEL_RISK', 0.01, {})],
      }),
      row('B', true, 0.5, { duplicate: 0.95 }),
      row('C', false, 0.3, { reasons: [] }),
      row('D', false, 0.001, { duplicate: 0.06, reasons: [] }),
      row('E', true, 0, { reasons: [reason('PRICE_ABOVE_PO', 0.8, { line_number: 1 })] }),
    ];
    const { approve, hold } = thresholdScores(rows, served, 'both');
    // approve: the larger of coding / 0.02 (with a coding reason) and duplicate / 0.03; a forced
    // review, a duplicate hold or a procurement exception never auto-approve, whatever the scale
    expect(approve.map((x) => (Number.isFinite(x) ? Number(x.toFixed(6)) : x))).toEqual([
      0.5,
      Infinity,
      Infinity,
      0,
      2,
      Infinity,
    ]);
    // hold: the larger of duplicate / 0.9 and coding / 0.13 (with a coding reason); a procurement
    // exception is held at every scale
    expect(hold.map((x) => (Number.isFinite(x) ? Number(x.toFixed(6)) : x))).toEqual([
      Number((0.01 / 0.13).toFixed(6)),
      Number((0.01 / 0.13).toFixed(6)),
      Number((0.5 / 0.13).toFixed(6)),
      0,
      Number((0.06 / 0.9).toFixed(6)),
      Infinity,
    ]);
    // family coding (the default): a duplicate score at the card's hold (0.9) holds at every
    // scale; below it only the coding score counts, and without a coding reason nothing does
    expect(thresholdScores(rows, served).approve).toEqual(approve);
    expect(
      thresholdScores(rows, served).hold.map((x) => (Number.isFinite(x) ? Number(x.toFixed(6)) : x)),
    ).toEqual([
      Number((0.01 / 0.13).toFixed(6)),
      Number((0.01 / 0.13).toFixed(6)),
      Infinity,
      -Infinity,
      -Infinity,
      Infinity,
    ]);
  });

  it('routes exactly as its per-row scales say, for any certified scale', () => {
    const rng = mulberry32(7);
    const rows: CertifyRow[] = Array.from({ length: 400 }, (_, i) => {
      const coding = rng() ** 3;
      const duplicate = rng() < 0.3 ? rng() : 0;
      const reasons = [
        // rows are scored with coding reasons from the floor scale, the duplicate stage from the review threshold
        ...(coding > codingRowsReviewAt(served.codingReview)
          ? [reason('CODING_MODEL_RISK', coding, { line_number: 1 })]
          : []),
        ...(duplicate > 0 ? [reason('DUPLICATE_SUSPECTED', duplicate, {})] : []),
        ...(i % 17 === 0 ? [reason('NO_RECEIPT', 0.8, { line_number: 1 })] : []),
        ...(i % 23 === 0 ? [reason('TOTAL_MISMATCH', 0.6, {})] : []),
      ];
      return { vendorId: `V${i % 40}`, exception: false, coding, duplicate, reasons };
    });
    const base = baseThresholds(served);
    for (const family of ['coding', 'both'] as const) {
      const { approve, hold } = thresholdScores(rows, served, family);
      for (const [lambda, mu] of [
        [0.3, 1.5],
        [0.7, 1.2],
        [1, 1],
        [2.5, 0.8],
      ] as const) {
        const t = scaledThresholds(base, lambda, mu, family);
        expect(t.duplicateHoldAt).toBe(
          family === 'coding' ? base.duplicateHoldAt : Math.min(1, mu * base.duplicateHoldAt),
        );
        const policy = withThresholds(served, t);
        let held = 0;
        rows.forEach((r, i) => {
          const d = route(policy, { coding_mismatch: r.coding, duplicate: r.duplicate }, r.reasons).decision;
          expect(d === 'AUTO_APPROVE').toBe(approve[i]! <= lambda);
          if (d === 'HOLD') held++;
          // family both: the duplicate hold is clamped at 1 above mu = 1 / 0.9 (the rows never reach 1)
          if (family === 'coding' || mu * base.duplicateHoldAt <= 1)
            expect(d === 'HOLD').toBe(hold[i]! >= mu);
        });
        expect(held).toBeGreaterThan(0);
      }
    }
  });

  it("holds on the duplicate card's hold threshold where one scale for both holds pushes ap.hold_at to 1", () => {
    // 600 vendors x 10 invoices: 3% resubmissions (duplicate score 0.97, clean coding), 5% coding
    // exceptions (coding 0.2-1), 8% clean invoices the coding model flags just around its hold
    // (0.12-0.15: holding them breaks 10% clean among HOLD), the rest clean and unflagged.
    const invoice = (rng: () => number, vendorId: string): CertifyRow => {
      const u = rng();
      if (u < 0.03) return duplicateRow(vendorId, true, 0.97);
      if (u < 0.08) return row(vendorId, true, 0.2 + 0.8 * rng());
      if (u < 0.16) return row(vendorId, false, 0.12 + 0.03 * rng());
      return row(vendorId, false, 0.01 * rng());
    };
    const rows = draw(5, 600, invoice);
    const one = certifyDecision(rows, served, LEVELS, 'both');
    const fixed = certifyDecision(rows, served, LEVELS);
    expect(fixed.holdFamily).toBe('coding');
    // one scale: the coding hold cannot go below the clean flags, so mu > 1 / 0.9 and ap.hold_at is 1
    expect(one.hold.feasible).toBe(true);
    expect(one.scale.hold!).toBeGreaterThan(1 / served.duplicateHold);
    expect(one.thresholds.duplicateHoldAt).toBe(1);
    // the duplicate hold fixed at the card's 0.9; the coding hold scaled as before
    expect(fixed.hold.feasible).toBe(true);
    expect(fixed.thresholds.duplicateHoldAt).toBe(served.duplicateHold);
    expect(fixed.thresholds.codingHoldAt!).toBeGreaterThan(served.codingHold!);
    expect(fixed.thresholds.codingReviewAt).toBe(one.thresholds.codingReviewAt);
    expect(fixed.thresholds.duplicateReviewAt).toBe(one.thresholds.duplicateReviewAt);
    // every tested step counts the duplicate holds: the first already holds all of them
    const resubmissions = rows.filter((r) => r.duplicate > 0);
    expect(fixed.hold.steps[0]!.selected).toBeGreaterThan(one.hold.steps[0]!.selected);
    // on 2,000 fresh vendors: the resubmissions are held with the new family, reviewed with the
    // old one, and clean invoices stay under 10% of the held ones
    const fresh = draw(6, 2000, invoice);
    const dup = (r: CertifyRow) => r.duplicate > 0;
    const [before, after] = [decisions(fresh, one.thresholds), decisions(fresh, fixed.thresholds)];
    expect(resubmissions.length).toBeGreaterThan(100);
    expect(fresh.filter((r, i) => dup(r) && before[i] === 'HOLD').length).toBe(0);
    expect(fresh.filter((r, i) => dup(r) && after[i] !== 'HOLD').length).toBe(0);
    expect(promiseRates(fresh, after).cleanHeld).toBeLessThanOrEqual(0.1);
  });

  /**
   * Clean look-alikes the pair model scores 0.05-0.55 (below the duplicate hold 0.9: approvable
   * once ap.review_at passes them, lifting the approve scale to about 18 when uncapped), clean
   * invoices flagged just under the coding card hold (0.05-0.12), coding exceptions at 0.14-0.25
   * (held at the card hold 0.13: never approved, scale 1.08-1.92), resubmissions at 0.97 (held on
   * the duplicate score), the rest clean and unflagged.
   */
  const reviewBandInvoice = (rng: () => number, vendorId: string): CertifyRow => {
    const u = rng();
    if (u < 0.1) return duplicateRow(vendorId, false, 0.05 + 0.5 * rng());
    if (u < 0.15) return row(vendorId, false, 0.05 + 0.07 * rng());
    if (u < 0.2) return row(vendorId, true, 0.14 + 0.11 * rng());
    if (u < 0.21) return duplicateRow(vendorId, true, 0.97);
    return row(vendorId, false, 0.01 * rng(), { reasons: [] });
  };

  it('caps the approve scale at the cards: the review band is not approved away', () => {
    const rows = draw(8, 600, reviewBandInvoice);
    const uncapped = certifyDecision(rows, served, { ...LEVELS, maxApproveScale: Infinity });
    expect(uncapped.scale.approve).toBeGreaterThan(5);
    const cert = certifyDecision(rows, served, LEVELS);
    expect(cert.autoApprove.feasible).toBe(true);
    expect(cert.scale.approve).toBe(1);
    expect(cert.thresholds.codingReviewAt).toBe(served.codingReview);
    expect(cert.thresholds.duplicateReviewAt).toBe(served.duplicateReview);
    expect(cert.autoApprove.steps.every((s) => s.threshold <= 1)).toBe(true);
    expect(cert.autoApprove.steps.at(-1)!.threshold).toBe(1);
    expect(cert.approveCap.scale).toBe(1);
    expect(cert.approveCap.candidatesAbove).toBeGreaterThan(0);
    // the look-alikes the pair model flags stay in review
    const routed = decisions(rows, cert.thresholds);
    const lookAlikes = rows.flatMap((r, i) => (r.duplicate >= 0.05 && r.duplicate < 0.9 ? [routed[i]] : []));
    expect(lookAlikes.length).toBeGreaterThan(300);
    expect(lookAlikes.every((d) => d !== 'AUTO_APPROVE')).toBe(true);
    // a lower cap certifies at most that scale
    const low = certifyDecision(rows, served, { ...LEVELS, maxApproveScale: 0.5 });
    expect(low.scale.approve).toBeLessThanOrEqual(0.5);
  });

  it('certifies the hold side above the review band after the auto-approve scale lifts it past the card hold', () => {
    const invoice = reviewBandInvoice;
    const cert = certifyDecision(draw(8, 600, invoice), served, { ...LEVELS, maxApproveScale: Infinity });
    // the approve scale passes ch0 / c0 = 6.5: the coding review threshold is capped at the card hold
    expect(cert.autoApprove.feasible).toBe(true);
    expect(cert.scale.approve * served.codingReview).toBeGreaterThan(served.codingHold!);
    expect(cert.scale.approve * served.codingReview).toBeGreaterThan(0.25); // above every coding score
    const t = cert.thresholds;
    expect(t.codingReviewAt).toBe(served.codingHold);
    // the hold side is certified, its thresholds at or above the review thresholds
    expect(cert.hold.feasible).toBe(true);
    expect(cert.scale.hold).toBeDefined();
    expect(t.codingHoldAt!).toBeGreaterThanOrEqual(t.codingReviewAt);
    expect(t.duplicateHoldAt).toBeGreaterThanOrEqual(t.duplicateReviewAt);
    expect(cert.holdFloor.scale).toBeCloseTo(1, 12);
    expect(cert.hold.steps.every((s) => s.threshold >= cert.holdFloor.scale)).toBe(true);
    expect(notCertifiedReason(cert, 'approve')).toBeNull();
    expect(notCertifiedReason(cert, 'hold')).toBeNull();
    // on 2,000 fresh vendors: both promises, and the coding exceptions are held on their score
    const fresh = draw(9, 2000, invoice);
    const routed = decisions(fresh, t);
    const rates = promiseRates(fresh, routed);
    expect(rates.approved).toBeGreaterThan(0.9 * fresh.filter((r) => !r.exception).length);
    expect(rates.exceptionsApproved).toBeLessThanOrEqual(0.005);
    expect(rates.cleanHeld).toBeLessThanOrEqual(0.1);
    const codingExceptions = fresh.filter((r) => r.exception && r.duplicate === 0);
    expect(codingExceptions.length).toBeGreaterThan(500);
    expect(
      fresh.filter((r, i) => r.exception && r.duplicate === 0 && routed[i] === 'HOLD').length,
    ).toBeGreaterThan(0.5 * codingExceptions.length);
  });

  it('certifies below scale 1 on the coding side when only a stricter coding review threshold meets the promise', () => {
    const floor = codingRowsReviewAt(served.codingReview);
    expect(floor).toBeCloseTo(CODING_REASON_FLOOR_SCALE * served.codingReview, 12);
    // Rows scored as the certification scores them: a coding reason only above the floor.
    const scored = (vendorId: string, exception: boolean, coding: number): CertifyRow =>
      row(vendorId, exception, coding, coding > floor ? {} : { reasons: [] });
    // 600 vendors x 10 invoices: 2% coding exceptions just under the card threshold (0.012-0.019:
    // approved at scale 1, so 2% exceptions among the approved), 3% scored high, clean invoices
    // below the floor.
    const invoice = (rng: () => number, vendorId: string): CertifyRow => {
      const u = rng();
      if (u < 0.02) return scored(vendorId, true, 0.012 + 0.007 * rng());
      if (u < 0.05) return scored(vendorId, true, 0.05 + 0.95 * rng());
      return scored(vendorId, false, 0.009 * rng());
    };
    const rows = draw(12, 600, invoice);
    // at the card thresholds the promise fails on these rows
    expect(promiseRates(rows, decisions(rows, baseThresholds(served))).exceptionsApproved).toBeGreaterThan(
      0.01,
    );
    const cert = certifyDecision(rows, served, LEVELS);
    expect(cert.autoApprove.feasible).toBe(true);
    expect(cert.scale.approve).toBeLessThan(0.7);
    expect(cert.scale.approve).toBeGreaterThan(CODING_REASON_FLOOR_SCALE);
    const t = cert.thresholds;
    // served below the card's threshold, above the floor
    expect(t.codingReviewAt).toBeLessThan(0.7 * served.codingReview);
    expect(t.codingReviewAt).toBeGreaterThan(floor);
    // on 2,000 fresh vendors the stricter threshold keeps the promise
    const fresh = draw(13, 2000, invoice);
    const rates = promiseRates(fresh, decisions(fresh, t));
    expect(rates.exceptionsApproved).toBeLessThanOrEqual(0.005);
    expect(rates.approved).toBeGreaterThan(0.9 * fresh.filter((r) => !r.exception).length);
  });

  it('breaks the approved test-part exceptions down by kind', () => {
    const rows = [
      row('A', true, 0.001, { kinds: ['duplicate:line_level_duplicate'], reasons: [] }),
      row('B', true, 0.001, { kinds: ['coding:wrong_code', 'duplicate:date_shifted'], reasons: [] }),
      row('C', true, 0.001, { kinds: ['coding:wrong_code'], reasons: [] }),
      row('D', true, 0.001, { reasons: [] }),
      row('E', true, 0.9, { kinds: ['coding:unknown_code'] }),
      row('F', false, 0.001, { reasons: [] }),
    ];
    expect(exceptionKinds(rows, [true, true, true, true, false, true])).toEqual({
      invoices: 4,
      kinds: {
        'coding:wrong_code': 2,
        'duplicate:date_shifted': 1,
        'duplicate:line_level_duplicate': 1,
        unrecorded: 1,
      },
    });
    expect(renderExceptionKinds(exceptionKinds(rows, [true, false, false, false, false, true]))).toBe(
      '1 exceptions: duplicate:line_level_duplicate 1',
    );
    // the record counts the test part's invoices approved at the certified scale
    const invoice = (rng: () => number, vendorId: string): CertifyRow => {
      const u = rng();
      if (u < 0.001) return row(vendorId, true, 0.01 * rng(), { kinds: ['coding:wrong_code'] });
      if (u < 0.03) return row(vendorId, true, 0.5, { kinds: ['coding:unknown_code'] });
      return row(vendorId, false, 0.01 * rng());
    };
    const cert = certifyDecision(draw(14, 600, invoice), served, LEVELS);
    expect(cert.autoApprove.feasible).toBe(true);
    expect(cert.autoApprove.errors).toBeGreaterThan(0);
    expect(cert.approvedExceptions).toEqual({
      invoices: cert.autoApprove.errors,
      kinds: { 'coding:wrong_code': cert.autoApprove.errors },
    });
  });

  it('never serves the coding review threshold below the floor scale; the duplicate one follows the scale', () => {
    const base = baseThresholds(served);
    const low = scaledThresholds(base, 0.2, undefined);
    expect(low.codingReviewAt).toBe(codingRowsReviewAt(base.codingReviewAt));
    expect(low.codingReviewAt).toBeCloseTo(CODING_REASON_FLOOR_SCALE * 0.02, 12);
    expect(low.duplicateReviewAt).toBeCloseTo(0.2 * 0.03 + 1e-9, 12);
    expect(scaledThresholds(base, 0.8, undefined).codingReviewAt).toBeCloseTo(0.8 * 0.02 + 1e-9, 12);
    expect(scaledThresholds(base, 1, undefined).codingReviewAt).toBe(0.02);
  });

  it('cuts the hold sequence at the review band and says so when no candidate is left', () => {
    const base = baseThresholds(served);
    // below the card hold the floor is the scaled review threshold over the card hold
    expect(holdFloor(base, 1)).toBeCloseTo(0.02 / 0.13, 12);
    expect(holdFloor(base, 4)).toBeCloseTo((4 * 0.02 + 1e-9) / 0.13, 12);
    // a review threshold capped at the card hold: the floor is 1; family both also keeps ap.hold_at above ap.review_at
    expect(holdFloor(base, 20)).toBe(1);
    expect(holdFloor(base, 20, 'both')).toBe(1);
    expect(holdFloor(base, 2, 'both')).toBeCloseTo(
      Math.max((2 * 0.02 + 1e-9) / 0.13, (2 * 0.03 + 1e-9) / 0.9),
      12,
    );
    // every candidate below the floor: nothing tested, and the reason names the floor, not a p-value
    const rows = Array.from({ length: 3000 }, (_, i) =>
      row(`V${i % 300}`, i % 10 === 0, i % 10 === 0 ? 0.3 : 0.001, { reasons: [] }),
    );
    const cert = certifyDecision(rows, served, LEVELS);
    const cut = {
      ...cert,
      hold: { ...cert.hold, feasible: false, steps: [] },
      holdFloor: { scale: 1, candidates: 7, candidatesBelow: 7 },
    };
    expect(notCertifiedReason(cut, 'hold')).toMatch(/all 7 candidate hold scales lie below the floor 1\.000/);
    const failed = {
      ...cert,
      autoApprove: {
        ...cert.autoApprove,
        feasible: false,
        steps: [{ threshold: 0, selected: 6824, errors: 22, pValue: 0.062, rejected: false, deff: 1 }],
      },
    };
    expect(notCertifiedReason(failed, 'approve')).toBe(
      'the first candidate (scale 0.000) fails: 22 exceptions among 6824 approved test-part invoices, deff 1.00, p 0.0620 > delta 0.05',
    );
  });

  it('certifies thresholds whose decision meets the promise on fresh vendors, and none on too little data', () => {
    // 600 vendors x 10 invoices: 6% exceptions scored high, clean invoices low.
    const invoice = (rng: () => number, vendorId: string): CertifyRow => {
      const exception = rng() < 0.06;
      return row(vendorId, exception, exception ? 0.05 + 0.95 * rng() ** 0.5 : 0.2 * rng() ** 3);
    };
    const cert = certifyDecision(draw(1, 600, invoice), served, LEVELS);
    expect(cert.autoApprove.feasible).toBe(true);
    expect(cert.hold.feasible).toBe(true);
    expect(cert.vendors.design + cert.vendors.test).toBe(600);
    const t = cert.thresholds;
    expect(t.codingReviewAt).toBeGreaterThan(0);
    expect(t.codingHoldAt).toBeGreaterThan(t.codingReviewAt);
    expect(t.duplicateHoldAt).toBeGreaterThanOrEqual(t.duplicateReviewAt);
    // the decision routed with them on 2,000 fresh vendors
    const fresh = draw(2, 2000, invoice);
    const rates = promiseRates(fresh, decisions(fresh, t));
    expect(rates.exceptionsApproved).toBeLessThanOrEqual(0.005);
    expect(rates.cleanHeld).toBeLessThanOrEqual(0.1);
    const small = certifyDecision(draw(3, 20, invoice), served, LEVELS);
    expect(small.autoApprove.feasible).toBe(false);
    // not certified: the served review thresholds stay
    expect(small.scale.approve).toBe(1);
    expect(small.thresholds.codingReviewAt).toBe(served.codingReview);
  });

  it('tests every source of rows on its own: a pooled rate within the promise does not hide a stratum above it', () => {
    const rng = mulberry32(11);
    // 300 vendors x 8 held invoices; clean among held: 2% for invoices, 30% for PO-backed ones
    const scores: number[] = [];
    const labels: number[] = [];
    const groups: string[] = [];
    const strata: string[] = [];
    for (let v = 0; v < 300; v++)
      for (let j = 0; j < 8; j++) {
        const po = v % 10 === 0;
        scores.push(rng());
        labels.push(rng() < (po ? 0.3 : 0.02) ? 0 : 1);
        groups.push(`V${v}`);
        strata.push(po ? 'procurement' : 'invoices');
      }
    const grid = [0.5, 0.25, 0];
    const pooled = learnThenTest({ scores, labels, groups, side: 'hold', alpha: 0.1, delta: 0.05, grid });
    const oneStratum = stratifiedLtt(
      scores,
      labels,
      groups,
      scores.map(() => 'all'),
      'hold',
      0.1,
      0.05,
      grid,
    );
    // one stratum: the grouped Learn-then-Test, step for step
    expect(oneStratum.steps.map((s) => [s.selected, s.errors, s.pValue])).toEqual(
      pooled.steps.map((s) => [s.selected, s.errors, s.pValue]),
    );
    expect(pooled.feasible).toBe(true); // about 4.8% clean overall
    const split = stratifiedLtt(scores, labels, groups, strata, 'hold', 0.1, 0.05, grid);
    expect(split.feasible).toBe(false); // 30% clean among the PO-backed ones
    expect(split.steps[0]!.pValue).toBeGreaterThan(0.05);
  });
});
