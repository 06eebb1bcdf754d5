/**
 * Reading a generated benchmark: records streamed line by line (memory stays flat on a
 * million-invoice set), the dataset card and the vendor profiles.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BenchmarkVendor } from './vendors.js';
import {
  BENCHMARK_FILES,
  BENCHMARK_SPLITS,
  type BenchmarkCard,
  type BenchmarkRecord,
  type BenchmarkSplit,
} from './types.js';

/**
 * Streams the records of one split (or of all three, in order) from a benchmark directory.
 * @throws Error when a split file is missing or a line is not JSON (naming file and line).
 */
export async function* readBenchmark(
  dir: string,
  split?: BenchmarkSplit | readonly BenchmarkSplit[],
): AsyncGenerator<BenchmarkRecord> {
  const splits = split === undefined ? BENCHMARK_SPLITS : typeof split === 'string' ? [split] : split;
  for (const s of splits) {
    const file = join(dir, BENCHMARK_FILES.split(s));
    if (!existsSync(file)) throw new Error(`benchmark split file not found: ${file}`);
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    let n = 0;
    for await (const line of lines) {
      n++;
      if (line.trim() === '') continue;
      try {
        yield JSON.parse(line) as BenchmarkRecord;
      } catch (e) {
        throw new Error(`${file}:${n}: not JSON (${(e as Error).message})`, { cause: e });
      }
    }
  }
}

/** Reads all records of a split into memory (small sets, tests). */
export async function readSplitRecords(dir: string, split?: BenchmarkSplit): Promise<BenchmarkRecord[]> {
  const out: BenchmarkRecord[] = [];
  for await (const r of readBenchmark(dir, split)) out.push(r);
  return out;
}

/** The dataset card (`card.json`). @throws Error when missing or not JSON. */
export function readCard(dir: string): BenchmarkCard {
  return JSON.parse(readFileSync(join(dir, BENCHMARK_FILES.card), 'utf8')) as BenchmarkCard;
}

/** The vendor profiles (`vendors.json`). @throws Error when missing or not JSON. */
export function readVendors(dir: string): BenchmarkVendor[] {
  return (
    JSON.parse(readFileSync(join(dir, BENCHMARK_FILES.vendors), 'utf8')) as { vendors: BenchmarkVendor[] }
  ).vendors;
}
