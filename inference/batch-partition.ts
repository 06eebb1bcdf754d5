/**
 * How a batch's items are cut into `score-batch` jobs (chunks) and in which order a job scores
 * its items.
 *
 * Two items that share a scoring-lock key ({@link batchLockKeys}: vendor key, vendor id) fall in
 * the same chunk: the connected components of "shares a lock key" are packed whole into chunks,
 * so chunk jobs running at the same time never wait for each other's locks, and a vendor's items
 * are scored by one job in item order, each seeing the earlier ones as scoring them one by one
 * would. Items of different vendors may be scored in any order relative to each other, as
 * concurrent single requests are (and as they were with several chunk jobs in flight): that
 * includes two vendors citing one PO number, whose PO reads and billing take no lock.
 */
import type { Invoice } from '../core/invoice.js';
import { normaliseVendorName } from '../features/vendor.js';
import { scoringLockKeys } from './stages/prepare.js';

/** The scoring-lock keys of an invoice (as `prepare` sets them), which decide its chunk. */
export function batchLockKeys(invoice: Invoice): string[] {
  return scoringLockKeys(invoice, normaliseVendorName(invoice.vendor.name));
}

/**
 * The keys that order an invoice within its chunk: its scoring-lock keys and its PO number, the
 * keys the chunk scorer does not put twice in one group (invoice ids are unique in a batch).
 */
export function batchOrderKeys(invoice: Invoice): string[] {
  const keys = batchLockKeys(invoice);
  return invoice.po_number ? [...keys, `po:${invoice.po_number}`] : keys;
}

/**
 * Components (vendors) a chunk gathers before `chunkSize` bounds it: the chunk scorer's groups
 * are at most as wide as their chunk's vendors, and a group per transaction of 1-3 invoices
 * costs about twice the PostgreSQL CPU per invoice of one of 8 (BENCHMARKS.md, branch `vbatch`).
 */
const MIN_CHUNK_VENDORS = 8;
/** A chunk with fewer than {@link MIN_CHUNK_VENDORS} components grows to at most this many times `chunkSize` items. */
const MAX_CHUNK_GROWTH = 4;

/**
 * The chunk of each item (by item index), from the items' {@link batchLockKeys}: the components
 * of items sharing a key, taken in the order of their first item, are packed whole into chunks
 * of at most `chunkSize` items, or up to {@link MAX_CHUNK_GROWTH} times that while the chunk has
 * fewer than {@link MIN_CHUNK_VENDORS} components (a component larger than that is a chunk of its
 * own). Chunks are numbered from 0 in the order they are filled, so chunk 0 holds item 0.
 * Deterministic.
 * @throws RangeError when `chunkSize` is not a positive integer.
 */
export function batchChunks(keys: readonly (readonly string[])[], chunkSize: number): number[] {
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1)
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  const parent = keys.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const firstWith = new Map<string, number>();
  for (const [i, ks] of keys.entries()) {
    for (const k of ks) {
      const first = firstWith.get(k);
      if (first === undefined) firstWith.set(k, i);
      else {
        // The smaller index becomes the root, so a root is its component's first item.
        const [a, b] = [root(first), root(i)];
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  }
  const size = new Map<number, number>();
  for (let i = 0; i < keys.length; i++) size.set(root(i), (size.get(root(i)) ?? 0) + 1);
  const chunkOfRoot = new Map<number, number>();
  let chunk = -1;
  let filled = 0;
  let parts = 0;
  // Map iteration follows insertion, i.e. the order of each component's first item.
  for (const [r, n] of size) {
    const limit = parts >= MIN_CHUNK_VENDORS ? chunkSize : MAX_CHUNK_GROWTH * chunkSize;
    if (chunk < 0 || filled + n > limit) {
      chunk++;
      filled = 0;
      parts = 0;
    }
    chunkOfRoot.set(r, chunk);
    filled += n;
    parts++;
  }
  return keys.map((_, i) => chunkOfRoot.get(root(i))!);
}

/**
 * The order to score a chunk's items in, as positions into `keys` (the items in item order):
 * level by level, where an item's level is one more than the highest level of the earlier items
 * it shares a key with (0 when none). Items sharing a key keep their order, and the items of one
 * level share no key, so the chunk scorer takes each level as one group (one transaction) instead
 * of cutting a group at the first repeated vendor.
 */
export function scoringOrder(keys: readonly (readonly string[])[]): number[] {
  const levelOfKey = new Map<string, number>();
  const level = keys.map((ks) => {
    const l = 1 + Math.max(-1, ...ks.map((k) => levelOfKey.get(k) ?? -1));
    for (const k of ks) levelOfKey.set(k, l);
    return l;
  });
  return keys.map((_, i) => i).sort((a, b) => level[a]! - level[b]! || a - b);
}
