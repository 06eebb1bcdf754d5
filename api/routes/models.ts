/**
 * Model management and serving, enabled when `AppDeps.models` is given.
 *
 * Management (`/v1`, models are shared by every tenant; promotions and registrations are audited
 * in the acting key's tenant chain):
 * - `GET /v1/models` (data-scientist, auditor, admin): every model name with its versions,
 *   aliases, the version the scoring path serves and a card summary;
 * - `GET /v1/models/:name/versions/:version` (same roles): the full model card (`version` may be
 *   a number, `v3`, `champion` or `challenger`);
 * - `POST /v1/models/:name/promote` (data-scientist, admin): `{ version, reason?, force? }`, the
 *   registry's promotion rule; a refusal is a 409 naming the candidate's and the champion's
 *   evaluation; promotions, refusals and failed promotions go to the audit log first (an audit
 *   failure abandons the promotion);
 * - `POST /v1/models/:name/train` (data-scientist, admin): enqueues a `retrain` job (202 +
 *   `Location: /v1/jobs/:id`); the job registers a new **challenger**, never a champion;
 * - `GET /v1/jobs/:id` (data-scientist, admin): state, progress, result or error of a retrain job
 *   of the caller's tenant.
 *
 * Open Inference Protocol v2 (KServe's REST data plane; data-scientist, workflow, admin):
 * `GET /v2/health/live`, `GET /v2/health/ready`, `GET /v2/models/:name[/versions/:version]`
 * (metadata), `.../ready`, `POST .../infer`. The unversioned forms use the served champion (or,
 * when the scoring path serves a heuristic for that task, the registry's champion); another
 * version is loaded on demand and kept in a small LRU cache. The only input is `features`, FP32
 * `[N, F]` (data flat or nested by row); outputs are `logit` and `probability`, FP32 `[N, 1]`.
 * Errors are problem+json like everywhere else (not KServe's `{ error }`), naming the field:
 * `/inputs/0/shape`.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import type { Role } from '../../core/auth.js';
import { TriageError, isTriageError, type FieldError } from '../../core/errors.js';
import type { ChampionModel } from '../../inference/onnx-champion.js';
import { OnnxModelSession } from '../../inference/onnx-session.js';
import { ModelCard } from '../../models/card.js';
import type { ModelRegistry, RegistryEvent } from '../../models/registry.js';
import type { JobQueue, JobState, RetrainData, RetrainResult, RetrainTask } from '../../jobs/types.js';
import { principalOf } from '../auth.js';
import { toTriageError } from '../problem.js';
import { problemResponses } from './common.js';

/** A retrain job as `GET /v1/jobs/:id` reports it. */
export interface RetrainJobStatus {
  id: string;
  state: JobState;
  /** Percent, 0-100. */
  progress: number;
  attemptsMade: number;
  /** Tenant that asked for it (null when the queue no longer knows). */
  tenantId: string | null;
  task: RetrainTask | null;
  result?: RetrainResult;
  failedReason?: string;
}

/** What the model routes need. */
export interface ModelsApiDeps {
  registry: ModelRegistry;
  /** The ChampionModel currently served per model name (absent: that task is served by its heuristic). */
  served(): ReadonlyMap<string, ChampionModel>;
  /**
   * Appends a service-level audit event (promotions, registrations) to the audit log of the
   * acting key's tenant. Throwing aborts the promotion.
   */
  audit?(event: RegistryEvent, actorKeyId: string | null, tenantId: string): Promise<void>;
  /** Enqueues retraining; absent -> 503 problem "training not configured". */
  enqueueRetrain?(data: RetrainData): Promise<{ jobId: string }>;
  /** Reads a job's state/progress/result (for GET /v1/jobs/:id). */
  getJob?(id: string): Promise<RetrainJobStatus | null>;
  /**
   * Checked before an unforced promotion (e.g. the shadow record a policy requires,
   * monitoring/service.ts `checkPromotion`); throwing refuses it.
   */
  beforePromote?(tenantId: string, name: string, version: string): Promise<void>;
  /** Non-champion versions kept loaded for `/v2/.../versions/:version/infer`; default 4. */
  maxLoadedVersions?: number;
  /** Most rows of one infer request; default 10 000. */
  maxInferRows?: number;
}

/** `enqueueRetrain` and `getJob` over a job queue (BullMQ or in-process). */
export function retrainJobsOn(queue: JobQueue): Pick<ModelsApiDeps, 'enqueueRetrain' | 'getJob'> {
  return {
    async enqueueRetrain(data) {
      return { jobId: await queue.add('retrain', data) };
    },
    async getJob(id) {
      const j = await queue.getJob('retrain', id);
      if (!j) return null;
      return {
        id: j.id,
        state: j.state,
        progress: j.progress,
        attemptsMade: j.attemptsMade,
        tenantId: j.data?.tenantId ?? null,
        task: j.data?.task ?? null,
        ...(j.result ? { result: j.result } : {}),
        ...(j.failedReason ? { failedReason: j.failedReason } : {}),
      };
    },
  };
}

const READERS: Role[] = ['data-scientist', 'auditor', 'admin'];
const MANAGERS: Role[] = ['data-scientist', 'admin'];
const INFERENCE: Role[] = ['data-scientist', 'workflow', 'admin'];
const RETRAINABLE: readonly RetrainTask[] = ['coding-mismatch', 'duplicate'];

const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$', description: 'Model name.' });
const VersionParam = Type.String({
  pattern: '^(v?[1-9][0-9]{0,8}|champion|challenger)$',
  description: 'Version number (3 or v3) or alias.',
});
const NameParams = Type.Object({ name: Name });
const VersionParams = Type.Object({ name: Name, version: VersionParam });

/** A version in `GET /v1/models`. */
export const ModelVersionSummary = Type.Object({
  version: Type.String(),
  aliases: Type.Array(Type.Union([Type.Literal('champion'), Type.Literal('challenger')])),
  task: Type.String(),
  architecture: Type.String(),
  source: Type.String({ description: 'trained (here) or external (bring-your-own ONNX).' }),
  created_at: Type.String({ format: 'date-time' }),
  parent_version: Type.Union([Type.String(), Type.Null()]),
  thresholds: Type.Object({ auto_approve: Type.Number(), hold: Type.Number() }),
  evaluation: Type.Object({
    metric: Type.String(),
    value: Type.Number(),
    split: Type.String(),
    unit: Type.String(),
    size: Type.Integer(),
    dataset_hash: Type.String(),
  }),
});

/** One model name in `GET /v1/models`. */
export const ModelSummary = Type.Object({
  name: Type.String(),
  champion: Type.Union([Type.String(), Type.Null()]),
  challenger: Type.Union([Type.String(), Type.Null()]),
  served_version: Type.Union([Type.String(), Type.Null()], {
    description: 'Version the scoring path serves now; null when the task is served by its heuristic.',
  }),
  versions: Type.Array(ModelVersionSummary),
});

/** Body of `POST /v1/models/:name/promote`. */
export const PromoteBody = Type.Object(
  {
    version: Type.String({ pattern: '^v?[1-9][0-9]{0,8}$' }),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    force: Type.Optional(Type.Boolean({ description: 'Promote although the rule refuses (needs reason).' })),
  },
  { additionalProperties: false },
);

/** Answer of a promotion. */
export const PromotionResponse = Type.Object({
  name: Type.String(),
  version: Type.String(),
  previous_champion: Type.Union([Type.String(), Type.Null()]),
  forced: Type.Boolean(),
  changed: Type.Boolean({ description: 'False when the version already was the champion.' }),
});

/** Body of `POST /v1/models/:name/train`. */
export const TrainBody = Type.Object(
  { seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, default: 42 })) },
  { additionalProperties: false },
);

const JobLinks = Type.Object({ self: Type.String() });

/** Answer of `POST /v1/models/:name/train`. */
export const TrainAccepted = Type.Object({
  job_id: Type.String(),
  task: Type.String(),
  seed: Type.Integer(),
  links: JobLinks,
});

/** Answer of `GET /v1/jobs/:id`. */
export const JobStatusResponse = Type.Object({
  job_id: Type.String(),
  name: Type.Literal('retrain'),
  state: Type.String({ description: 'waiting, active, delayed, prioritized, completed or failed.' }),
  progress: Type.Number({ minimum: 0, maximum: 100, description: 'Percent.' }),
  attempts_made: Type.Integer(),
  task: Type.Union([Type.String(), Type.Null()]),
  result: Type.Optional(
    Type.Object({
      task: Type.String(),
      version: Type.String({ description: 'Registered challenger, e.g. coding-mismatch@3.' }),
      metrics: Type.Record(Type.String(), Type.Number()),
    }),
  ),
  error: Type.Optional(Type.Object({ message: Type.String() })),
  links: JobLinks,
});

const TensorMetadata = Type.Object({
  name: Type.String(),
  datatype: Type.String(),
  shape: Type.Array(Type.Integer()),
});

/** OIP model metadata. */
export const ModelMetadataResponse = Type.Object({
  name: Type.String(),
  versions: Type.Array(Type.String()),
  platform: Type.String(),
  inputs: Type.Array(TensorMetadata),
  outputs: Type.Array(TensorMetadata),
  parameters: Type.Object({
    feature_names: Type.Array(Type.String()),
    feature_schema_version: Type.String(),
    version: Type.String({ description: 'The version these inputs describe.' }),
  }),
});

/** OIP infer request (JSON). Unknown top-level fields are refused (a misspelling is never ignored). */
export const InferRequest = Type.Object(
  {
    id: Type.Optional(Type.String({ maxLength: 256 })),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    inputs: Type.Array(
      Type.Object({
        name: Type.String(),
        shape: Type.Array(Type.Integer({ minimum: -1 }), { maxItems: 8 }),
        datatype: Type.String(),
        parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        data: Type.Array(Type.Union([Type.Number(), Type.Array(Type.Number())]), {
          description: 'Row-major flat values, or one array per row.',
        }),
      }),
      { minItems: 1, maxItems: 8 },
    ),
    outputs: Type.Optional(
      Type.Array(
        Type.Object({
          name: Type.String(),
          parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        }),
        { minItems: 1, maxItems: 8, description: 'Outputs to return, each once; absent for all.' },
      ),
    ),
  },
  { additionalProperties: false },
);
type InferRequest = Static<typeof InferRequest>;

/** OIP infer response. */
export const InferResponse = Type.Object({
  model_name: Type.String(),
  model_version: Type.String(),
  id: Type.Optional(Type.String()),
  outputs: Type.Array(
    Type.Object({
      name: Type.String(),
      shape: Type.Array(Type.Integer()),
      datatype: Type.String(),
      data: Type.Array(Type.Number()),
    }),
  ),
});

const Ready = Type.Object({ name: Type.String(), ready: Type.Boolean() });
const OUTPUT_NAMES = ['logit', 'probability'] as const;

/**
 * Throws the request's schema errors (attached with `attachValidation`) as
 * `TRIAGE_REQUEST_INVALID`: the default for bodies, `TRIAGE_INPUT_INVALID`, means an invoice.
 */
function checkValidation(req: { validationError?: Error }): void {
  if (!req.validationError) return;
  const te = toTriageError(req.validationError);
  throw new TriageError('TRIAGE_REQUEST_INVALID', te.message, te.errors);
}

function invalid(detail: string, errors: FieldError[]): TriageError {
  return new TriageError('TRIAGE_REQUEST_INVALID', detail, errors);
}

/**
 * Reads the `features` tensor of an infer request for a model taking `f` features.
 * @returns row-major float32 values and the row count.
 * @throws TriageError `TRIAGE_REQUEST_INVALID` naming the bad field (`/inputs/0/shape`).
 */
export function readFeatures(
  body: InferRequest,
  f: number,
  maxRows: number,
): { data: Float32Array; rows: number } {
  if (body.inputs.length !== 1)
    throw invalid(`the model takes one input, features; got ${body.inputs.length}`, [
      { path: '/inputs', message: 'must hold exactly one input, features' },
    ]);
  const input = body.inputs[0]!;
  const at = (field: string, message: string): TriageError =>
    invalid(`inputs[0].${field} ${message}`, [{ path: `/inputs/0/${field}`, message }]);
  if (input.name !== 'features') throw at('name', `must be "features", not ${JSON.stringify(input.name)}`);
  if (input.datatype !== 'FP32') throw at('datatype', `must be FP32, not ${JSON.stringify(input.datatype)}`);
  const [n, width] = input.shape;
  if (input.shape.length !== 2 || n === undefined || width !== f || n < 1)
    throw at(
      'shape',
      `must be [N, ${f}] with N >= 1 (the model takes ${f} features), not [${input.shape.join(', ')}]`,
    );
  if (n > maxRows) throw at('shape', `has ${n} rows; at most ${maxRows} per request`);
  const out = new Float32Array(n * f);
  const nested = input.data.some((v) => Array.isArray(v));
  if (!nested) {
    if (input.data.length !== n * f)
      throw at('data', `holds ${input.data.length} values; shape [${n}, ${f}] needs ${n * f}`);
    checkFp32(input.data as number[], 'data');
    out.set(input.data as number[]);
    return { data: out, rows: n };
  }
  if (input.data.length !== n)
    throw at('data', `holds ${input.data.length} rows; shape [${n}, ${f}] needs ${n}`);
  input.data.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== f)
      throw invalid(`inputs[0].data[${i}] must be a row of ${f} numbers`, [
        { path: `/inputs/0/data/${i}`, message: `must be an array of ${f} numbers` },
      ]);
    checkFp32(row, `data/${i}`);
    out.set(row, i * f);
  });
  return { data: out, rows: n };
}

/** Largest finite FP32 value. */
const FP32_MAX = 3.4028234663852886e38;

/**
 * Refuses values an FP32 tensor cannot hold (they would become ±Infinity and the outputs NaN).
 * @throws TriageError `TRIAGE_REQUEST_INVALID` naming the first one (`/inputs/0/data/7`).
 */
function checkFp32(values: readonly number[], at: string): void {
  const j = values.findIndex((v) => !Number.isFinite(Math.fround(v)));
  if (j < 0) return;
  const path = `/inputs/0/${at}/${j}`;
  throw invalid(`${path.slice(1)} is ${values[j]}, beyond the FP32 range`, [
    { path, message: `must be within ±${FP32_MAX} (FP32)` },
  ]);
}

function requestedOutputs(body: InferRequest): (typeof OUTPUT_NAMES)[number][] {
  if (!body.outputs) return [...OUTPUT_NAMES];
  return body.outputs.map((o, i) => {
    const name = OUTPUT_NAMES.find((x) => x === o.name);
    if (!name)
      throw invalid(`outputs[${i}].name must be logit or probability`, [
        { path: `/outputs/${i}/name`, message: 'must be logit or probability' },
      ]);
    const first = body.outputs!.findIndex((x) => x.name === o.name);
    if (first !== i)
      throw invalid(`outputs[${i}].name repeats outputs[${first}]`, [
        { path: `/outputs/${i}/name`, message: `duplicates the name of /outputs/${first}` },
      ]);
    return name;
  });
}

interface CachedSlot {
  session: Promise<OnnxModelSession>;
  inflight: number;
  evicted: boolean;
}

/**
 * Sessions of versions loaded on demand, least recently used evicted first; an evicted
 * session is released once its last request finishes.
 */
class SessionCache {
  private readonly slots = new Map<string, CachedSlot>();
  constructor(private readonly max: number) {}

  async use<T>(
    key: string,
    load: () => Promise<OnnxModelSession>,
    fn: (s: OnnxModelSession) => Promise<T>,
  ): Promise<T> {
    let slot = this.slots.get(key);
    if (slot) this.slots.delete(key);
    else {
      slot = { session: load(), inflight: 0, evicted: false };
      slot.session.catch(() => this.slots.get(key) === slot && this.slots.delete(key));
    }
    this.slots.set(key, slot); // most recent last
    while (this.slots.size > this.max) {
      const [oldKey, old] = this.slots.entries().next().value!;
      this.slots.delete(oldKey);
      old.evicted = true;
      if (old.inflight === 0) void this.release(old);
    }
    slot.inflight++;
    try {
      return await fn(await slot.session);
    } finally {
      slot.inflight--;
      if (slot.evicted && slot.inflight === 0) void this.release(slot);
    }
  }

  private async release(slot: CachedSlot): Promise<void> {
    await slot.session.then((s) => s.release()).catch(() => undefined);
  }

  async close(): Promise<void> {
    const all = [...this.slots.values()];
    this.slots.clear();
    for (const s of all) {
      s.evicted = true;
      if (s.inflight === 0) await this.release(s);
    }
  }
}

/** Registers the model routes (register with `app.register(modelRoutes, { models })`). */
export default async function modelRoutes(
  root: FastifyInstance,
  { models: deps }: { models: ModelsApiDeps },
): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { registry } = deps;
  const cache = new SessionCache(deps.maxLoadedVersions ?? 4);
  const maxRows = deps.maxInferRows ?? 10_000;
  app.addHook('onClose', async () => cache.close());

  /** Versions of a name. @throws `TRIAGE_MODEL_NOT_FOUND` when it has none. */
  const versionsOf = async (name: string): Promise<string[]> => {
    const vs = await registry.versions(name);
    if (vs.length === 0) throw new TriageError('TRIAGE_MODEL_NOT_FOUND', `no model named ${name}`);
    return vs;
  };

  app.get(
    '/v1/models',
    {
      config: { roles: READERS },
      schema: {
        summary: 'Registered models: versions, aliases, served version, card summaries',
        response: { 200: Type.Object({ models: Type.Array(ModelSummary) }), ...problemResponses },
      },
    },
    async () => {
      const served = deps.served();
      const listing = await registry.list();
      return {
        models: listing.map((m) => ({
          name: m.name,
          champion: m.champion,
          challenger: m.challenger,
          served_version: served.get(m.name)?.current.version ?? null,
          versions: m.versions.map((v) => ({
            version: v.version,
            aliases: v.aliases,
            task: v.task,
            architecture: v.architecture,
            source: v.source,
            created_at: v.createdAt,
            parent_version: v.parentVersion,
            thresholds: { auto_approve: v.thresholds.autoApprove, hold: v.thresholds.hold },
            evaluation: {
              metric: v.evaluation.metric,
              value: v.evaluation.value,
              split: v.evaluation.split,
              unit: v.evaluation.unit,
              size: v.evaluation.size,
              dataset_hash: v.evaluation.datasetHash,
            },
          })),
        })),
      };
    },
  );

  app.get(
    '/v1/models/:name/versions/:version',
    {
      config: { roles: READERS },
      schema: {
        summary: 'The model card of a version (training data, metrics, calibration, thresholds, history)',
        params: VersionParams,
        response: { 200: ModelCard, ...problemResponses },
      },
    },
    async (req) => registry.card(req.params.name, req.params.version),
  );

  app.post(
    '/v1/models/:name/promote',
    {
      config: { roles: MANAGERS },
      attachValidation: true,
      schema: {
        summary: 'Make a version the champion (audited)',
        description:
          'Allowed when the version evaluates at least as well as the champion on the same set with the same ' +
          'metric; otherwise 409 TRIAGE_MODEL_PROMOTION_REFUSED naming both values, unless force with a reason. ' +
          'Promotions, refusals and failed promotions are appended to the audit log of the caller’s tenant ' +
          'before the alias moves.',
        params: NameParams,
        body: PromoteBody,
        response: { 200: PromotionResponse, ...problemResponses },
      },
    },
    async (req) => {
      checkValidation(req);
      const p = principalOf(req);
      const { name } = req.params;
      const { version, reason, force } = req.body;
      if (force === true && !reason?.trim())
        throw invalid('a forced promotion needs a reason', [
          { path: '/reason', message: 'is required when force is true' },
        ]);
      // Monitoring: a required shadow record (call site; `force` with a reason overrides it as it does the metric rule).
      if (force !== true) await deps.beforePromote?.(p.tenantId, name, version.replace(/^v/, ''));
      const audit = deps.audit;
      try {
        const r = await registry.promote(name, version, {
          actor: p.keyId,
          ...(reason ? { reason } : {}),
          ...(force ? { force: true } : {}),
          ...(audit ? { onEvent: (e: RegistryEvent) => audit(e, p.keyId, p.tenantId) } : {}),
        });
        req.log.info(
          {
            model: name,
            version: r.version,
            previous: r.previousChampion,
            forced: r.forced,
            changed: r.changed,
          },
          'model promotion',
        );
        return {
          name,
          version: r.version,
          previous_champion: r.previousChampion,
          forced: r.forced,
          changed: r.changed,
        };
      } catch (e) {
        if (!isTriageError(e, 'TRIAGE_MODEL_PROMOTION_REFUSED')) throw e;
        throw await refusalNamingBoth(registry, name, version, e);
      }
    },
  );

  app.post(
    '/v1/models/:name/train',
    {
      config: { roles: MANAGERS },
      attachValidation: true,
      // The body is optional: none means all defaults.
      preValidation: async (req) => {
        req.body ??= {};
      },
      schema: {
        summary: 'Retrain a model (asynchronous); the result is registered as challenger, never champion',
        description: `Models: ${RETRAINABLE.join(', ')}. Poll the job at the Location header (GET /v1/jobs/:id).`,
        params: NameParams,
        body: TrainBody,
        response: { 202: TrainAccepted, ...problemResponses },
      },
    },
    async (req, reply) => {
      checkValidation(req);
      const task = RETRAINABLE.find((t) => t === req.params.name);
      if (!task)
        throw new TriageError(
          'TRIAGE_MODEL_NOT_FOUND',
          `no retrainable model ${req.params.name} (retrainable: ${RETRAINABLE.join(', ')})`,
        );
      if (!deps.enqueueRetrain)
        throw new TriageError('TRIAGE_TRAINING_NOT_CONFIGURED', 'training not configured on this service');
      const p = principalOf(req);
      const seed = req.body.seed ?? 42;
      const { jobId } = await deps.enqueueRetrain({ tenantId: p.tenantId, task, seed, requestedBy: p.keyId });
      req.log.info({ job_id: jobId, task, seed }, 'retrain enqueued');
      const self = `/v1/jobs/${encodeURIComponent(jobId)}`;
      void reply.status(202).header('location', self);
      return { job_id: jobId, task, seed, links: { self } };
    },
  );

  app.get(
    '/v1/jobs/:id',
    {
      config: { roles: MANAGERS },
      schema: {
        summary: 'State, progress and result (or error) of a retrain job of the caller’s tenant',
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' }) }),
        response: { 200: JobStatusResponse, ...problemResponses },
      },
    },
    async (req) => {
      if (!deps.getJob)
        throw new TriageError('TRIAGE_TRAINING_NOT_CONFIGURED', 'training not configured on this service');
      const j = await deps.getJob(req.params.id);
      // Another tenant's job is reported as absent.
      if (!j || j.tenantId !== principalOf(req).tenantId)
        throw new TriageError('TRIAGE_JOB_NOT_FOUND', `no job ${req.params.id}`);
      return {
        job_id: j.id,
        name: 'retrain' as const,
        state: j.state,
        progress: j.progress,
        attempts_made: j.attemptsMade,
        task: j.task,
        ...(j.result ? { result: j.result } : {}),
        ...(j.failedReason !== undefined && j.state === 'failed'
          ? { error: { message: j.failedReason } }
          : {}),
        links: { self: `/v1/jobs/${encodeURIComponent(j.id)}` },
      };
    },
  );

  // ---- Open Inference Protocol v2 ----

  /**
   * Runs `fn` on the session of `name` at `version` (undefined: the champion): the served
   * ChampionModel when it holds that version, else a session loaded from the registry (cached).
   */
  const withSession = async <T>(
    name: string,
    version: string | undefined,
    fn: (s: OnnxModelSession, version: string) => Promise<T>,
  ): Promise<T> => {
    const champion = deps.served().get(name);
    const wanted =
      version === undefined || version === 'champion' || version === 'challenger'
        ? await aliasTarget(registry, name, version ?? 'champion', champion)
        : version.replace(/^v/, '');
    if (champion && champion.current.version === wanted)
      return champion.use((m) => (m.version === wanted ? fn(m.session, wanted) : loadAndRun()));
    return loadAndRun();
    function loadAndRun(): Promise<T> {
      return cache.use(
        `${name}@${wanted}`,
        async () => {
          const r = await registry.resolve(name, wanted);
          return OnnxModelSession.fromBuffer(r.onnx, { label: r.label });
        },
        (s) => fn(s, wanted),
      );
    }
  };

  const metadata = async (
    name: string,
    version: string | undefined,
  ): Promise<Static<typeof ModelMetadataResponse>> => {
    const versions = await versionsOf(name);
    const champion = deps.served().get(name);
    let card;
    if (version !== undefined) card = await registry.card(name, version);
    else if (champion) card = champion.current.card;
    else
      card = await registry
        .card(name, 'champion')
        .catch(() => registry.card(name, versions[versions.length - 1]!));
    const f = card.featureNames.length;
    return {
      name,
      versions: version === undefined ? versions : [card.version],
      platform: 'onnx',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, f] }],
      outputs: OUTPUT_NAMES.map((o) => ({ name: o, datatype: 'FP32', shape: [-1, 1] })),
      parameters: {
        feature_names: card.featureNames,
        feature_schema_version: card.featureSchemaVersion,
        version: card.version,
      },
    };
  };

  const infer = async (name: string, version: string | undefined, body: InferRequest) => {
    const outputs = requestedOutputs(body);
    return withSession(name, version, async (s, v) => {
      const { data, rows } = readFeatures(body, s.numFeatures, maxRows);
      const out = await s.run(data);
      return {
        model_name: name,
        model_version: v,
        ...(body.id !== undefined ? { id: body.id } : {}),
        outputs: outputs.map((o) => ({
          name: o,
          shape: [rows, 1],
          datatype: 'FP32',
          data: Array.from(out[o]),
        })),
      };
    });
  };

  const ready = async (name: string, version: string | undefined) => {
    await versionsOf(name);
    await withSession(name, version, async () => undefined);
    return { name, ready: true };
  };

  const oip = { config: { roles: INFERENCE } };
  app.get(
    '/v2/health/live',
    {
      ...oip,
      schema: {
        summary: 'OIP v2 server liveness',
        response: { 200: Type.Object({ live: Type.Boolean() }), ...problemResponses },
      },
    },
    async () => ({ live: true }),
  );
  app.get(
    '/v2/health/ready',
    {
      ...oip,
      schema: {
        summary: 'OIP v2 server readiness (the model registry can be read)',
        response: { 200: Type.Object({ ready: Type.Boolean() }), ...problemResponses },
      },
    },
    async () => {
      await registry.list();
      return { ready: true };
    },
  );
  for (const versioned of [false, true]) {
    const base = versioned ? '/v2/models/:name/versions/:version' : '/v2/models/:name';
    const params = versioned ? VersionParams : NameParams;
    const v = (p: { version?: string }): string | undefined => (versioned ? p.version : undefined);
    const which = versioned ? 'a version' : 'the champion';
    app.get(
      base,
      {
        ...oip,
        schema: {
          summary: `OIP v2 metadata of ${which}`,
          params,
          response: { 200: ModelMetadataResponse, ...problemResponses },
        },
      },
      async (req) => metadata(req.params.name, v(req.params as { version?: string })),
    );
    app.get(
      `${base}/ready`,
      {
        ...oip,
        schema: {
          summary: `OIP v2 readiness of ${which} (loads it when not loaded)`,
          params,
          response: { 200: Ready, ...problemResponses },
        },
      },
      async (req) => ready(req.params.name, v(req.params as { version?: string })),
    );
    app.post(
      `${base}/infer`,
      {
        ...oip,
        attachValidation: true,
        schema: {
          summary: `OIP v2 inference with ${which}`,
          description:
            'One input, features: datatype FP32, shape [N, F], data flat (row-major) or one array per row. ' +
            'Outputs logit and probability, FP32 [N, 1] (select with outputs[].name). id is echoed.',
          params,
          body: InferRequest,
          response: { 200: InferResponse, ...problemResponses },
        },
      },
      async (req) => {
        checkValidation(req);
        return infer(req.params.name, v(req.params as { version?: string }), req.body);
      },
    );
  }
}

/** The version an alias names, preferring the served champion's when asked for the champion. */
async function aliasTarget(
  registry: ModelRegistry,
  name: string,
  alias: 'champion' | 'challenger',
  served: ChampionModel | undefined,
): Promise<string> {
  if (alias === 'champion' && served) return served.current.version;
  const v = (await registry.aliases(name))[alias];
  if (v === null) throw new TriageError('TRIAGE_MODEL_NOT_FOUND', `model ${name} has no ${alias}`);
  return v;
}

/** A refused promotion's problem, naming the candidate's and the champion's evaluation. */
async function refusalNamingBoth(
  registry: ModelRegistry,
  name: string,
  version: string,
  e: TriageError,
): Promise<TriageError> {
  const fmt = (c: ModelCard): string =>
    `${c.name}@${c.version}: ${c.evaluation.metric} ${c.evaluation.value.toFixed(4)} on ${c.evaluation.split}/` +
    `${c.evaluation.unit} ${c.evaluation.datasetHash.slice(0, 12)} (n=${c.evaluation.size})`;
  const candidate = await registry.card(name, version).catch(() => null);
  const champion = await registry.card(name, 'champion').catch(() => null);
  const errors: FieldError[] = [
    {
      path: '/version',
      message:
        `candidate ${candidate ? fmt(candidate) : `${name}@${version}`}; ` +
        `champion ${champion ? fmt(champion) : 'none'}`,
    },
  ];
  return new TriageError(e.code, e.message, errors, { cause: e });
}
