/** Unit tests of the Prometheus instruments (no store, no Redis). */
import Fastify from 'fastify';
import { Gauge } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import type { ScoringService } from '../inference/pipeline.js';
import { createInProcessQueue, type JobQueue } from '../jobs/index.js';
import { installAuth } from './auth.js';
import { createMetrics, instrumentScoring, serveMetrics, tenantExposition } from './metrics.js';
import { metricsRoutes } from './routes/metrics.js';

const decision = (kind: DecisionResponse['decision'], queue?: DecisionResponse['queue']) =>
  ({ decision: kind, ...(queue ? { queue } : {}) }) as DecisionResponse;

describe('metrics', () => {
  it('reports queue depth per state and queue_up on the first scrape', async () => {
    const q = createInProcessQueue({
      autorun: false,
      processors: {
        'score-batch': async () => ({ scored: 0, replayed: 0, failed: 0, skipped: 0 }),
        retrain: async () => ({ task: 'duplicate', version: 'x', metrics: {} }),
      },
    });
    for (let i = 0; i < 3; i++) await q.add('score-batch', { tenantId: 't', batchId: `b${i}`, chunk: 0 });
    const m = createMetrics({ processMetrics: false });
    m.watchQueue(q);
    const text = await m.registry.metrics();
    expect(text).toContain('invoice_triage_queue_up 1');
    expect(text).toContain('invoice_triage_queue_jobs{queue="score-batch",state="waiting"} 3');
    expect(text).toContain('invoice_triage_queue_jobs{queue="retrain",state="waiting"} 0');
    await q.close();
  });

  it('reports queue_up 0 and no depth when the queue does not answer in time', async () => {
    const hung = { counts: () => new Promise(() => undefined) } as unknown as JobQueue;
    const m = createMetrics({ processMetrics: false });
    m.watchQueue(hung, 50);
    const text = await m.registry.metrics();
    expect(text).toContain('invoice_triage_queue_up 0');
    expect(text).not.toMatch(/invoice_triage_queue_jobs\{/);
  });

  it('follows the scorer versions in use, scrape by scrape', async () => {
    const m = createMetrics({ processMetrics: false });
    let models: Record<string, string> = { 'coding-mismatch': 'coding@1', duplicate: 'dup@1' };
    m.watchModels(() => models);
    expect(await m.registry.metrics()).toContain(
      'invoice_triage_model_info{task="coding-mismatch",version="coding@1"} 1',
    );
    models = { 'coding-mismatch': 'coding@2', duplicate: 'dup@1' };
    const text = await m.registry.metrics();
    expect(text).toContain('invoice_triage_model_info{task="coding-mismatch",version="coding@2"} 1');
    expect(text).not.toContain('version="coding@1"');
  });

  it('counts new decisions by kind, queue and source, not replays', async () => {
    const m = createMetrics({ processMetrics: false });
    const outcomes = [
      { decision: decision('REVIEW', 'coding'), created: true },
      { decision: decision('AUTO_APPROVE'), created: true },
      { decision: decision('REVIEW', 'coding'), created: false },
    ];
    const fake = { versions: {}, getDecision: async () => null, score: async () => outcomes.shift()! };
    const scoring = instrumentScoring(fake as unknown as ScoringService, m, 'api');
    for (let i = 0; i < 3; i++) await scoring.score({} as never);
    const text = await m.registry.metrics();
    expect(text).toContain('invoice_triage_decisions_total{decision="REVIEW",queue="coding",source="api"} 1');
    expect(text).toContain(
      'invoice_triage_decisions_total{decision="AUTO_APPROVE",queue="none",source="api"} 1',
    );
  });

  it('serves the registry on a private listener, /metrics only', async () => {
    const m = createMetrics();
    const l = await serveMetrics(m.registry, 0);
    try {
      const ok = await fetch(`${l.address}/metrics`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('invoice_triage_process_cpu_seconds_total');
      expect((await fetch(`${l.address}/`)).status).toBe(404);
      expect((await fetch(`${l.address}/metrics`, { method: 'POST' })).status).toBe(404);
    } finally {
      await l.close();
    }
  });

  /** A registry with a per-tenant gauge set for `tenants` (value i + 1 for the i-th). */
  function withTenantGauge(tenants: string[]) {
    const m = createMetrics({ processMetrics: false });
    const g = new Gauge({
      name: 'invoice_triage_drift_status',
      help: 'per tenant',
      labelNames: ['tenant', 'model'] as const,
      registers: [m.registry],
    });
    tenants.forEach((t, i) => g.set({ model: 'm@1', tenant: t }, i + 1));
    m.decisions.inc({ decision: 'HOLD', queue: 'coding', source: 'api' });
    return m;
  }

  it("leaves out the series labelled with another tenant, whatever the tenant id's characters", async () => {
    const tenants = ['default', 'def', 'a"b\\c\nd', 'other'];
    const text = await withTenantGauge(tenants).registry.metrics();
    for (const own of tenants) {
      const mine = tenantExposition(text, own);
      const samples = mine.split('\n').filter((l) => l.startsWith('invoice_triage_drift_status'));
      expect(samples, own).toEqual([
        `invoice_triage_drift_status{model="m@1",tenant="${own
          .replace(/\\/g, '\\\\')
          .replace(/\n/g, '\\n')
          .replace(/"/g, '\\"')}"} ${tenants.indexOf(own) + 1}`,
      ]);
      expect(mine).toContain('invoice_triage_decisions_total{decision="HOLD",queue="coding",source="api"} 1');
      expect(mine).toContain('# TYPE invoice_triage_drift_status gauge');
    }
  });

  it("GET /metrics answers an admin key with its own tenant's series only", async () => {
    const m = withTenantGauge(['default', 'other']);
    const app = Fastify();
    installAuth(app, {
      authenticate: async (key) =>
        key === 'other-admin' ? { keyId: 'k1', tenantId: 'other', roles: ['admin'] } : null,
    });
    await app.register(metricsRoutes, { metrics: m });
    try {
      const res = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer other-admin' } });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('invoice_triage_drift_status{model="m@1",tenant="other"} 2');
      expect(res.body).not.toContain('tenant="default"');
      expect(await m.registry.metrics()).toContain('tenant="default"');
    } finally {
      await app.close();
    }
  });
});
