import { describe, expect, it } from 'vitest';
import { UBL_UNIT_CODES } from '../intake/mapping/ubl.js';
import { parseUom } from '../matching/uom.js';
import { REC20_UNITS, UNITS, fixedCountOf, isCountUnit, unitCodeOf, unitSizeOf } from './units.js';

describe('unit table', () => {
  it('gives the fixed counts of X12 355 / Rec 20 count units and none for packs and measures', () => {
    expect(['EA', 'each', 'PR', 'DZ', 'dozen', 'GR', 'HD', 'TH'].map(fixedCountOf)).toEqual([
      1, 1, 2, 12, 12, 144, 100, 1000,
    ]);
    expect(['BX', 'CS', 'PK', 'CTN', 'BG', 'VL', 'ML', 'KG', 'XYZ'].map(fixedCountOf)).toEqual(
      Array(9).fill(null),
    );
    // A bare CT is a count (each) in hospital item masters; CTN is the carton.
    expect(fixedCountOf('CT')).toBe(1);
    expect(unitSizeOf('CTN')).toEqual({ kind: 'pack', single: false, word: 'carton' });
    expect(parseUom('CTN')).toMatchObject({ code: 'CT', fixedCount: null });
  });

  it('counts whole units of counts and packs, not of measures', () => {
    expect(['EA', 'DZ', 'BX', 'CS', 'vial'].map(isCountUnit)).toEqual([true, true, true, true, true]);
    expect(['ML', 'KG', 'LB', 'mg', 'XYZ'].map(isCountUnit)).toEqual([false, false, false, false, false]);
  });

  it('maps every spelling and Rec 20 code back to its own unit', () => {
    for (const [code, u] of Object.entries(UNITS)) {
      for (const s of u.spellings) expect(unitCodeOf(s), s).toBe(code);
      for (const c of u.rec20) expect(unitCodeOf(REC20_UNITS[c]!), c).toBe(code);
    }
    expect(Object.keys(UNITS)).toHaveLength(33);
  });

  it('reads UBL unitCodes through the table (C62 states no unit)', () => {
    expect(UBL_UNIT_CODES.C62).toBeNull();
    expect([UBL_UNIT_CODES.DZN, UBL_UNIT_CODES.GRO, UBL_UNIT_CODES.XCT, UBL_UNIT_CODES.H87]).toEqual([
      'DZ',
      'GR',
      'CTN',
      'EA',
    ]);
    expect([UBL_UNIT_CODES.MLT, UBL_UNIT_CODES.KGM]).toEqual(['ML', 'KG']);
  });
});
