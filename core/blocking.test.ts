import { describe, expect, it } from 'vitest';
import {
  BLOCKING_SPEC,
  compareVendorRecent,
  vendorBillingIntervalDays,
  vendorRecentPool,
  type BlockingKeys,
} from './blocking.js';

describe('vendorBillingIntervalDays', () => {
  const q = { vendorKey: 'acme', vendorId: 'V-1', invoiceDate: '2025-05-01' };
  const at = (invoiceDate: string, vendorId = 'V-1', vendorKey = 'acme') => ({
    vendorKey,
    vendorId,
    invoiceDate,
  });

  it("is the median gap of the vendor's earlier candidate dates, other vendors and later dates left out", () => {
    const cs = [
      at('2025-01-01'),
      at('2025-02-01'),
      at('2025-03-01'),
      at('2025-04-01'),
      at('2025-04-01'), // the same date twice counts once
      at('2025-04-20', 'V-9', 'other'),
      at('2025-06-01'),
    ];
    // gaps 31, 28, 31 -> 31
    expect(vendorBillingIntervalDays(BLOCKING_SPEC, q, cs)).toBe(31);
    // same vendor key under another id counts; two gaps 31 and 10 -> 20.5
    expect(
      vendorBillingIntervalDays(BLOCKING_SPEC, q, [
        at('2025-03-01', 'V-7'),
        at('2025-04-01'),
        at('2025-04-11'),
      ]),
    ).toBe(20.5);
  });

  it('is null with fewer earlier dates than the spec asks for', () => {
    expect(BLOCKING_SPEC.rhythmMinDates).toBe(3);
    expect(vendorBillingIntervalDays(BLOCKING_SPEC, q, [at('2025-03-01'), at('2025-04-01')])).toBeNull();
    expect(vendorBillingIntervalDays(BLOCKING_SPEC, q, [])).toBeNull();
  });
});

describe('vendorRecentPool', () => {
  const key = (invoiceDate: string, vendorId = 'V-1', vendorKey = 'acme'): BlockingKeys => ({
    vendorKey,
    vendorId,
    invoiceNumberCanonical: 'x',
    totalCents: 100,
    invoiceDate,
    embedding: [1],
  });
  const q = key('2025-05-10');
  const keys = [
    key('2025-05-01'), // 0: 9 days before
    key('2025-05-12'), // 1: 2 days after
    key('2025-05-08'), // 2: 2 days before, tie with 1: the day before goes first
    key('2025-05-10', 'V-9', 'other'), // 3: another vendor
    key('2023-01-01'), // 4: outside the window
    key('2025-05-10', 'V-2'), // 5: same vendor key, another id, same day
    key('2025-05-20'), // 6: 10 days after
    key('2025-05-10'), // 7: same day as 5, stored later: nearer to q in storage order
    key('2025-05-12'), // 8: same day as 1, stored later: further from q in storage order
  ];
  const pool = keys.map((_, i) => i);
  const sorted = (xs: number[]): number[] => xs.sort((a, b) => a - b);

  it("keeps the vendor's window when it is within the bound", () => {
    expect(sorted(vendorRecentPool({ ...BLOCKING_SPEC, vendorRecentLimit: 10 }, q, pool, keys))).toEqual([
      0, 1, 2, 5, 6, 7, 8,
    ]);
  });

  it('keeps the bound first by days away, then the earlier date, then storage order towards q', () => {
    const spec = { ...BLOCKING_SPEC, vendorRecentLimit: 1 };
    // Order: 7, 5 (the date of q, later stored first), 2 (2 days before), 1, 8 (2 days after,
    // earlier stored first), 0, 6.
    expect(vendorRecentPool(spec, q, pool, keys)).toEqual([7]);
    expect(sorted(vendorRecentPool({ ...spec, vendorRecentLimit: 2 }, q, pool, keys))).toEqual([5, 7]);
    expect(sorted(vendorRecentPool({ ...spec, vendorRecentLimit: 3 }, q, pool, keys))).toEqual([2, 5, 7]);
    expect(sorted(vendorRecentPool({ ...spec, vendorRecentLimit: 4 }, q, pool, keys))).toEqual([1, 2, 5, 7]);
    expect(sorted(vendorRecentPool({ ...spec, vendorRecentLimit: 5 }, q, pool, keys))).toEqual([
      1, 2, 5, 7, 8,
    ]);
    expect(sorted(vendorRecentPool({ ...spec, vendorRecentLimit: 6 }, q, pool, keys))).toEqual([
      0, 1, 2, 5, 7, 8,
    ]);
  });
});

describe('compareVendorRecent', () => {
  const at = (invoiceDate: string, stored: number) => ({ invoiceDate, stored });
  it('orders by days away, the day before first, then towards the new invoice in storage order', () => {
    const q = '2025-05-10';
    const xs = [
      at('2025-05-12', 3),
      at('2025-05-08', 4),
      at('2025-05-10', 1),
      at('2025-05-12', 2),
      at('2025-05-10', 5),
    ];
    expect(xs.sort((x, y) => compareVendorRecent(q, x, y))).toEqual([
      at('2025-05-10', 5),
      at('2025-05-10', 1),
      at('2025-05-08', 4),
      at('2025-05-12', 2),
      at('2025-05-12', 3),
    ]);
  });
});
