import { describe, expect, it } from 'vitest';
import {
  analyseDescription,
  descriptionTokens,
  descriptionWords,
  normaliseDescription,
  parseBillingUnit,
  parseQuantities,
  totalDose,
} from './text.js';

describe('text pipeline', () => {
  it('lower-cases, expands abbreviations, drops stop words and stems', () => {
    expect(normaliseDescription('O2 Conc w/ Humidifier, w/o tubing; 1.5 ML')).toBe(
      'o2 conc with humidifier without tubing 1.5 ml',
    );
    expect(descriptionWords('Inj dexamethasone sod phos 4 mg/ml vl, 25/bx')).toEqual([
      'injection',
      'dexamethasone',
      'sodium',
      'phos',
      '4',
      'mg',
      'ml',
      'vial',
      '25',
      'box',
    ]);
    expect(descriptionTokens('Whlchr w/c cush, disp, ea')).toEqual([
      'wheelchair',
      'wheelchair',
      'cush',
      'dispos',
    ]);
    expect(descriptionTokens('Gloves nitr PF lg, cs/1000')).toEqual([
      'glove',
      'nitril',
      'powder',
      'free',
      'larg',
      'case',
      '1000',
    ]);
  });

  it('reads a word that names a property of every object as a word', () => {
    expect(descriptionWords('Constructor kit, valueOf toString 10 mg')).toEqual([
      'constructor',
      'kit',
      'valueof',
      'tostring',
      '10',
      'mg',
    ]);
  });

  it('keeps the original beside every form', () => {
    const a = analyseDescription('Ceftriaxone 1 g vial');
    expect(a.original).toBe('Ceftriaxone 1 g vial');
    expect(a.normalised).toBe('ceftriaxone 1 g vial');
    expect(a.tokens).toEqual(['ceftriaxon', '1', 'g', 'vial']);
    expect(a.quantities.doses).toEqual([{ value: 1000, unit: 'mg', text: '1 g' }]);
  });
});

describe('parseQuantities', () => {
  it('reads doses, concentrations and volumes in canonical units', () => {
    expect(parseQuantities('Dexamethasone 4 mg/ml, 1 ml vial').doses).toEqual([
      { value: 4, unit: 'mg', per: { value: 1, unit: 'ml' }, text: '4 mg/ml' },
      { value: 1, unit: 'ml', text: '1 ml' },
    ]);
    expect(parseQuantities('Amoxicillin 250mg/5ml susp').doses).toEqual([
      { value: 250, unit: 'mg', per: { value: 5, unit: 'ml' }, text: '250mg/5ml' },
    ]);
    expect(parseQuantities('Heparin 5,000 units per ml').doses[0]).toMatchObject({
      value: 5000,
      unit: 'units',
      per: { value: 1, unit: 'ml' },
    });
    expect(parseQuantities('Vitamin B12 1000 mcg').doses[0]).toMatchObject({ value: 1, unit: 'mg' });
    expect(parseQuantities('NaCl 0.9% 1 L bag').doses).toEqual([
      { value: 0.9, unit: '%', text: '0.9%' },
      { value: 1000, unit: 'ml', text: '1 l' },
    ]);
    expect(parseQuantities('Insulin 100 u/ml').doses[0]).toMatchObject({ value: 100, unit: 'units' });
  });

  it('does not read a needle gauge as grams', () => {
    expect(parseQuantities('Syringe 3 ml w/ 22g needle').doses).toEqual([
      { value: 3, unit: 'ml', text: '3 ml' },
    ]);
  });

  it('reads pack counts', () => {
    expect(parseQuantities('Gauze 4x4, 25/bx').packs).toEqual([{ count: 25, per: 'box', text: '25/bx' }]);
    expect(parseQuantities('Gloves box of 100').packs).toEqual([
      { count: 100, per: 'box', text: 'box of 100' },
    ]);
    expect(parseQuantities('Underpads cs/150').packs).toEqual([{ count: 150, per: 'case', text: 'cs/150' }]);
    expect(parseQuantities('Alcohol prep pads 200 ct').packs).toEqual([
      { count: 200, per: 'each', text: '200 ct' },
    ]);
    expect(parseQuantities('Batteries 10pk').packs).toEqual([{ count: 10, per: 'pack', text: '10pk' }]);
    expect(parseQuantities('Catheter 14 fr, 10 ea').packs).toEqual([
      { count: 10, per: 'each', text: '10 ea' },
    ]);
  });

  it('totals the dose: plain, or concentration times volume', () => {
    expect(totalDose(parseQuantities('dexamethasone 10 mg'))).toEqual({ value: 10, unit: 'mg' });
    expect(totalDose(parseQuantities('dexamethasone 4 mg/ml, 5 ml vial'))).toEqual({ value: 20, unit: 'mg' });
    expect(totalDose(parseQuantities('insulin 100 units/ml 10 ml'))).toEqual({ value: 1000, unit: 'units' });
    expect(totalDose(parseQuantities('gauze pads 25/bx'))).toBeNull();
  });

  it('prefers the dose marked as given over the strength a line repeats from the code', () => {
    expect(totalDose(parseQuantities('Dalbavancin inj, 5 mg; dose 250 mg'))).toEqual({
      value: 250,
      unit: 'mg',
    });
    expect(totalDose(parseQuantities('Imiglucerase inj, 10 units (40 units)'))).toEqual({
      value: 40,
      unit: 'units',
    });
    expect(totalDose(parseQuantities('Inj., rituximab, 10 mg (J9312) - 70 mg'))).toEqual({
      value: 70,
      unit: 'mg',
    });
    expect(totalDose(parseQuantities('Pentostatin inj, 10 mg - 10 mg'))).toEqual({ value: 10, unit: 'mg' });
    expect(totalDose(parseQuantities('Imiglucerase 10 units 40 units'))).toEqual({
      value: 40,
      unit: 'units',
    });
    expect(parseQuantities('Dalbavancin inj, 5 mg; dose 250 mg').doses.map((d) => d.marked ?? false)).toEqual(
      [false, true],
    );
  });
});

describe('parseBillingUnit', () => {
  it.each([
    ['10 MG', { value: 10, unit: 'mg' }],
    ['0.1 MG', { value: 0.1, unit: 'mg' }],
    ['1 ML', { value: 1, unit: 'ml' }],
    ['100,000 UNITS', { value: 100000, unit: 'units' }],
    ['1 IU', { value: 1, unit: 'units' }],
    ['1 GM', { value: 1000, unit: 'mg' }],
    ['1 SQ CM', { value: 1, unit: 'sq cm' }],
    ['Injection, dexamethasone sodium phosphate, 1 mg', { value: 1, unit: 'mg' }],
    ['Injection, ceftriaxone sodium, per 250 mg', { value: 250, unit: 'mg' }],
    ['Injection, tetracycline, up to 250 mg', { value: 250, unit: 'mg' }],
    ['Injection, burosumab-twza 1 mg', { value: 1, unit: 'mg' }],
  ] as const)('%s', (text, unit) => {
    expect(parseBillingUnit(text)).toEqual(unit);
  });

  it.each([
    '2MG/3MG',
    'PER VIAL',
    'UP TO 200 MILLION CAR T CELLS',
    'Injection, acetaminophen 10 mg and ibuprofen 3 mg',
  ])('has no single unit for %s', (text) => {
    expect(parseBillingUnit(text)).toBeNull();
  });
});
