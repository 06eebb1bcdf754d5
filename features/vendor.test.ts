import { describe, expect, it } from 'vitest';
import { compareVendorNames, normaliseVendor, normaliseVendorName, vendorNamesMatch } from './vendor.js';

describe('normaliseVendor', () => {
  it.each([
    ['Acme Medical Supply, Inc.', 'acme medical supply', ['inc']],
    ['ACME MEDICAL SUPPLY INCORPORATED', 'acme medical supply', ['inc']],
    ['Acme Medical Supply LLC', 'acme medical supply', ['llc']],
    ['Acme Medical Supply L.L.C.', 'acme medical supply', ['llc']],
    ['Acme Medical Supply Ltd.', 'acme medical supply', ['ltd']],
    ['Acme Medical Supply Limited', 'acme medical supply', ['ltd']],
    ['MR. D.I.Y. (M) SDN BHD', 'mr diy', ['sdn bhd']],
    ['Syarikat Perniagaan Gin Kee Sdn. Bhd.', 'syarikat perniagaan gin kee', ['sdn bhd']],
    ['Müller Medizintechnik GmbH', 'muller medizintechnik', ['gmbh']],
    ['MULLER MEDIZINTECHNIK G.M.B.H.', 'muller medizintechnik', ['gmbh']],
    ['北京医疗器械有限公司 (Beijing)', '北京医疗器械有限公司', []],
    ['Acme Co., Ltd.', 'acme', ['co ltd']],
    ['Acme Corp', 'acme', ['corp']],
    ['Acme Corporation', 'acme', ['corp']],
    ['Smith & Nephew PLC', 'smith and nephew', ['plc']],
    ['Grifols, S.A.', 'grifols', ['sa']],
    ['The Home Depot Inc', 'home depot', ['inc']],
    ['Intl Med Svcs, L.L.C.', 'international medical services', ['llc']],
    ['Owens + Minor Distr Inc', 'owens and minor distribution', ['inc']],
    ['Constructor Medical, Inc.', 'constructor medical', ['inc']],
    ['ToString ValueOf hasOwnProperty Supply', 'tostring valueof hasownproperty supply', []],
  ] as const)('%s -> %s', (name, key, forms) => {
    const v = normaliseVendor(name);
    expect(v.original).toBe(name);
    expect(v.normalised).toBe(key);
    expect(v.legalForms).toEqual(forms);
    expect(normaliseVendorName(name)).toBe(key);
  });

  it('keeps a name that is only a legal form or generic words', () => {
    expect(normaliseVendorName('Co')).toBe('co');
    expect(normaliseVendor('Medical Supply Co').distinctive).toBe('medical supply');
  });

  it('splits off the distinctive part', () => {
    expect(normaliseVendor('ABC Enterprise Sdn Bhd').distinctive).toBe('abc');
    expect(normaliseVendor('Apex Healthcare Solutions LLC').distinctive).toBe('apex');
  });
});

describe('vendor false merges (pinned)', () => {
  it.each([
    ['ABC Enterprise', 'XYZ Enterprise'],
    ['Lim Enterprise', 'Tan Enterprise'],
    ['Acme Solutions', 'Apex Solutions'],
    ['Acme Medical Solutions LLC', 'Apex Medical Solutions Inc'],
    ['Northside Medical Supply', 'Southside Medical Supply'],
    ['Best Home Care Services', 'Rest Home Care Services'],
    ['Medline Industries', 'Medtronic'],
    ['Kim Hardware Trading', 'Lim Hardware Trading'],
  ])('%s is not %s', (a, b) => {
    expect(vendorNamesMatch(a, b)).toBe(false);
    expect(compareVendorNames(normaliseVendor(a), normaliseVendor(b)).score).toBeLessThan(0.92);
  });

  it('shows why the guard is needed: plain Jaro-Winkler of the keys is high', () => {
    const s = compareVendorNames(normaliseVendor('Acme Solutions'), normaliseVendor('Apex Solutions'));
    expect(s.jaroWinkler).toBeGreaterThan(0.9);
    expect(s.distinctiveJaroWinkler).toBeLessThan(0.75);
  });

  it.each([
    ['Acme Medical Supply, Inc.', 'ACME MEDICAL SUPPLY LLC'],
    ['Owens & Minor', 'Owens and Minor Inc'],
    ['Intl Med Svcs', 'International Medical Services Ltd'],
    ['MR. D.I.Y. (M) SDN BHD', 'MR DIY SDN. BHD.'],
    ['Cardinal Health Inc', 'Cardinal Hlth'],
    ['McKesson Medical-Surgical', 'Mckesson Medical Surgical Inc.'],
  ])('%s is %s', (a, b) => {
    expect(vendorNamesMatch(a, b)).toBe(true);
  });
});
