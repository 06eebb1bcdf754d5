/**
 * The `retrain` job's trainer (a `TrainFn` for `jobs/processors.ts`): trains the task's model
 * with the same pipeline as `npm run train` on a benchmark directory (`TRAINING_DATA_DIR`; when
 * none is configured, a seeded benchmark generated for the run into a temporary directory) plus
 * the requesting tenant's reviewer labels, exports it to ONNX, and registers it as a new version
 * that becomes the **challenger** (the registry's `register` moves only that alias; promotion
 * to champion stays an explicit, audited action). Progress is reported as the run goes:
 * 0-10 % data, 10-85 % assembly and training, 85-100 % export and registration.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TriageError } from '../core/errors.js';
import { generateBenchmark } from '../datasets/benchmark/generator.js';
import type { RetrainData, RetrainResult } from '../jobs/types.js';
import type { ModelRegistry, RegistryEvent } from '../models/registry.js';
import type { TrainedModelSpec } from '../models/spec.js';
import { runTrain, type TrainCliDeps } from './cli.js';
import { storeLabelSource, type StoreLabelRow } from './labels.js';
import { exportOnnx } from './onnx-export.js';
import { createFeatureProvider } from './provider.js';
import { REFERENCE_FILE } from '../monitoring/reference.js';

/** The review store's label listing (structural: `store/reviews.ts` `listLabels` of one tenant). */
export interface TenantLabels {
  listLabels(opts: { includeInvoice: boolean; latestOnly: boolean }): Promise<StoreLabelRow[]>;
}

/** Options of {@link createRetrain}. */
export interface RetrainOptions {
  registry: ModelRegistry;
  /** Benchmark directory (JSONL splits, vendors.json); absent: generate one per run. */
  dataDir?: string;
  /**
   * Invoices of a generated benchmark (100 to 1,000,000); default 20,000, with
   * {@link RetrainOptions.generatedSeed}: the shipped champions' benchmark, so a retrained model
   * is evaluated on the champion's own test split (reviewer labels go to the training part only)
   * and promotion compares the two directly; it also leaves enough threshold data to certify
   * the auto-approve threshold (a 5,000-invoice set does not: its card gets -1 / 2).
   */
  generatedInvoices?: number;
  /** Seed of a generated benchmark (not the training seed); default 42, the champions'. */
  generatedSeed?: number;
  /** Multiplies the generator's exception rates (small benchmarks need more positives); default 1. */
  generatedRatesScale?: number;
  /** Reviewer labels of a tenant; absent: benchmark only. */
  labels?: (tenantId: string) => TenantLabels | undefined;
  /** Audits the registration (in the requesting tenant's chain). */
  audit?: (event: RegistryEvent, actorKeyId: string | null, tenantId: string) => Promise<void>;
  /** Checks the exported graph against the spec before registering (throw to refuse). */
  checkOnnx?: (spec: TrainedModelSpec, onnx: Uint8Array) => Promise<void>;
  /** Overrides every architecture's epochs (quick runs). */
  epochs?: number;
  /** Feature provider; default the one of `npm run train`. */
  provider?: TrainCliDeps['provider'];
  /** Parent of the temporary directories; default the OS's. */
  workDir?: string;
  /** Training messages (default: dropped). */
  log?: (line: string) => void;
}

/** Progress reporter of a job (`JobContext.updateProgress`). */
type Progress = { updateProgress(percent: number): Promise<void> } | undefined;

/** Unitless headline metrics of a run's card, by `<unit>_<metric>` (nulls left out). */
function metricsOf(card: Awaited<ReturnType<typeof runTrain>>['card']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of card.metrics.test)
    for (const [k, v] of [
      ['roc_auc', m.rocAuc],
      ['pr_auc', m.prAuc],
      ['ece', m.ece],
    ] as const)
      if (typeof v === 'number' && Number.isFinite(v)) out[`${m.unit}_${k}`] = v;
  return out;
}

/**
 * A trainer for the `retrain` job (see the module doc).
 * @returns a function that trains `data.task` with `data.seed` and registers a challenger.
 */
export function createRetrain(o: RetrainOptions) {
  return async (data: RetrainData, ctx?: Progress): Promise<RetrainResult> => {
    let last = -1;
    const progress = async (percent: number): Promise<void> => {
      const p = Math.round(percent);
      if (p === last) return;
      last = p;
      // Progress is informative: losing it (e.g. a Redis blip) must not fail the run.
      await ctx?.updateProgress(p).catch(() => undefined);
    };
    const work = await mkdtemp(join(o.workDir ?? tmpdir(), `retrain-${data.task}-`));
    try {
      await progress(0);
      let dir = o.dataDir;
      if (!dir) {
        dir = join(work, 'benchmark');
        await generateBenchmark({
          invoices: o.generatedInvoices ?? 20_000,
          seed: o.generatedSeed ?? 42,
          out: dir,
          ...(o.generatedRatesScale ? { ratesScale: o.generatedRatesScale } : {}),
        });
      }
      await progress(10);
      const source = o.labels?.(data.tenantId);
      const out = join(work, 'run');
      const pending: Promise<void>[] = [];
      const run = await runTrain(
        {
          model: data.task,
          data: dir,
          seed: data.seed,
          out,
          targetError: 0.005,
          holdError: 0.1,
          delta: 0.05,
          reviewWeight: 3,
          ...(data.labelSources ? { labelSources: data.labelSources } : {}),
          ...(data.labelWeights ? { labelWeight: data.labelWeights } : {}),
          k: 10,
          progress: false,
          evalReport: false,
          baselines: false,
          ...(o.epochs ? { epochs: o.epochs } : {}),
          ...(source ? { labelSource: storeLabelSource(source) } : {}),
        },
        {
          provider: o.provider ?? createFeatureProvider,
          log: o.log ?? (() => undefined),
          onProgress: (p) => void pending.push(progress(10 + 0.75 * p)),
        },
      );
      await Promise.all(pending);
      const onnx = exportOnnx(run.spec);
      await o.checkOnnx?.(run.spec, onnx);
      await progress(90);
      const context = join(out, 'line-context.json');
      const actor = data.requestedBy ?? 'retrain-job';
      const audit = o.audit;
      const registered = await o.registry.register(
        data.task,
        {
          onnx,
          spec: run.spec,
          card: run.card,
          files: {
            ...(existsSync(context) ? { 'line-context.json': await readFile(context, 'utf8') } : {}),
            // Drift monitoring reads it beside the registered version (monitoring/reference.ts).
            [REFERENCE_FILE]: await readFile(join(out, REFERENCE_FILE), 'utf8'),
          },
          actor,
        },
        audit
          ? {
              // The version is committed before its event: a failed audit must not retry the
              // job (that would register another version), so it ends the job for good.
              onEvent: (e) =>
                audit(e, data.requestedBy ?? null, data.tenantId).catch((err: unknown) => {
                  throw new TriageError(
                    'TRIAGE_INTERNAL',
                    `${e.name}@${e.version} was registered but its audit entry could not be written`,
                    [],
                    { cause: err },
                  );
                }),
            }
          : {},
      );
      await progress(100);
      return {
        task: data.task,
        version: registered.label,
        metrics: {
          [registered.card.evaluation.metric]: registered.card.evaluation.value,
          ...metricsOf(run.card),
        },
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  };
}
