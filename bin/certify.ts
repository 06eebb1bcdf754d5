#!/usr/bin/env node
/**
 * `npm run certify -- --data <benchmark dir> [--split valid] [--out certified-policy.json]
 * [--procurement-seed 303] [--procurement-per-kind 20] [--procurement-vendors 61] [--alpha 0.005] [--hold-alpha 0.1]
 * [--delta 0.05] [--seed 42] [--max-approve-scale 1] [--hold-family coding|both] [--limit N] [--rows-out F] [--rows F...] [--verify DIR...]
 * [--verify-rows F...]`:
 * scores a labelled benchmark split and the seeded procurement benchmark (ERP data loaded)
 * through the served champions (in-memory PGlite, the benchmark's vendor master registered),
 * certifies the thresholds that gate AUTO_APPROVE and HOLD for the decision as a whole on
 * vendor clusters (training/certify.ts), and writes a routing policy document with them
 * (`POLICY_FILE`, or `PUT /v1/policy`) beside a `.certification.json` record naming the
 * champions it was certified with. `--verify` scores the test split of each given benchmark and
 * reports the promise (observed, upper bound, PASS/FAIL) with the certified thresholds
 * (`--verify-rows` on rows scored before: routing is re-applied to the recorded scores). Re-run
 * it after any champion changes (every model's scores enter the decision).
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { BenchmarkSplit } from '../datasets/benchmark/types.js';
import {
  DEFAULT_POLICY,
  DEFAULT_POLICY_DOCUMENT,
  DEFAULT_TENANT,
  policySha256,
  type PolicyDocument,
  routeWithFiring,
  withCardThresholds,
} from '../inference/index.js';
import { cardThresholds } from '../inference/model-scorers.js';
import {
  certifyDecision,
  codingRowsReviewAt,
  HOLD_FAMILIES,
  MAX_APPROVE_SCALE,
  notCertifiedReason,
  withThresholds,
  type CertifyRow,
  type HoldFamily,
  type JointCertification,
} from '../training/certify.js';
import { exceptionKinds, renderExceptionKinds, type ExceptionKinds } from '../training/certify-kinds.js';
import { DECISION_PROMISE, decisionGuarantee, renderGuarantee } from '../training/eval/guarantee.js';
import type { RoutingPolicy } from '../inference/policy.js';
import { wire } from './bootstrap.js';
import {
  procurementVendorsProblem,
  readRows,
  rowSink,
  scoreBenchmarkRows,
  scoreProcurementRows,
  type Shard,
} from './certify-rows.js';
import { registerBenchmarkVendors } from './service-detector.js';

const level = (flag: string) => (v: string) => {
  const x = Number(v);
  if (!(x > 0 && x < 1)) throw new InvalidArgumentError(`${flag} must be in (0, 1)`);
  return x;
};
const shardOf = (v: string): Shard => {
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || !(count >= 1 && index < count))
    throw new InvalidArgumentError('expected k/n with 0 <= k < n, e.g. 0/4');
  return { index, count };
};
const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('not a non-negative integer');
  return n;
};
const positiveNumber = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('not a positive number');
  return n;
};

interface Options {
  data: string;
  split: BenchmarkSplit;
  out: string;
  alpha: number;
  holdAlpha: number;
  delta: number;
  maxApproveScale: number;
  seed: number;
  holdFamily: HoldFamily;
  limit?: number;
  rowsOut?: string;
  rows?: string[];
  procurementSeed: number;
  procurementPerKind: number;
  procurementVendors: number;
  verify?: string[];
  verifyRows?: string[];
  shard?: Shard;
}

/** A fresh in-memory service with the benchmark's vendor master; the served policy and champions. */
async function service(dataDir: string) {
  const wired = await wire({ engine: 'pglite' }, { models: { reloadMs: null } });
  await registerBenchmarkVendors(wired.repo, dataDir);
  const card = (task: 'coding-mismatch' | 'duplicate') => {
    const m = wired.served.get(task);
    return m ? cardThresholds(m.current) : null;
  };
  const coding = card('coding-mismatch');
  const duplicate = card('duplicate');
  const served = withCardThresholds({ ...DEFAULT_POLICY }, true, coding, duplicate).policy;
  const champions = [coding?.model ?? 'heuristic coding', duplicate?.model ?? 'heuristic duplicate'];
  // Rows are scored with the card thresholds but coding reasons from the floor scale, so each
  // row's coding approve scale is measured below 1 (training/certify.ts).
  const rowsPolicy = scoringPolicyDocument(served);
  await wired.repo.policies.put(
    DEFAULT_TENANT,
    { name: rowsPolicy.name, document: rowsPolicy, sha256: policySha256(rowsPolicy) },
    null,
  );
  const close = async () => {
    await wired.repo.close();
    await wired.closeModels();
  };
  return { wired, served, champions, close };
}

/**
 * The policy the calibration rows are scored with: the served (card) thresholds, with
 * `coding.review_at` at {@link codingRowsReviewAt} (the floor scale of the card's), so coding
 * reasons are given from there; routing is re-applied to the rows at every scale.
 */
function scoringPolicyDocument(served: RoutingPolicy): PolicyDocument {
  return {
    ...DEFAULT_POLICY_DOCUMENT,
    name: 'certify-rows',
    queues: {
      ...DEFAULT_POLICY_DOCUMENT.queues,
      coding: {
        review_at: codingRowsReviewAt(served.codingReview),
        ...(served.codingHold !== undefined && Number.isFinite(served.codingHold)
          ? { hold_at: served.codingHold }
          : {}),
      },
      ap: { review_at: served.duplicateReview, hold_at: Math.min(1, served.duplicateHold) },
    },
  };
}

/** The rows' promise check (at the certified levels) routed with `policy` (rows as scored, routing re-applied). */
function promiseOn(rows: readonly CertifyRow[], policy: RoutingPolicy, o: Options) {
  return decisionGuarantee(
    rows.map((r) => ({
      decision: routeWithFiring(policy, { coding_mismatch: r.coding, duplicate: r.duplicate }, r.reasons)
        .route.decision,
      exception: r.exception,
      vendorId: r.vendorId,
    })),
    { autoApprove: o.alpha, hold: o.holdAlpha, delta: o.delta },
  );
}

/** The exceptions `policy` auto-approves among `rows`, by kind. */
function approvedKinds(rows: readonly CertifyRow[], policy: RoutingPolicy): ExceptionKinds {
  return exceptionKinds(
    rows,
    rows.map(
      (r) =>
        routeWithFiring(policy, { coding_mismatch: r.coding, duplicate: r.duplicate }, r.reasons).route
          .decision === 'AUTO_APPROVE',
    ),
  );
}

function policyDocument(cert: JointCertification, o: Options, champions: string[]): PolicyDocument {
  const t = cert.thresholds;
  return {
    ...DEFAULT_POLICY_DOCUMENT,
    name: 'policy-certified',
    description:
      (cert.autoApprove.feasible
        ? ''
        : `Auto-approve NOT certified at ${o.alpha} (card review thresholds kept). `) +
      (cert.hold.feasible ? '' : `Hold NOT certified at ${o.holdAlpha} (nothing held on a score). `) +
      `Thresholds certified for the whole decision (coding, duplicate, PO match) with ${champions.join(' and ')} ` +
      `on ${cert.rows} invoices (${o.data} ${o.split}, procurement seed ${o.procurementSeed}), vendor-clustered ` +
      `Learn-then-Test, auto-approve first (review thresholds at most ${cert.approveCap.scale} x the cards'), then the hold thresholds at or above its review thresholds: ` +
      `exceptions among AUTO_APPROVE <= ${o.alpha} and clean among HOLD <= ${o.holdAlpha}, each with probability ` +
      `>= ${1 - cert.familyWise.perRisk}, both together >= ${1 - cert.familyWise.joint}, over the draw of vendors.`,
    queues: {
      ...DEFAULT_POLICY_DOCUMENT.queues,
      coding: {
        review_at: t.codingReviewAt,
        ...(t.codingHoldAt !== undefined ? { hold_at: t.codingHoldAt } : {}),
      },
      ap: { review_at: t.duplicateReviewAt, hold_at: t.duplicateHoldAt },
    },
  };
}

function summary(cert: JointCertification, served: RoutingPolicy): string[] {
  const line = (name: string, side: 'approve' | 'hold', scale: number | undefined) => {
    const r = side === 'approve' ? cert.autoApprove : cert.hold;
    const last = r.steps[r.steps.length - 1];
    const why = notCertifiedReason(cert, side);
    if (why !== null || scale === undefined)
      return `${name}: NOT certified (${side === 'approve' ? 'served review thresholds kept' : 'nothing held on a score'}): ${why}`;
    const floor =
      side === 'hold'
        ? `; tested from the strictest candidate down to the floor ${cert.holdFloor.scale.toPrecision(4)} (hold at or above review), ${cert.holdFloor.candidatesBelow} of ${cert.holdFloor.candidates} candidates below it not tested`
        : `; capped at ${cert.approveCap.scale} (review thresholds never looser than ${cert.approveCap.scale} x the cards'), ${cert.approveCap.candidatesAbove} design candidates above it not tested`;
    const next =
      last && !last.rejected ? `${last.errors}/${last.selected}, p ${last.pValue.toPrecision(3)}` : 'none';
    return `${name}: scale ${scale.toPrecision(4)} of the card thresholds (${r.errors} errors among ${r.selected} selected test-part invoices; next candidate ${next}${floor})`;
  };
  const t = cert.thresholds;
  return [
    `certified on ${cert.rows} invoices (${Object.entries(cert.sources)
      .map(([k, v]) => `${k} ${v.rows}, ${v.exceptions} exceptions`)
      .join('; ')}; ${cert.vendors.design} design vendors, ${cert.vendors.test} test vendors)`,
    line('auto-approve (coding.review_at, ap.review_at)', 'approve', cert.scale.approve),
    line(
      cert.holdFamily === 'coding'
        ? "hold (coding.hold_at; ap.hold_at the duplicate card's)"
        : 'hold (coding.hold_at, ap.hold_at)',
      'hold',
      cert.scale.hold,
    ),
    `exceptions among the test part's auto-approved invoices, by kind: ${renderExceptionKinds(cert.approvedExceptions)}`,
    `each promise fails with probability at most ${cert.familyWise.perRisk}; both hold together with probability at least ${1 - cert.familyWise.joint} (union bound)`,
    `served before: coding.review_at ${served.codingReview}, ap.review_at ${served.duplicateReview}, coding.hold_at ${served.codingHold ?? 'none'}, ap.hold_at ${served.duplicateHold}`,
    `certified:     coding.review_at ${t.codingReviewAt}, ap.review_at ${t.duplicateReviewAt}, coding.hold_at ${t.codingHoldAt ?? 'none'}, ap.hold_at ${t.duplicateHoldAt}`,
  ];
}

const program = new Command()
  .name('certify')
  .description(
    'Certify the thresholds that gate AUTO_APPROVE and HOLD for the whole routing decision on vendor clusters',
  )
  .requiredOption('--data <dir>', 'benchmark directory written by npm run gen:benchmark')
  .addOption(
    new Option('--split <split>', 'calibration split').choices(['train', 'valid', 'test']).default('valid'),
  )
  .option('--out <file>', 'policy document to write', 'certified-policy.json')
  .option(
    '--alpha <x>',
    'max share of exceptions among auto-approved invoices (default: the promise, DECISION_PROMISE)',
    level('--alpha'),
    DECISION_PROMISE.autoApprove,
  )
  .option(
    '--hold-alpha <x>',
    'max share of clean invoices among held invoices',
    level('--hold-alpha'),
    DECISION_PROMISE.hold,
  )
  .option(
    '--delta <x>',
    'allowed failure probability of each guarantee',
    level('--delta'),
    DECISION_PROMISE.delta,
  )
  .option('--seed <n>', 'seed of the design/test vendor split', int, 42)
  .option(
    '--max-approve-scale <x>',
    "largest approve scale tested (1: the certified review thresholds are never looser than the cards')",
    positiveNumber,
    MAX_APPROVE_SCALE,
  )
  .addOption(
    new Option(
      '--hold-family <family>',
      "which hold thresholds the hold scale moves: coding (ap.hold_at stays at the duplicate card's) or both",
    )
      .choices(HOLD_FAMILIES)
      .default('coding'),
  )
  .option('--limit <n>', 'only the first n invoices of the split', int)
  .option(
    '--procurement-seed <n>',
    'seed of the procurement benchmark (not the line matcher one, 15)',
    int,
    303,
  )
  .option('--procurement-per-kind <n>', 'procurement cases per kind (15 kinds; 0: none)', int, 20)
  .option(
    '--procurement-vendors <n>',
    'vendors of the procurement benchmark (coprime with its 15 case kinds, so that each vendor bills every kind)',
    (v: string) => {
      const n = int(v);
      const problem = procurementVendorsProblem(n);
      if (problem) throw new InvalidArgumentError(problem);
      return n;
    },
    61,
  )
  .option(
    '--shard <k/n>',
    'score only part k of n of the split (by vendor profile; the procurement rows go with part 0): run the parts in parallel with --rows-out, then certify on them with --rows',
    shardOf,
  )
  .option('--rows-out <file>', 'also write the scored calibration rows (JSONL)')
  .option('--rows <file...>', 'certify on rows written by --rows-out instead of scoring')
  .option(
    '--verify <dir...>',
    "score each benchmark's test split and test the promise with the certified thresholds",
  )
  .option(
    '--verify-rows <file...>',
    'test the promise on rows written by --rows-out (e.g. an unseen test split)',
  )
  .action(async (o: Options) => {
    const started = process.hrtime.bigint();
    let rows: CertifyRow[] = [];
    const svc = await service(o.data);
    const { served, champions } = svc;
    try {
      if (o.rows) {
        for (const f of o.rows) rows.push(...readRows(f));
      } else {
        const sink = rowSink(o.rowsOut);
        rows = await scoreBenchmarkRows(svc.wired, o.data, o.split, o.limit, sink, o.shard);
        if (o.procurementPerKind > 0 && (o.shard?.index ?? 0) === 0)
          rows.push(
            ...(await scoreProcurementRows(
              svc.wired,
              { seed: o.procurementSeed, perKind: o.procurementPerKind, vendors: o.procurementVendors },
              sink,
            )),
          );
      }
    } finally {
      await svc.close();
    }
    const cert = certifyDecision(
      rows,
      served,
      {
        alpha: o.alpha,
        holdAlpha: o.holdAlpha,
        delta: o.delta,
        seed: o.seed,
        maxApproveScale: o.maxApproveScale,
      },
      o.holdFamily,
    );
    const certified = withThresholds(served, cert.thresholds);
    const report = [...summary(cert, served)];
    const verified: Record<string, ReturnType<typeof promiseOn>> = {};
    const verifiedKinds: Record<string, ExceptionKinds> = {};
    for (const dir of o.verify ?? []) {
      const v = await service(dir);
      try {
        const vr = await scoreBenchmarkRows(v.wired, dir, 'test', undefined, rowSink(undefined));
        verified[dir] = promiseOn(vr, certified, o);
        report.push(...renderGuarantee(`${dir} test, certified`, verified[dir]));
      } finally {
        await v.close();
      }
    }
    for (const f of o.verifyRows ?? []) {
      const vr = readRows(f);
      verified[f] = promiseOn(vr, certified, o);
      // The served (card) thresholds beside the certified ones: what changes if it is served.
      report.push(...renderGuarantee(`${f}, served`, promiseOn(vr, served, o)).slice(0, 3));
      report.push(...renderGuarantee(`${f}, certified`, verified[f]));
      const kinds = approvedKinds(vr, certified);
      verifiedKinds[f] = kinds;
      report.push(`${f}, certified: exceptions among AUTO_APPROVE by kind: ${renderExceptionKinds(kinds)}`);
    }
    const doc = policyDocument(cert, o, champions);
    writeFileSync(o.out, `${JSON.stringify(doc, null, 2)}\n`);
    const record = {
      champions,
      data: o.data,
      split: o.split,
      certification: cert,
      verified,
      verifiedApprovedExceptions: verifiedKinds,
    };
    writeFileSync(
      o.out.replace(/\.json$/, '') + '.certification.json',
      `${JSON.stringify(record, null, 2)}\n`,
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    report.push(`wrote ${o.out} in ${seconds.toFixed(0)} s (champions ${champions.join(', ')})`);
    process.stdout.write(report.join('\n') + '\n');
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exitCode = 2;
});
