/**
 * Wires the scoring service from configuration: store, reference data, scorers, policy; and
 * creates the bootstrap API keys of a new installation.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { AppDeps } from '../api/app.js';
import type { Config } from './config.js';
import { seedModelsDir, shippedModelsDir } from './models-dir.js';
import { loadShippedPoMatcher } from './po-matcher.js';
import { loadCertifiedPolicy, loadPolicyFile } from './served-policy.js';
import { referenceIndex, type ReferenceIndex } from '../features/reference-index.js';
import { ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import type { ChampionModel } from '../inference/onnx-champion.js';
import {
  featureLineVectoriser,
  loadChampionScorers,
  servingLineContext,
  type ChampionScorers,
} from '../inference/model-scorers.js';
import { sharedReferenceData } from '../datasets/reference.js';
import type { Registry } from 'prom-client';
import { createMonitoring, type Monitoring } from '../monitoring/service.js';
import { loadShadowScorer } from '../monitoring/shadow-scorer.js';
import { createMonitoringStore, type MonitoringStore } from '../store/monitoring.js';
import { isTriageError } from '../core/errors.js';
import { DEFAULT_TENANT } from '../core/auth.js';
import {
  createHeuristicCodingScorer,
  createHeuristicDuplicateScorer,
  createScoringService,
  DEFAULT_POLICY_DEFINITION,
  resolveStoredExplanation,
  type ScoringService,
  type StoredExplanation,
} from '../inference/index.js';
import {
  createBatchRepository,
  createRepository,
  openDatabase,
  type BatchRepository,
  type SqlDatabase,
  type CandidateSearchOptions,
  type CreatedApiKey,
  type StoreConfig,
  type TriageRepository,
} from '../store/index.js';

/** A wired service and the repository behind it (close it when done). */
export interface Wired {
  scoring: ScoringService;
  repo: TriageRepository;
  /** Batches (same database handle as `repo`; closing `repo` closes it). */
  batches: BatchRepository;
  /** The database handle behind both (for tests and tools). */
  db: SqlDatabase;
  /** The model registry the champions were loaded from; null when models are off. */
  registry: ModelRegistry | null;
  /** The champion models being served, by model name (empty: heuristics serve both tasks). */
  served: ReadonlyMap<string, ChampionModel>;
  /** Model monitoring (drift, shadow challengers, audit sample) and its store. */
  monitoring: Monitoring;
  monitoringStore: MonitoringStore;
  /** Stops watching the registry and releases the ONNX sessions (after `repo.close()` is fine). */
  closeModels(): Promise<void>;
}

/** Options of model monitoring (see monitoring/service.ts). */
export interface MonitoringWiring {
  /** Audit-sample rate of tenants without a stored policy; default 0.02. */
  defaultAuditRate?: number;
  /** Labelled shadowed invoices a challenger needs before promotion; default 0 (none). */
  minShadowLabelled?: number;
  /** Flush interval of live drift counts, ms; default 10 000; 0: on demand only. */
  flushMs?: number;
  /** Prometheus registry of the gauges. */
  metrics?: Registry;
  /** Warnings (alerts, failed shadow runs); no invoice contents. */
  warn?: (fields: Record<string, unknown>, message: string) => void;
}

/** Where the served models come from. */
export interface ModelsWiring {
  /** Registry directory (one folder per model name); default the shipped `models/artifacts`. */
  dir?: string;
  /** Poll interval of the champion aliases for hot reload, ms; null or 0: no reload. Default 2000. */
  reloadMs?: number | null;
  /** Told when a champion fails to load (the task then keeps its heuristic) or to reload. */
  onError?: (e: unknown, model: string) => void;
  /** Told when a hot reload swaps a champion in. */
  onSwap?: (from: string, to: string) => void;
  /**
   * Explain every line of the coding model while scoring; default false (lines below the
   * reason threshold are explained when their decision is read, with the same numbers).
   */
  explainAllLines?: boolean;
}

export { shippedModelsDir };

/**
 * The models wiring of a configuration, logging load and reload failures (error code and
 * message only) and swaps. `null` when `MODELS_DIR=none`.
 */
export function modelsWiring(
  config: Pick<Config, 'models'>,
  logger: Pick<FastifyBaseLogger, 'error' | 'info'>,
): ModelsWiring | null {
  if (config.models.dir === null) return null;
  if (seedModelsDir(config.models.dir))
    logger.info({ dir: config.models.dir }, 'model registry seeded from the shipped champions');
  return {
    dir: config.models.dir,
    reloadMs: config.models.reloadMs || null,
    onError: (e, model) =>
      logger.error(
        { model, code: isTriageError(e) ? e.code : null, err: e instanceof Error ? e.message : String(e) },
        'model not served: the task keeps its heuristic scorer (or the previous champion on reload)',
      ),
    onSwap: (from, to) => logger.info({ from, to }, 'champion model swapped in'),
  };
}

/**
 * The wire options a server or worker process takes from its configuration: the policy file, the
 * served models (see {@link modelsWiring}) and model monitoring with its gauges in `metrics` and
 * its warnings in `logger` (counts and codes only, no invoice contents).
 */
export function processWiring(
  config: Pick<Config, 'policyFile' | 'models' | 'monitoring'>,
  logger: Pick<FastifyBaseLogger, 'error' | 'info' | 'warn'>,
  metrics: Registry,
): WireOptions {
  return {
    ...(config.policyFile ? { policyFile: config.policyFile } : {}),
    models: modelsWiring(config, logger),
    warn: (fields, message) => logger.warn(fields, message),
    monitoring: {
      ...config.monitoring,
      metrics,
      warn: (fields, message) => logger.warn(fields, message),
    },
  };
}

/** Options of {@link wire}. */
export interface WireOptions {
  /**
   * Routing policy JSON file used as version 1 of every tenant, served as it is; default the
   * certified policy bound to its champions (bin/served-policy.ts), or the hand-set
   * `policy-default@1` when models are off.
   */
  policyFile?: string;
  /** Warnings of the scoring service (fields without invoice contents); default a line on stderr. */
  warn?: (fields: Record<string, unknown>, message: string) => void;
  /** Tuning of the duplicate-candidate search. */
  search?: CandidateSearchOptions;
  /** Clock of the scoring service (decision times, "today" of priorities); default the system clock. */
  clock?: () => Date;
  /** Ids of stored invoices and of decisions, by kind; default random UUIDs (golden runs pass sequences). */
  newId?: (kind: 'invoice' | 'decision') => string;
  /**
   * Told when each start-up step is done, with its wall time in ms: `reference data`,
   * `reference index`, `models`, `store` (opening the store and applying migrations; on a new
   * embedded store this includes PGlite's initdb, the longest step of a first start).
   */
  onStep?: (step: WireStep, ms: number) => void;
  /**
   * The trained champions to serve (default: the shipped registry, `models/artifacts`); `null`
   * serves the heuristic scorers. A task whose champion is missing or fails its feature-schema
   * check keeps its heuristic (and `onError` is told): the service still starts.
   */
  models?: ModelsWiring | null;
  /** Model monitoring options; default: the defaults of {@link MonitoringWiring}. */
  monitoring?: MonitoringWiring;
}

/** A start-up step of {@link wire}, reported to `onStep`. */
export type WireStep = 'reference data' | 'reference index' | 'models' | 'store';

/** Opens the store (applying migrations), loads the shipped reference data and builds the service. */
export async function wire(store: StoreConfig, opts: WireOptions = {}): Promise<Wired> {
  let t = performance.now();
  const step = (name: WireStep): void => {
    const now = performance.now();
    opts.onStep?.(name, Math.round(now - t));
    t = now;
  };
  // An operator's POLICY_FILE as it is; else the certified policy bound to its champions (the
  // heuristics, served when models are off, were never certified: the hand-set default).
  const defaultPolicy = opts.policyFile
    ? loadPolicyFile(opts.policyFile)
    : opts.models === null
      ? DEFAULT_POLICY_DEFINITION
      : loadCertifiedPolicy();
  const reference = sharedReferenceData();
  step('reference data');
  const index = referenceIndex(reference);
  const heuristicCoding = createHeuristicCodingScorer(index);
  step('reference index');
  const champions =
    opts.models === null ? null : await loadChampions(opts.models ?? {}, heuristicCoding, index);
  step('models');
  const db = await openDatabase(store);
  step('store');
  const newId = opts.newId;
  const coding = champions?.scorers.coding ?? heuristicCoding;
  // Line explanations deferred at scoring are computed when a decision is read, by the same model version.
  const explainStored = coding.explainStored?.bind(coding);
  const repo = createRepository(db, {
    ...opts.search,
    ...(newId ? { newId: () => newId('invoice') } : {}),
    ...(explainStored
      ? {
          completeExplanation: (e: unknown) =>
            resolveStoredExplanation(e as StoredExplanation, explainStored),
        }
      : {}),
  });
  const monitoringStore = createMonitoringStore(db);
  let lineVectoriser: ReturnType<typeof featureLineVectoriser> | undefined;
  const registry = champions?.registry ?? null;
  const mo = opts.monitoring ?? {};
  const monitoring = createMonitoring({
    store: monitoringStore,
    registry,
    modelsDir: opts.models === null ? null : (opts.models?.dir ?? shippedModelsDir()),
    ...(registry
      ? {
          loadShadowScorer: (name: string, version: string) =>
            loadShadowScorer(
              registry,
              name,
              version,
              (lineVectoriser ??= featureLineVectoriser(servingLineContext(index))),
            ),
        }
      : {}),
    ...(mo.defaultAuditRate !== undefined ? { defaultAuditRate: mo.defaultAuditRate } : {}),
    ...(mo.minShadowLabelled !== undefined ? { minShadowLabelled: mo.minShadowLabelled } : {}),
    ...(mo.flushMs !== undefined ? { flushMs: mo.flushMs } : {}),
    ...(mo.metrics ? { metrics: mo.metrics } : {}),
    ...(mo.warn ? { warn: mo.warn } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const poMatcher = loadShippedPoMatcher();
  const scoring = createScoringService({
    monitor: monitoring.monitor,
    repo,
    coding,
    duplicate: champions?.scorers.duplicate ?? createHeuristicDuplicateScorer(),
    defaultPolicy,
    // An operator's POLICY_FILE sets the thresholds; the certified default binds them to its
    // champions; the hand-set default yields to the cards.
    thresholdsFromCards: opts.policyFile === undefined,
    warn:
      opts.warn ??
      ((fields, message) => process.stderr.write(`warning: ${message} ${JSON.stringify(fields)}\n`)),
    reference: index,
    referenceVersion: reference.version,
    ...(poMatcher ? { lineMatcher: poMatcher } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(newId ? { newId: () => newId('decision') } : {}),
  });
  return {
    scoring,
    repo,
    batches: createBatchRepository(db),
    db,
    registry: champions?.registry ?? null,
    served: champions?.served ?? new Map(),
    monitoring,
    monitoringStore,
    closeModels: async () => {
      // The store may be closed already: no flush here (server and worker flush before closing it).
      await monitoring.stop();
      await champions?.scorers.close();
    },
  };
}

/**
 * Loads the champions of `coding-mismatch` and `duplicate` from the registry, each on its own:
 * a missing champion, a feature-schema mismatch or a corrupt artefact leaves that task to its
 * heuristic and is reported to `onError`.
 */
async function loadChampions(
  o: ModelsWiring,
  evidence: ReturnType<typeof createHeuristicCodingScorer>,
  index: ReferenceIndex,
): Promise<{ registry: ModelRegistry; scorers: ChampionScorers; served: Map<string, ChampionModel> }> {
  const registry = new ModelRegistry({
    root: o.dir ?? shippedModelsDir(),
    featureSchemas: servedFeatureSchemas(),
  });
  const watchIntervalMs = o.reloadMs === undefined ? 2000 : o.reloadMs || null;
  const common = {
    registry,
    watchIntervalMs,
    ...(o.onSwap ? { onSwap: o.onSwap } : {}),
    onError: (e: unknown) => o.onError?.(e, 'reload'),
  };
  const attempt = async (task: 'coding' | 'duplicate'): Promise<ChampionScorers | null> => {
    try {
      return await loadChampionScorers(
        task === 'coding'
          ? {
              ...common,
              coding: {
                vectorise: featureLineVectoriser(servingLineContext(index)),
                evidence,
                ...(o.explainAllLines ? { explainAllLines: true } : {}),
              },
            }
          : { ...common, duplicate: {} },
      );
    } catch (e) {
      o.onError?.(e, task === 'coding' ? 'coding-mismatch' : 'duplicate');
      return null;
    }
  };
  const coding = await attempt('coding');
  const duplicate = await attempt('duplicate');
  const served = new Map<string, ChampionModel>();
  for (const m of [coding?.models ?? [], duplicate?.models ?? []].flat()) served.set(m.name, m);
  return {
    registry,
    served,
    scorers: {
      coding: coding?.coding ?? null,
      duplicate: duplicate?.duplicate ?? null,
      models: [...served.values()],
      close: async () => {
        await Promise.all([coding?.close(), duplicate?.close()]);
      },
    },
  };
}

/**
 * What `buildApp` (api/app.ts) takes from a wired service: its scoring, its repository as the
 * API's store, the repository's readiness probe and engine name. Spread it and add the app's
 * own options (body limit, clock, models, batches...).
 */
export function appDepsOf(
  wired: Pick<Wired, 'scoring' | 'repo'>,
): Pick<AppDeps, 'scoring' | 'store' | 'ping' | 'engine'> {
  return {
    scoring: wired.scoring,
    store: wired.repo,
    ping: (o) => wired.repo.ping(o),
    engine: wired.repo.engine,
  };
}

/** Tenant of the bootstrap keys. */
export const BOOTSTRAP_TENANT = DEFAULT_TENANT;

/**
 * On a store without any API key, creates an `admin` and a `workflow` key for tenant
 * `default` and writes them, once, to `file` (mode 0600, written before the keys commit, so a
 * failed write creates no key). @returns the file path when keys were created, else null.
 */
export async function ensureBootstrapKeys(repo: TriageRepository, file: string): Promise<string | null> {
  const created = await repo.keys.bootstrapIfEmpty(
    [
      { tenantId: BOOTSTRAP_TENANT, name: 'bootstrap admin', roles: ['admin'] },
      { tenantId: BOOTSTRAP_TENANT, name: 'bootstrap workflow', roles: ['workflow'] },
    ],
    async (keys: CreatedApiKey[]) => {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      const body = {
        note:
          'Bootstrap API keys of tenant "default", written once. Send as "Authorization: Bearer <key>". ' +
          'Create more keys with POST /v1/keys (admin) or the CLI (keys create), then delete this file.',
        created_at: new Date().toISOString(),
        tenant_id: BOOTSTRAP_TENANT,
        keys: keys.map((k) => ({
          id: k.record.id,
          name: k.record.name,
          roles: k.record.roles,
          prefix: k.record.prefix,
          key: k.key,
        })),
      };
      writeFileSync(tmp, JSON.stringify(body, null, 2) + '\n', { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, file);
    },
  );
  return created ? file : null;
}
