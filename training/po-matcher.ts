/**
 * Training of the shipped PO line matcher: the line-matching model (matching/train.ts) fitted on
 * the line pairs of the procurement benchmark's train split (seeded; with near-miss negatives,
 * training/eval/procurement.ts `procurementPairs`), calibrated on a fifth of those cases held
 * out of the fit. Its threshold, which is also the PO match's (`ITEM_NOT_ON_PO` below it), is
 * certified on a third set: the line alignments of every case of a separate draw of the
 * benchmark generator (seed derived from the run's), used for nothing else: with probability
 * 0.95 the share of invoice lines taken as on the PO at or above it that are aligned to the
 * wrong PO line, or are not on the PO at all, is at most 1 % ({@link PO_MATCH_GUARANTEE}; the
 * card states the counts and the upper bound). Measured on the test split's pairs and by the PO-match
 * evaluation. Writes the spec (with its card) to `models/artifacts/po-line-matcher.json` and
 * the figures to `po-line-matcher.eval.json`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateProcurementBenchmark,
  type ProcurementBenchmark,
} from '../datasets/procurement/generator.js';
import { alignLines } from '../inference/procurement/align.js';
import type { MatchRecord } from '../matching/record.js';
import { trainLineMatcher, type LabelledPair } from '../matching/train.js';
import { evaluateProcurement, procurementPairs, type ProcurementReport } from './eval/procurement.js';
import { identifierRuleMatcher } from '../inference/procurement/matcher.js';
import { deriveSeed } from './rng.js';

/** Seed of the shipped matcher and of its benchmark. */
export const PO_MATCHER_SEED = 15;

/**
 * The PO match threshold's guarantee: wrong-match rate among the line alignments at or above it
 * at most `alpha` (precision at least 99 %), with probability at least `1 - delta`.
 */
export const PO_MATCH_GUARANTEE = { alpha: 0.01, delta: 0.05 } as const;

/** F1, precision and recall of scored pairs at a threshold. */
function pairMetrics(scores: number[], labels: (0 | 1)[], threshold: number) {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  scores.forEach((s, i) => {
    const p = s >= threshold;
    if (p && labels[i] === 1) tp++;
    else if (p) fp++;
    else if (labels[i] === 1) fn++;
  });
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const r4 = (x: number) => Math.round(x * 10_000) / 10_000;
  return { pairs: scores.length, precision: r4(precision), recall: r4(recall), f1: r4(f1) };
}

/**
 * The decisions the PO match's threshold governs: every invoice line of a case (both splits,
 * other-vendor cases left out) aligned to its PO by `alignLines` at threshold 0, with the score
 * of the PO line it is aligned to; right (1) when that PO line orders the line's item, wrong (0)
 * otherwise, including every line of an item not on the PO.
 */
function alignmentDecisions(b: ProcurementBenchmark, score: (a: MatchRecord, b: MatchRecord) => number) {
  const pos = new Map((b.load.purchase_orders ?? []).map((p) => [p.po_number, p]));
  const matcher = { version: 'certification', score };
  const out = { scores: [] as number[], labels: [] as (0 | 1)[], groups: [] as string[] };
  for (const c of b.cases) {
    const po = pos.get(c.invoice.po_number ?? '');
    if (!po || c.kind === 'other_vendor_po') continue;
    for (const a of alignLines(c.invoice.lines, po.lines, matcher, 0)) {
      const first = a.matches[0];
      const item = c.lineItems[a.invoiceLine.line_number];
      out.scores.push(first?.score ?? a.bestScore);
      out.labels.push(first && item && b.poItems[po.po_number]?.[first.poLine.line_number] === item ? 1 : 0);
      out.groups.push(c.caseId);
    }
  }
  return out;
}

/** What {@link trainPoMatcher} produced. */
export interface PoMatcherRun {
  specPath: string;
  evalPath: string;
  figures: {
    seed: number;
    version: string;
    /** The certified threshold of the card, which the PO match uses. */
    threshold: number;
    /** Test pairs (near misses included) at the certified threshold and at 0.5. */
    testPairs: ReturnType<typeof pairMetrics>;
    testPairsAtHalf: ReturnType<typeof pairMetrics>;
    ruleTestPairs: ReturnType<typeof pairMetrics>;
    procurement: ProcurementReport;
    atHalf: ProcurementReport;
    ruleMatcherProcurement: ProcurementReport;
  };
}

/** Trains, measures and writes the PO line matcher into `dir` (see the module doc). */
export async function trainPoMatcher(dir: string, seed = PO_MATCHER_SEED): Promise<PoMatcherRun> {
  const bench = generateProcurementBenchmark({ seed });
  // Every fifth train case's pairs calibrate (pairs of one case stay together: they share an invoice).
  const caseIndex = new Map(
    bench.cases.filter((c) => c.split === 'train').map((c, i) => [c.caseId, i] as const),
  );
  const train: LabelledPair[] = [];
  const valid: LabelledPair[] = [];
  for (const p of procurementPairs(bench, 'train'))
    (caseIndex.get(p.caseId)! % 5 === 4 ? valid : train).push(p);
  const certSeed = deriveSeed(seed, 'po-matcher-certification');
  const certBench = generateProcurementBenchmark({ seed: certSeed });
  const { spec, matcher } = trainLineMatcher(train, {
    seed,
    valid,
    trainedOn: `procurement benchmark seed ${seed}, train split: invoice line x PO line pairs of the same PO and near misses`,
    certify: {
      decisions: (score) => alignmentDecisions(certBench, score),
      ...PO_MATCH_GUARANTEE,
      on:
        `the PO match's line alignments (each invoice line's PO line at threshold 0) of every case of the ` +
        `benchmark drawn with seed ${certSeed}, clustered by invoice`,
    },
  });
  const test = procurementPairs(bench, 'test');
  const labels = test.map((p) => p.label);
  const testScores = test.map((p) => matcher.score(p.a, p.b));
  const figures = {
    seed,
    version: spec.version,
    threshold: spec.threshold,
    testPairs: pairMetrics(testScores, labels, spec.threshold),
    testPairsAtHalf: pairMetrics(testScores, labels, 0.5),
    ruleTestPairs: pairMetrics(
      test.map((p) => identifierRuleMatcher.score(p.a, p.b)),
      labels,
      0.5,
    ),
    procurement: evaluateProcurement(bench, matcher, spec.threshold),
    atHalf: evaluateProcurement(bench, matcher, 0.5),
    ruleMatcherProcurement: evaluateProcurement(bench, identifierRuleMatcher, 0.5),
  };
  const specPath = join(dir, 'po-line-matcher.json');
  const evalPath = join(dir, 'po-line-matcher.eval.json');
  await writeFile(specPath, JSON.stringify(spec) + '\n');
  await writeFile(evalPath, JSON.stringify(figures, null, 2) + '\n');
  return { specPath, evalPath, figures };
}
