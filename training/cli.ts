/**
 * `npm run train -- --model coding-mismatch|duplicate --data <dir> --seed 42 [--out <dir>]`:
 * loads the benchmark (and optionally a reviewer-label export), assembles the task's table,
 * runs the pipeline (`pipeline.ts`) and writes `spec.json` (the {@link TrainedModelSpec}),
 * `card.json` (the {@link ModelCardDraft}) and `report.json` (curves, LTT steps, loss curves)
 * into the output directory, with a progress bar on a terminal and a summary table.
 * The same data, options and seed give the same spec and metrics. Without recipe options the
 * command trains with the recipe of the task's champion in `--registry` ({@link withChampionRecipe}).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import Table from 'cli-table3';
import { Command, Option } from 'commander';
import { LABEL_PROVENANCES, type LabelProvenance } from '../core/labels.js';
import { BENCHMARK_FILES } from '../datasets/benchmark/types.js';
import type { ModelTask } from '../models/spec.js';
import type { FeatureVector } from '../features/schema.js';
import { servedFeatureSchemas, TASK_VECTOR } from '../models/served-schemas.js';
import { ARCHITECTURES } from '../models/specs/index.js';
import { ModelRegistry } from '../models/registry.js';
import { assembleTask } from './assemble.js';
import { loadBenchmark, type LoadedBenchmark } from './benchmark.js';
import type { FeatureProvider } from './features.js';
import type { Detector } from './eval/detector.js';
import { renderTables } from './eval/report.js';
import { fileLabelSource, type LabelSource } from './labels.js';
import { writeHarnessReport } from './harness-report.js';
import { runPipeline, type PipelineResult } from './pipeline.js';
import { runReference } from './reference.js';
import {
  architectureIds,
  EDITIONS,
  int,
  labelSources,
  labelWeight,
  num,
  RATE_OPTIONS,
  vectorEdition,
} from './cli-options.js';
import { championRecipe, RECIPE_OPTIONS, recipeTrainOptions } from './reproduce-args.js';
import { REFERENCE_FILE, writeReference } from '../monitoring/reference.js';

/** Parsed options of the `train` command. */
export interface TrainCliOptions {
  model: ModelTask;
  data: string;
  seed: number;
  out?: string;
  labels?: string;
  targetError: number;
  holdError: number;
  delta: number;
  reviewWeight: number;
  /** Only labels of these provenances (reviewer, audit_sample, erp); default all. */
  labelSources?: LabelProvenance[];
  /** Weight per provenance; provenances absent weigh `reviewWeight`. */
  labelWeight?: Partial<Record<LabelProvenance, number>>;
  epochs?: number;
  k: number;
  /** Duplicate task: training weight of hard-negative pairs (`AssembleOptions.hardNegativeWeight`; default 1). */
  hardNegativeWeight?: number;
  /** Most candidates of the auto-approve threshold grid (`PipelineOptions.approveGridPoints`; default 50). */
  approveGridPoints?: number;
  progress: boolean;
  /** Write the evaluation harness's report (HTML) for the test split (default true). */
  evalReport?: boolean;
  /** Evaluate the baseline detectors beside the trained model (default true). */
  baselines?: boolean;
  /** Reviewer labels from another source than an export directory (e.g. the service's store). */
  labelSource?: LabelSource;
  /**
   * Edition of the model's input vector (`VECTOR_EDITIONS` of features/schema.ts; default the
   * current): 3 of the line vector reproduces `coding-mismatch@4`, 2 of the pair vector `duplicate@2`.
   */
  vectorEdition?: number;
  /**
   * Candidate architectures by id (`ARCHITECTURES` of models/specs); default the task's
   * `TASK_ARCHITECTURES` (the `train` command defaults to the champion's: {@link withChampionRecipe}).
   */
  architectures?: string[];
  /** Widest logit gap between threshold candidates (`PipelineOptions.gridLogitStep`); default none. */
  gridLogitStep?: number;
}

/** What the command needs from outside (the feature pipeline). */
export interface TrainCliDeps {
  /** The feature provider for the loaded benchmark, with the line context it used (written as `line-context.json`). */
  provider: (ctx: {
    bench: LoadedBenchmark;
    dataDir: string;
    seed: number;
    editions?: Partial<Record<FeatureVector, number>>;
  }) => {
    provider: FeatureProvider;
    context?: unknown;
  };
  /** Baseline detectors for the harness report (the current scoring path, ERP rules). */
  baselines?: (dataDir: string) => Promise<Detector[]>;
  /** Where messages go (default stderr). */
  log?: (line: string) => void;
  /** Progress of the run, percent (0-100), with what it is doing (e.g. a job's progress). */
  onProgress?: (percent: number, stage: string) => void;
  /** Cancels the run (a retrain job whose process is shutting down); see training/pipeline.ts. */
  signal?: AbortSignal;
  /**
   * Default of the `train` command's `--registry`: the model registry whose champion's recipe a
   * run without recipe options takes ({@link withChampionRecipe}); absent: none (the task's defaults).
   */
  registryRoot?: string;
}

/** No colours: the summary goes to logs and CI output as well as terminals. */
const PLAIN = { head: [], border: [] };

const fmt = (v: number | null | undefined, digits = 3): string =>
  v === null || v === undefined ? '-' : v.toFixed(digits);

/** A detector whose `close` runs at most once. */
function closeOnce(d: Detector): Detector {
  let closed: Promise<void> | undefined;
  const close = d.close?.bind(d);
  return close ? { ...d, run: d.run.bind(d), close: () => (closed ??= close()) } : d;
}

/** Writes spec, card and report as pretty JSON; returns the paths. */
export function writeRunOutputs(
  out: string,
  r: PipelineResult,
): { spec: string; card: string; report: string } {
  mkdirSync(out, { recursive: true });
  const paths = {
    spec: join(out, 'spec.json'),
    card: join(out, 'card.json'),
    report: join(out, 'report.json'),
  };
  writeFileSync(paths.spec, JSON.stringify(r.spec, null, 2) + '\n');
  writeFileSync(paths.card, JSON.stringify(r.card, null, 2) + '\n');
  writeFileSync(paths.report, JSON.stringify(r.report, null, 2) + '\n');
  return paths;
}

/** A plain (uncoloured) table: the summary goes to logs and CI output as well as terminals. */
function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ style: PLAIN, head });
  t.push(...rows);
  return t.toString();
}

/** A human summary of a run: test metrics, thresholds and the architecture comparison. */
export function summaryTable(r: PipelineResult): string {
  const c = r.card;
  const pr = (x: { precision: number | null; recall: number | null }): string[] => [
    fmt(x.precision),
    fmt(x.recall),
  ];
  return [
    `${c.task}: ${c.architecture}, calibration ${c.calibration.chosen} (ECE test ${fmt(c.calibration.eceBeforeTest)} -> ${fmt(c.calibration.eceAfterTest)})`,
    table(
      ['architecture', 'params', 'valid log-loss', 'valid ROC-AUC', 'valid PR-AUC', 'chosen'],
      c.architectureComparison.map((x) => [
        x.id,
        x.parameters,
        fmt(x.validLogLoss, 4),
        fmt(x.validRocAuc),
        fmt(x.validPrAuc),
        x.chosen ? 'yes' : '',
      ]),
    ),
    table(
      [
        'threshold',
        'value',
        'alpha',
        'delta',
        'coverage (thr. part)',
        'coverage (test)',
        'risk (test)',
        'certified',
      ],
      Object.entries(c.thresholds).map(([name, x]) => [
        name,
        fmt(x.threshold, 4),
        x.alpha,
        x.delta,
        fmt(x.coverageCalibration),
        fmt(x.coverageTest),
        fmt(x.riskTest, 4),
        x.feasible ? 'yes' : 'no',
      ]),
    ),
    table(
      ['target error', 'approve threshold', 'coverage (thr. part)', 'coverage (test)', 'error (test)'],
      r.report.coverageByTarget.map((x) => [
        x.alpha,
        x.feasible ? fmt(x.threshold, 4) : 'none',
        fmt(x.coverageThresholds),
        fmt(x.coverageTest),
        fmt(x.riskTest, 4),
      ]),
    ),
    table(
      ['test', 'n', 'pos', 'ROC-AUC', 'PR-AUC', 'ECE', 'P@review', 'R@review', 'P@hold', 'R@hold'],
      c.metrics.test.map((m) => [
        m.unit,
        m.n,
        m.positives,
        fmt(m.rocAuc),
        fmt(m.prAuc),
        fmt(m.ece),
        ...pr(m.atReview),
        ...pr(m.atHold),
      ]),
    ),
    table(
      ['kind', 'n', 'ROC-AUC', 'PR-AUC', 'P@review', 'R@review', 'P@hold', 'R@hold', 'flagged'],
      c.metrics.perKind.map((m) => [
        m.kind + (m.isHardNegative ? ' (hard neg.)' : ''),
        m.n,
        fmt(m.rocAuc),
        fmt(m.prAuc),
        ...pr({ precision: m.precisionAtReview, recall: m.recallAtReview }),
        ...pr({ precision: m.precisionAtHold, recall: m.recallAtHold }),
        fmt(m.flaggedRateAtReview),
      ]),
    ),
  ].join('\n');
}

/**
 * Runs one training from parsed options.
 * @throws TriageError for invalid benchmark or label files; RangeError for empty splits.
 */
export async function runTrain(
  o: TrainCliOptions,
  deps: TrainCliDeps,
): Promise<PipelineResult & { outDir: string }> {
  const log = deps.log ?? ((l: string) => process.stderr.write(l + '\n'));
  log(`loading benchmark from ${o.data}`);
  const bench = loadBenchmark(o.data);
  const { provider, context } = deps.provider({
    bench,
    dataDir: o.data,
    seed: o.seed,
    ...(o.vectorEdition !== undefined ? { editions: { [TASK_VECTOR[o.model]]: o.vectorEdition } } : {}),
  });
  const bar = o.progress
    ? new SingleBar(
        { format: 'train [{bar}] {percentage}% | {stage}', stream: process.stderr, hideCursor: true },
        Presets.shades_classic,
      )
    : null;
  bar?.start(100, 0, { stage: 'assembling' });
  let percent = 0;
  const report = (p: number | null, stage: string): void => {
    if (p !== null) percent = p;
    if (p === null) bar?.update({ stage });
    else bar?.update(p, { stage });
    deps.onProgress?.(percent, stage);
  };
  try {
    const assembled = await assembleTask(o.model, bench, provider, {
      labels: o.labelSource ?? (o.labels ? fileLabelSource(o.labels) : undefined),
      reviewWeight: o.reviewWeight,
      ...(o.labelWeight ? { labelWeights: o.labelWeight } : {}),
      ...(o.labelSources ? { labelSources: o.labelSources } : {}),
      blocking: { k: o.k },
      ...(o.hardNegativeWeight !== undefined ? { hardNegativeWeight: o.hardNegativeWeight } : {}),
      onProgress: (stage, done, total) => report(Math.round((20 * done) / Math.max(1, total)), stage),
    });
    log(
      `${assembled.data.X.length} rows, ${assembled.invoices.length} invoices, ${assembled.labels.reviews.ids.length} labels (${Object.entries(
        assembled.labels.mix?.perSource ?? {},
      )
        .map(([s, m]) => `${s} ${m.labels}`)
        .join(', ')})`,
    );
    let epochsDone = 0;
    const result = await runPipeline(assembled, {
      seed: o.seed,
      epochs: o.epochs,
      ...(o.architectures ? { architectures: o.architectures.map((id) => ARCHITECTURES[id]!) } : {}),
      approveAlpha: o.targetError,
      holdAlpha: o.holdError,
      delta: o.delta,
      ...(o.gridLogitStep !== undefined ? { gridLogitStep: o.gridLogitStep } : {}),
      ...(o.approveGridPoints !== undefined ? { approveGridPoints: o.approveGridPoints } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
      onProgress: (p) => {
        if (p.stage === 'epoch') {
          epochsDone++;
          report(
            Math.min(95, 20 + epochsDone),
            `${p.architecture} epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}`,
          );
        } else report(null, p.message);
      },
    });
    report(100, 'done');
    bar?.stop();
    const outDir = o.out ?? join('reports', 'training', `${o.model}-seed${o.seed}`);
    const paths = writeRunOutputs(outDir, result);
    if (context !== undefined)
      writeFileSync(join(outDir, 'line-context.json'), JSON.stringify(context, null, 2) + '\n');
    // Drift monitoring: the run's reference distributions (monitoring/reference.ts).
    writeReference(outDir, runReference(assembled, result.spec, `benchmark ${o.data}`));
    log(`wrote ${join(outDir, REFERENCE_FILE)}`);
    log(summaryTable(result));
    log(`wrote ${paths.spec}, ${paths.card}, ${paths.report}`);
    if (o.evalReport !== false) {
      if (existsSync(join(o.data, BENCHMARK_FILES.split('test')))) {
        // the harness closes each detector after its run; closing again (on failure) is a no-op
        const baselines = (o.baselines !== false && deps.baselines ? await deps.baselines(o.data) : []).map(
          closeOnce,
        );
        try {
          const h = await writeHarnessReport(o.model, o.data, join(outDir, 'eval'), result, baselines);
          log(renderTables(h.report));
          log(`wrote ${h.html}`);
        } finally {
          for (const b of baselines) await b.close?.();
        }
      } else log(`no ${BENCHMARK_FILES.split('test')} in ${o.data}: evaluation harness report skipped`);
    }
    return { ...result, outDir };
  } finally {
    bar?.stop();
  }
}

/**
 * The options of a `train` run with the served champion's recipe as its default: when none of
 * the recipe options ({@link RECIPE_OPTIONS}: architectures, vector edition, hard-negative
 * weight, threshold grid) is given and `registry` holds a trained champion of the task, the run
 * takes that champion's whole recipe as its card records it (`championRecipe`; the run keeps its
 * own seed), so `npm run train -- --model duplicate` trains what is served (the monotone
 * `duplicate@5`), as retrain jobs do. Given any recipe option, the run is as given, the other
 * recipe options at the task's defaults: a card's options belong together (they reproduce it,
 * `trainArgs`), so a recipe is not mixed with parts of another. Without a registry, or without
 * a trained champion in it, the task's defaults.
 * @returns the options, and the champion whose recipe they took (`duplicate@5`) or null.
 * @throws RangeError (from `championRecipe`) when the champion's features are no edition of its vector.
 */
export async function withChampionRecipe(
  o: TrainCliOptions,
  registry: ModelRegistry | null,
): Promise<{ options: TrainCliOptions; recipeOf: string | null }> {
  if (registry === null || RECIPE_OPTIONS.some((k) => o[k] !== undefined))
    return { options: o, recipeOf: null };
  const recipe = await championRecipe(registry, o.model);
  if (recipe === null) return { options: o, recipeOf: null };
  const { champion } = await registry.aliases(o.model);
  return { options: { ...o, ...recipeTrainOptions(recipe) }, recipeOf: `${o.model}@${champion}` };
}

/** The `train` command (commander), running {@link runTrain} with `deps`. */
export function trainCommand(deps: TrainCliDeps): Command {
  const cmd = new Command('train')
    .description('Train, calibrate and threshold a model on the benchmark (and reviewer labels)')
    .addOption(
      new Option('--model <task>', 'model to train')
        .choices(['coding-mismatch', 'duplicate'])
        .makeOptionMandatory(),
    )
    .requiredOption('--data <dir>', 'benchmark directory (JSONL {invoice, label} files)')
    .option('--seed <n>', 'seed of the run', int('--seed', 0), 42)
    .option('--out <dir>', 'output directory (default reports/training/<model>-seed<seed>)')
    .option('--labels <dir>', 'reviewer-label export (labels.jsonl + invoices.jsonl)')
    .option(
      '--label-sources <list>',
      `only labels of these provenances, comma-separated (${LABEL_PROVENANCES.join(', ')}); default all`,
      labelSources,
    )
    .option(
      '--label-weight <source=x>',
      'weight of the labels of one provenance (repeatable, e.g. erp=1); default --review-weight',
      labelWeight,
    )
    .option('--epochs <n>', 'override the declared epochs (quick runs)', int('--epochs', 1))
    .option('--k <n>', 'kNN candidates per invoice (duplicate blocking)', int('--k', 1), 10)
    .option(
      '--hard-negative-weight <x>',
      'duplicate: training weight of train pairs of a hard-negative kind (default 1)',
      num('--hard-negative-weight', 1e-6, 1000),
    )
    .option(
      '--approve-grid-points <n>',
      'most candidates of the auto-approve threshold grid (default 50)',
      int('--approve-grid-points', 2),
    )
    .option('--no-progress', 'no progress bar')
    .option('--no-eval-report', 'skip the evaluation harness report (HTML) on the test split')
    .option('--no-baselines', 'harness report without the baseline detectors')
    .option(
      '--vector-edition <n>',
      `edition of the model's input vector (${EDITIONS}; default the latest)`,
      vectorEdition,
    )
    .option(
      '--architectures <ids>',
      `candidate architectures, comma-separated (${Object.keys(ARCHITECTURES).join(', ')}); default the task's`,
      architectureIds,
    );
  for (const [flag, what, min, max, dflt] of RATE_OPTIONS)
    cmd.option(`${flag} <x>`, what, num(flag, min, max), dflt);
  cmd.option(
    '--grid-logit-step <x>',
    'widest logit gap between neighbouring threshold candidates (default: log-share thinning only)',
    num('--grid-logit-step', 1e-3, 10),
  );
  cmd.option(
    '--registry <dir>',
    "model registry whose champion's recipe (architectures, vector edition, hard-negative weight, threshold grid) a run takes when it is given none of these options; none: the task's defaults",
    deps.registryRoot ?? 'none',
  );
  return cmd.action(
    async ({
      registry,
      ...opts
    }: Omit<TrainCliOptions, 'progress'> & { progress: boolean; registry: string }) => {
      const { options, recipeOf } = await withChampionRecipe(
        { ...opts, progress: opts.progress && process.stderr.isTTY === true },
        registry === 'none'
          ? null
          : new ModelRegistry({ root: registry, featureSchemas: servedFeatureSchemas() }),
      );
      if (recipeOf !== null)
        (deps.log ?? ((l: string) => process.stderr.write(l + '\n')))(
          `training with the recipe of the champion ${recipeOf} (${registry}): ${RECIPE_OPTIONS.filter(
            (k) => options[k] !== undefined,
          )
            .map((k) => `${k} ${String(options[k])}`)
            .join(', ')}`,
        );
      await runTrain(options, deps);
    },
  );
}
