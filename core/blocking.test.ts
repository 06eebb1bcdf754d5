import { describe, expect, it } from 'vitest';
import { BLOCKING_SPEC, vendorBillingIntervalDays } from './blocking.js';

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
