/**
 * The `retrain` job's trainer (a `TrainFn` for `jobs/processors.ts`): trains the task's model
 * with the same pipeline as `npm run train` on a benchmark directory (`TRAINING_DATA_DIR`; when
 * none is configured, a seeded benchmark generated for the run into a temporary directory) plus
 * the requesting tenant's reviewer labels, with the served champion's recipe (architectures,
 * vector edition, hard-negative weight, threshold grid: `championRecipe` of ./reproduce-args.ts;
 * the job's seed),
 * exports it to ONNX, and registers it as a new version
 * that becomes the **challenger** (the registry's `register` moves only that alias; promotion
 * to champion stays an explicit, audited action). Progress is reported as the run goes:
 * 0-10 % data, 10-85 % assembly and training, 85-100 % export and registration.
 *
 * The compute (training/retrain-train.ts) runs in a worker thread (training/retrain-worker.ts)
 * so a server running jobs in-process keeps answering while it trains (tfjs holds the thread
 * for seconds at a time); the labels are read and the version registered and audited here, on
 * the caller's store and registry.
 *
 * Cancellation: when the job's signal aborts (its queue or worker is closing), the run is told
 * to stop (the training loop checks between batches); a worker thread that has not ended
 * {@link RetrainOptions.cancelGraceMs} later (a phase without checks: benchmark generation,
 * assembly, export) is terminated. Either way the job fails with `TRIAGE_TRAINING_CANCELLED`
 * (retryable) and registers nothing: the registration happens only after the run, here, and
 * not when the signal aborted before it began (a registration under way completes; it is one
 * atomic step). The worker writes only to the run's temporary directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TriageError, type ErrorCode, type FieldError } from '../core/errors.js';
import type { RetrainData, RetrainResult } from '../jobs/types.js';
import type { ModelRegistry, RegistryEvent } from '../models/registry.js';
import type { TrainedModelSpec } from '../models/spec.js';
import type { TrainCliDeps } from './cli.js';
import type { StoreLabelRow } from './labels.js';
import { championRecipe } from './reproduce-args.js';
import { trainRetrain, type RetrainProduct, type RetrainWork } from './retrain-train.js';

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
  /**
   * Where the compute runs: `worker` (default), a worker thread; `inline`, this thread (used
   * when `provider` or `log` is given, since functions cannot be posted to a worker).
   */
  run?: 'worker' | 'inline';
  /**
   * How long, ms, a cancelled run's worker thread may take to stop by itself before it is
   * terminated; default {@link DEFAULT_CANCEL_GRACE_MS}.
   */
  cancelGraceMs?: number;
}

/** Default of {@link RetrainOptions.cancelGraceMs}, ms. */
export const DEFAULT_CANCEL_GRACE_MS = 5000;

/** Worker messages (training/retrain-worker.ts). */
type WorkerMessage =
  | { kind: 'progress'; percent: number }
  | { kind: 'done'; product: RetrainProduct }
  | { kind: 'error'; message: string; code?: ErrorCode; errors?: FieldError[] };

/**
 * Runs {@link trainRetrain} in a worker thread. From TypeScript sources (tsx, tests) the worker
 * starts at retrain-worker-tsx.mjs, which registers tsx first; a build runs the compiled
 * `retrain-worker.js` directly.
 */
function trainInWorker(
  w: RetrainWork,
  progress: (percent: number) => void,
  cancel: { signal: AbortSignal | undefined; graceMs: number },
): Promise<RetrainProduct> {
  const ts = import.meta.url.endsWith('.ts');
  const entry = new URL(ts ? './retrain-worker-tsx.mjs' : './retrain-worker.js', import.meta.url);
  const worker = new Worker(entry, { workerData: w });
  const { signal } = cancel;
  return new Promise((resolve, reject) => {
    let settled = false;
    let kill: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      worker.postMessage({ kind: 'cancel' });
      kill = setTimeout(() => void worker.terminate(), cancel.graceMs);
    };
    // Settles once the thread has stopped, so nothing writes to the run's directory afterwards.
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(kill);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate().finally(f);
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'progress') progress(m.percent);
      else if (m.kind === 'done') settle(() => resolve(m.product));
      else
        settle(() =>
          reject(m.code ? new TriageError(m.code, m.message, m.errors ?? []) : new Error(m.message)),
        );
    });
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (code) =>
      settle(() => reject(new Error(`the training worker exited with code ${code} before finishing`))),
    );
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error of a retrain job cancelled by its signal. */
function cancelledJob(task: string, cause?: unknown): TriageError {
  return new TriageError(
    'TRIAGE_TRAINING_CANCELLED',
    `training of ${task} cancelled: the process running the job is shutting down; no model version was registered`,
    [],
    cause === undefined ? undefined : { cause },
  );
}

/** What a retrain run uses of its job: progress reports and the cancelling signal (`JobContext`). */
type Progress = { updateProgress(percent: number): Promise<void>; signal?: AbortSignal } | undefined;

/** Unitless headline metrics of a run's card, by `<unit>_<metric>` (nulls left out). */
function metricsOf(card: RetrainProduct['card']): Record<string, number> {
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
    const signal = ctx?.signal;
    const checkCancelled = (cause?: unknown): void => {
      if (signal?.aborted) throw cancelledJob(data.task, cause);
    };
    checkCancelled();
    // Refused before training when the registry takes no writes (it would refuse the result).
    o.registry.assertWritable();
    const work = await mkdtemp(join(o.workDir ?? tmpdir(), `retrain-${data.task}-`));
    try {
      const source = o.labels?.(data.tenantId);
      const labelRows: StoreLabelRow[] | undefined = source
        ? await source.listLabels({ includeInvoice: true, latestOnly: false })
        : undefined;
      const recipe = await championRecipe(o.registry, data.task);
      const w: RetrainWork = {
        data,
        work,
        ...(recipe ? { recipe } : {}),
        ...(o.dataDir ? { dataDir: o.dataDir } : {}),
        ...(o.generatedInvoices ? { generatedInvoices: o.generatedInvoices } : {}),
        ...(o.generatedSeed ? { generatedSeed: o.generatedSeed } : {}),
        ...(o.generatedRatesScale ? { generatedRatesScale: o.generatedRatesScale } : {}),
        ...(o.epochs ? { epochs: o.epochs } : {}),
        ...(labelRows ? { labelRows } : {}),
      };
      const pending: Promise<void>[] = [];
      const onProgress = (p: number) => void pending.push(progress(p));
      const inline = o.run === 'inline' || o.provider !== undefined || o.log !== undefined;
      const run = await (
        inline
          ? trainRetrain(w, onProgress, {
              ...(o.provider ? { provider: o.provider } : {}),
              ...(o.log ? { log: o.log } : {}),
              ...(signal ? { signal } : {}),
            })
          : trainInWorker(w, onProgress, { signal, graceMs: o.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS })
      ).catch((e: unknown) => {
        checkCancelled(e);
        throw e;
      });
      await Promise.all(pending);
      const onnx = run.onnx;
      await o.checkOnnx?.(run.spec, onnx);
      // The last point a cancelled job leaves: the registration below is not interrupted.
      checkCancelled();
      const actor = data.requestedBy ?? 'retrain-job';
      const audit = o.audit;
      const registered = await o.registry.register(
        data.task,
        {
          onnx,
          spec: run.spec,
          card: run.card,
          files: run.files,
          actor,
        },
        audit
          ? {
              // The version is audited before it becomes visible, so a failed audit registers
              // nothing. The job then ends for good rather than being retried (a retry would
              // train again from the start); its requester may submit it again.
              onEvent: (e) =>
                audit(e, data.requestedBy ?? null, data.tenantId).catch((err: unknown) => {
                  throw new TriageError(
                    'TRIAGE_INTERNAL',
                    e.type === 'model.registered'
                      ? `${e.name}@${e.version} was not registered: its audit entry could not be written`
                      : `${e.name}@${e.version}: the audit entry of ${e.type} could not be written`,
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
