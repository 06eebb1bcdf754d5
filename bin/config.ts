/**
 * Configuration: read from the environment once, here in `bin/`, validated, frozen and passed
 * down. No other module reads `process.env`.
 */
import { dirname, join, resolve } from 'node:path';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { DEFAULT_TENANT, TenantId } from '../core/auth.js';
import { TriageError } from '../core/errors.js';
import { toFieldErrors, type SchemaErrorLike } from '../core/validate.js';
import { WORKER_DEFAULTS } from '../jobs/types.js';
import type { StoreConfig } from '../store/index.js';

const Env = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535 }),
  HOST: Type.String({ minLength: 1 }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_SCHEMA: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$' })),
  DATA_DIR: Type.String({ minLength: 1 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
  ),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024 }),
  // Jobs and limits; see the README's configuration table.
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  QUEUE_PREFIX: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  BATCH_MAX_INVOICES: Type.Integer({ minimum: 1, maximum: 100_000 }),
  BATCH_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 256 * 1024 * 1024 }),
  BATCH_CHUNK_SIZE: Type.Integer({ minimum: 1, maximum: 10_000 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 600_000 }),
  SCORE_DEADLINE_MS: Type.Integer({ minimum: 10, maximum: 600_000 }),
  SCORE_MAX_IN_FLIGHT: Type.Integer({ minimum: 0, maximum: 100_000 }),
  RATE_LIMIT_MAX: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
  RATE_LIMIT_BATCH_MAX: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
  RATE_LIMIT_WINDOW_MS: Type.Integer({ minimum: 1000, maximum: 86_400_000 }),
  JOB_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100 }),
  JOB_BACKOFF_MS: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64 }),
  WORKER_LOCK_MS: Type.Integer({ minimum: 1000, maximum: 3_600_000 }),
  WORKER_STALLED_INTERVAL_MS: Type.Integer({ minimum: 500, maximum: 3_600_000 }),
  RECOVERY_SWEEP_MS: Type.Integer({ minimum: 500, maximum: 3_600_000 }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 1000, maximum: 600_000 }),
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  METRICS_HOST: Type.String({ minLength: 1 }),
  BOOTSTRAP_KEYS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  POLICY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  MODELS_DIR: Type.Optional(Type.String({ minLength: 1 })),
  MODELS_RELOAD_MS: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
  TRAINING_DATA_DIR: Type.Optional(Type.String({ minLength: 1 })),
  // Events out (webhooks); see the README's Events section.
  WEBHOOK_ALLOW_LOOPBACK: Type.Union([Type.Literal('0'), Type.Literal('1')]),
  WEBHOOK_ALLOW_PRIVATE: Type.Union([Type.Literal('0'), Type.Literal('1')]),
  WEBHOOK_SECRET_KEY: Type.Optional(Type.String({ minLength: 40, maxLength: 64 })),
  WEBHOOK_SECRET_KEY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  WEBHOOK_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100 }),
  WEBHOOK_BACKOFF_MS: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000 }),
  WEBHOOK_RELAY_MS: Type.Integer({ minimum: 10, maximum: 3_600_000 }),
  AUDIT_SAMPLE_RATE: Type.Number({ minimum: 0, maximum: 1 }),
  SHADOW_MIN_LABELLED: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
  MODEL_OPERATOR_TENANT: TenantId,
});

/** Webhook delivery settings. */
export interface WebhooksConfig {
  /** Loopback targets (and http to them) allowed. */
  allowLoopback: boolean;
  /** Private, link-local, unique-local and CGNAT targets allowed. */
  allowPrivate: boolean;
  /** AES-256-GCM key of the signing secrets, base64 (32 bytes); undefined: the key file. */
  secretKey: string | undefined;
  /** Key file, created on first use (mode 0600). */
  secretKeyFile: string;
  /** Attempts per delivery before it is dead. */
  attempts: number;
  /** Base of the exponential backoff between attempts, ms. */
  backoffMs: number;
  /** Time limit of one attempt, ms. */
  timeoutMs: number;
  /** Interval of the delivery relay (outbox to queue), ms. */
  relayMs: number;
}

/** Job queue and worker settings. */
export interface JobsConfig {
  /** BullMQ on Redis when set; otherwise jobs run in-process (embedded default). */
  redisUrl: string | null;
  /** Redis key prefix of the queues. */
  queuePrefix: string;
  /** Total attempts of a job (1 = no retry). */
  attempts: number;
  /** Base of the exponential backoff between attempts, ms. */
  backoffMs: number;
  /** Jobs of one queue run at the same time in one worker process. */
  workerConcurrency: number;
  /** Job lock, ms: a dead worker's job runs again after about this long (jobs/types.ts `WORKER_DEFAULTS`). */
  workerLockMs: number;
  /** How often workers look for stalled jobs, ms (jobs/types.ts `WORKER_DEFAULTS`). */
  workerStalledIntervalMs: number;
  /** Interval of the recovery sweep that re-enqueues batches with pending items, ms. */
  recoverySweepMs: number;
  /** Invoices per score-batch job. */
  batchChunkSize: number;
}

/** Request limits of the API (see api/limits.ts). */
export interface LimitsConfig {
  /** Largest body of POST /v1/batches, bytes. */
  batchBodyLimitBytes: number;
  /** Most invoices in one batch. */
  batchMaxInvoices: number;
  /** Time a client has to send its whole request, ms (408 after). */
  requestTimeoutMs: number;
  /** Time scoring one invoice may take, ms (503 TRIAGE_DEADLINE_EXCEEDED after). */
  scoreDeadlineMs: number;
  /** Scoring requests in the server at once; one more gets 503 TRIAGE_OVERLOADED (0: no limit). */
  scoreMaxInFlight: number;
  /** Requests per window per API key or IP on each route; 0 disables rate limiting. */
  rateLimitMax: number;
  /** Requests per window per key on POST /v1/batches. */
  rateLimitBatchMax: number;
  /** Rate-limit window, ms. */
  rateLimitWindowMs: number;
}

/** The service configuration. */
export interface Config {
  port: number;
  host: string;
  store: StoreConfig;
  logLevel: Static<typeof Env>['LOG_LEVEL'];
  bodyLimitBytes: number;
  jobs: JobsConfig;
  limits: LimitsConfig;
  /**
   * Time the server or a worker (`bin/worker.ts`) may take to stop after SIGTERM/SIGINT, ms
   * (`SHUTDOWN_TIMEOUT_MS`, default 20 000; bin/shutdown.ts): in-flight requests finish, running
   * jobs are cancelled (a retrain job stops training and registers nothing); past it the process
   * exits with code 1.
   */
  shutdownTimeoutMs: number;
  /** Private, unauthenticated Prometheus listener (`METRICS_PORT`), or null. */
  metricsListener: { port: number; host: string } | null;
  /** Where the bootstrap API keys of a new installation are written (mode 0600). */
  bootstrapKeysFile: string;
  /** Routing policy file (version 1 of every tenant), or undefined for the shipped default. */
  policyFile: string | undefined;
  /**
   * Model registry served (`MODELS_DIR`; default `models` beside `DATA_DIR`, i.e. `./data/models`,
   * seeded from the shipped `models/artifacts` on first start; `none`: serve the heuristic
   * scorers), and how often its champion aliases are checked for hot reload (`MODELS_RELOAD_MS`,
   * default 2000; 0: never), and the operator tenant, the only tenant whose keys may change the
   * shared models (`MODEL_OPERATOR_TENANT`, default `default`).
   */
  models: { dir: string | null; reloadMs: number; operatorTenant: string };
  /** Benchmark directory of retrain jobs; undefined: each run generates a seeded benchmark. */
  trainingDataDir: string | undefined;
  /** Webhook delivery (`WEBHOOK_*`). */
  webhooks: WebhooksConfig;
  /**
   * Model monitoring: the audit-sample rate of tenants without a stored policy
   * (`AUDIT_SAMPLE_RATE`, default 0.02) and the labelled shadowed invoices a challenger needs
   * before an unforced promotion (`SHADOW_MIN_LABELLED`, default 0: no requirement).
   */
  monitoring: { defaultAuditRate: number; minShadowLabelled: number };
}

const check = Compile(Env);

/**
 * Parses the environment: `PORT` (default 3000), `HOST` (127.0.0.1), `DATABASE_URL`
 * (PostgreSQL; when absent the embedded PGlite store in `DATA_DIR`, default `./data/pglite`),
 * `DATABASE_SCHEMA` (default public), `LOG_LEVEL` (info), `BODY_LIMIT_BYTES` (1 MiB), and the
 * job and limit settings listed in the README (`REDIS_URL`, `BATCH_*`, `REQUEST_TIMEOUT_MS`,
 * `SCORE_DEADLINE_MS`, `SCORE_MAX_IN_FLIGHT`, `RATE_LIMIT_*`, `JOB_*`, `WORKER_*`, `RECOVERY_SWEEP_MS`, `METRICS_*`,
 * `SHUTDOWN_TIMEOUT_MS`),
 * `BOOTSTRAP_KEYS_FILE` (default `bootstrap-keys.json` beside `DATA_DIR`, i.e.
 * `./data/bootstrap-keys.json`), `POLICY_FILE` (routing policy JSON served as it is; default the
 * certified policy bound to its champions, bin/served-policy.ts),
 * `MODELS_DIR`, `MODELS_RELOAD_MS`, `MODEL_OPERATOR_TENANT` (see {@link Config.models}), `TRAINING_DATA_DIR` (benchmark
 * of retrain jobs; default a seeded benchmark generated per run), and the webhook settings
 * `WEBHOOK_ALLOW_LOOPBACK` (0), `WEBHOOK_ALLOW_PRIVATE` (0), `WEBHOOK_SECRET_KEY` (base64, 32
 * bytes) or `WEBHOOK_SECRET_KEY_FILE` (default `webhook-secret.key` beside `DATA_DIR`),
 * `WEBHOOK_ATTEMPTS` (8), `WEBHOOK_BACKOFF_MS` (10 000), `WEBHOOK_TIMEOUT_MS` (10 000),
 * `WEBHOOK_RELAY_MS` (1000).
 * @throws TriageError `TRIAGE_CONFIG_INVALID` naming each bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const num = (v: string | undefined, d: number): number | string =>
    v === undefined || v === '' ? d : /^\d+$/.test(v) ? Number(v) : v;
  const raw = {
    PORT: num(env.PORT, 3000),
    HOST: env.HOST || '127.0.0.1',
    ...(env.DATABASE_URL ? { DATABASE_URL: env.DATABASE_URL } : {}),
    ...(env.DATABASE_SCHEMA ? { DATABASE_SCHEMA: env.DATABASE_SCHEMA } : {}),
    DATA_DIR: env.DATA_DIR || './data/pglite',
    LOG_LEVEL: env.LOG_LEVEL || 'info',
    BODY_LIMIT_BYTES: num(env.BODY_LIMIT_BYTES, 1024 * 1024),
    ...(env.REDIS_URL ? { REDIS_URL: env.REDIS_URL } : {}),
    QUEUE_PREFIX: env.QUEUE_PREFIX || 'invoice-triage',
    BATCH_MAX_INVOICES: num(env.BATCH_MAX_INVOICES, 1000),
    BATCH_BODY_LIMIT_BYTES: num(env.BATCH_BODY_LIMIT_BYTES, 16 * 1024 * 1024),
    BATCH_CHUNK_SIZE: num(env.BATCH_CHUNK_SIZE, 50),
    REQUEST_TIMEOUT_MS: num(env.REQUEST_TIMEOUT_MS, 30_000),
    SCORE_DEADLINE_MS: num(env.SCORE_DEADLINE_MS, 10_000),
    SCORE_MAX_IN_FLIGHT: num(env.SCORE_MAX_IN_FLIGHT, 32),
    RATE_LIMIT_MAX: num(env.RATE_LIMIT_MAX, 600),
    RATE_LIMIT_BATCH_MAX: num(env.RATE_LIMIT_BATCH_MAX, 60),
    RATE_LIMIT_WINDOW_MS: num(env.RATE_LIMIT_WINDOW_MS, 60_000),
    JOB_ATTEMPTS: num(env.JOB_ATTEMPTS, 5),
    JOB_BACKOFF_MS: num(env.JOB_BACKOFF_MS, 2000),
    WORKER_CONCURRENCY: num(env.WORKER_CONCURRENCY, 2),
    WORKER_LOCK_MS: num(env.WORKER_LOCK_MS, WORKER_DEFAULTS.lockDurationMs),
    WORKER_STALLED_INTERVAL_MS: num(env.WORKER_STALLED_INTERVAL_MS, WORKER_DEFAULTS.stalledIntervalMs),
    RECOVERY_SWEEP_MS: num(env.RECOVERY_SWEEP_MS, 30_000),
    SHUTDOWN_TIMEOUT_MS: num(env.SHUTDOWN_TIMEOUT_MS, 20_000),
    ...(env.METRICS_PORT ? { METRICS_PORT: num(env.METRICS_PORT, 0) } : {}),
    METRICS_HOST: env.METRICS_HOST || '127.0.0.1',
    ...(env.BOOTSTRAP_KEYS_FILE ? { BOOTSTRAP_KEYS_FILE: env.BOOTSTRAP_KEYS_FILE } : {}),
    ...(env.POLICY_FILE ? { POLICY_FILE: env.POLICY_FILE } : {}),
    ...(env.MODELS_DIR ? { MODELS_DIR: env.MODELS_DIR } : {}),
    MODELS_RELOAD_MS: num(env.MODELS_RELOAD_MS, 2000),
    MODEL_OPERATOR_TENANT: env.MODEL_OPERATOR_TENANT || DEFAULT_TENANT,
    ...(env.TRAINING_DATA_DIR ? { TRAINING_DATA_DIR: env.TRAINING_DATA_DIR } : {}),
    WEBHOOK_ALLOW_LOOPBACK: env.WEBHOOK_ALLOW_LOOPBACK || '0',
    WEBHOOK_ALLOW_PRIVATE: env.WEBHOOK_ALLOW_PRIVATE || '0',
    ...(env.WEBHOOK_SECRET_KEY ? { WEBHOOK_SECRET_KEY: env.WEBHOOK_SECRET_KEY } : {}),
    ...(env.WEBHOOK_SECRET_KEY_FILE ? { WEBHOOK_SECRET_KEY_FILE: env.WEBHOOK_SECRET_KEY_FILE } : {}),
    WEBHOOK_ATTEMPTS: num(env.WEBHOOK_ATTEMPTS, 8),
    WEBHOOK_BACKOFF_MS: num(env.WEBHOOK_BACKOFF_MS, 10_000),
    WEBHOOK_TIMEOUT_MS: num(env.WEBHOOK_TIMEOUT_MS, 10_000),
    WEBHOOK_RELAY_MS: num(env.WEBHOOK_RELAY_MS, 1000),
    AUDIT_SAMPLE_RATE:
      env.AUDIT_SAMPLE_RATE === undefined || env.AUDIT_SAMPLE_RATE === ''
        ? 0.02
        : /^(0|1)?(\.\d+)?$/.test(env.AUDIT_SAMPLE_RATE)
          ? Number(env.AUDIT_SAMPLE_RATE)
          : env.AUDIT_SAMPLE_RATE,
    SHADOW_MIN_LABELLED: num(env.SHADOW_MIN_LABELLED, 0),
  };
  if (!check.Check(raw)) {
    const errors = toFieldErrors(check.Errors(raw) as SchemaErrorLike[]).map((e) => ({
      ...e,
      path: e.path.replace(/^\//, ''),
    }));
    throw new TriageError(
      'TRIAGE_CONFIG_INVALID',
      `invalid environment: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
      errors,
    );
  }
  const store: StoreConfig = raw.DATABASE_URL
    ? {
        engine: 'postgres',
        connectionString: raw.DATABASE_URL,
        ...(raw.DATABASE_SCHEMA ? { schema: raw.DATABASE_SCHEMA } : {}),
      }
    : { engine: 'pglite', dataDir: resolve(raw.DATA_DIR) };
  return Object.freeze({
    port: raw.PORT,
    host: raw.HOST,
    store,
    logLevel: raw.LOG_LEVEL,
    bodyLimitBytes: raw.BODY_LIMIT_BYTES,
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS,
    jobs: Object.freeze({
      redisUrl: raw.REDIS_URL ?? null,
      queuePrefix: raw.QUEUE_PREFIX,
      attempts: raw.JOB_ATTEMPTS,
      backoffMs: raw.JOB_BACKOFF_MS,
      workerConcurrency: raw.WORKER_CONCURRENCY,
      workerLockMs: raw.WORKER_LOCK_MS,
      workerStalledIntervalMs: raw.WORKER_STALLED_INTERVAL_MS,
      recoverySweepMs: raw.RECOVERY_SWEEP_MS,
      batchChunkSize: raw.BATCH_CHUNK_SIZE,
    }),
    limits: Object.freeze({
      batchBodyLimitBytes: raw.BATCH_BODY_LIMIT_BYTES,
      batchMaxInvoices: raw.BATCH_MAX_INVOICES,
      requestTimeoutMs: raw.REQUEST_TIMEOUT_MS,
      scoreDeadlineMs: raw.SCORE_DEADLINE_MS,
      scoreMaxInFlight: raw.SCORE_MAX_IN_FLIGHT,
      rateLimitMax: raw.RATE_LIMIT_MAX,
      rateLimitBatchMax: raw.RATE_LIMIT_BATCH_MAX,
      rateLimitWindowMs: raw.RATE_LIMIT_WINDOW_MS,
    }),
    metricsListener:
      raw.METRICS_PORT !== undefined
        ? Object.freeze({ port: raw.METRICS_PORT, host: raw.METRICS_HOST })
        : null,
    bootstrapKeysFile: resolve(
      raw.BOOTSTRAP_KEYS_FILE ?? join(dirname(resolve(raw.DATA_DIR)), 'bootstrap-keys.json'),
    ),
    policyFile: raw.POLICY_FILE ? resolve(raw.POLICY_FILE) : undefined,
    models: Object.freeze({
      dir:
        raw.MODELS_DIR === 'none'
          ? null
          : raw.MODELS_DIR
            ? resolve(raw.MODELS_DIR)
            : join(dirname(resolve(raw.DATA_DIR)), 'models'),
      reloadMs: raw.MODELS_RELOAD_MS,
      operatorTenant: raw.MODEL_OPERATOR_TENANT,
    }),
    trainingDataDir: raw.TRAINING_DATA_DIR ? resolve(raw.TRAINING_DATA_DIR) : undefined,
    webhooks: Object.freeze({
      allowLoopback: raw.WEBHOOK_ALLOW_LOOPBACK === '1',
      allowPrivate: raw.WEBHOOK_ALLOW_PRIVATE === '1',
      secretKey: raw.WEBHOOK_SECRET_KEY,
      secretKeyFile: resolve(
        raw.WEBHOOK_SECRET_KEY_FILE ?? join(dirname(resolve(raw.DATA_DIR)), 'webhook-secret.key'),
      ),
      attempts: raw.WEBHOOK_ATTEMPTS,
      backoffMs: raw.WEBHOOK_BACKOFF_MS,
      timeoutMs: raw.WEBHOOK_TIMEOUT_MS,
      relayMs: raw.WEBHOOK_RELAY_MS,
    }),
    monitoring: Object.freeze({
      defaultAuditRate: raw.AUDIT_SAMPLE_RATE,
      minShadowLabelled: raw.SHADOW_MIN_LABELLED,
    }),
  });
}
