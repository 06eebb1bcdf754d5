/**
 * One training run of one task, from an assembled table to a {@link TrainedModelSpec}, its
 * {@link ModelCardDraft} and an evaluation report:
 *
 * 1. **Splits.** The benchmark's `train` rows (plus reviewer rows) fit the networks. Its
 *    `valid` invoices are divided by a seeded hash of the invoice id into a **calibration**
 *    part (`calibrationShare`, default 30%: architecture choice, calibration map, threshold
 *    grid design) and a **thresholds** part (the rest: Learn-then-Test only, never seen by
 *    anything else). `test` is only scored for the report. All rows of an invoice stay together.
 * 2. **Architectures** declared in `models/specs` are trained on `train` and compared by
 *    log-loss on the calibration part; the lowest wins (ties to the one declared first).
 * 3. **Calibration**: none / Platt / isotonic by cross-validated log-loss on the calibration
 *    part (`calibration.ts`).
 * 4. **Thresholds** at the invoice level: an invoice's score is the maximum calibrated score
 *    of its rows (lines, or candidate pairs where it is the later invoice), 0 when it has none
 *    (as the service computes it). Auto-approve and hold thresholds by Learn-then-Test
 *    (`thresholds.ts`) on the thresholds part.
 * 5. **Test metrics**: per unit and per invoice, per exception kind, ECE before/after.
 *
 * Deterministic: the same assembled data, options and seed give the same spec and card
 * (apart from `trainedAt`).
 */
import { createHash } from 'node:crypto';
import type { DuplicateKind } from '../datasets/benchmark/types.js';
import {
  predictProbability,
  sigmoid,
  specLogit,
  type ArchitectureResult,
  type ModelCardDraft,
  type ThresholdChoice,
  type TrainedModelSpec,
} from '../models/spec.js';
import { parameterCount, TASK_ARCHITECTURES, type ArchitectureDecl } from '../models/specs/index.js';
import type { AssembledData } from './assemble.js';
import { calibrateAll, ece, logLoss, selectCalibration } from './calibration.js';
import { datasetRows, subset, type DatasetRow } from './data.js';
import type { InvoiceOutput } from './eval/detector.js';
import { calibration as reliability, prAuc, prCurve, rocAuc, type Scored } from './eval/metrics.js';
import { orNull, reliabilityBins } from './evaluate.js';
import { testFigures } from './test-figures.js';
import { deriveSeed, keyUniform } from './rng.js';
import {
  designGrid,
  learnThenTest,
  separateThresholds,
  type LttResult,
  type PValueMethod,
} from './thresholds.js';
import { trainingCancelled, trainNetwork } from './train.js';
import { vectorAgreement } from '../features/pair-agreement.js';
import { flagDirections, foldLevelFlags, withLevelFlags } from './monotone.js';
import { memberSeed, mergeMembers } from './ensemble.js';

/** The four parts of a run's data. */
export type Part = 'train' | 'calibration' | 'thresholds' | 'test';

/**
 * Duplicate kinds that the duplicate model's auto-approve guarantee leaves to a rule: a line of an
 * earlier invoice billed again among new lines shares too little with that invoice for a pair
 * score (such invoices sit among the pair model's lowest scores), and the service's
 * `LINE_REBILLED` rule (`inference/stages/line-rebills.ts`) sends them to review instead. For the
 * auto-approve threshold an invoice of these kinds counts as no exception of the pair model; the
 * hold threshold still counts it as an exception (it is not clean).
 */
export const RULE_CAUGHT_DUPLICATE_KINDS: readonly DuplicateKind[] = ['line_level_duplicate'];

/** Target error rates for the coverage table of the report. */
const COVERAGE_TARGETS = [0.002, 0.005, 0.01, 0.02, 0.05] as const;

/** Progress of a run, for progress bars. */
export type PipelineProgress =
  | { stage: 'epoch'; architecture: string; epoch: number; epochs: number; loss: number }
  | { stage: 'step'; message: string };

/** Options of {@link runPipeline}. */
export interface PipelineOptions {
  seed: number;
  /** Candidates (default: the task's declarations in `models/specs`). */
  architectures?: readonly ArchitectureDecl[];
  /** Overrides every candidate's epochs (quick runs, tests). */
  epochs?: number;
  /** Target share of auto-approved invoices that are true exceptions (default 0.005). */
  approveAlpha?: number;
  /** Target share of held invoices that are clean (default 0.10). */
  holdAlpha?: number;
  /** Allowed failure probability of each threshold guarantee (default 0.05). */
  delta?: number;
  /** Share of valid invoices used for calibration and grid design (default 0.3). */
  calibrationShare?: number;
  pValue?: PValueMethod;
  /**
   * Widest logit gap between neighbouring threshold candidates (`GridDesign.maxLogitStep` of
   * training/thresholds.ts; absent: the grid is thinned in log-share only).
   */
  gridLogitStep?: number;
  /**
   * Most candidates of the auto-approve threshold grid (`designGrid`'s `maxPoints`, default 50;
   * the hold grid keeps 50). The grid is thinned evenly in the log of the share selected, so
   * with few points it tests nothing inside a score gap that few invoices occupy (between the
   * clean invoices' tail and the duplicates); more points test thresholds there. Any size keeps
   * the fixed-sequence guarantee (the grid is designed on the calibration part).
   */
  approveGridPoints?: number;
  onProgress?: (p: PipelineProgress) => void;
  /** Cancels the run: checked between its steps and inside the training loop (training/train.ts). */
  signal?: AbortSignal;
  /** Clock for `trainedAt` (tests). */
  now?: () => Date;
}

/** Curves and steps behind the card's numbers. */
export interface TrainingReport {
  task: string;
  card: ModelCardDraft;
  curves: {
    /** Test PR curve per unit and per invoice (at most 200 points each). */
    prUnit: { threshold: number; precision: number; recall: number }[];
    prInvoice: { threshold: number; precision: number; recall: number }[];
    /** Reliability bins on the test units before (sigmoid of the logit) and after calibration. */
    reliabilityBefore: ReturnType<typeof reliability>['bins'];
    reliabilityAfter: ReturnType<typeof reliability>['bins'];
  };
  ltt: { autoApprove: LttResult['steps']; hold: LttResult['steps'] };
  /**
   * Auto-approve coverage each target error rate would allow (same delta). Each row holds for
   * its own alpha fixed in advance; picking an alpha after looking at this table voids the
   * guarantee of the one picked (rerun with it as `--target-error` on fresh data).
   */
  coverageByTarget: {
    alpha: number;
    threshold: number;
    feasible: boolean;
    coverageThresholds: number;
    coverageTest: number | null;
    riskTest: number | null;
  }[];
  lossHistory: Record<string, number[]>;
  blocking: AssembledData['blocking'];
}

/** Result of a run. */
export interface PipelineResult {
  spec: TrainedModelSpec;
  card: ModelCardDraft;
  report: TrainingReport;
  /**
   * What the calibrated model says about each test invoice (line scores, or the best
   * candidate pair), in submission order, in the evaluation harness's detector shape.
   */
  testOutputs: InvoiceOutput[];
}

function thin<T>(xs: readonly T[], max: number): T[] {
  if (xs.length <= max) return [...xs];
  const step = (xs.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => xs[Math.round(i * step)]!);
}

/** sha256 of every row (key, split, label, weight, features) in table order. */
export function dataHash(a: AssembledData): string {
  const h = createHash('sha256');
  for (const r of datasetRows(a.data))
    h.update(`${r.meta.key}\t${r.meta.split}\t${r.y}\t${r.w}\t${Array.from(r.x).join(',')}\n`);
  return h.digest('hex');
}

/**
 * Runs training, calibration, thresholds and evaluation on an assembled task.
 * @throws RangeError when a part the run needs is empty (no train rows, no calibration rows).
 */
export async function runPipeline(a: AssembledData, o: PipelineOptions): Promise<PipelineResult> {
  const seed = o.seed;
  const approveAlpha = o.approveAlpha ?? 0.005;
  const holdAlpha = o.holdAlpha ?? 0.1;
  const delta = o.delta ?? 0.05;
  const share = o.calibrationShare ?? 0.3;
  const step = (message: string): void => {
    if (o.signal?.aborted) throw trainingCancelled();
    o.onProgress?.({ stage: 'step', message });
  };
  const splitSeed = deriveSeed(seed, 'valid-split');
  const partOf = (split: string, invoiceId: string): Part =>
    split === 'valid'
      ? keyUniform(splitSeed, invoiceId) < share
        ? 'calibration'
        : 'thresholds'
      : (split as 'train' | 'test');
  const d = a.data;
  const rowPart = d.meta.map((m) => partOf(m.split, m.invoiceId));
  const idx: Record<Part, number[]> = { train: [], calibration: [], thresholds: [], test: [] };
  rowPart.forEach((p, i) => idx[p].push(i));
  if (idx.train.length === 0) throw new RangeError('no training rows');
  const trainPositives = idx.train.filter((i) => d.y[i] === 1).length;
  if (trainPositives === 0 || trainPositives === idx.train.length)
    throw new RangeError(
      `the training rows need both labels (${trainPositives} of ${idx.train.length} positive)`,
    );
  if (idx.calibration.length === 0) throw new RangeError('no calibration rows (valid split empty?)');

  // 2. architectures
  const decls = (o.architectures ?? TASK_ARCHITECTURES[a.task]).map((dcl) =>
    o.epochs ? { ...dcl, epochs: o.epochs } : dcl,
  );
  const train = subset(d, idx.train);
  const calRows = datasetRows(d, idx.calibration);
  const calY = calRows.map((r) => r.y);
  const lossHistory: Record<string, number[]> = {};
  const candidates: { decl: ArchitectureDecl; spec: TrainedModelSpec; result: ArchitectureResult }[] = [];
  // The pair model's agreement directions (monotone declarations train on level flags, training/monotone.ts).
  const agreement = a.task === 'duplicate' ? vectorAgreement(d.featureNames) : null;
  for (const decl of decls) {
    step(`training ${decl.id}`);
    const flags = decl.monotone === true && agreement !== null;
    const members: TrainedModelSpec[] = [];
    for (let k = 0; k < (decl.members ?? 1); k++) {
      const fit = await trainNetwork(flags ? withLevelFlags(train, agreement) : train, decl, {
        task: a.task,
        featureSchemaVersion: a.featureSchemaVersion,
        seed: memberSeed(seed, k),
        ...(flags ? { agreement: flagDirections(agreement) } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        onEpoch: (epoch, loss) =>
          o.onProgress?.({ stage: 'epoch', architecture: decl.id, epoch, epochs: decl.epochs, loss }),
      });
      members.push(flags ? foldLevelFlags(fit.spec, agreement) : fit.spec);
      // the loss curve of the first member (the one trained with the run seed)
      if (k === 0) lossHistory[decl.id] = fit.lossHistory;
    }
    const spec = members.length === 1 ? members[0]! : { ...mergeMembers(members), seed };
    const logits = calRows.map((r) => specLogit(spec, r.x));
    const scored: Scored[] = logits.map((z, k) => ({ score: z, label: calY[k] as 0 | 1 }));
    candidates.push({
      decl,
      spec,
      result: {
        id: decl.id,
        architecture: decl.kind,
        hidden: [...decl.hidden],
        parameters: parameterCount(decl, d.featureNames.length),
        validLogLoss: logLoss(logits.map(sigmoid), calY),
        validRocAuc: orNull(rocAuc(scored)),
        validPrAuc: orNull(prAuc(scored)),
        chosen: false,
      },
    });
  }
  let best = candidates[0]!;
  for (const c of candidates.slice(1)) if (c.result.validLogLoss < best.result.validLogLoss - 1e-9) best = c;
  best.result.chosen = true;

  // 3. calibration
  step('calibrating');
  const calLogits = calRows.map((r) => specLogit(best.spec, r.x));
  const sel = selectCalibration(
    { logit: calLogits, y: calY },
    calRows.map((r) => r.meta.key),
    seed,
  );
  const spec: TrainedModelSpec = { ...best.spec, calibration: sel.chosen };

  // 4. invoice-level scores and thresholds
  step('choosing thresholds');
  // Calibrated probability of every row outside the train part.
  const rowScore = new Map<number, number>();
  for (const p of ['calibration', 'thresholds', 'test'] as const)
    for (const r of datasetRows(d, idx[p])) rowScore.set(r.index, predictProbability(spec, r.x));
  const scoreOf = (r: DatasetRow): number => rowScore.get(r.index) ?? 0;
  const invoiceScore = new Map<string, number>();
  for (const r of datasetRows(d)) {
    if (r.meta.source !== 'benchmark' || !rowScore.has(r.index)) continue;
    invoiceScore.set(r.meta.invoiceId, Math.max(invoiceScore.get(r.meta.invoiceId) ?? 0, scoreOf(r)));
  }
  const invoicesOf = (p: Part): { score: number; inv: AssembledData['invoices'][number] }[] =>
    a.invoices
      .filter((inv) => partOf(inv.split, inv.invoiceId) === p)
      .map((inv) => ({ score: invoiceScore.get(inv.invoiceId) ?? 0, inv }));
  const ruleCaught = new Set<string>(a.task === 'duplicate' ? RULE_CAUGHT_DUPLICATE_KINDS : []);
  /** The label each side certifies: the approve side counts the exceptions this model answers for. */
  const sideLabel = (side: 'approve' | 'hold', inv: AssembledData['invoices'][number]): 0 | 1 =>
    side === 'approve' && inv.kind !== null && ruleCaught.has(inv.kind) ? 0 : inv.label;
  const calInv = invoicesOf('calibration');
  const thrInv = invoicesOf('thresholds');
  const testInv = invoicesOf('test');
  const choose = (side: 'approve' | 'hold', alpha: number): LttResult => {
    const grid = designGrid(
      calInv.map((x) => x.score),
      {
        side,
        alpha,
        delta,
        testN: thrInv.length,
        pValue: o.pValue,
        ...(o.gridLogitStep !== undefined ? { maxLogitStep: o.gridLogitStep } : {}),
        ...(side === 'approve' && o.approveGridPoints !== undefined
          ? { maxPoints: o.approveGridPoints }
          : {}),
      },
      calInv.map((x) => sideLabel(side, x.inv)),
    );
    return learnThenTest({
      scores: thrInv.map((x) => x.score),
      labels: thrInv.map((x) => sideLabel(side, x.inv)),
      side,
      alpha,
      delta,
      grid,
      pValue: o.pValue,
    });
  };
  const notes: string[] = [];
  const separated = separateThresholds(
    choose('approve', approveAlpha),
    choose('hold', holdAlpha),
    thrInv.length,
  );
  const { approve, hold } = separated;
  if (separated.note) notes.push(separated.note);
  const thresholds = { autoApprove: approve.threshold, hold: hold.threshold };
  const testSide = (
    side: 'approve' | 'hold',
    t: number,
  ): { coverage: number | null; risk: number | null } => {
    const sel = testInv.filter((x) => (side === 'approve' ? x.score <= t : x.score >= t));
    const bad = sel.filter((x) => sideLabel(side, x.inv) === (side === 'approve' ? 1 : 0)).length;
    return {
      coverage: testInv.length ? sel.length / testInv.length : null,
      risk: sel.length ? bad / sel.length : null,
    };
  };
  const unitName = a.task === 'coding-mismatch' ? 'line' : 'pair';
  const choice = (side: 'approve' | 'hold', r: LttResult, alpha: number): ThresholdChoice => {
    const t = testSide(side, r.threshold);
    return {
      threshold: r.threshold,
      risk:
        side === 'approve'
          ? `P(invoice has a ${a.task} exception${ruleCaught.size ? ` other than ${[...ruleCaught].join(', ')}` : ''} | max ${unitName} score <= threshold)`
          : `P(invoice is clean | max ${unitName} score >= threshold)`,
      alpha,
      delta,
      method: `Learn-then-Test, fixed-sequence over a grid designed on the calibration part${o.gridLogitStep !== undefined ? ` (candidates at most ${o.gridLogitStep} apart in logit)` : ''}${side === 'approve' && o.approveGridPoints !== undefined ? ` (at most ${o.approveGridPoints} points)` : ''}, ${o.pValue ?? 'binomial'} p-values`,
      calibrationN: thrInv.length,
      calibrationSelected: r.selected,
      calibrationErrors: r.errors,
      coverageCalibration: r.coverage,
      coverageTest: t.coverage,
      riskTest: t.risk,
      feasible: r.feasible,
    };
  };

  // 5. test metrics
  step('evaluating on test');
  const testRows = datasetRows(d, idx.test).filter((r) => r.meta.source === 'benchmark');
  const figures = testFigures(a, scoreOf, (id) => invoiceScore.get(id) ?? 0, thresholds);
  const { unitScored, invScored } = figures;
  const testLogits = testRows.map((r) => specLogit(spec, r.x));
  const testY = testRows.map((r) => r.y);
  const before = calibrateAll({ kind: 'none' }, testLogits);
  const count = (p: Part): number => idx[p].length;
  const positives = (p: Part): number => idx[p].filter((i) => d.y[i] === 1).length;
  const parts: Part[] = ['train', 'calibration', 'thresholds', 'test'];
  notes.push(
    "Thresholds apply to the invoice score: the maximum calibrated score over the invoice's scored units (0 when none), as the service computes it.",
    'Threshold guarantee: with probability >= 1 - delta over the draw of the thresholds part, the stated risk is <= alpha, assuming future invoices are i.i.d. like the benchmark valid split; vendor, code and fraud drift break this (monitor and recalibrate).',
    'The benchmark splits by vendor and time, so valid and test invoices come from different vendors; test coverage/risk show how the guarantee transfers.',
    'Reviewer labels are used for training only (weighted), never for calibration, thresholds or test: reviewed invoices are selected by the model.',
    'The auto-approve guarantee is per model; an invoice auto-approved by both models is not bounded by either alpha alone.',
  );
  if (ruleCaught.size)
    notes.push(
      `The auto-approve guarantee covers invoice-level duplicates only: invoices of kind ${[...ruleCaught].join(', ')} (a line of an earlier invoice billed again among new lines) count as no exception of this model when its auto-approve threshold is certified and tested, because the service's LINE_REBILLED rule, not the pair score, sends them to review; the hold threshold counts them as exceptions.`,
    );
  if (!approve.feasible)
    notes.push(
      'No auto-approve threshold could be certified at the target: the model approves nothing (threshold -1).',
    );
  const card: ModelCardDraft = {
    task: a.task,
    architecture: spec.architecture,
    featureSchemaVersion: a.featureSchemaVersion,
    featureNames: [...d.featureNames],
    seed,
    trainedAt: (o.now ?? (() => new Date()))().toISOString(),
    training: {
      architectureId: best.decl.id,
      hidden: [...best.decl.hidden],
      optimizer: 'adam',
      learningRate: best.decl.learningRate,
      l2: best.decl.l2,
      epochs: best.decl.epochs,
      batchSize: best.decl.batchSize,
      loss: 'weighted binary cross-entropy on the logit + l2 * sum(kernel^2)',
      finalTrainLoss: lossHistory[best.decl.id]!.at(-1) ?? null,
      backend: 'tfjs wasm (single thread)',
    },
    data: {
      hash: dataHash(a),
      rows: Object.fromEntries(parts.map((p) => [p, count(p)])),
      invoices: Object.fromEntries(parts.map((p) => [p, invoicesOf(p).length])),
      positives: Object.fromEntries(parts.map((p) => [p, positives(p)])),
      rowsFrom: a.rowsFrom,
    },
    labels: a.labels,
    architectureComparison: candidates.map((c) => c.result),
    calibration: {
      chosen: sel.chosen.kind,
      selection: sel.selection,
      candidates: sel.candidates,
      eceBeforeTest: testRows.length ? orNull(ece(before, testY)) : null,
      eceAfterTest: testRows.length ? orNull(ece(testRows.map(scoreOf), testY)) : null,
      eceBeforeCalibration: orNull(sel.eceBefore),
      eceAfterCalibration: orNull(sel.eceAfter),
      reliabilityTest: reliabilityBins(unitScored),
    },
    thresholds: {
      autoApprove: choice('approve', approve, approveAlpha),
      hold: choice('hold', hold, holdAlpha),
    },
    metrics: { test: figures.test, perKind: figures.perKind },
    notes,
  };
  const outputs = new Map<string, InvoiceOutput>(
    testInv.map((x) => [
      x.inv.invoiceId,
      { invoiceId: x.inv.invoiceId, duplicateScore: 0, duplicateOf: null, lines: [] },
    ]),
  );
  for (const r of testRows) {
    const m = r.meta;
    const out = outputs.get(m.invoiceId);
    if (!out) continue;
    const score = scoreOf(r);
    if (m.lineNumber !== undefined) out.lines.push({ lineNumber: m.lineNumber, score });
    else if (score > out.duplicateScore || out.duplicateOf === null) {
      out.duplicateScore = score;
      out.duplicateOf = m.otherInvoiceId ?? null;
    }
  }
  return {
    spec,
    card,
    testOutputs: [...outputs.values()],
    report: {
      task: a.task,
      card,
      curves: {
        prUnit: thin(prCurve(unitScored), 200),
        prInvoice: thin(prCurve(invScored), 200),
        reliabilityBefore: reliability(
          Array.from(before, (score, k) => ({ score, label: testY[k] as 0 | 1 })),
        ).bins,
        reliabilityAfter: reliability(unitScored).bins,
      },
      ltt: { autoApprove: approve.steps, hold: hold.steps },
      coverageByTarget: COVERAGE_TARGETS.map((alpha) => {
        const r = alpha === approveAlpha ? approve : choose('approve', alpha);
        const t = testSide('approve', r.threshold);
        return {
          alpha,
          threshold: r.threshold,
          feasible: r.feasible,
          coverageThresholds: r.coverage,
          coverageTest: t.coverage,
          riskTest: t.risk,
        };
      }),
      lossHistory,
      blocking: a.blocking,
    },
  };
}
