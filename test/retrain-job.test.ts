/**
 * The retrain job end to end, in-process (no Redis): a seeded benchmark of a few hundred
 * invoices is generated, the coding-mismatch model trained for two epochs with the real
 * feature provider, exported, checked in ONNX Runtime and registered as challenger (never
 * champion), with progress, the tenant's label source consulted and the registration audited
 * (first: an audit that fails registers nothing);
 * a retrain follows the served champion's recipe (a monotone pair champion, a monotone challenger);
 * the training runs in a worker thread, so the server answers /healthz within 200 ms meanwhile.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import { lazyRetrain, serviceRegistry, wireModelsApi } from '../bin/models-api.js';
import { createInProcessQueue, createProcessors, type InProcessQueue } from '../jobs/index.js';
import type { BatchRepository } from '../store/batches.js';
import type { ModelRegistry, RegistryEvent } from '../models/registry.js';
import { shippedModelsDir } from '../bin/bootstrap.js';
import { championRecipe, recordedTrainOptions } from '../training/reproduce-args.js';
import { createRetrain } from '../training/retrain-job.js';
import { makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

describe('retrain job', () => {
  let root: string;
  let registry: ModelRegistry;
  let queue: InProcessQueue;
  const audited: { event: RegistryEvent; actor: string | null; tenant: string }[] = [];
  const labelTenants: string[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'retrain-job-'));
    registry = serviceRegistry(root);
  });
  afterAll(async () => {
    await queue?.close();
    await rm(root, { recursive: true, force: true });
  });

  const train = () =>
    createRetrain({
      registry,
      generatedInvoices: 300,
      generatedRatesScale: 4,
      epochs: 2,
      labels: (tenant) => {
        labelTenants.push(tenant);
        return { listLabels: async () => [] };
      },
      audit: async (event, actor, tenant) => void audited.push({ event, actor, tenant }),
    });

  it('trains on a generated benchmark and registers a challenger, reporting progress', async () => {
    const progress: number[] = [];
    const r = await train()(
      { tenantId: 'default', task: 'coding-mismatch', seed: 3, requestedBy: 'key-1' },
      { updateProgress: async (p) => void progress.push(p) },
    );
    expect(r.task).toBe('coding-mismatch');
    expect(r.version).toBe('coding-mismatch@1');
    expect(r.metrics.pr_auc).toBeGreaterThanOrEqual(0);
    expect(r.metrics.pr_auc).toBeLessThanOrEqual(1);
    expect(Object.keys(r.metrics)).toEqual(expect.arrayContaining(['line_roc_auc', 'invoice_pr_auc']));
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(100);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.length).toBeGreaterThan(4);
    expect(await registry.aliases('coding-mismatch')).toMatchObject({ champion: null, challenger: '1' });
    const card = await registry.card('coding-mismatch', '1');
    expect(card).toMatchObject({
      source: 'trained',
      seed: 3,
      history: [{ action: 'registered', actor: 'key-1' }],
    });
    expect(card.artefacts.files).toHaveProperty(['line-context.json']);
    expect(labelTenants).toEqual(['default']);
    expect(audited).toEqual([
      {
        event: expect.objectContaining({ type: 'model.registered', name: 'coding-mismatch', version: '1' }),
        actor: 'key-1',
        tenant: 'default',
      },
    ]);
  }, 60_000);

  it('registers nothing when the audit entry cannot be written (the audit comes first)', async () => {
    const own = await mkdtemp(join(tmpdir(), 'retrain-unaudited-'));
    try {
      const unaudited = serviceRegistry(own);
      const failing = createRetrain({
        registry: unaudited,
        generatedInvoices: 300,
        generatedRatesScale: 4,
        epochs: 1,
        labels: () => ({ listLabels: async () => [] }),
        audit: async () => {
          throw new Error('audit store unavailable');
        },
      });
      await expect(
        failing(
          { tenantId: 'default', task: 'coding-mismatch', seed: 5, requestedBy: 'key-1' },
          { updateProgress: async () => undefined },
        ),
      ).rejects.toMatchObject({
        code: 'TRIAGE_INTERNAL',
        message: 'coding-mismatch@1 was not registered: its audit entry could not be written',
      });
      expect(await unaudited.versions('coding-mismatch')).toEqual([]);
      expect(await unaudited.aliases('coding-mismatch')).toMatchObject({ challenger: null });
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  }, 60_000);

  it('runs as the retrain job of the in-process queue and never touches the champion', async () => {
    await registry.promote('coding-mismatch', '1', { actor: 'test' });
    queue = createInProcessQueue({
      processors: createProcessors({
        scoring: { score: () => Promise.reject(new Error('not used')) },
        batches: {} as BatchRepository,
        train: train(),
      }),
      jobOptions: { attempts: 1 },
    });
    const id = await queue.add('retrain', { tenantId: 'acme', task: 'coding-mismatch', seed: 4 });
    await queue.drained();
    const job = await queue.getJob('retrain', id);
    expect(job).toMatchObject({
      state: 'completed',
      progress: 100,
      data: { tenantId: 'acme' },
      result: { task: 'coding-mismatch', version: 'coding-mismatch@2' },
    });
    expect(await registry.aliases('coding-mismatch')).toMatchObject({ champion: '1', challenger: '2' });
    expect((await registry.card('coding-mismatch', '2')).parentVersion).toBe('1');
    expect(audited.at(-1)).toMatchObject({ actor: null, tenant: 'acme', event: { version: '2' } });
  }, 60_000);

  it('runs through the API on a real store: reviewer labels used, registration audited', async () => {
    const apiRoot = await mkdtemp(join(tmpdir(), 'retrain-api-'));
    const apiRegistry = serviceRegistry(apiRoot);
    let apiQueue: InProcessQueue | undefined;
    let h: Harness | undefined;
    try {
      h = await startHarness(
        { engine: 'pglite' },
        {
          app: (wired) => {
            apiQueue = createInProcessQueue({
              processors: createProcessors({
                scoring: wired.scoring,
                batches: wired.batches,
                train: lazyRetrain({
                  registry: apiRegistry,
                  repo: wired.repo,
                  tuning: { generatedInvoices: 300, generatedRatesScale: 4, epochs: 2 },
                }),
              }),
              jobOptions: { attempts: 1 },
            });
            return { models: wireModelsApi({ registry: apiRegistry, repo: wired.repo, queue: apiQueue }) };
          },
        },
      );
      // A reviewer's label: line 2 bills E0570 (nebulizer) for a wheelchair; corrected to K0001.
      const inv = makeInvoice({ invoice_id: 'lbl-1' });
      inv.lines[1] = { ...inv.lines[1]!, description: 'Standard wheelchair, fixed full length arms' };
      const d = (
        await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: inv })
      ).json<DecisionResponse>();
      const rev = await h.call('reviewer', {
        method: 'POST',
        url: '/v1/reviews',
        payload: {
          decision_id: d.decision_id,
          outcome: 'corrected_code',
          line_number: 2,
          corrected_code: { system: 'HCPCS', value: 'K0001' },
          idempotency_key: 'retrain-label-1',
        },
      });
      expect(rev.statusCode, rev.body).toBe(201);
      const reviewId = rev.json<{ review_id: string }>().review_id;
      const res = await h.call('ds', {
        method: 'POST',
        url: '/v1/models/coding-mismatch/train',
        payload: { seed: 5, label_sources: ['reviewer', 'erp'], label_weights: { reviewer: 2 } },
      });
      expect(res.statusCode).toBe(202);
      // Training runs in a worker thread: the server keeps answering /healthz within 200 ms.
      let trained = false;
      const drained = apiQueue!.drained().then(() => void (trained = true));
      const waits: number[] = [];
      const lag = monitorEventLoopDelay({ resolution: 10 });
      lag.enable();
      while (!trained) {
        const t0 = performance.now();
        const hz = await h.app.inject({ method: 'GET', url: '/healthz' });
        waits.push(performance.now() - t0);
        expect(hz.statusCode).toBe(200);
        await new Promise((r) => setTimeout(r, 50));
      }
      await drained;
      lag.disable();
      // Longest stall of the event loop during the run (ns -> ms): about 7 s with the training on
      // the server's thread, under 0.4 s in the worker on a loaded 2-core machine (the ONNX check
      // and registration stay on this thread); healthz answers are the 200 ms promise.
      expect(lag.max / 1e6).toBeLessThan(1000);
      expect(waits.length).toBeGreaterThan(5);
      // 99 % within 200 ms and none past a second: a single slow answer is the shared, loaded
      // test machine descheduling the thread, not training on it (that stalls for seconds).
      const sorted = [...waits].sort((a, b) => a - b);
      const p99 = sorted[Math.floor(0.99 * (sorted.length - 1))]!;
      expect(p99, `healthz p99 of ${waits.length}`).toBeLessThan(200);
      expect(sorted.at(-1)!).toBeLessThan(1000);
      const job = await h.call('ds', { method: 'GET', url: res.headers.location as string });
      expect(job.json(), job.body).toMatchObject({
        state: 'completed',
        progress: 100,
        result: { version: 'coding-mismatch@1' },
      });
      const card = await apiRegistry.card('coding-mismatch', '1');
      expect(card.training?.labels.reviews.ids).toContain(`${reviewId}#2`);
      // the label mix: provenances admitted, and per provenance labels, rows, positives, weight
      expect(card.training?.labels.mix).toEqual({
        sources: ['reviewer', 'erp'],
        perSource: {
          reviewer: { labels: 1, rows: 1, positives: 1, weight: 2 },
          audit_sample: { labels: 0, rows: 0, positives: 0, weight: 3 },
          erp: { labels: 0, rows: 0, positives: 0, weight: 3 },
        },
      });
      expect(await apiRegistry.aliases('coding-mismatch')).toMatchObject({ champion: null, challenger: '1' });
      const audit = (
        await h.call('auditor', { method: 'GET', url: '/v1/audit?subject_id=coding-mismatch%401' })
      ).json<{ items: { kind: string; actor_key_id: string }[] }>();
      expect(audit.items).toMatchObject([{ kind: 'model.registered', actor_key_id: h.keyIds.ds }]);
      expect((await h.call('auditor', { method: 'GET', url: '/v1/audit/verify' })).json()).toMatchObject({
        ok: true,
      });
    } finally {
      await h?.close();
      await apiQueue?.close();
      await rm(apiRoot, { recursive: true, force: true });
    }
  }, 180_000);

  it("retrains with the served champion's recipe: a monotone pair champion gives a monotone challenger", async () => {
    const dupRoot = await mkdtemp(join(tmpdir(), 'retrain-recipe-'));
    try {
      const shipped = join(shippedModelsDir(), 'duplicate');
      const champion = (
        JSON.parse(await readFile(join(shipped, 'aliases.json'), 'utf8')) as { champion: string }
      ).champion;
      await cp(join(shipped, champion), join(dupRoot, 'duplicate', champion), { recursive: true });
      await writeFile(
        join(dupRoot, 'duplicate', 'aliases.json'),
        JSON.stringify({ champion, challenger: null, history: [] }),
      );
      const reg = serviceRegistry(dupRoot);
      const recipe = await championRecipe(reg, 'duplicate');
      const shippedCard = await reg.card('duplicate', 'champion');
      const { seed: _seed, ...expected } = recordedTrainOptions(shippedCard.training!);
      expect(recipe).toEqual(expected);
      expect(recipe?.architectures.every((a) => a.startsWith('monotone-'))).toBe(true);
      expect(await championRecipe(registry, 'duplicate')).toBeNull(); // no champion: the defaults
      const r = await createRetrain({
        registry: reg,
        generatedInvoices: 300,
        generatedRatesScale: 4,
        epochs: 2,
      })({ tenantId: 'default', task: 'duplicate', seed: 5 });
      const card = await reg.card('duplicate', r.version.split('@')[1]!);
      const trained = recordedTrainOptions(card.training!);
      expect(trained).toEqual({ ...expected, seed: 5 });
      expect(card.featureNames).toEqual(shippedCard.featureNames);
      expect(await reg.aliases('duplicate')).toMatchObject({ champion });
    } finally {
      await rm(dupRoot, { recursive: true, force: true });
    }
  }, 300_000);
});
