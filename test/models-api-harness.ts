/**
 * The set-up the model-route test files share (test/models-api.test.ts: management routes,
 * test/models-oip.test.ts: Open Inference Protocol v2): a temporary registry of three tiny ONNX
 * versions of {@link NAME}, its served champion, an in-process queue with a fake trainer and the
 * app on a real store, plus the calls the tests make.
 *
 * {@link useModelsApi} starts them before a suite's tests and stops them after; the exported
 * `let` bindings ({@link h}, {@link registry}, {@link champion}, {@link queue}) are live ES
 * module bindings, set by its `beforeAll`: read them inside tests only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { InjectOptions } from 'fastify';
import { wireModelsApi } from '../bin/models-api.js';
import { ChampionModel } from '../inference/onnx-champion.js';
import { createInProcessQueue, createProcessors, type InProcessQueue, type TrainFn } from '../jobs/index.js';
import { ModelRegistry } from '../models/registry.js';
import type { TrainedModelSpec } from '../models/spec.js';
import type { StoreConfig } from '../store/index.js';
import { exportOnnx } from '../training/onnx-export.js';
import { LINE_NAMES, makeCardDraft, makeEvaluation, makeSpec } from './model-fixtures.js';
import { startHarness, type Harness, type KeyName } from './harness.js';

/** The model name the registry holds. */
export const NAME = 'coding-mismatch';

/** The problem+json body of an error answer, as the tests read it. */
export interface Problem {
  code: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

/** The app and its stores (set before the suite's tests). */
export let h: Harness;
/** The temporary registry: versions 1 (PR-AUC 0.8), 2 (0.7, worse) and 3 (0.85, better). */
export let registry: ModelRegistry;
/** The served champion of {@link NAME} (reloads only when told to). */
export let champion: ChampionModel;
/** The queue of retrain jobs (run by the fake trainer). */
export let queue: InProcessQueue;
/** The spec of each registered version, by version ('1', '2', '3'). */
export const specs: Record<string, TrainedModelSpec> = {};

/** A fake trainer: reports progress and "registers" nothing (the real one has its own test). */
const fakeTrain: TrainFn = async (d, ctx) => {
  await ctx?.updateProgress(50);
  await ctx?.updateProgress(100);
  return { task: d.task, version: `${d.task}@99`, metrics: { pr_auc: 0.5 + d.seed / 1000 } };
};

/**
 * Registers the suite's `beforeAll` (registry, champion, queue, app on `cfg`) and `afterAll`
 * (closes them, removes the registry).
 * @param o.champion the version served and aliased champion at the start: '1' (default), or '2'
 *   forced over the promotion rule (the state the promotion tests of test/models-api.test.ts
 *   leave the served model in).
 */
export function useModelsApi(cfg: StoreConfig, o: { champion?: '1' | '2' } = {}): void {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'models-api-'));
    registry = new ModelRegistry({ root });
    // v1: PR-AUC 0.8 (champion), v2: 0.7 (worse, same evaluation set), v3: 0.85 (better).
    for (const [seed, prAuc] of [
      [1, 0.8],
      [2, 0.7],
      [3, 0.85],
    ] as const) {
      const spec = makeSpec({ seed });
      const r = await registry.register(NAME, {
        onnx: exportOnnx(spec),
        spec,
        card: makeCardDraft(spec, { prAuc }),
        evaluation: makeEvaluation(prAuc),
        actor: 'setup',
      });
      specs[r.version] = spec;
    }
    await registry.promote(NAME, '1', { actor: 'setup' });
    if (o.champion === '2')
      await registry.promote(NAME, '2', { actor: 'setup', force: true, reason: 'served v2 at the start' });
    champion = await ChampionModel.load(registry, NAME, {
      expected: { names: LINE_NAMES, version: 'fs-test' },
      watchIntervalMs: null,
    });
    h = await startHarness(cfg, {
      app: (wired) => {
        queue = createInProcessQueue({
          processors: createProcessors({ scoring: wired.scoring, batches: wired.batches, train: fakeTrain }),
          jobOptions: { attempts: 1 },
        });
        return {
          models: {
            ...wireModelsApi({
              registry,
              repo: wired.repo,
              queue,
              served: () => new Map([[NAME, champion]]),
            }),
            maxLoadedVersions: 1,
            maxInferRows: 100,
          },
        };
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await queue?.close();
    await champion?.close();
    await rm(root, { recursive: true, force: true });
  });
}

/** `o` sent with `key`'s bearer token (null: none). */
export const call = (key: KeyName | null, o: InjectOptions) => h.call(key, o);

/** The problem+json body of `r`. */
export const problem = (r: { json: () => unknown }) => r.json() as Problem;

/** The audit entries about `subject` (e.g. `coding-mismatch@2`), as `key` lists them. */
export const auditEntries = async (key: KeyName, subject: string) =>
  (await call(key, { method: 'GET', url: `/v1/audit?subject_id=${encodeURIComponent(subject)}` })).json<{
    items: { seq: number; kind: string; actor_key_id: string | null; payload: Record<string, unknown> }[];
  }>().items;

/** The audit chain check of `key`'s tenant. */
export const verify = async (key: KeyName) =>
  (await call(key, { method: 'GET', url: '/v1/audit/verify' })).json<{
    ok: boolean;
    first_bad_seq: number | null;
    problem: string | null;
  }>();

/** An OIP infer request to `path`. */
export const infer = (path: string, payload: unknown, key: KeyName = 'ds') =>
  call(key, { method: 'POST', url: path, payload: payload as object });

/** An OIP infer body: one `features` input of two rows of six FP32 values, `over` replacing its fields. */
export const features = (data: unknown, over: Record<string, unknown> = {}) => ({
  inputs: [{ name: 'features', datatype: 'FP32', shape: [2, 6], data, ...over }],
});
