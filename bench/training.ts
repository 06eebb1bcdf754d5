/**
 * Training cost (`npm run bench -- --only training`): `npm run train` for both models (seed 42,
 * both architectures, calibration and thresholds; no harness report) on generated benchmarks of
 * the given sizes, with wall time and peak RSS (`/usr/bin/time`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { fmt, msSince } from './stats.js';

/** One training run: wall seconds, peak RSS in MiB (-1 when unknown), examples read. */
export interface TrainingRun {
  model: string;
  invoices: number;
  seconds: number;
  peakRssMiB: number;
  examples: string;
}

/**
 * Trains each model once and prints the table.
 * @param sizes benchmark invoices for coding-mismatch, then duplicate (the first when one is given).
 * @param benchmarkSet generates (or reuses) a seed-42 benchmark of that many invoices; its directory.
 */
export async function trainingSection(
  sizes: number[],
  benchmarkSet: (invoices: number) => Promise<string>,
): Promise<{ runs: TrainingRun[] }> {
  const out: TrainingRun[] = [];
  for (const [i, model] of ['coding-mismatch', 'duplicate'].entries()) {
    const invoices = sizes[i] ?? sizes[0]!;
    const dir = await benchmarkSet(invoices);
    const outDir = mkdtempSync(join(tmpdir(), 'it-bench-train-'));
    const t0 = process.hrtime.bigint();
    const r = spawnSync(
      '/usr/bin/time',
      [
        '-f',
        'PEAK_RSS_KB=%M',
        'npx',
        'tsx',
        'bin/train.ts',
        '--model',
        model,
        '--data',
        dir,
        '--seed',
        '42',
        '--out',
        outDir,
        '--no-progress',
        '--no-eval-report',
      ],
      { encoding: 'utf8' },
    );
    const seconds = msSince(t0) / 1000;
    const peak = /PEAK_RSS_KB=(\d+)/.exec(r.stderr);
    // The CLI prints "<rows> rows, <invoices> invoices, <labels> reviewer labels" once loaded.
    const rows = /(\d+) rows, \d+ invoices/.exec(`${r.stdout}\n${r.stderr}`);
    const examples = r.status === 0 && rows ? rows[1]! : `train failed: ${r.stderr.slice(-300)}`;
    out.push({
      model,
      invoices,
      seconds,
      peakRssMiB: peak ? Math.round(Number(peak[1]) / 1024) : -1,
      examples,
    });
    rmSync(outDir, { recursive: true, force: true });
  }
  console.log(
    '\nTraining (npm run train, seed 42, both architectures, calibration and thresholds; no harness report)',
  );
  const t = new Table({
    head: ['model', 'benchmark invoices', 'examples (rows)', 'seconds', 'peak RSS MiB'],
  });
  for (const o of out)
    t.push([o.model, String(o.invoices), o.examples, fmt(o.seconds), String(o.peakRssMiB)]);
  console.log(t.toString());
  return { runs: out };
}
