#!/usr/bin/env node
/**
 * `npm run eval -- --data <dir> [--split test] [--detector current|sap|oracle|all]
 * [--out reports/eval-<ts>] [--database-url URL] [--require [--max-review-load N]]`: runs
 * detectors over a labelled benchmark split and prints precision, recall, F1, ROC-AUC, PR-AUC and
 * ECE per exception kind, with confusion examples; writes `report.json` and `report.html` to
 * `--out`. With `--require` it exits 1 when the decision's promise fails (training/eval/guarantee.ts
 * `promiseFailures`), or the review load exceeds `--max-review-load`; 2 on a usage or run error.
 *
 * `current` is the production scoring path (createScoringService over an embedded in-memory
 * PGlite store, or PostgreSQL in a fresh schema with `--database-url`), fed in submission
 * order. `sap` and `oracle` are the ERP duplicate rules (training/eval/baselines.ts).
 *
 * `npm run eval -- --er amazon-google`: line matching on the Amazon-Google product pairs
 * (training/eval/er.ts; threshold chosen on valid, applied on test), including the line
 * matcher of `matching/` trained on the train pairs. `npm run eval -- --er-pairs DIR`: the
 * same for labelled pairs in the DeepMatcher layout (training/eval/er-pairs.ts).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { openPostgres } from '../store/index.js';
import { createOracleDetector, createSapDetector } from '../training/eval/baselines.js';
import type { Detector } from '../training/eval/detector.js';
import { promiseFailures } from '../training/eval/guarantee.js';
import { evaluate } from '../training/eval/harness.js';
import { renderExamples, renderTables, writeReport } from '../training/eval/report.js';
import { evaluateAmazonGoogle, renderErTables, writeErReport, type ErReport } from '../training/eval/er.js';
import { evaluatePairDirectory } from '../training/eval/er-pairs.js';
import type { BenchmarkSplit } from '../datasets/benchmark/types.js';
import type { ModelsWiring } from './bootstrap.js';
import { serviceDetector } from './service-detector.js';
import { evaluateShippedPoMatch } from './eval-procurement.js';
import { PO_MATCHER_SEED } from '../training/po-matcher.js';

type DetectorName = 'current' | 'sap' | 'oracle';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0');
  return n;
}

/** A timestamp usable in a directory name: 20250314-101500. */
function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** The current scoring service as a detector over a fresh store; the store is dropped on close. */
async function currentDetector(
  databaseUrl: string | undefined,
  keepStore: boolean,
  dataDir: string,
  models: ModelsWiring | null,
  policyFile: string | undefined,
): Promise<Detector> {
  const policy = policyFile ? { policyFile } : {};
  if (!databaseUrl) return serviceDetector({ store: { engine: 'pglite' }, dataDir, models, ...policy });
  const schema = `eval_${stamp().replace('-', '_')}_${process.pid}`;
  return serviceDetector({
    store: { engine: 'postgres', connectionString: databaseUrl, schema, maxConnections: 4 },
    dataDir,
    models,
    ...policy,
    afterClose: async () => {
      if (keepStore) {
        process.stderr.write(`kept the scored store in schema ${schema}\n`);
        return;
      }
      const db = await openPostgres({ connectionString: databaseUrl, maxConnections: 1 });
      try {
        await db.exec(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await db.close();
      }
    },
  });
}

/**
 * The detector, with each of its answers also written to `<out>/outputs-<name>.jsonl` (one
 * `InvoiceOutput` per line, in submission order: scores, decision and cause per invoice), for
 * analyses the report does not make.
 */
function teeOutputs(d: Detector, out: string): Detector {
  return {
    ...d,
    async *run(invoices) {
      mkdirSync(out, { recursive: true });
      const file = join(out, `outputs-${d.name}.jsonl`);
      writeFileSync(file, '');
      for await (const o of d.run(invoices)) {
        appendFileSync(file, JSON.stringify(o) + '\n');
        yield o;
      }
    },
  };
}

const program = new Command()
  .name('eval')
  .description('Evaluate duplicate and coding-exception detectors on a labelled benchmark split')
  .option('--data <dir>', 'benchmark directory written by npm run gen:benchmark')
  .addOption(
    new Option('--split <split>', 'split to evaluate (all: the three in submission order)')
      .choices(['train', 'valid', 'test', 'all'])
      .default('test'),
  )
  .addOption(
    new Option('--detector <name>', 'detector to run')
      .choices(['current', 'sap', 'oracle', 'all'])
      .default('all'),
  )
  .option('--out <dir>', 'report directory (default reports/eval-<timestamp>)')
  .option(
    '--database-url <url>',
    'score the current path into PostgreSQL (a fresh schema, dropped afterwards)',
  )
  .option('--keep-store', 'keep the PostgreSQL schema the current path scored into')
  .option(
    '--models-dir <dir>',
    'model registry the current path serves (default the shipped models/artifacts)',
  )
  .option('--heuristics', 'serve the heuristic scorers on the current path instead of the champions')
  .option('--limit <n>', 'evaluate only the first n records of the split (reported as such)', positiveInt)
  .option('--examples <n>', 'confusion examples kept per category', positiveInt, 8)
  .addOption(
    new Option(
      '--er <benchmark>',
      'evaluate line matching on an entity-resolution benchmark instead',
    ).choices(['amazon-google']),
  )
  .option(
    '--er-pairs <dir>',
    'train the line matcher on DIR/*_train.csv, threshold on *_valid.csv, report on *_test.csv (DeepMatcher layout)',
  )
  .option('--seed <n>', 'seed of the line matcher trained by --er / --er-pairs', positiveInt)
  .option('--policy <file>', 'route the current path with this policy file (e.g. written by npm run certify)')
  .option('--procurement', 'evaluate the PO match on the seeded procurement benchmark instead')
  .option('--procurement-seed <n>', 'seed of the procurement benchmark', positiveInt, PO_MATCHER_SEED)
  .option(
    '--require',
    'exit 1 when the decision promise fails (pooled or on any split) for a detector that routes',
  )
  .option(
    '--max-review-load <n>',
    'with --require, also exit 1 above n clean invoices sent to people per 1,000 clean',
    nonNegative,
  )
  .option('--no-progress', 'hide the progress bar')
  .action(
    async (o: {
      data?: string;
      split: BenchmarkSplit | 'all';
      detector: DetectorName | 'all';
      out?: string;
      databaseUrl?: string;
      keepStore?: boolean;
      modelsDir?: string;
      heuristics?: boolean;
      limit?: number;
      examples: number;
      er?: 'amazon-google';
      erPairs?: string;
      seed?: number;
      policy?: string;
      procurement?: boolean;
      procurementSeed: number;
      require?: boolean;
      maxReviewLoad?: number;
      progress: boolean;
    }) => {
      const out = o.out ?? `reports/eval-${stamp()}`;
      if (o.procurement) {
        process.stdout.write((await evaluateShippedPoMatch(o.procurementSeed, out)) + '\n');
        return;
      }
      if (o.er || o.erPairs) {
        const opts = o.seed === undefined ? {} : { seed: o.seed };
        const report: ErReport = o.erPairs
          ? evaluatePairDirectory(o.erPairs, opts)
          : evaluateAmazonGoogle(undefined, undefined, opts);
        process.stdout.write(renderErTables(report) + '\n');
        const paths = await writeErReport(report, out);
        process.stdout.write(`report: ${paths.html}\n        ${paths.json}\n`);
        if (paths.card) process.stdout.write(`        ${paths.card}\n`);
        return;
      }
      if (!o.data)
        throw new InvalidArgumentError(
          '--data <dir> is required (or --er amazon-google, or --er-pairs <dir>)',
        );
      const names: DetectorName[] = o.detector === 'all' ? ['current', 'sap', 'oracle'] : [o.detector];
      const detectors: Detector[] = [];
      for (const n of names) {
        if (n === 'current')
          detectors.push(
            await currentDetector(
              o.databaseUrl,
              o.keepStore === true,
              o.data,
              o.heuristics ? null : { reloadMs: null, ...(o.modelsDir ? { dir: o.modelsDir } : {}) },
              o.policy,
            ),
          );
        else if (n === 'sap') detectors.push(createSapDetector());
        else detectors.push(createOracleDetector());
      }
      const bar =
        o.progress && process.stderr.isTTY
          ? new SingleBar(
              {
                format: '{detector} [{bar}] {value}/{total} invoices | {eta_formatted} left',
                stream: process.stderr,
              },
              Presets.shades_classic,
            )
          : null;
      let current = '';
      const report = await evaluate(
        o.data,
        detectors.map((d) => teeOutputs(d, out)),
        {
          split: o.split,
          ...(o.limit !== undefined ? { limit: o.limit } : {}),
          examples: o.examples,
          onProgress: (detector, done, total) => {
            if (!bar) {
              if (done % 1000 === 0 || done === total)
                process.stderr.write(`${detector}: ${done}/${total}\n`);
              return;
            }
            if (detector !== current) {
              if (current !== '') bar.stop();
              current = detector;
              bar.start(total, done, { detector });
            } else bar.update(done);
          },
        },
      );
      bar?.stop();
      process.stdout.write(renderTables(report) + '\n\n' + renderExamples(report) + '\n');
      const paths = await writeReport(
        report,
        out,
        `invoice-triage evaluation: ${o.split} split of ${o.data}`,
      );
      process.stdout.write(`\nreport: ${paths.html}\n        ${paths.json}\n`);
      if (o.require) {
        const failed = promiseFailures(report.detectors, o.maxReviewLoad);
        for (const f of failed) process.stderr.write(`required, failed: ${f}\n`);
        if (failed.length > 0) process.exitCode = 1;
      }
    },
  );

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exitCode = 2;
});
