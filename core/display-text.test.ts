import { describe, expect, it } from 'vitest';
import { reorderingErrors, TEXT_REORDERING } from './display-text.js';

describe('reorderingErrors', () => {
  const rlo = 'Acme \u202eseilppuS';

  it('names every string holding a reordering control, in document order, and nothing else', () => {
    const value = { a: 'plain', b: [rlo, 'x', { c: rlo }], 'k\u0007': rlo, d: 3, e: null };
    expect(reorderingErrors(value, '')).toEqual([
      { path: '/b/0', message: TEXT_REORDERING },
      { path: '/b/2/c', message: TEXT_REORDERING },
      { path: '/k\\u0007', message: TEXT_REORDERING },
    ]);
    expect(reorderingErrors({ a: 'plain', b: ['x', { c: 'y' }] }, '/p')).toEqual([]);
  });

  it('leaves the skipped pointers to their own rule, and reads no key as text', () => {
    expect(reorderingErrors({ id: rlo, name: 'ok' }, '', new Set(['/id']))).toEqual([]);
    expect(reorderingErrors({ id: rlo, name: rlo }, '', new Set(['/id']))).toEqual([
      { path: '/name', message: TEXT_REORDERING },
    ]);
    expect(reorderingErrors({ [rlo]: 'ok' }, '')).toEqual([]);
    expect(reorderingErrors(rlo, '/name')).toEqual([{ path: '/name', message: TEXT_REORDERING }]);
  });
});
