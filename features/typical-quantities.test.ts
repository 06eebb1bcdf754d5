import { describe, expect, it } from 'vitest';
import { loadReferenceData } from '../datasets/reference.js';
import { lineFeatures } from './line-features.js';
import { referenceFee, referenceIndex } from './reference-index.js';
import { feeBand, fitTypicalQuantities, type TypicalQuantityLine } from './typical-quantities.js';

const rep = (n: number, l: TypicalQuantityLine): TypicalQuantityLine[] => Array.from({ length: n }, () => l);

describe('typical quantities', () => {
  it('bands fees by section and factor of 2', () => {
    expect(feeBand('a6604', 134)).toBe('A:7');
    expect(feeBand('A6598', 255)).toBe('A:7');
    expect(feeBand('A6598', 256)).toBe('A:8');
    expect(feeBand('J9100', 88)).toBe('J:6');
  });

  it('estimates a priced code without lines of its own from its price band, not its category', () => {
    const lines = [
      // cheap supplies billed by the dozen; a dear one billed singly, same category
      ...rep(3, { code: 'A6501', category: 'O1L', quantity: 40, feeCents: 150 }),
      ...rep(3, { code: 'A6502', category: 'O1L', quantity: 60, feeCents: 180 }),
      ...rep(9, { code: 'A6530', category: 'O1L', quantity: 1, feeCents: 9000 }),
    ];
    const t = fitTypicalQuantities(lines, 'fixture', 5, [
      { code: 'A6604', feeCents: 134 }, // band A:7 holds the 6 cheap lines
      { code: 'A6531', feeCents: 9500 }, // band A:13, 9 lines at 1
      { code: 'A6530', feeCents: 9000 }, // has its own median
      { code: 'A9999', feeCents: 1_000_000 }, // no band near it: no estimate
    ]);
    expect(t.byCode.get('A6530')).toBe(1);
    expect(t.byCode.get('A6604')).toBe(50);
    expect(t.byCode.get('A6531')).toBe(1);
    expect(t.byCode.has('A9999')).toBe(false);
    // codes of their own: below minLines, so no code median, but in the priced list none asked
    expect(t.byCode.has('A6501')).toBe(false);
    // the category median the line features fell back on before: 1 (9 of 15 lines)
    expect(t.byCategory.get('O1L')).toBe(1);
  });

  it('takes the neighbouring bands when the band is thin', () => {
    const lines = [
      ...rep(2, { code: 'J1000', category: 'O1E', quantity: 100, feeCents: 60 }), // J:5
      ...rep(3, { code: 'J1001', category: 'O1E', quantity: 200, feeCents: 130 }), // J:7
    ];
    const t = fitTypicalQuantities(lines, 'fixture', 5, [{ code: 'J1002', feeCents: 90 }]); // J:6
    expect(t.byCode.get('J1002')).toBe(200);
  });

  it('puts a normal line of a code without history back in range (A6604, USD 1.34 per 250 sq cm)', () => {
    const data = loadReferenceData();
    const reference = referenceIndex(data);
    const fee = referenceFee(reference.get('A6604')!.fees, [])!.amountCents;
    const history = [
      ...rep(20, { code: 'A6530', category: 'O1L', quantity: 2, feeCents: 4310 }),
      ...rep(6, { code: 'A6453', category: 'O1L', quantity: 30, feeCents: fee + 10 }),
    ];
    const before = fitTypicalQuantities(history, 'fixture');
    const after = fitTypicalQuantities(history, 'fixture', 5, [{ code: 'A6604', feeCents: fee }]);
    const line = {
      line_number: 1,
      description: 'Gradient compression bandaging supply, low density flat foam sheet, per 250 sq (A6604)',
      code: { system: 'HCPCS' as const, value: 'A6604' },
      quantity: 30,
      unit_price_cents: 153,
      amount_cents: 30 * 153,
    };
    const features = (t: typeof before): Record<string, number> =>
      lineFeatures(line, { reference, serviceDate: '2025-06-01', typicalQuantities: t }).values;
    // Without the band estimate the code is judged by its category's median (2): 15 times it.
    expect(before.byCategory.get('O1L')).toBe(2);
    expect(features(before).quantity_typical_log_ratio).toBeCloseTo(Math.log(15), 6);
    expect(features(after).quantity_typical_known).toBe(1);
    expect(features(after).quantity_typical_log_ratio).toBeCloseTo(0, 6); // the band median (30)
  });

  it('estimates a priced code billed too rarely for its own median from its band', () => {
    const lines = [
      ...rep(6, { code: 'J1000', category: 'O1E', quantity: 300, feeCents: 60 }), // J:5
      ...rep(2, { code: 'J1002', category: 'O1E', quantity: 7, feeCents: 50 }), // J:5, 2 < minLines
    ];
    const t = fitTypicalQuantities(lines, 'fixture', 5, [{ code: 'J1002', feeCents: 50 }]);
    expect(t.byCode.get('J1002')).toBe(300);
    expect([...t.estimated!]).toEqual(['J1002']);
    expect(fitTypicalQuantities(lines, 'fixture', 5).byCode.has('J1002')).toBe(false);
  });
});
