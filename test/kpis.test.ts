/**
 * The dashboard's KPIs on six hand-made decisions over two ISO weeks (Mon 2025-03-03 and Mon
 * 2025-03-10); every expected value below was worked out by hand from the table in `facts`.
 */
import { describe, expect, it } from 'vitest';
import {
  autoApproveSeries,
  blockedByReason,
  discountCapture,
  exceptionAging,
  periodEnd,
  periodOf,
  periodsBetween,
  rateSeries,
  reviewLoad,
  scoreDistributions,
  type DecisionFact,
} from '../store/kpis.js';

const fact = (over: Partial<DecisionFact> & Pick<DecisionFact, 'decision_id' | 'day'>): DecisionFact => ({
  received_date: over.day,
  facility_id: 'A',
  vendor_id: 'V1',
  decision: 'AUTO_APPROVE',
  queue: null,
  reason_codes: [],
  coding_mismatch_score: 0,
  duplicate_score: 0,
  review_status: null,
  closed_day: null,
  closing_outcome: null,
  reviews: 0,
  confirmed_exception: false,
  discount_cents: 0,
  discount_deadline: null,
  scored_day: over.day,
  ...over,
});

// id  day    fac vendor decision      queue   reasons                          reviews  closed        discount
// F1  03-03  A   V1     AUTO_APPROVE  -       -                                0        -             200 by 03-10
// F2  03-04  A   V1     REVIEW        coding  DESCRIPTION_CODE_MISMATCH        1        03-05 (FP)    300 by 03-06
// F3  03-05  B   V2     HOLD          ap      DUPLICATE_SAME_NUMBER, TOTAL_... 0        open          -
// F4  03-06  B   V2     AUTO_APPROVE  -       CODING_MODEL_RISK (not fired)    1 (confirmed)          -
// F5  03-10  A   V1     REVIEW        coding  DESCRIPTION_CODE_MISMATCH        0        open          500 by 03-12
// F6  03-11  A   V2     AUTO_APPROVE  -       -                                0        -             -
const facts: DecisionFact[] = [
  fact({
    decision_id: 'F1',
    day: '2025-03-03',
    coding_mismatch_score: 0.01,
    discount_cents: 200,
    discount_deadline: '2025-03-10',
  }),
  fact({
    decision_id: 'F2',
    day: '2025-03-04',
    decision: 'REVIEW',
    queue: 'coding',
    reason_codes: ['DESCRIPTION_CODE_MISMATCH'],
    coding_mismatch_score: 0.55,
    review_status: 'closed',
    closed_day: '2025-03-05',
    closing_outcome: 'false_positive',
    reviews: 1,
    discount_cents: 300,
    discount_deadline: '2025-03-06',
  }),
  fact({
    decision_id: 'F3',
    day: '2025-03-05',
    facility_id: 'B',
    vendor_id: 'V2',
    decision: 'HOLD',
    queue: 'ap',
    reason_codes: ['DUPLICATE_SAME_NUMBER', 'TOTAL_MISMATCH'],
    coding_mismatch_score: 0.05,
    duplicate_score: 0.97,
    review_status: 'open',
  }),
  fact({
    decision_id: 'F4',
    day: '2025-03-06',
    facility_id: 'B',
    vendor_id: 'V2',
    reason_codes: ['CODING_MODEL_RISK'],
    coding_mismatch_score: 0.1,
    reviews: 1,
    confirmed_exception: true,
  }),
  fact({
    decision_id: 'F5',
    day: '2025-03-10',
    decision: 'REVIEW',
    queue: 'coding',
    reason_codes: ['DESCRIPTION_CODE_MISMATCH'],
    coding_mismatch_score: 0.95,
    review_status: 'open',
    discount_cents: 500,
    discount_deadline: '2025-03-12',
  }),
  fact({ decision_id: 'F6', day: '2025-03-11', vendor_id: 'V2', coding_mismatch_score: 1 }),
];
const WEEKS = ['2025-03-03', '2025-03-10'];

describe('periods', () => {
  it('weeks start on Monday, months on the 1st, and end where they should', () => {
    expect(periodOf('2025-03-05', 'week')).toBe('2025-03-03');
    expect(periodOf('2025-03-09', 'week')).toBe('2025-03-03');
    expect(periodOf('2025-03-10', 'week')).toBe('2025-03-10');
    expect(periodOf('2025-03-31', 'month')).toBe('2025-03-01');
    expect(periodEnd('2024-02-01', 'month')).toBe('2024-02-29');
    expect(periodEnd('2025-03-03', 'week')).toBe('2025-03-09');
    expect(periodsBetween('2025-03-01', '2025-03-16', 'week')).toEqual(['2025-02-24', ...WEEKS]);
  });

  it('ends at the last day of year 9999 (the day after it sorts first as text)', () => {
    expect(periodsBetween('9999-12-01', '9999-12-31', 'day')).toHaveLength(31);
    expect(periodsBetween('9999-12-01', '9999-12-31', 'month')).toEqual(['9999-12-01']);
    expect(periodsBetween('9999-12-20', '9999-12-31', 'week')).toEqual(['9999-12-20', '9999-12-27']);
  });
});

describe('rate KPIs', () => {
  it('straight-through: F1, F4 of 4, then F6 of 2', () => {
    expect(rateSeries(facts, 'straight-through', 'week', 'none')).toEqual([
      { period: '2025-03-03', group: 'all', n: 4, count: 2, rate: 0.5 },
      { period: '2025-03-10', group: 'all', n: 2, count: 1, rate: 0.5 },
    ]);
  });
  it('first-pass match: only F1 and F6 raised no reason code', () => {
    expect(rateSeries(facts, 'first-pass-match', 'week', 'none').map((p) => p.rate)).toEqual([0.25, 0.5]);
  });
  it('manual touch: F2 and F4 were reviewed', () => {
    expect(rateSeries(facts, 'manual-touch', 'week', 'none').map((p) => [p.count, p.rate])).toEqual([
      [2, 0.5],
      [0, 0],
    ]);
  });
  it('per facility: A has F1 (auto) and F2; B has F3 and F4 (auto)', () => {
    expect(
      rateSeries(facts, 'straight-through', 'week', 'facility').filter((p) => p.period === '2025-03-03'),
    ).toEqual([
      { period: '2025-03-03', group: 'A', n: 2, count: 1, rate: 0.5 },
      { period: '2025-03-03', group: 'B', n: 2, count: 1, rate: 0.5 },
    ]);
  });
});

describe('exception aging (SLA 5 days, today 2025-03-20)', () => {
  it('week 1 ends 03-09: F3 aged 4 (F2 closed, F5 not yet received); week 2 ends 03-16: F3 aged 11, F5 aged 6', () => {
    expect(exceptionAging(facts, WEEKS, 'week', 'none', 5, '2025-03-20')).toEqual([
      {
        period: '2025-03-03',
        as_of: '2025-03-09',
        group: 'all',
        bands: { '0-2': 0, '3-5': 1, '6-10': 0, '11+': 0 },
        open: 1,
        past_sla: 0,
      },
      {
        period: '2025-03-10',
        as_of: '2025-03-16',
        group: 'all',
        bands: { '0-2': 0, '3-5': 0, '6-10': 1, '11+': 1 },
        open: 2,
        past_sla: 2,
      },
    ]);
  });
  it('a period ending after today is taken as of today', () => {
    expect(exceptionAging(facts, ['2025-03-10'], 'week', 'none', 5, '2025-03-12')[0]).toMatchObject({
      as_of: '2025-03-12',
      bands: { '0-2': 1, '3-5': 0, '6-10': 1, '11+': 0 },
      past_sla: 1,
    });
  });
});

describe('discount capture', () => {
  it('week 1: F1 auto-approved and F2 cleared by their deadlines; week 2: F5 still open', () => {
    expect(discountCapture(facts, 'week', 'none')).toEqual([
      {
        period: '2025-03-03',
        group: 'all',
        offered: 2,
        captured: 2,
        offered_cents: 500,
        captured_cents: 500,
        rate: 1,
        cents_rate: 1,
      },
      {
        period: '2025-03-10',
        group: 'all',
        offered: 1,
        captured: 0,
        offered_cents: 500,
        captured_cents: 0,
        rate: 0,
        cents_rate: 0,
      },
    ]);
  });
  it('rate is null when no invoice offered a discount', () => {
    expect(discountCapture([facts[5]!], 'week', 'none')[0]).toMatchObject({ offered: 0, rate: null });
  });
});

describe('blocked, load, auto-approve, scores', () => {
  it('blocked by reason counts REVIEW/HOLD invoices per code', () => {
    expect(blockedByReason(facts, 'week')).toEqual([
      { period: '2025-03-03', reason: 'DESCRIPTION_CODE_MISMATCH', count: 1 },
      { period: '2025-03-03', reason: 'DUPLICATE_SAME_NUMBER', count: 1 },
      { period: '2025-03-03', reason: 'TOTAL_MISMATCH', count: 1 },
      { period: '2025-03-10', reason: 'DESCRIPTION_CODE_MISMATCH', count: 1 },
    ]);
  });
  it('review load per queue: opened, closed, open at the end', () => {
    expect(reviewLoad(facts, WEEKS, 'week')).toEqual([
      { period: '2025-03-03', queue: 'ap', opened: 1, closed: 0, open_at_end: 1 },
      { period: '2025-03-03', queue: 'coding', opened: 1, closed: 1, open_at_end: 0 },
      { period: '2025-03-10', queue: 'ap', opened: 0, closed: 0, open_at_end: 1 },
      { period: '2025-03-10', queue: 'coding', opened: 1, closed: 0, open_at_end: 1 },
    ]);
  });
  it('auto-approve rate and the confirmed share of reviewed auto-approvals (F4)', () => {
    expect(autoApproveSeries(facts, 'week')).toEqual([
      {
        period: '2025-03-03',
        n: 4,
        auto_approved: 2,
        auto_approve_rate: 0.5,
        reviewed: 1,
        confirmed_exceptions: 1,
        observed_exception_rate: 1,
      },
      {
        period: '2025-03-10',
        n: 2,
        auto_approved: 1,
        auto_approve_rate: 0.5,
        reviewed: 0,
        confirmed_exceptions: 0,
        observed_exception_rate: null,
      },
    ]);
  });
  it('score bins of width 0.1; 1.0 falls in the last bin', () => {
    const coding = scoreDistributions(facts, 'week').filter((d) => d.score === 'coding_mismatch');
    expect(coding).toEqual([
      { period: '2025-03-03', score: 'coding_mismatch', bins: [2, 1, 0, 0, 0, 1, 0, 0, 0, 0] },
      { period: '2025-03-10', score: 'coding_mismatch', bins: [0, 0, 0, 0, 0, 0, 0, 0, 0, 2] },
    ]);
  });
});
