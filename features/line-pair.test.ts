import { describe, expect, it } from 'vitest';
import { deliveryReferenceKey } from './line-pair.js';

describe('deliveryReferenceKey', () => {
  it('compares a printed delivery reference by its trimmed, upper-case, single-spaced form', () => {
    expect(deliveryReferenceKey('DN-7001')).toBe('DN-7001');
    expect(deliveryReferenceKey(' dn-7001 ')).toBe('DN-7001');
    expect(deliveryReferenceKey('ps  12\t34')).toBe('PS 12 34');
    expect(deliveryReferenceKey('DN-7001')).not.toBe(deliveryReferenceKey('DN-7002'));
  });

  it('treats absent, empty and whitespace-only references as not printed', () => {
    expect(deliveryReferenceKey(undefined)).toBeNull();
    expect(deliveryReferenceKey(null)).toBeNull();
    expect(deliveryReferenceKey('')).toBeNull();
    expect(deliveryReferenceKey('   ')).toBeNull();
  });
});
