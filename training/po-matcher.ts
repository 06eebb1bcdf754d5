/**
 * Training of the shipped PO line matcher: the line-matching model (matching/train.ts) fitted on
 * the line pairs of the procurement benchmark's train split (seeded), calibrated and
 * thresholded on a fifth of those cases held out (which also set the PO match's own
 * threshold, `matchThreshold`), measured on the test split's pairs and by the
 * PO-match evaluation (training/eval/procurement.ts). Writes the spec (with its card) to
 * `models/artifacts/po-line-matcher.json` and the figures to `po-line-matcher.eval.json`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateProcurementBenchmark } from '../datasets/procurement/generator.js';
import { trainLineMatcher, type LabelledPair } from '../matching/train.js';
import { evaluateProcurement, procurementPairs, type ProcurementReport } from './eval/procurement.js';
import { identifierRuleMatcher, TRAINED_PO_MATCH_THRESHOLD } from '../inference/procurement/matcher.js';

/** Seed of the shipped matcher and of its benchmark. */
export const PO_MATCHER_SEED = 15;

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

/** What {@link trainPoMatcher} produced. */
export interface PoMatcherRun {
  specPath: string;
  evalPath: string;
  figures: {
    seed: number;
    version: string;
    threshold: number;
    /** Threshold of the PO match (ITEM_NOT_ON_PO), chosen on the held-out pairs. */
    matchThreshold: number;
    testPairs: ReturnType<typeof pairMetrics>;
    ruleTestPairs: ReturnType<typeof pairMetrics>;
    procurement: ProcurementReport;
    atCardThreshold: ProcurementReport;
    atHalf: ProcurementReport;
    ruleMatcherProcurement: ProcurementReport;
  };
}

/** Trains, measures and writes the PO line matcher into `dir` (see the module doc). */
export async function trainPoMatcher(dir: string, seed = PO_MATCHER_SEED): Promise<PoMatcherRun> {
  const bench = generateProcurementBenchmark({ seed });
  const all = procurementPairs(bench, 'train');
  // Hold out every fifth train case's pairs for calibration and the threshold (pairs of one
  // case stay together: they share an invoice).
  const byCase = new Map<string, LabelledPair[]>();
  const trainCases = bench.cases.filter((c) => c.split === 'train');
  let offset = 0;
  for (const c of trainCases) {
    const n =
      c.kind === 'other_vendor_po'
        ? 0
        : c.invoice.lines.length *
          (bench.load.purchase_orders ?? []).find((p) => p.po_number === c.invoice.po_number)!.lines.length;
    byCase.set(c.caseId, all.slice(offset, offset + n));
    offset += n;
  }
  const train: LabelledPair[] = [];
  const valid: LabelledPair[] = [];
  trainCases.forEach((c, i) => (i % 5 === 4 ? valid : train).push(...(byCase.get(c.caseId) ?? [])));
  const { spec, matcher } = trainLineMatcher(train, {
    seed,
    valid,
    trainedOn: `procurement benchmark seed ${seed}, train split: invoice line x PO line pairs of the same PO`,
  });
  // The stage aligns each invoice line to its best PO line; the threshold only decides
  // ITEM_NOT_ON_PO, so it sits low (TRAINED_PO_MATCH_THRESHOLD); the report shows the figures at the
  // card threshold and at 0.5 beside it.
  const matchThreshold = TRAINED_PO_MATCH_THRESHOLD;
  const test = procurementPairs(bench, 'test');
  const labels = test.map((p) => p.label);
  const figures = {
    seed,
    version: spec.version,
    threshold: spec.threshold,
    testPairs: pairMetrics(
      test.map((p) => matcher.score(p.a, p.b)),
      labels,
      spec.threshold,
    ),
    ruleTestPairs: pairMetrics(
      test.map((p) => identifierRuleMatcher.score(p.a, p.b)),
      labels,
      0.5,
    ),
    matchThreshold,
    procurement: evaluateProcurement(bench, matcher, matchThreshold),
    atCardThreshold: evaluateProcurement(bench, matcher, spec.threshold),
    atHalf: evaluateProcurement(bench, matcher, 0.5),
    ruleMatcherProcurement: evaluateProcurement(bench, identifierRuleMatcher, 0.5),
  };
  const specPath = join(dir, 'po-line-matcher.json');
  const evalPath = join(dir, 'po-line-matcher.eval.json');
  await writeFile(specPath, JSON.stringify(spec) + '\n');
  await writeFile(evalPath, JSON.stringify(figures, null, 2) + '\n');
  return { specPath, evalPath, figures };
}
