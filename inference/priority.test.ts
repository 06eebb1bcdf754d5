import { describe, expect, it } from 'vitest';
import {
  addDays,
  expectedLossCents,
  priorityAsOf,
  priorityComponents,
  type PriorityInputs,
} from './priority.js';
import { reason } from './explain.js';

const base: PriorityInputs = {
  totalCents: 100_000,
  duplicateScore: 0,
  lines: [
    { amountCents: 60_000, codingScore: 0.5 },
    { amountCents: 40_000, codingScore: null },
  ],
  reasons: [],
  invoiceDate: '2025-03-01',
  receivedDate: '2025-03-03',
  slaCentsPerDay: 200,
};

describe('priority (expected cost in dollars)', () => {
  it('expected loss is the largest of duplicate, coding+billing and compliance exposure', () => {
    expect(expectedLossCents(base)).toBe(30_000);
    expect(expectedLossCents({ ...base, duplicateScore: 0.9 })).toBe(90_000);
    // A rule weight above the model score counts for its line; arithmetic gaps add weight x |gap|.
    const gap = reason('TOTAL_MISMATCH', 0.6, { gap_cents: -5_000 });
    expect(
      expectedLossCents({
        ...base,
        lines: [{ amountCents: 60_000, codingScore: 0.1, ruleWeight: 0.6 }],
        reasons: [gap],
      }),
    ).toBe(36_000 + 3_000);
    expect(expectedLossCents({ ...base, reasons: [reason('NPI_INVALID', 0.8, {})] })).toBe(80_000);
  });

  it('values a 2/10 net 30 discount by how soon it expires, and nothing after the deadline', () => {
    const c = priorityComponents({
      ...base,
      paymentTerms: { discount_percent: 2, discount_days: 10, net_days: 30 },
    });
    expect(c).toMatchObject({
      discountCents: 2_000,
      discountDeadline: '2025-03-11',
      expectedLossCents: 30_000,
    });
    const on = (d: string) => priorityAsOf(c, d);
    expect(on('2025-03-11').discountValueCents).toBe(2_000); // deadline day: all of it
    expect(on('2025-03-10').discountValueCents).toBe(1_000); // one day left: half
    expect(on('2025-03-03').discountValueCents).toBeCloseTo(2_000 / 9, 2);
    expect(on('2025-03-12').discountValueCents).toBe(0);
    // SLA: $2.00 per day since received (none before).
    expect(on('2025-03-10').slaAgeCents).toBe(7 * 200);
    expect(on('2025-03-01').slaAgeCents).toBe(0);
    expect(on('2025-03-10').totalCents).toBe(30_000 + 1_000 + 1_400);
  });

  it('gives a credit memo no expected loss: it pays nothing, whatever its scores', () => {
    const credit = {
      ...base,
      totalCents: -21_012,
      documentType: 'credit_memo' as const,
      duplicateScore: 0.9,
      lines: [{ amountCents: -21_012, codingScore: 0.5 }],
      reasons: [reason('TOTAL_MISMATCH', 0.6, { gap_cents: -500 })],
    };
    expect(expectedLossCents(credit)).toBe(0);
    const c = priorityComponents({ ...credit, paymentTerms: { discount_percent: 2, discount_days: 10 } });
    expect(priorityAsOf(c, credit.receivedDate).totalCents).toBe(0);
    // The same amounts on an invoice keep their loss.
    expect(expectedLossCents({ ...credit, documentType: 'invoice' })).toBe(Math.round(0.9 * 21_012));
  });

  it('ignores terms without a discount and credits (negative totals)', () => {
    expect(priorityComponents({ ...base, paymentTerms: { net_days: 30 } }).discountCents).toBe(0);
    expect(
      priorityComponents({
        ...base,
        totalCents: -5_000,
        paymentTerms: { discount_percent: 2, discount_days: 10 },
      }).discountDeadline,
    ).toBeNull();
    expect(addDays('2024-02-28', 2)).toBe('2024-03-01');
  });
});
