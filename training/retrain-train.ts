/**
 * The compute of a `retrain` run, free of the store and the registry so that it can run in a
 * worker thread (training/retrain-worker.ts): generate the benchmark when no data directory is
 * given, train with the same pipeline as `npm run train` plus the given reviewer label rows,
 * export to ONNX, and return what the registration needs. Progress: 0-10 % data, 10-85 %
 * assembly and training, 85-90 % export. A given signal cancels the run between its phases and
 * inside the training loop (`TRIAGE_TRAINING_CANCELLED`).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateBenchmark } from '../datasets/benchmark/generator.js';
import type { RetrainData } from '../jobs/types.js';
import type { ModelCardDraft } from '../models/spec.js';
import type { TrainedModelSpec } from '../models/spec.js';
import { REFERENCE_FILE } from '../monitoring/reference.js';
import { runTrain, type TrainCliDeps } from './cli.js';
import { recipeTrainOptions, type TrainRecipe } from './reproduce-args.js';
import { storeLabelSource, type StoreLabelRow } from './labels.js';
import { exportOnnx } from './onnx-export.js';
import { trainingCancelled } from './train.js';
import { createFeatureProvider } from './provider.js';

/** What one run trains on (structured-cloneable: it is posted to the worker). */
export interface RetrainWork {
  data: RetrainData;
  /** Temporary directory of the run (removed by the caller). */
  work: string;
  dataDir?: string;
  generatedInvoices?: number;
  generatedSeed?: number;
  generatedRatesScale?: number;
  epochs?: number;
  /** The requesting tenant's label rows (store/reviews.ts `listLabels` with invoices); absent: benchmark only. */
  labelRows?: StoreLabelRow[];
  /**
   * The champion's recipe (architectures, vector edition, hard-negative weight, threshold grid, as
   * its card records them: `recordedTrainOptions`), so a retrain on new labels trains what is
   * served (a monotone pair model stays monotone); the job's own seed replaces the champion's.
   * Absent (no trained champion): the task's defaults.
   */
  recipe?: TrainRecipe;
}

/** What a run produced for registration. */
export interface RetrainProduct {
  spec: TrainedModelSpec;
  card: ModelCardDraft;
  onnx: Uint8Array;
  /** Files registered beside the model, by name (line context, drift reference). */
  files: Record<string, string>;
}

/**
 * Trains and exports one run (see the module doc).
 * @param progress told the percentage as the run goes.
 */
export async function trainRetrain(
  w: RetrainWork,
  progress: (percent: number) => void,
  deps: Partial<Pick<TrainCliDeps, 'provider' | 'log' | 'signal'>> = {},
): Promise<RetrainProduct> {
  const checkCancelled = (): void => {
    if (deps.signal?.aborted) throw trainingCancelled();
  };
  checkCancelled();
  progress(0);
  let dir = w.dataDir;
  if (!dir) {
    dir = join(w.work, 'benchmark');
    await generateBenchmark({
      invoices: w.generatedInvoices ?? 20_000,
      seed: w.generatedSeed ?? 42,
      out: dir,
      ...(w.generatedRatesScale ? { ratesScale: w.generatedRatesScale } : {}),
    });
  }
  checkCancelled();
  progress(10);
  const rows = w.labelRows;
  const out = join(w.work, 'run');
  const run = await runTrain(
    {
      model: w.data.task,
      data: dir,
      seed: w.data.seed,
      out,
      targetError: 0.005,
      holdError: 0.1,
      delta: 0.05,
      reviewWeight: 3,
      ...(w.data.labelSources ? { labelSources: w.data.labelSources } : {}),
      ...(w.data.labelWeights ? { labelWeight: w.data.labelWeights } : {}),
      k: 10,
      progress: false,
      evalReport: false,
      baselines: false,
      ...(w.epochs ? { epochs: w.epochs } : {}),
      ...(w.recipe ? recipeTrainOptions(w.recipe) : {}),
      ...(rows ? { labelSource: storeLabelSource({ listLabels: async () => rows }) } : {}),
    },
    {
      provider: deps.provider ?? createFeatureProvider,
      log: deps.log ?? (() => undefined),
      ...(deps.signal ? { signal: deps.signal } : {}),
      onProgress: (p) => progress(10 + 0.75 * p),
    },
  );
  checkCancelled();
  const onnx = exportOnnx(run.spec);
  const context = join(out, 'line-context.json');
  const files: Record<string, string> = {
    ...(existsSync(context) ? { 'line-context.json': await readFile(context, 'utf8') } : {}),
    // Drift monitoring reads it beside the registered version (monitoring/reference.ts).
    [REFERENCE_FILE]: await readFile(join(out, REFERENCE_FILE), 'utf8'),
  };
  progress(90);
  return { spec: run.spec, card: run.card, onnx, files };
}
