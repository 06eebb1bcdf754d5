import { describe, expect, it } from 'vitest';
import { variantAgreement, variantAttributes, variantConflicts } from './variants.js';

describe('variant attributes of item descriptions', () => {
  it('reads sizes, colours and measures with their abbreviations and units folded', () => {
    const gown = variantAttributes('ISOLATION GOWN LVL2 YEL UNIV 50/CS');
    expect([...gown.get('size')!]).toEqual(['universal']);
    expect([...gown.get('colour')!]).toEqual(['yellow']);
    const foley = variantAttributes('Silicone Foley cath 2-way 16FR 5cc balloon');
    expect([...foley.get('french')!]).toEqual(['16']);
    expect([...foley.get('volume_ml')!]).toEqual(['5']);
    const needle = variantAttributes('Hypodermic needle 22G 1.5 inch');
    expect([...needle.get('gauge')!]).toEqual(['22']);
    expect([...needle.get('length_in')!]).toEqual(['1.5']);
    expect([...variantAttributes('Gloves nitrile x-large').get('size')!]).toEqual(['x-large']);
    expect([...variantAttributes('SUTURE NYLON 4-0 PS-2 18IN').get('suture_size')!]).toEqual(['4-0']);
  });

  it('ignores numbers inside part numbers and after a hyphen (PS-1 inch is not 1 inch)', () => {
    expect(variantAttributes('glove N8832-L textured').get('volume_l')).toBeUndefined();
    expect(variantAttributes('SUTURE NYLON 3-0 18 PS-1 INCH').get('length_in')).toBeUndefined();
    expect(variantAttributes('TEXTURED GLOVE').get('colour')).toBeUndefined();
  });

  it('reads no colour from words named like prototype members', () => {
    for (const word of ['Constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty']) {
      const text = `Nitrile glove ${word} blue LG`;
      expect([...variantAttributes(text).get('colour')!], word).toEqual(['blue']);
      expect(variantAgreement(`Nitrile glove ${word}`, `Nitrile glove ${word}`), word).toEqual({
        agree: [],
        conflict: [],
      });
    }
  });

  it('names the attributes two descriptions state differently, and only those both state', () => {
    const medium = 'Gloves, exam, nitrile, powder-free, textured, medium, 100/box';
    expect(variantConflicts('NITRILE EXAM GLOVE PF TEXTURED LARGE 100/BX', medium)).toEqual(['size']);
    expect(variantConflicts('NITRILE EXAM GLOVE PF TEXTURED MED 100/BX', medium)).toEqual([]);
    expect(
      variantConflicts(
        'FOLEY CATHETER 2-WAY SILICONE 16FR 5ML',
        'Foley catheter, 2-way, 100% silicone, 14 Fr, 5 mL balloon',
      ),
    ).toEqual(['french']);
    expect(
      variantConflicts(
        'ISOLATION GOWN AAMI LEVEL 2 BLUE XL 50/CS',
        'Isolation gown, AAMI level 2, yellow, universal size, 50/case',
      ).sort(),
    ).toEqual(['colour', 'size']);
    expect(variantConflicts('Foley catheter 16 Fr', 'Foley catheter silicone')).toEqual([]);
    expect(variantConflicts('Syringe 10 mL luer lock', 'SYRINGE 10ML LUER LOCK STERILE 100/BX')).toEqual([]);
  });

  it('splits the attributes both state into agreeing and conflicting kinds', () => {
    expect(variantAgreement('glove medium blue', 'GLOVE LG BLU')).toEqual({
      agree: ['colour'],
      conflict: ['size'],
    });
    expect(variantAgreement('Foley 16 Fr 5 mL', 'FOLEY 16FR 10CC')).toEqual({
      agree: ['french'],
      conflict: ['volume_ml'],
    });
    expect(variantAgreement('Foley catheter 16 Fr', 'Foley catheter silicone')).toEqual({
      agree: [],
      conflict: [],
    });
  });
});
