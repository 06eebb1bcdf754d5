#!/usr/bin/env node
/**
 * `npm run certify -- --data <benchmark dir> [--split valid] [--out certified-policy.json]
 * [--alpha 0.005] [--hold-alpha 0.1] [--delta 0.05] [--seed 42] [--limit N]`: scores a
 * labelled benchmark split through the served champions (in-memory PGlite, the benchmark's
 * vendor master registered), certifies the coding review and hold thresholds of the decision as
 * a whole on vendor clusters (training/certify.ts), and writes a routing policy document with
 * them (`POLICY_FILE`, or `PUT /v1/policy`) beside a `.certification.json` record. Re-run it
 * after any champion changes (both models' scores enter the decision).
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { readBenchmark } from '../datasets/benchmark/read.js';
import type { BenchmarkSplit } from '../datasets/benchmark/types.js';
import {
  DEFAULT_POLICY,
  DEFAULT_POLICY_DOCUMENT,
  type PolicyDocument,
  withCardThresholds,
} from '../inference/index.js';
import type { Reason } from '../core/decision.js';
import { cardThresholds } from '../inference/model-scorers.js';
import { certifyDecision, type CertifyRow } from '../training/certify.js';
import { wire } from './bootstrap.js';
import { registerBenchmarkVendors } from './service-detector.js';

const level = (flag: string) => (v: string) => {
  const x = Number(v);
  if (!(x > 0 && x < 1)) throw new InvalidArgumentError(`${flag} must be in (0, 1)`);
  return x;
};

const program = new Command()
  .name('certify')
  .description(
    'Certify the coding review and hold thresholds of the whole routing decision on vendor clusters',
  )
  .requiredOption('--data <dir>', 'benchmark directory written by npm run gen:benchmark')
  .addOption(
    new Option('--split <split>', 'calibration split').choices(['train', 'valid', 'test']).default('valid'),
  )
  .option('--out <file>', 'policy document to write', 'certified-policy.json')
  .option('--alpha <x>', 'max share of exceptions among auto-approved invoices', level('--alpha'), 0.005)
  .option('--hold-alpha <x>', 'max share of clean invoices among held invoices', level('--hold-alpha'), 0.1)
  .option('--delta <x>', 'allowed failure probability of each guarantee', level('--delta'), 0.05)
  .option('--seed <n>', 'seed of the design/test vendor split', (v) => Number.parseInt(v, 10), 42)
  .option('--limit <n>', 'only the first n invoices of the split', (v) => Number.parseInt(v, 10))
  .action(
    async (o: {
      data: string;
      split: BenchmarkSplit;
      out: string;
      alpha: number;
      holdAlpha: number;
      delta: number;
      seed: number;
      limit?: number;
    }) => {
      const wired = await wire({ engine: 'pglite' }, { models: { reloadMs: null } });
      const rows: CertifyRow[] = [];
      let served;
      try {
        await registerBenchmarkVendors(wired.repo, o.data);
        const card = (task: 'coding-mismatch' | 'duplicate') => {
          const m = wired.served.get(task);
          return m ? cardThresholds(m.current) : null;
        };
        served = withCardThresholds(
          { ...DEFAULT_POLICY },
          true,
          card('coding-mismatch'),
          card('duplicate'),
        ).policy;
        for await (const r of readBenchmark(o.data, o.split)) {
          if (o.limit !== undefined && rows.length >= o.limit) break;
          const { decision } = await wired.scoring.score(r.invoice);
          rows.push({
            vendorId: r.invoice.vendor.id,
            exception: r.label.duplicate !== null || r.label.coding.length > 0,
            coding: decision.lines.reduce((m, l) => Math.max(m, l.coding_mismatch ?? 0), 0),
            duplicate: decision.scores.duplicate,
            reasons: decision.reasons as Reason[], // the service emits codes of REASON_CODES only
          });
          if (rows.length % 500 === 0) process.stderr.write(`scored ${rows.length}\n`);
        }
      } finally {
        await wired.repo.close();
        await wired.closeModels();
      }
      const cert = certifyDecision(rows, served, {
        alpha: o.alpha,
        holdAlpha: o.holdAlpha,
        delta: o.delta,
        seed: o.seed,
      });
      const doc: PolicyDocument = {
        ...DEFAULT_POLICY_DOCUMENT,
        name: 'policy-certified',
        description:
          `Coding thresholds certified for the whole decision on ${cert.rows} invoices of ${o.data} (${o.split}), ` +
          `vendor-clustered Learn-then-Test: exceptions among AUTO_APPROVE <= ${o.alpha}, clean among HOLD <= ${o.holdAlpha}, delta ${o.delta}.`,
        queues: {
          ...DEFAULT_POLICY_DOCUMENT.queues,
          coding: {
            review_at: cert.codingReviewAt,
            ...(cert.codingHoldAt !== undefined ? { hold_at: cert.codingHoldAt } : {}),
          },
          ap: { review_at: served.duplicateReview, hold_at: served.duplicateHold },
        },
      };
      writeFileSync(o.out, `${JSON.stringify(doc, null, 2)}\n`);
      writeFileSync(
        o.out.replace(/\.json$/, '') + '.certification.json',
        `${JSON.stringify(cert, null, 2)}\n`,
      );
      const line = (name: string, r: typeof cert.autoApprove, t: number | undefined) => {
        const first = r.steps[0];
        return r.feasible
          ? `${name}: threshold ${t} (${r.errors} errors among ${r.selected} selected test-part invoices)`
          : `${name}: NOT certifiable, nothing is selected` +
              (first
                ? ` (first candidate ${first.threshold}: ${first.errors} errors among ${first.selected}, deff ${first.deff?.toFixed(2)}, p ${first.pValue.toPrecision(3)} > delta)`
                : ' (no candidate threshold)');
      };
      process.stdout.write(
        [
          `certified on ${cert.rows} invoices (${cert.vendors.design} design vendors, ${cert.vendors.test} test vendors)`,
          line('coding.review_at (auto-approve)', cert.autoApprove, cert.codingReviewAt),
          line('coding.hold_at (hold)', cert.hold, cert.codingHoldAt),
          `served before: coding.review_at ${served.codingReview}, coding.hold_at ${served.codingHold ?? 'none'}`,
          `wrote ${o.out}`,
        ].join('\n') + '\n',
      );
    },
  );

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exitCode = 2;
});
