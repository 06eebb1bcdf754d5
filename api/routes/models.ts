/**
 * Model management (`/v1`; models are shared by every tenant, so only keys of the deployment's
 * operator tenant may change them: promote, train; other tenants' keys get 403; promotions and
 * registrations are audited in the operator's chain), enabled when `AppDeps.models` is given:
 * - `GET /v1/models` (data-scientist, auditor, admin): every model name with its versions,
 *   aliases, the version the scoring path serves and a card summary;
 * - `GET /v1/models/:name/versions/:version` (same roles): the full model card (`version` may be
 *   a number, `v3`, `champion` or `challenger`);
 * - `POST /v1/models/:name/promote` (data-scientist, admin of the operator tenant): `{ version, reason, force? }`, the
 *   registry's promotion rule (a rollback to the champion that served immediately before passes
 *   without it); `reason` is required; a refusal is a 409 naming the candidate's and the champion's
 *   evaluation; promotions, refusals and failed promotions go to the audit log first (an audit
 *   failure abandons the promotion);
 * - `POST /v1/models/:name/train` (data-scientist, admin of the operator tenant): enqueues a `retrain` job (202 +
 *   `Location: /v1/jobs/:id`, see api/routes/jobs.ts); the job registers a new **challenger**,
 *   never a champion.
 *
 * The OIP v2 inference routes over the same registry are in api/routes/oip.ts.
 */
import Type from 'typebox';
import { DEFAULT_TENANT, type Role } from '../../core/auth.js';
import { TriageError } from '../../core/errors.js';
import { LABEL_PROVENANCES, type LabelProvenance } from '../../core/labels.js';
import type { ChampionModel } from '../../inference/onnx-champion.js';
import { ModelCard } from '../../models/card.js';
import { governedPromotion, type PromotionGovernance } from '../../models/governed-promotion.js';
import type { ModelRegistry } from '../../models/registry.js';
import type { RetrainTask } from '../../jobs/types.js';
import type { FastifyRequest } from 'fastify';
import { principalOf } from '../auth.js';
import { problemResponses, PROTECTED, WITH_BODY, type RoutePlugin } from './common.js';
import { JobLinks, jobPath, trainingNotConfigured, type RetrainJobs } from './jobs.js';

/** What the model, job and OIP routes need. */
export interface ModelsApiDeps extends RetrainJobs, PromotionGovernance {
  registry: ModelRegistry;
  /** The ChampionModel currently served per model name (absent: that task is served by its heuristic). */
  served(): ReadonlyMap<string, ChampionModel>;
  /**
   * The tenant whose keys may change the shared models (promote, train); default
   * {@link DEFAULT_TENANT} (`MODEL_OPERATOR_TENANT`, bin/config.ts).
   */
  operatorTenant?: string;
  /** Non-champion versions kept loaded for `/v2/.../versions/:version/infer`; default 4. */
  maxLoadedVersions?: number;
  /** Most rows of one infer request; default 10 000. */
  maxInferRows?: number;
}

const READERS: Role[] = ['data-scientist', 'auditor', 'admin'];
const MANAGERS: Role[] = ['data-scientist', 'admin'];
const RETRAINABLE: readonly RetrainTask[] = ['coding-mismatch', 'duplicate'];

const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,63}$', description: 'Model name.' });
const VersionParam = Type.String({
  pattern: '^(v?[1-9][0-9]{0,8}|champion|challenger)$',
  description: 'Version number (3 or v3) or alias.',
});
/** Path parameters naming a model. */
export const NameParams = Type.Object({ name: Name });
/** Path parameters naming a model version (number, `v3` or alias). */
export const VersionParams = Type.Object({ name: Name, version: VersionParam });

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
    reason: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1000,
        description:
          'Why the champion changes (required; recorded in the audit entry and the alias history).',
      }),
    ),
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
const Provenance = Type.Union(
  LABEL_PROVENANCES.map((s) => Type.Literal(s)),
  { description: 'label provenance' },
);
export const TrainBody = Type.Object(
  {
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295, default: 42 })),
    label_sources: Type.Optional(
      Type.Array(Provenance, {
        minItems: 1,
        uniqueItems: true,
        description: 'only the tenant’s labels of these provenances (default all)',
      }),
    ),
    label_weights: Type.Optional(
      Type.Partial(
        Type.Object(
          Object.fromEntries(
            LABEL_PROVENANCES.map((s) => [s, Type.Number({ exclusiveMinimum: 0, maximum: 1000 })]),
          ) as Record<LabelProvenance, ReturnType<typeof Type.Number>>,
          { additionalProperties: false },
        ),
        {
          additionalProperties: false,
          description: 'weight per provenance against a benchmark row (default 3)',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

/** Answer of `POST /v1/models/:name/train`. */
export const TrainAccepted = Type.Object({
  job_id: Type.String(),
  task: Type.String(),
  seed: Type.Integer(),
  links: JobLinks,
});

/** What the model management routes use. */
export type ModelRoutesOptions = Pick<
  ModelsApiDeps,
  'registry' | 'served' | 'audit' | 'enqueueRetrain' | 'beforePromote' | 'operatorTenant'
>;

/**
 * A route hook refusing keys of any tenant but `operatorTenant`, before the body is read.
 * @throws TriageError `TRIAGE_OPERATOR_ONLY` (403) naming the operator tenant and `MODEL_OPERATOR_TENANT`.
 */
export function operatorOnly(operatorTenant: string) {
  return async (req: FastifyRequest, _reply: unknown, payload: unknown) => {
    const p = principalOf(req);
    if (p.tenantId !== operatorTenant)
      throw new TriageError(
        'TRIAGE_OPERATOR_ONLY',
        `models are shared by every tenant and managed by the operator tenant ${operatorTenant} ` +
          `(MODEL_OPERATOR_TENANT); ` +
          `a key of tenant ${p.tenantId} may read them but not promote, train or register them`,
      );
    return payload;
  };
}

/** Registers the model management routes. */
export const modelRoutes: RoutePlugin<ModelRoutesOptions> = async (app, deps) => {
  const { registry } = deps;
  const sharedModelChange = operatorOnly(deps.operatorTenant ?? DEFAULT_TENANT);

  app.get(
    '/v1/models',
    {
      config: { roles: READERS },
      schema: {
        operationId: 'listModels',
        summary: 'Registered models: versions, aliases, served version, card summaries',
        response: { 200: Type.Object({ models: Type.Array(ModelSummary) }), ...problemResponses(PROTECTED) },
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
        operationId: 'getModelCard',
        summary: 'The model card of a version (training data, metrics, calibration, thresholds, history)',
        params: VersionParams,
        response: { 200: ModelCard, ...problemResponses(PROTECTED, 404) },
      },
    },
    async (req) => registry.card(req.params.name, req.params.version),
  );

  app.post(
    '/v1/models/:name/promote',
    {
      config: { roles: MANAGERS },
      preParsing: sharedModelChange,
      schema: {
        operationId: 'promoteModel',
        summary: 'Make a version the champion (audited)',
        description:
          'Models are shared by every tenant, so a promotion changes what every tenant is served: only keys of ' +
          'the operator tenant (MODEL_OPERATOR_TENANT) may promote (other tenants: 403 TRIAGE_OPERATOR_ONLY); it needs a ' +
          'non-blank reason (400 naming /reason). Allowed when the version evaluates at least as well as the ' +
          'champion on the same set with the same metric; otherwise 409 TRIAGE_MODEL_PROMOTION_REFUSED naming ' +
          'both values, unless force. Putting back the version that was champion immediately before the current ' +
          'one is a rollback: allowed without force, recorded as such. With MODELS_DIR=none the registry is the ' +
          'shipped one and read-only: 409 TRIAGE_MODEL_REGISTRY_READ_ONLY before any other check. ' +
          'Promotions, refusals and failed promotions are appended to the operator’s audit log before the ' +
          'alias moves; a promotion also emits model.promoted to every tenant’s event feed, with a linked ' +
          'entry in every other tenant’s audit log.',
        params: NameParams,
        body: PromoteBody,
        response: { 200: PromotionResponse, ...problemResponses(PROTECTED, WITH_BODY, 404, 409, 422) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const { name } = req.params;
      const { version, reason, force } = req.body;
      const r = await governedPromotion(deps, {
        tenantId: p.tenantId,
        actorKeyId: p.keyId,
        actor: p.keyId,
        name,
        version,
        reason,
        force,
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
    },
  );

  app.post(
    '/v1/models/:name/train',
    {
      config: { roles: MANAGERS },
      preParsing: sharedModelChange,
      // The body is optional: none means all defaults (a JSON `null` is a body, refused as not an object).
      preValidation: async (req) => {
        if (req.body === undefined) req.body = {};
      },
      schema: {
        operationId: 'trainModel',
        summary: 'Retrain a model (asynchronous); the result is registered as challenger, never champion',
        description:
          `Models: ${RETRAINABLE.join(', ')}. Only keys of the operator tenant (MODEL_OPERATOR_TENANT) may ` +
          'train (other tenants: 403 TRIAGE_OPERATOR_ONLY). Poll the job at the Location header (GET /v1/jobs/:id). ' +
          'With MODELS_DIR=none the registry is the shipped one and read-only: 409 TRIAGE_MODEL_REGISTRY_READ_ONLY, ' +
          'nothing queued.',
        params: NameParams,
        body: TrainBody,
        response: { 202: TrainAccepted, ...problemResponses(PROTECTED, WITH_BODY, 404, 409) },
      },
    },
    async (req, reply) => {
      const task = RETRAINABLE.find((t) => t === req.params.name);
      if (!task)
        throw new TriageError(
          'TRIAGE_MODEL_NOT_FOUND',
          `no retrainable model ${req.params.name} (retrainable: ${RETRAINABLE.join(', ')})`,
        );
      // A job whose registration would be refused is not queued (nor trained for nothing).
      registry.assertWritable();
      if (!deps.enqueueRetrain) throw trainingNotConfigured();
      const p = principalOf(req);
      const seed = req.body.seed ?? 42;
      const { jobId } = await deps.enqueueRetrain({
        tenantId: p.tenantId,
        task,
        seed,
        requestedBy: p.keyId,
        ...(req.body.label_sources ? { labelSources: req.body.label_sources } : {}),
        ...(req.body.label_weights ? { labelWeights: req.body.label_weights } : {}),
      });
      req.log.info({ job_id: jobId, task, seed }, 'retrain enqueued');
      const self = jobPath(jobId);
      void reply.status(202).header('location', self);
      return { job_id: jobId, task, seed, links: { self } };
    },
  );
};
