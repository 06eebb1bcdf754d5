import { describe, expect, it } from 'vitest';
import { decisionGuarantee, promiseFailures, renderGuarantee, type RoutedTruth } from './guarantee.js';

const rows = (decision: string, exception: boolean, vendorId: string, n: number): RoutedTruth[] =>
  Array.from({ length: n }, () => ({ decision, exception, vendorId }));

describe('decision guarantee on a split', () => {
  it('tests both sides of the promise and counts the clean invoices sent to people', () => {
    const split = [
      // 1,000 auto-approved at 50 vendors, 4 exceptions (0.4%) at 4 vendors
      ...Array.from({ length: 50 }, (_, v) => rows('AUTO_APPROVE', false, `V${v}`, v < 4 ? 19 : 20)).flat(),
      ...Array.from({ length: 4 }, (_, v) => rows('AUTO_APPROVE', true, `V${v}`, 1)).flat(),
      // 40 held: 10 clean (25%), all at one vendor that bills the same way every time
      ...rows('HOLD', true, 'V1', 30),
      ...rows('HOLD', false, 'V7', 10),
      // 60 reviews, 20 of them clean
      ...rows('REVIEW', true, 'V2', 40),
      ...rows('REVIEW', false, 'V3', 20),
    ];
    const g = decisionGuarantee(split);
    expect(g.autoApprove).toMatchObject({
      promised: 0.005,
      invoices: 1000,
      errors: 4,
      rate: 0.004,
      pass: true,
      vendors: 50,
    });
    expect(g.autoApprove.upper).toBeGreaterThan(0.004);
    expect(g.autoApprove.upper).toBeGreaterThanOrEqual(g.autoApprove.upperIndependent);
    expect(g.hold).toMatchObject({
      promised: 0.1,
      invoices: 40,
      errors: 10,
      rate: 0.25,
      pass: false,
      vendors: 2,
    });
    // clustered false holds: the grouped bound is wider than the independent one
    expect(g.hold.deff).toBeGreaterThan(1);
    expect(g.hold.upper).toBeGreaterThan(g.hold.upperIndependent);
    expect(g.reviewLoad).toEqual({
      invoices: 1100,
      clean: 1026,
      cleanToPeople: 30,
      perThousandInvoices: (1000 * 30) / 1100,
      perThousandClean: (1000 * 30) / 1026,
      causes: { byReason: { '(none)': 30 }, byCode: { '(none)': 30 }, byVendor: { V7: 10, V3: 20 } },
    });
    const text = renderGuarantee('current', g).join('\n');
    expect(text).toContain('exceptions among AUTO_APPROVE 4/1000 = 0.40% (promised <= 0.50%');
    expect(text).toContain('clean among HOLD 10/40 = 25.00%');
    expect(text).toMatch(/HOLD.*FAIL/);
    expect(text).toContain('30 of 1026 clean invoices sent to people');
  });

  it('counts what sent the clean invoices to people, most frequent first', () => {
    const g = decisionGuarantee([
      ...Array.from({ length: 3 }, () => ({
        decision: 'REVIEW',
        exception: false,
        vendorId: 'V1',
        cause: 'QUANTITY_IMPLAUSIBLE',
        causeCode: 'A6604',
      })),
      {
        decision: 'HOLD',
        exception: false,
        vendorId: 'V2',
        cause: 'DESCRIPTION_CODE_MISMATCH',
        causeCode: 'G0306',
      },
      { decision: 'REVIEW', exception: false, vendorId: 'V2', cause: 'LINE_REBILLED', causeCode: null },
      // not counted: an exception sent to people, a clean invoice approved
      {
        decision: 'REVIEW',
        exception: true,
        vendorId: 'V3',
        cause: 'PRICE_ABOVE_FEE_SCHEDULE',
        causeCode: 'E0601',
      },
      { decision: 'AUTO_APPROVE', exception: false, vendorId: 'V3' },
    ]);
    expect(g.reviewLoad.cleanToPeople).toBe(5);
    expect(g.reviewLoad.causes).toEqual({
      byReason: { QUANTITY_IMPLAUSIBLE: 3, DESCRIPTION_CODE_MISMATCH: 1, LINE_REBILLED: 1 },
      byCode: { A6604: 3, '(invoice)': 1, G0306: 1 },
      byVendor: { V1: 3, V2: 2 },
    });
    expect(Object.keys(g.reviewLoad.causes.byVendor)).toEqual(['V1', 'V2']);
    const text = renderGuarantee('current', g).join('\n');
    expect(text).toContain(
      'clean sent to people by reason: QUANTITY_IMPLAUSIBLE 3, DESCRIPTION_CODE_MISMATCH 1, LINE_REBILLED 1',
    );
    expect(text).toContain('by code: A6604 3, (invoice) 1, G0306 1');
  });
});

describe('promiseFailures (npm run eval -- --require)', () => {
  const holdFails = decisionGuarantee([
    ...rows('AUTO_APPROVE', false, 'V1', 300),
    ...rows('HOLD', false, 'V2', 2),
    ...rows('HOLD', true, 'V3', 8),
  ]);
  const holds = decisionGuarantee([
    ...rows('AUTO_APPROVE', false, 'V1', 300),
    ...rows('HOLD', true, 'V3', 10),
    ...rows('REVIEW', false, 'V4', 9),
  ]);

  it('names each failed side with the detector and split; nothing when the promise holds', () => {
    expect(promiseFailures([{ name: 'current', guarantee: holds }])).toEqual([]);
    expect(
      promiseFailures([
        { name: 'current', guarantee: holds, guaranteeBySplit: { valid: holdFails, test: holds } },
      ]),
    ).toEqual(['current valid: clean among HOLD 2/10 above the promised 0.1']);
    expect(promiseFailures([{ name: 'sap', guarantee: null }])).toEqual([]);
  });

  it('fails a review load above the given bound, per 1,000 clean invoices', () => {
    // 9 clean of 309 sent to people: 29.1 per 1,000 clean.
    expect(promiseFailures([{ name: 'current', guarantee: holds }], 33)).toEqual([]);
    expect(promiseFailures([{ name: 'current', guarantee: holds }], 29)).toEqual([
      'current: 29.1 clean invoices per 1,000 clean sent to people, above 29',
    ]);
  });
});
