/**
 * Wiring of the model routes (`api/routes/models.ts`) and the retrain job for the server and
 * the worker, shared with `npm run models`: the service's registry (the served feature schemas
 * and the ONNX Runtime check of every registration; its directory is bin/models-dir.ts
 * `servedModelsDir`), the check of an exported ONNX graph against its float64 reference, model events appended to the hash-chained audit
 * log, and the retraining {@link TrainFn} (loaded lazily: the training module and tfjs are
 * imported only when a retrain job runs, so the scoring path never loads them).
 */
import type { ModelsApiDeps } from '../api/routes/models.js';
import { DEFAULT_TENANT } from '../core/auth.js';
import { TriageError } from '../core/errors.js';
import { retrainJobsOn } from '../api/routes/jobs.js';
import type { ChampionModel } from '../inference/onnx-champion.js';
import { OnnxModelSession, verifyServedModel } from '../inference/onnx-session.js';
import type { JobQueue, TrainFn } from '../jobs/index.js';
import { ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import { predictProbability, type TrainedModelSpec } from '../models/spec.js';
import type { TriageRepository } from '../store/index.js';
import type { RetrainOptions } from '../training/retrain-job.js';
import { registryWritesRefused, servedModelsDir } from './models-dir.js';
import { modelAudit } from './models-governance.js';

export { modelAudit };

/**
 * The registry the service uses: served feature schemas enforced, registrations checked in ONNX
 * Runtime. `o.readOnly`: every write refused with that text (see `RegistryOptions.readOnly`).
 */
export function serviceRegistry(root: string, o: { readOnly?: string } = {}): ModelRegistry {
  return new ModelRegistry({
    root,
    featureSchemas: servedFeatureSchemas(),
    verifyOnnx: (onnx, label) => verifyServedModel(onnx, label),
    ...(o.readOnly !== undefined ? { readOnly: o.readOnly } : {}),
  });
}

/**
 * The service's registry for a configuration (bin/config.ts `models`): {@link serviceRegistry}
 * of `MODELS_DIR`, or of the shipped registry, read-only, when `MODELS_DIR=none`
 * (bin/models-dir.ts `registryWritesRefused`).
 */
export function servedRegistry(models: { dir: string | null }): ModelRegistry {
  const readOnly = registryWritesRefused(models);
  return serviceRegistry(servedModelsDir(models), readOnly !== undefined ? { readOnly } : {});
}

/**
 * Max |probability difference| between the ONNX graph and the float64 reference on `n`
 * seeded rows spread around the standardisation (mean +- 4 std).
 */
export async function onnxReferenceGap(spec: TrainedModelSpec, onnx: Uint8Array, n = 2000): Promise<number> {
  const session = await OnnxModelSession.fromBuffer(onnx);
  let seed = 12345;
  const u = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  const rows = Array.from({ length: n }, () =>
    spec.standardise.mean.map((m, i) => Math.fround(m + (u() * 8 - 4) * spec.standardise.std[i]!)),
  );
  const out = await session.run(rows);
  await session.release();
  return rows.reduce(
    (g, r, i) => Math.max(g, Math.abs(out.probability[i]! - predictProbability(spec, r))),
    0,
  );
}

/** Options of {@link wireModelsApi}. */
export interface ModelsApiWiring {
  registry: ModelRegistry;
  repo: Pick<TriageRepository, 'transaction'>;
  /** The queue the retrain jobs go to; absent: `POST /v1/models/:name/train` answers 503. */
  queue?: JobQueue;
  /** Champions the scoring path serves (default: none, every task served by its heuristic). */
  served?: () => ReadonlyMap<string, ChampionModel>;
}

/** The `models` dependencies of `buildApp`. */
export function wireModelsApi(o: ModelsApiWiring): ModelsApiDeps {
  const none: ReadonlyMap<string, ChampionModel> = new Map();
  return {
    registry: o.registry,
    served: o.served ?? (() => none),
    audit: modelAudit(o.repo),
    ...(o.queue ? retrainJobsOn(o.queue) : {}),
  };
}

/** Options of {@link lazyRetrain}. */
export interface RetrainWiring {
  registry: ModelRegistry;
  repo: Pick<TriageRepository, 'transaction' | 'reviews'>;
  /** Benchmark directory (`TRAINING_DATA_DIR`); absent: a seeded benchmark is generated per run. */
  dataDir?: string;
  /** Size of a generated benchmark and epochs (quick runs, tests); default the trainer's. */
  tuning?: Pick<RetrainOptions, 'generatedInvoices' | 'generatedRatesScale' | 'epochs'>;
  /** The only tenant whose retrain jobs run (`MODEL_OPERATOR_TENANT`); default {@link DEFAULT_TENANT}. */
  operatorTenant?: string;
}

/**
 * The retrain job's trainer: `training/retrain-job.ts`, imported on first use. Registrations
 * are audited in the requesting tenant's chain; the tenant's reviewer labels are used. A job of
 * any tenant but the operator's (queued before the API refused them, or put on the queue by
 * other means) fails at once without training: it would register a shared challenger.
 * @throws TriageError `TRIAGE_OPERATOR_ONLY` (not retried) for another tenant's job.
 */
export function lazyRetrain(o: RetrainWiring): TrainFn {
  let train: Promise<TrainFn> | undefined;
  const operator = o.operatorTenant ?? DEFAULT_TENANT;
  return async (data, ctx) => {
    if (data.tenantId !== operator)
      throw new TriageError(
        'TRIAGE_OPERATOR_ONLY',
        `retrain job of tenant ${data.tenantId} refused: models are shared and trained by the operator tenant ` +
          `${operator} (MODEL_OPERATOR_TENANT)`,
      );
    train ??= import('../training/retrain-job.js').then((m) =>
      m.createRetrain({
        ...o.tuning,
        registry: o.registry,
        ...(o.dataDir ? { dataDir: o.dataDir } : {}),
        labels: (tenantId) => ({
          listLabels: (q) => o.repo.reviews.listLabels({ ...q, tenant: tenantId }),
        }),
        audit: modelAudit(o.repo),
        checkOnnx: async (spec, onnx) => {
          const gap = await onnxReferenceGap(spec, onnx);
          if (!(gap <= 1e-5))
            throw new Error(`ONNX graph differs from the spec: max |probability diff| ${gap}`);
        },
      }),
    );
    return (await train)(data, ctx);
  };
}
