import { describe, expect, it } from 'vitest';
import { BLOCKING_SPEC, vendorBillingIntervalDays, vendorRecentPool, type BlockingKeys } from './blocking.js';

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
    key('2025-05-08'), // 2: 2 days before, tie with 1: the earlier (1) goes first
    key('2025-05-10', 'V-9', 'other'), // 3: another vendor
    key('2023-01-01'), // 4: outside the window
    key('2025-05-10', 'V-2'), // 5: same vendor key, another id, same day
    key('2025-05-20'), // 6: 10 days after
  ];
  const pool = keys.map((_, i) => i);

  it("keeps the vendor's window when it is within the bound", () => {
    expect(vendorRecentPool({ ...BLOCKING_SPEC, vendorRecentLimit: 10 }, q, pool, keys).sort()).toEqual([
      0, 1, 2, 5, 6,
    ]);
  });

  it('keeps the bound nearest in date, ties to the earlier in the pool', () => {
    const spec = { ...BLOCKING_SPEC, vendorRecentLimit: 2 };
    expect(vendorRecentPool(spec, q, pool, keys).sort()).toEqual([1, 5]);
    expect(vendorRecentPool({ ...spec, vendorRecentLimit: 3 }, q, pool, keys).sort()).toEqual([1, 2, 5]);
    expect(vendorRecentPool({ ...spec, vendorRecentLimit: 4 }, q, pool, keys).sort()).toEqual([0, 1, 2, 5]);
  });
});
