import { describe, expect, it } from 'vitest';
import { makeInvoice } from '../test/fixtures.js';
import { batchChunks, batchLockKeys, batchOrderKeys, scoringOrder } from './batch-partition.js';

/** Seeded generator (mulberry32), so every run checks the same batches. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keys of `n` items: a vendor among `vendors`, now and then a second vendor id or a shared PO. */
function randomKeys(n: number, vendors: number, seed: number): string[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const v = Math.floor(r() * vendors);
    const keys = [`vendor_key:v${v}`, `vendor_id:${r() < 0.1 ? `alt-${v % 3}` : v}`];
    if (r() < 0.05) keys.push(`po:${Math.floor(r() * 4)}`);
    return keys;
  });
}

/** Number of connected components of "shares a key". */
function components(keys: readonly (readonly string[])[]): number {
  const seen = new Set<number>();
  let n = 0;
  for (let start = 0; start < keys.length; start++) {
    if (seen.has(start)) continue;
    n++;
    const todo = [start];
    seen.add(start);
    while (todo.length > 0) {
      const i = todo.pop()!;
      for (const [j, ks] of keys.entries()) {
        if (!seen.has(j) && ks.some((k) => keys[i]!.includes(k))) {
          seen.add(j);
          todo.push(j);
        }
      }
    }
  }
  return n;
}

describe('batchLockKeys and batchOrderKeys', () => {
  it('are the scoring-lock keys (normalised vendor name, vendor id), and those and the PO', () => {
    const a = makeInvoice({ vendor: { id: 'V-1', name: 'Acme Medical Supply, Inc.' }, po_number: 'PO-9' });
    const b = makeInvoice({ vendor: { id: 'V-2', name: 'ACME MEDICAL SUPPLY INC' }, po_number: undefined });
    expect(batchLockKeys(a)).toEqual([batchLockKeys(b)[0], 'vendor_id:V-1']);
    expect(batchOrderKeys(a)).toEqual([...batchLockKeys(a), 'po:PO-9']);
    expect(batchOrderKeys(b)).toEqual(batchLockKeys(b));
  });
});

describe('batchChunks', () => {
  it.each([
    [600, 50, 100, 1],
    [1000, 50, 50, 2],
    [300, 7, 40, 3],
    [200, 150, 10, 4],
  ])('%i items of %i vendors in chunks of %i: no key in two chunks', (n, vendors, size, seed) => {
    const keys = randomKeys(n, vendors, seed);
    const chunks = batchChunks(keys, size);
    const chunkOfKey = new Map<string, number>();
    for (const [i, ks] of keys.entries()) {
      for (const k of ks) {
        expect(chunkOfKey.get(k) ?? chunks[i]).toBe(chunks[i]);
        chunkOfKey.set(k, chunks[i]!);
      }
    }
    const count = Math.max(...chunks) + 1;
    const sizes = Array.from({ length: count }, (_, c) => chunks.filter((x) => x === c).length);
    // Numbered from 0 without gaps, chunk 0 holding item 0, each chunk's first item after the previous one's.
    expect(sizes.every((s) => s > 0)).toBe(true);
    expect(chunks[0]).toBe(0);
    const firsts = sizes.map((_, c) => chunks.indexOf(c));
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    // At most `size` items, or 4 times that with at most 8 components, or one larger component.
    for (const [c, s] of sizes.entries()) {
      if (s <= size) continue;
      const parts = components(keys.filter((_, i) => chunks[i] === c));
      expect(parts === 1 || (s <= 4 * size && parts <= 8)).toBe(true);
    }
    expect(batchChunks(keys, size)).toEqual(chunks);
  });

  it('joins items tied by a shared key, and keeps a component larger than the chunk whole', () => {
    const keys = [
      ['vendor_key:a', 'vendor_id:1'],
      ['vendor_key:b', 'vendor_id:2'],
      ['vendor_key:c', 'vendor_id:1'], // another name under vendor id 1: with a
      ['vendor_key:d', 'vendor_id:4', 'po:7'],
      ['vendor_key:b', 'vendor_id:2', 'po:7'], // the PO of d: b and d together
      ['vendor_key:e', 'vendor_id:5'],
    ];
    // Components {0, 2}, {1, 3, 4} and {5}; with fewer than 8 a chunk grows to 4 x chunkSize.
    expect(batchChunks(keys, 1)).toEqual([0, 1, 0, 1, 1, 1]);
    expect(batchChunks(keys, 10)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => batchChunks(keys, 0)).toThrow(RangeError);
  });

  it('gathers 8 vendors in a chunk before closing it at chunkSize items', () => {
    // 20 vendors of 4 invoices each, interleaved: chunks of 8, 8 and 4 vendors.
    const keys = Array.from({ length: 80 }, (_, i) => [`vendor_key:${i % 20}`]);
    const chunks = batchChunks(keys, 10);
    expect(chunks.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, v) => (v < 8 ? 0 : v < 16 ? 1 : 2)));
    expect(batchChunks(keys, 100)).toEqual(keys.map(() => 0));
  });
});

describe('scoringOrder', () => {
  it('keeps the order of items sharing a key and puts items with no key in common side by side', () => {
    const keys = randomKeys(300, 12, 5);
    const order = scoringOrder(keys);
    expect([...order].sort((a, b) => a - b)).toEqual(keys.map((_, i) => i));
    const position = new Map(order.map((item, at) => [item, at]));
    const lastWith = new Map<string, number>();
    for (const [i, ks] of keys.entries()) {
      for (const k of ks) {
        const before = lastWith.get(k);
        if (before !== undefined) expect(position.get(before)!).toBeLessThan(position.get(i)!);
        lastWith.set(k, i);
      }
    }
    // Runs without a repeated key are longer than in item order (what the chunk scorer groups).
    const runs = (seq: readonly number[]): number => {
      let n = 1;
      let taken = new Set<string>();
      for (const i of seq) {
        if (keys[i]!.some((k) => taken.has(k))) {
          n++;
          taken = new Set();
        }
        for (const k of keys[i]!) taken.add(k);
      }
      return n;
    };
    expect(runs(order)).toBeLessThan(runs(keys.map((_, i) => i)) * 0.6);
  });

  it('orders by level, then by item', () => {
    const keys = [['a'], ['a'], ['b'], ['c', 'a'], ['b']];
    expect(scoringOrder(keys)).toEqual([0, 2, 1, 4, 3]);
  });
});
