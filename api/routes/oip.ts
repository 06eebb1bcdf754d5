/**
 * Open Inference Protocol v2 (KServe's REST data plane; data-scientist, workflow, admin):
 * `GET /v2/health/live`, `GET /v2/health/ready`, `GET /v2/models/:name[/versions/:version]`
 * (metadata), `.../ready`, `POST .../infer`. The unversioned forms use the served champion (or,
 * when the scoring path serves a heuristic for that task, the registry's champion); another
 * version is loaded on demand and kept in a small LRU cache (lru-cache). The only input is
 * `features`, FP32 `[N, F]`; outputs are `logit` and `probability`, FP32 `[N, 1]` (see
 * api/routes/tensors.ts). Errors are problem+json like everywhere else (not KServe's
 * `{ error }`), naming the field: `/inputs/0/shape`.
 */
import { LRUCache } from 'lru-cache';
import Type, { type Static } from 'typebox';
import type { Role } from '../../core/auth.js';
import { TriageError } from '../../core/errors.js';
import type { ChampionModel } from '../../inference/onnx-champion.js';
import { OnnxModelSession } from '../../inference/onnx-session.js';
import type { ModelCard } from '../../models/card.js';
import type { ModelRegistry } from '../../models/registry.js';
import { problemResponses, PROTECTED, WITH_BODY, type RoutePlugin } from './common.js';
import { NameParams, VersionParams, type ModelsApiDeps } from './models.js';
import { InferRequest, InferResponse, OUTPUT_NAMES, readFeatures, requestedOutputs } from './tensors.js';

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

const Ready = Type.Object({ name: Type.String(), ready: Type.Boolean() });

const INFERENCE: Role[] = ['data-scientist', 'workflow', 'admin'];

interface CachedSlot {
  session: Promise<OnnxModelSession>;
  inflight: number;
  evicted: boolean;
  released: boolean;
}

/**
 * ONNX sessions of versions loaded on demand, at most `max`, least recently used evicted first
 * (lru-cache); an evicted session is released once its last request finishes.
 */
class SessionCache {
  private readonly lru: LRUCache<string, CachedSlot>;

  constructor(max: number) {
    this.lru = new LRUCache<string, CachedSlot>({
      max,
      dispose: (slot) => {
        slot.evicted = true;
        if (slot.inflight === 0) void SessionCache.release(slot);
      },
    });
  }

  private static async release(slot: CachedSlot): Promise<void> {
    if (slot.released) return;
    slot.released = true;
    await slot.session.then((s) => s.release()).catch(() => undefined);
  }

  /** Runs `fn` on the session cached under `key`, loading it with `load` when absent. */
  async use<T>(
    key: string,
    load: () => Promise<OnnxModelSession>,
    fn: (s: OnnxModelSession) => Promise<T>,
  ): Promise<T> {
    let slot = this.lru.get(key);
    if (!slot) {
      const fresh: CachedSlot = { session: load(), inflight: 0, evicted: false, released: false };
      fresh.session.catch(() => this.lru.peek(key) === fresh && this.lru.delete(key));
      this.lru.set(key, fresh);
      slot = fresh;
    }
    slot.inflight++;
    try {
      return await fn(await slot.session);
    } finally {
      slot.inflight--;
      if (slot.evicted && slot.inflight === 0) void SessionCache.release(slot);
    }
  }

  /** Releases every idle session (busy ones when their last request finishes). */
  async close(): Promise<void> {
    const idle = [...this.lru.values()].filter((s) => s.inflight === 0);
    this.lru.clear();
    await Promise.all(idle.map((s) => SessionCache.release(s)));
  }
}

/** What the OIP routes use. */
export type OipRoutesOptions = Pick<
  ModelsApiDeps,
  'registry' | 'served' | 'maxLoadedVersions' | 'maxInferRows'
>;

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

/** Registers the OIP v2 routes. */
export const oipRoutes: RoutePlugin<OipRoutesOptions> = async (app, deps) => {
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
    const loadAndRun = (): Promise<T> =>
      cache.use(
        `${name}@${wanted}`,
        async () => {
          const r = await registry.resolve(name, wanted);
          return OnnxModelSession.fromBuffer(r.onnx, { label: r.label });
        },
        (s) => fn(s, wanted),
      );
    if (champion && champion.current.version === wanted)
      return champion.use((m) => (m.version === wanted ? fn(m.session, wanted) : loadAndRun()));
    return loadAndRun();
  };

  const metadata = async (
    name: string,
    version: string | undefined,
  ): Promise<Static<typeof ModelMetadataResponse>> => {
    const versions = await versionsOf(name);
    const champion = deps.served().get(name);
    let card: ModelCard;
    if (version !== undefined) card = await registry.card(name, version);
    else if (champion) card = champion.current.card;
    else card = await registry.card(name, 'champion').catch(() => registry.card(name, versions.at(-1)!));
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
        operationId: 'oipServerLive',
        summary: 'OIP v2 server liveness',
        response: { 200: Type.Object({ live: Type.Boolean() }), ...problemResponses(PROTECTED) },
      },
    },
    async () => ({ live: true }),
  );
  app.get(
    '/v2/health/ready',
    {
      ...oip,
      schema: {
        operationId: 'oipServerReady',
        summary: 'OIP v2 server readiness (the model registry can be read)',
        response: { 200: Type.Object({ ready: Type.Boolean() }), ...problemResponses(PROTECTED) },
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
    const ofWhich = versioned ? 'Version' : 'Champion';
    app.get(
      base,
      {
        ...oip,
        schema: {
          operationId: `oipModel${ofWhich}Metadata`,
          summary: `OIP v2 metadata of ${which}`,
          params,
          response: { 200: ModelMetadataResponse, ...problemResponses(PROTECTED, 404) },
        },
      },
      async (req) => metadata(req.params.name, v(req.params as { version?: string })),
    );
    app.get(
      `${base}/ready`,
      {
        ...oip,
        schema: {
          operationId: `oipModel${ofWhich}Ready`,
          summary: `OIP v2 readiness of ${which} (loads it when not loaded)`,
          params,
          response: { 200: Ready, ...problemResponses(PROTECTED, 404) },
        },
      },
      async (req) => ready(req.params.name, v(req.params as { version?: string })),
    );
    app.post(
      `${base}/infer`,
      {
        ...oip,
        schema: {
          operationId: `oipModel${ofWhich}Infer`,
          summary: `OIP v2 inference with ${which}`,
          description:
            'One input, features: datatype FP32, shape [N, F], data flat (row-major) or one array per row. ' +
            'Outputs logit and probability, FP32 [N, 1] (select with outputs[].name). id is echoed.',
          params,
          body: InferRequest,
          response: { 200: InferResponse, ...problemResponses(PROTECTED, WITH_BODY, 404) },
        },
      },
      async (req) => infer(req.params.name, v(req.params as { version?: string }), req.body),
    );
  }
};
