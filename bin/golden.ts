#!/usr/bin/env node
/**
 * `npm run golden -- --data <dir> [--split test] [--limit n] (--write <file> | --expect <file>)`:
 * scores a benchmark split through the scoring service (bin/golden-decisions.ts) and writes the
 * golden decisions (gzipped JSON lines) or compares them with a file written before, printing
 * the invoices whose decisions differ. Exit code 1 when any differs.
 *
 * `--input-out <file>` also writes what was scored (vendor master and invoices, gzipped JSON),
 * the form test/golden.test.ts reads.
 *
 * The full comparison on the 3,000-invoice test split:
 *   npm run gen:benchmark -- --invoices 20000 --seed 42 --out data/benchmark-42-20000
 *   npm run golden -- --data data/benchmark-42-20000 --write golden-before.jsonl.gz   (before a change)
 *   npm run golden -- --data data/benchmark-42-20000 --expect golden-before.jsonl.gz  (after it)
 */
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { Command, InvalidArgumentError, Option } from 'commander';
import { readBenchmark, readCard, readVendors } from '../datasets/benchmark/read.js';
import type { BenchmarkSplit } from '../datasets/benchmark/types.js';
import {
  goldenDecisions,
  goldenDifferences,
  readGzipLines,
  writeGzipLines,
  type GoldenInput,
} from './golden-decisions.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

const program = new Command()
  .name('golden')
  .description('Score a benchmark split and write or compare the golden decisions')
  .requiredOption('--data <dir>', 'benchmark directory written by npm run gen:benchmark')
  .addOption(
    new Option('--split <split>', 'split to score').choices(['train', 'valid', 'test']).default('test'),
  )
  .option('--limit <n>', 'score only the first n invoices of the split', positiveInt)
  .option('--write <file>', 'write the decisions to this gzipped JSON-lines file')
  .option('--expect <file>', 'compare the decisions with this file (written by --write)')
  .option('--input-out <file>', 'also write the scored vendor master and invoices (gzipped JSON)')
  .action(
    async (o: {
      data: string;
      split: BenchmarkSplit;
      limit?: number;
      write?: string;
      expect?: string;
      inputOut?: string;
    }) => {
      if (!o.write && !o.expect) throw new InvalidArgumentError('give --write <file> or --expect <file>');
      const invoices: GoldenInput['invoices'] = [];
      for await (const r of readBenchmark(o.data, o.split)) {
        if (o.limit !== undefined && invoices.length >= o.limit) break;
        invoices.push(r.invoice);
      }
      const input: GoldenInput = { source: readCard(o.data).command, vendors: readVendors(o.data), invoices };
      if (o.inputOut) writeFileSync(o.inputOut, gzipSync(JSON.stringify(input), { level: 9 }));
      const t0 = Date.now();
      const lines = await goldenDecisions(input, {
        onProgress: (done, total) => {
          if (done % 500 === 0 || done === total) process.stderr.write(`scored ${done}/${total}\n`);
        },
      });
      const seconds = (Date.now() - t0) / 1000;
      process.stdout.write(`scored ${lines.length} invoices of ${o.split} in ${seconds.toFixed(1)} s\n`);
      if (o.write) {
        writeGzipLines(o.write, lines);
        process.stdout.write(`wrote ${o.write}\n`);
      }
      if (o.expect) {
        const diff = goldenDifferences(readGzipLines(o.expect), lines);
        process.stdout.write(
          `${lines.length - diff.length} of ${lines.length} decisions identical to ${o.expect}\n`,
        );
        for (const d of diff.slice(0, 5))
          process.stdout.write(`differs at #${d.index}:\n  expected ${d.expected}\n  actual   ${d.actual}\n`);
        if (diff.length > 0) process.exitCode = 1;
      }
    },
  );

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exitCode = 2;
});
