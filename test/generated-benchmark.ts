/**
 * The generated benchmark the generator's test files read (datasets/benchmark/benchmark.test.ts:
 * files, card, invoices and splits; datasets/benchmark/benchmark-labels.test.ts: duplicate, hard-negative and coding
 * labels): {@link N} invoices of seed {@link SEED} in a temporary directory, read back.
 *
 * {@link useGeneratedBenchmark} generates it before the file's tests and removes it after; the
 * exported `let` bindings are live ES module bindings set by its `beforeAll`: read them inside
 * tests only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { ReferenceData } from '../core/reference.js';
import { loadReferenceData } from '../datasets/reference.js';
import { generateBenchmark } from '../datasets/benchmark/generator.js';
import { readCard, readSplitRecords, readVendors } from '../datasets/benchmark/read.js';
import type { BenchmarkCard, BenchmarkRecord } from '../datasets/benchmark/types.js';
import type { BenchmarkVendor } from '../datasets/benchmark/vendors.js';

/** Invoices generated. */
export const N = 3000;
/** The generator's seed. */
export const SEED = 11;

/** The directory of the generated files. */
export let dir: string;
/** With `compare`: the same seed generated again (byte-identical files expected). */
export let again: string;
/** With `compare`: 500 invoices of seed {@link SEED} + 1. */
export let other: string;
/** Every record of every split, in file order. */
export let records: BenchmarkRecord[];
/** The benchmark card. */
export let card: BenchmarkCard;
/** The vendor master of the benchmark. */
export let vendors: BenchmarkVendor[];
/** The reference data the benchmark was generated with. */
export let ref: ReferenceData;
/** Records by invoice id. */
export const byId = new Map<string, BenchmarkRecord>();
/** Vendors by id (a record's `label.vendor_profile`). */
export const vendorOf = new Map<string, BenchmarkVendor>();

/**
 * The record of invoice `id`.
 * @throws Error when there is none.
 */
export function get(id: string): BenchmarkRecord {
  const r = byId.get(id);
  if (!r) throw new Error(`no record ${id}`);
  return r;
}

/**
 * Registers the file's `beforeAll` (generates and reads the benchmark; with `compare` also
 * {@link again} and {@link other}) and `afterAll` (removes the directories).
 */
export function useGeneratedBenchmark(o: { compare?: boolean } = {}): void {
  beforeAll(async () => {
    ref = loadReferenceData();
    dir = mkdtempSync(join(tmpdir(), 'bm-a-'));
    await generateBenchmark({ invoices: N, seed: SEED, out: dir, reference: ref });
    if (o.compare) {
      again = mkdtempSync(join(tmpdir(), 'bm-b-'));
      other = mkdtempSync(join(tmpdir(), 'bm-c-'));
      await generateBenchmark({ invoices: N, seed: SEED, out: again, reference: ref });
      await generateBenchmark({ invoices: 500, seed: SEED + 1, out: other, reference: ref });
    }
    records = await readSplitRecords(dir);
    card = readCard(dir);
    vendors = readVendors(dir);
    for (const r of records) byId.set(r.invoice.invoice_id, r);
    for (const v of vendors) vendorOf.set(v.id, v);
  });

  afterAll(() => {
    for (const d of [dir, again, other]) if (d) rmSync(d, { recursive: true, force: true });
  });
}
