#!/usr/bin/env node
/**
 * `npm run gen:benchmark -- --invoices 10000 --seed 42 --out data/benchmark-42`: writes a
 * seeded invoice benchmark (train/valid/test JSONL, vendors.json, card.json) and prints the
 * counts per kind and the throughput.
 */
import { resolve } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError } from 'commander';
import Table from 'cli-table3';
import {
  generateBenchmark,
  DEFAULT_WINDOWS,
  type GenerateOptions,
  type ResolvedOptions,
} from './generator.js';
import {
  BENCHMARK_SPLITS,
  CODING_KINDS,
  DUPLICATE_KINDS,
  HARD_NEGATIVE_KINDS,
  type BenchmarkCard,
} from './types.js';

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
}

function num(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('not a number');
  return n;
}

function fractions(value: string): [number, number, number] {
  const parts = value.split(',').map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p)))
    throw new InvalidArgumentError('expected three numbers, e.g. 0.7,0.15,0.15');
  return parts as [number, number, number];
}

function rate(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const m = /^([a-z_]+)=([0-9.eE-]+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected kind=value, e.g. exact_resubmission=0.01');
  return { ...previous, [m[1] as string]: Number(m[2]) };
}

/** The counts table of a card, one column per split. */
export function renderCounts(card: BenchmarkCard): string {
  const t = new Table({ style: { head: [], border: [] }, head: ['', ...BENCHMARK_SPLITS, 'total'] });
  const row = (name: string, get: (c: BenchmarkCard['totals']) => number) =>
    t.push([name, ...BENCHMARK_SPLITS.map((s) => get(card.splits[s])), get(card.totals)]);
  row('invoices', (c) => c.invoices);
  row('lines', (c) => c.lines);
  row('vendors', (c) => c.vendors);
  row('plain invoices', (c) => c.plain_invoices);
  for (const k of DUPLICATE_KINDS) row(`dup ${k}`, (c) => c.duplicates[k]);
  for (const k of HARD_NEGATIVE_KINDS) row(`neg ${k}`, (c) => c.hard_negatives[k]);
  for (const k of CODING_KINDS) row(`coding ${k} (lines)`, (c) => c.coding[k]);
  return t.toString();
}

const program = new Command()
  .name('gen:benchmark')
  .description(
    'Generate the seeded healthcare supplier invoice benchmark (JSONL per split + card.json + vendors.json)',
  )
  .requiredOption('--invoices <n>', 'total invoices, 100 to 1,000,000', int)
  .option('--seed <n>', 'random seed (32-bit unsigned)', int, 42)
  .option('--out <dir>', 'output directory (default data/benchmark-<seed>-<invoices>)')
  .option('--start <date>', 'first day of the train window', DEFAULT_WINDOWS.start)
  .option('--valid-from <date>', 'first day of the valid window', DEFAULT_WINDOWS.validFrom)
  .option('--test-from <date>', 'first day of the test window', DEFAULT_WINDOWS.testFrom)
  .option('--end <date>', 'last day of the test window', DEFAULT_WINDOWS.end)
  .option('--split-fractions <a,b,c>', 'shares of invoices in train,valid,test', fractions, [0.7, 0.15, 0.15])
  .option('--invoices-per-vendor <n>', 'average invoices per vendor (sets the vendor count)', int, 150)
  .option('--rate <kind=value>', 'override one rate (repeatable); kinds as in card.json', rate, {})
  .option('--rates-scale <x>', 'multiply every rate', num, 1)
  .option('--price-outlier-k <k>', 'price outliers bill at least k x the CMS fee', num, 3)
  .option('--no-progress', 'hide the progress bar')
  .action(
    async (
      o: Omit<ResolvedOptions, 'rates'> & { out?: string; rate: Record<string, number>; progress: boolean },
    ) => {
      const out = resolve(o.out ?? `data/benchmark-${o.seed}-${o.invoices}`);
      const bar =
        o.progress && process.stderr.isTTY
          ? new SingleBar(
              {
                format: 'generating [{bar}] {value}/{total} invoices | {eta_formatted} left',
                stream: process.stderr,
              },
              Presets.shades_classic,
            )
          : null;
      bar?.start(o.invoices, 0);
      const result = await generateBenchmark({
        invoices: o.invoices,
        seed: o.seed,
        out,
        start: o.start,
        validFrom: o.validFrom,
        testFrom: o.testFrom,
        end: o.end,
        splitFractions: o.splitFractions,
        invoicesPerVendor: o.invoicesPerVendor,
        rates: o.rate as GenerateOptions['rates'],
        ratesScale: o.ratesScale,
        priceOutlierK: o.priceOutlierK,
        onProgress: (n) => bar?.update(n),
      });
      bar?.stop();
      const rssMb = process.resourceUsage().maxRSS / 1024;
      process.stdout.write(renderCounts(result.card) + '\n');
      process.stdout.write(
        `wrote ${out} (${(result.bytes / 1e6).toFixed(1)} MB) in ${result.seconds.toFixed(1)} s: ` +
          `${Math.round(o.invoices / result.seconds)} invoices/s, ${(result.bytes / 1e6 / result.seconds).toFixed(1)} MB/s, ` +
          `peak RSS ${rssMb.toFixed(0)} MB\n`,
      );
    },
  );

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exitCode = 2;
});
