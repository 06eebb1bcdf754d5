/**
 * Model monitoring end to end on both engines, with the shipped champions served: drift of a
 * shifted stream, a shadow challenger compared on labelled invoices (checked against a hand
 * computation), the audit sample and its error estimate, and the promotion gate.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { generateBenchmark } from '../datasets/benchmark/generator.js';
import { wireModelsApi } from '../bin/models-api.js';
import { registerBenchmarkVendors } from '../bin/service-detector.js';
import { shippedModelsDir } from '../bin/models-dir.js';
import { ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import type { ModelCardDraft, TrainedModelSpec } from '../models/spec.js';
import type { DriftReport } from '../monitoring/drift.js';
import type { ShadowComparison } from '../monitoring/shadow.js';
import { clopperPearson } from '../monitoring/stats.js';
import { exportOnnx } from '../training/onnx-export.js';
import { assembleTask } from '../training/assemble.js';
import { loadBenchmark } from '../training/benchmark.js';
import { createFeatureProvider } from '../training/provider.js';
import { runReference } from '../training/reference.js';
import { writeReference, type ReferenceHistograms } from '../monitoring/reference.js';
import { assertModelSpec } from '../models/spec.js';
import { engines } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

/** The shipped coding champion's version: this test's champion, with a challenger registered after it. */
const CHAMPION = (
  JSON.parse(readFileSync(join(shippedModelsDir(), 'coding-mismatch', 'aliases.json'), 'utf8')) as {
    champion: string;
  }
).champion;
const CHALLENGER = String(Number(CHAMPION) + 1);
const PRICE_FEATURES = new Set(['unit_price_fee_log_ratio', 'unit_price_log1p']);
/** Invoices per stream: every other one of the benchmark's valid split (the reference's rows), in order. */
const STREAM = 64;

const tmp: string[] = [];
let stream: Invoice[] = [];
let benchDir = '';
let reference: ReferenceHistograms;

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), 'triage-mon-bench-'));
  tmp.push(out);
  await generateBenchmark({ invoices: 1000, seed: 11, out });
  benchDir = out;
  const bench = loadBenchmark(benchDir);
  const { provider } = createFeatureProvider({ bench, dataDir: benchDir, seed: 42 });
  const assembled = await assembleTask('coding-mismatch', bench, provider, {});
  const v1 = join(shippedModelsDir(), 'coding-mismatch', CHAMPION);
  const champion = assertModelSpec(JSON.parse(readFileSync(join(v1, 'spec.json'), 'utf8')));
  reference = {
    ...runReference(assembled, champion, 'test benchmark'),
    model: `coding-mismatch@${CHAMPION}`,
  };
  stream = readFileSync(join(out, 'valid.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { invoice: Invoice }).invoice)
    .filter((_, i) => i % 2 === 0)
    .slice(0, STREAM);
}, 300_000);
afterAll(() => {
  for (const d of tmp) rmSync(d, { recursive: true, force: true });
});

/** The same invoice with every unit price (and amount, total) x1.5 and its own id. */
function pricier(inv: Invoice): Invoice {
  const lines = inv.lines.map((l) => ({
    ...l,
    unit_price_cents: Math.round(l.unit_price_cents * 1.5),
    amount_cents: Math.round(l.quantity * Math.round(l.unit_price_cents * 1.5)),
  }));
  return {
    ...inv,
    invoice_id: `${inv.invoice_id}-x1.5`,
    lines,
    total_cents: lines.reduce((s, l) => s + l.amount_cents, 0),
  };
}

/** The vendor with the most lines in `invoices` (the one whose prices shift alone), and its share of lines. */
function topVendor(invoices: readonly Invoice[]): { id: string; share: number } {
  const lines = new Map<string, number>();
  for (const inv of invoices) lines.set(inv.vendor.id, (lines.get(inv.vendor.id) ?? 0) + inv.lines.length);
  const total = [...lines.values()].reduce((a, b) => a + b, 0);
  const [id, n] = [...lines.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]!;
  return { id, share: n / total };
}

/**
 * A registry copy with version 2 of coding-mismatch (the champion's network on shifted inputs),
 * and the champion's reference histograms rebuilt, as `npm run drift:reference` builds them, from
 * the train split of the test's own small benchmark: the live stream (its test split) then comes
 * from the distribution the reference describes.
 */
function registryWithChallenger(): { dir: string; register: () => Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), 'triage-mon-models-'));
  tmp.push(dir);
  cpSync(shippedModelsDir(), dir, { recursive: true });
  // The test's world: the shipped champion and a challenger registered here after it (the
  // shipped registry's other versions are left out).
  const codingDir = join(dir, 'coding-mismatch');
  for (const v of readdirSync(codingDir))
    if (/^\d+$/.test(v) && v !== CHAMPION) rmSync(join(codingDir, v), { recursive: true });
  writeFileSync(
    join(codingDir, 'aliases.json'),
    JSON.stringify({ champion: CHAMPION, challenger: null, history: [] }, null, 2),
  );
  const v1 = join(codingDir, CHAMPION);
  return {
    dir,
    register: async () => {
      writeReference(v1, reference);
      const spec = JSON.parse(readFileSync(join(v1, 'spec.json'), 'utf8')) as TrainedModelSpec;
      const i = spec.featureNames.indexOf('unit_price_fee_log_ratio');
      spec.standardise.mean[i] = spec.standardise.mean[i]! - 0.5;
      const card = JSON.parse(readFileSync(join(v1, 'card.json'), 'utf8')) as { training: ModelCardDraft };
      const registry = new ModelRegistry({ root: dir, featureSchemas: servedFeatureSchemas() });
      await registry.register('coding-mismatch', {
        onnx: exportOnnx(spec),
        spec,
        card: card.training,
        files: { 'line-context.json': readFileSync(join(v1, 'line-context.json')) },
      });
    },
  };
}

for (const engine of engines('monitoring')) {
  describe(`model monitoring (${engine.name})`, () => {
    let h: Harness;
    const decisions: DecisionResponse[] = [];
    const labels = new Map<string, 0 | 1>();

    beforeAll(async () => {
      const reg = registryWithChallenger();
      await reg.register();
      h = await startHarness(engine.config(), {
        wire: {
          models: { dir: reg.dir, reloadMs: null },
          monitoring: { flushMs: 0, minShadowLabelled: 1000 },
        },
        app: (w) => ({
          models: {
            ...wireModelsApi({ registry: w.registry!, repo: w.repo }),
            beforePromote: (t, n, v) => w.monitoring.checkPromotion(t, n, v),
          },
          monitoring: { monitoring: w.monitoring, store: w.monitoringStore, defaultAuditRate: 0.02 },
        }),
      });
      // Both tenants hold the benchmark's vendor master, as the champions' training data did.
      await registerBenchmarkVendors(h.wired.repo, benchDir, 'default');
      await registerBenchmarkVendors(h.wired.repo, benchDir, 'other');
      // Tenant default: every AUTO_APPROVE in the audit sample, challenger 2 in shadow.
      const put = await h.call('admin', {
        method: 'PUT',
        url: '/v1/audit-sample/policy',
        payload: { rate: 1, seed: 'test-seed' },
      });
      expect(put.statusCode, put.body).toBe(200);
      const shadow = await h.call('ds', {
        method: 'PUT',
        url: '/v1/models/coding-mismatch/shadow',
        payload: { version: CHALLENGER },
      });
      expect(shadow.statusCode, shadow.body).toBe(200);
      // Before any shadowed invoice the comparison names the serving champion, with empty counts.
      const empty = await h.call('ds', { method: 'GET', url: '/v1/models/coding-mismatch/shadow' });
      expect(empty.statusCode, empty.body).toBe(200);
      const none = empty.json<ShadowComparison>();
      expect([none.invoices, none.labelled, none.champion.model, none.challenger.model]).toEqual([
        0,
        0,
        `coding-mismatch@${CHAMPION}`,
        `coding-mismatch@${CHALLENGER}`,
      ]);
      expect([none.champion.review_load, none.agreement.all]).toEqual([null, null]);
      for (const inv of stream) decisions.push((await h.wired.scoring.score(inv, 'default')).decision);
      // Tenant other: the same invoices, prices x1.5.
      for (const inv of stream) await h.wired.scoring.score(pricier(inv), 'other');
      // Tenants vendor-base and one-vendor: a tenant whose main supplier (the stream's top vendor,
      // its invoices three times over) bills about 40% of the lines; in one-vendor that supplier's
      // prices are x1.5, every other invoice is the same.
      const top = topVendor(stream).id;
      const mainSupplier = stream.flatMap((inv) =>
        inv.vendor.id === top
          ? [0, 1, 2].map((k) =>
              k === 0
                ? inv
                : {
                    ...inv,
                    invoice_id: `${inv.invoice_id}-r${k}`,
                    invoice_number: `${inv.invoice_number}-R${k}`,
                  },
            )
          : [inv],
      );
      for (const tenant of ['vendor-base', 'one-vendor']) {
        await registerBenchmarkVendors(h.wired.repo, benchDir, tenant);
        for (const inv of mainSupplier)
          await h.wired.scoring.score(
            tenant === 'one-vendor' && inv.vendor.id === top ? pricier(inv) : inv,
            tenant,
          );
      }
      await h.wired.monitoring.idle();
      // Labels: reviewers close every flagged invoice (confirmed when a line scored above 0.5),
      // and the audit sample's first 12 auto-approved ones (the third found to be an exception).
      let audited = 0;
      for (const d of decisions) {
        let y: 0 | 1;
        if (d.decision !== 'AUTO_APPROVE') y = d.scores.coding_mismatch > 0.5 ? 1 : 0;
        else if (audited++ < 12) y = audited === 3 ? 1 : 0;
        else continue;
        const r = await h.call('reviewer', {
          method: 'POST',
          url: '/v1/reviews',
          payload: {
            decision_id: d.decision_id,
            outcome: y ? 'confirmed' : 'false_positive',
            task: 'coding-mismatch',
            idempotency_key: `label-${d.decision_id}`,
          },
        });
        expect(r.statusCode, r.body).toBeLessThan(300);
        labels.set(d.decision_id, y);
      }
    }, 600_000);
    afterAll(async () => {
      await h?.close();
      await h?.wired.closeModels();
    });

    const drift = async (key: 'ds' | 'other_auditor'): Promise<DriftReport> => {
      const r = await h.call(key, { method: 'GET', url: '/v1/models/coding-mismatch/drift?hours=24' });
      expect(r.statusCode, r.body).toBe(200);
      return r.json<DriftReport>();
    };

    it('drift: prices x1.5 cross the PSI drift threshold of the price features; the other features stay as they were', async () => {
      const base = await drift('ds');
      const shifted = await drift('other_auditor');
      expect(base.model).toBe(`coding-mismatch@${CHAMPION}`);
      expect(shifted.rows).toBe(base.rows);
      expect(base.rows).toBeGreaterThan(100);
      const of = (r: DriftReport, f: string) => r.features.find((x) => x.feature === f)!;
      console.log(
        JSON.stringify([
          base.rows,
          base.score,
          ...base.features.map((f) => [f.feature, f.psi, f.status, of(shifted, f.feature).psi]),
        ]),
      );
      const ratio = of(shifted, 'unit_price_fee_log_ratio');
      expect(ratio.statistic).toBe('psi');
      expect(ratio.psi!).toBeGreaterThanOrEqual(0.25);
      expect(ratio.status).toBe('drift');
      expect(of(base, 'unit_price_fee_log_ratio').psi!).toBeLessThan(0.1);
      expect(of(base, 'unit_price_fee_log_ratio').status).toBe('ok');
      for (const f of base.features.filter((x) => !PRICE_FEATURES.has(x.feature))) {
        const s = of(shifted, f.feature);
        expect(s.psi, f.feature).toBe(f.psi);
        expect(s.status, f.feature).toBe(f.status);
      }
      const unaffected = base.features.filter((x) => !PRICE_FEATURES.has(x.feature));
      const ok = unaffected.filter((x) => x.status === 'ok' || x.status === 'insufficient_data');
      expect(ok.length / unaffected.length).toBeGreaterThanOrEqual(0.9);
      expect(shifted.status).toBe('drift');
    });

    it('drift: prices x1.5 for ONE vendor (the main supplier) cross the PSI drift threshold of the price feature; the other features stay as they were', async () => {
      const base = await h.wired.monitoring.drift('vendor-base', 'coding-mismatch', { hours: 24 });
      const one = await h.wired.monitoring.drift('one-vendor', 'coding-mismatch', { hours: 24 });
      const of = (r: DriftReport, f: string) => r.features.find((x) => x.feature === f)!;
      const lines = (id: string | null) =>
        stream
          .filter((i) => id === null || i.vendor.id === id)
          .reduce((n, i) => n + i.lines.length * (i.vendor.id === topVendor(stream).id ? 3 : 1), 0);
      const share = lines(topVendor(stream).id) / lines(null);
      console.log(
        JSON.stringify({
          share,
          rows: one.rows,
          price: [...PRICE_FEATURES].map((f) => [f, of(base, f).psi, of(one, f).psi, of(one, f).status]),
        }),
      );
      expect(share).toBeGreaterThan(0.3);
      expect(share).toBeLessThan(0.5);
      expect(one.rows).toBe(base.rows);
      const ratio = of(one, 'unit_price_fee_log_ratio');
      expect(of(base, 'unit_price_fee_log_ratio').status).not.toBe('drift');
      expect(ratio.statistic).toBe('psi');
      expect(ratio.psi!).toBeGreaterThanOrEqual(0.25);
      expect(ratio.status).toBe('drift');
      for (const f of base.features.filter((x) => !PRICE_FEATURES.has(x.feature))) {
        const s = of(one, f.feature);
        expect(s.psi, f.feature).toBe(f.psi);
        expect(s.status, f.feature).toBe(f.status);
      }
      expect(one.score.psi).not.toBe(base.score.psi);
    });

    it('shadow: the comparison matches a hand computation from the stored scores and the labels', async () => {
      const r = await h.call('ds', { method: 'GET', url: '/v1/models/coding-mismatch/shadow' });
      expect(r.statusCode, r.body).toBe(200);
      const c = r.json<ShadowComparison>();
      const rows = await h.wired.db.query<{
        decision_id: string;
        champion_score: number;
        challenger_score: number;
      }>(
        `SELECT decision_id, champion_score, challenger_score FROM shadow_scores s
         JOIN shadow_assignments a ON a.id = s.assignment_id WHERE a.tenant_id = 'default'`,
      );
      expect(rows.length).toBe(STREAM);
      expect(c.invoices).toBe(STREAM);
      // The champion side is the decision's own coding score (max over lines).
      for (const d of decisions) {
        const row = rows.find((x) => x.decision_id === d.decision_id)!;
        expect(Number(row.champion_score)).toBeCloseTo(d.scores.coding_mismatch, 3);
      }
      const cards = {
        champion: JSON.parse(
          readFileSync(join(shippedModelsDir(), 'coding-mismatch', CHAMPION, 'card.json'), 'utf8'),
        ).thresholds as { autoApprove: number; hold: number },
      };
      const t = cards.champion; // version 2 has the same card thresholds
      const lab = rows
        .filter((x) => labels.has(x.decision_id))
        .map((x) => ({
          a: Number(x.champion_score),
          b: Number(x.challenger_score),
          y: labels.get(x.decision_id)!,
        }));
      expect(c.labelled).toBe(lab.length);
      expect(c.positives).toBe(lab.filter((x) => x.y === 1).length);
      // AUC by counting every (positive, negative) pair
      const auc = (s: 'a' | 'b') => {
        let w = 0;
        let n = 0;
        for (const p of lab.filter((x) => x.y === 1))
          for (const q of lab.filter((x) => x.y === 0)) {
            n++;
            w += p[s] > q[s] ? 1 : p[s] === q[s] ? 0.5 : 0;
          }
        return w / n;
      };
      const pr = (s: 'a' | 'b', flag: (x: number) => boolean) => {
        const f = lab.filter((x) => flag(x[s]));
        const tp = f.filter((x) => x.y === 1).length;
        return {
          precision: f.length ? tp / f.length : null,
          recall: tp / lab.filter((x) => x.y === 1).length,
        };
      };
      const route = (x: number) => (x >= t.hold ? 'hold' : x > t.autoApprove ? 'review' : 'approve');
      for (const [side, s] of [
        ['champion', 'a'],
        ['challenger', 'b'],
      ] as const) {
        expect(c[side].roc_auc!).toBeCloseTo(auc(s), 5);
        const rv = pr(s, (x) => x > t.autoApprove);
        const hd = pr(s, (x) => x >= t.hold);
        expect(c[side].at_review.precision!).toBeCloseTo(rv.precision!, 5);
        expect(c[side].at_review.recall!).toBeCloseTo(rv.recall, 5);
        expect(c[side].at_hold.recall!).toBeCloseTo(hd.recall, 5);
        const load = rows.filter(
          (x) => Number(s === 'a' ? x.champion_score : x.challenger_score) > t.autoApprove,
        ).length;
        expect(c[side].review_load!).toBeCloseTo(load / rows.length, 5);
      }
      const agree = rows.filter(
        (x) => route(Number(x.champion_score)) === route(Number(x.challenger_score)),
      ).length;
      expect(c.agreement.all!).toBeCloseTo(agree / rows.length, 5);
      expect(c.agreement.labelled!).toBeCloseTo(
        lab.filter((x) => route(x.a) === route(x.b)).length / lab.length,
        5,
      );
      // the challenger differs from the champion (else the comparison would be vacuous)
      expect(rows.some((x) => Number(x.champion_score) !== Number(x.challenger_score))).toBe(true);
      expect(c.promotion).toEqual({ min_labelled: 1000, ready: false });
    });

    it('refuses to shadow the serving champion itself; schema errors carry the central body code', async () => {
      const put = (url: string, payload: unknown, key: 'ds' | 'admin' = 'ds') =>
        h.call(key, { method: 'PUT', url, payload: payload as Record<string, unknown> });
      expect(await put('/v1/models/coding-mismatch/shadow', { version: CHAMPION })).toBeProblem(
        409,
        'TRIAGE_SHADOW_IS_CHAMPION',
        '/version',
      );
      expect(await put('/v1/models/coding-mismatch/shadow', { version: 'latest' })).toBeProblem(
        400,
        'TRIAGE_INPUT_INVALID',
        '/version',
      );
      expect(await put('/v1/audit-sample/policy', { rate: 2 }, 'admin')).toBeProblem(
        400,
        'TRIAGE_INPUT_INVALID',
        '/rate',
      );
      // the challenger's shadow is still the active one
      expect((await h.wired.monitoringStore.activeShadow('default', 'coding-mismatch'))?.version).toBe(
        CHALLENGER,
      );
    });

    it('shadow of an unknown model: 404 TRIAGE_MODEL_NOT_FOUND naming the registered models, as drift says it', async () => {
      const detailOf = async (method: 'GET' | 'DELETE', url: string) => {
        const r = await h.call(method === 'GET' ? 'auditor' : 'ds', { method, url });
        expect(r.statusCode).toBe(404);
        const body = r.json<{ code: string; detail: string }>();
        expect(body.code).toBe('TRIAGE_MODEL_NOT_FOUND');
        return body.detail;
      };
      const drift = await detailOf('GET', '/v1/models/nosuch/drift');
      expect(drift).toMatch(/^No model named nosuch \(registered: .*coding-mismatch/);
      expect(await detailOf('GET', '/v1/models/nosuch/shadow')).toBe(drift);
      expect(await detailOf('DELETE', '/v1/models/nosuch/shadow')).toBe(drift);
    });

    it('promotion: refused with 409 problem+json while the shadow record is below the policy minimum', async () => {
      const r = await h.call('ds', {
        method: 'POST',
        url: '/v1/models/coding-mismatch/promote',
        payload: { version: CHALLENGER, reason: 'shadow check' },
      });
      expect(r.statusCode).toBe(409);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json<{ code: string }>().code).toBe('TRIAGE_SHADOW_RECORD_INSUFFICIENT');
      const audit = await h.call('auditor', {
        method: 'GET',
        url: `/v1/audit?subject_id=${encodeURIComponent(`coding-mismatch@${CHALLENGER}`)}`,
      });
      expect(audit.json<{ items: { kind: string }[] }>().items.map((i) => i.kind)).toContain(
        'model.shadow_started',
      );
    });

    it('audit sample: every AUTO_APPROVE drawn at rate 1, recorded in its audit entry; the estimate is errors / reviewed with its Clopper-Pearson interval', async () => {
      const approved = decisions.filter((d) => d.decision === 'AUTO_APPROVE');
      expect(approved.length).toBeGreaterThan(12);
      const q = await h.call('reviewer', { method: 'GET', url: '/v1/audit-sample?limit=500' });
      expect(q.statusCode, q.body).toBe(200);
      const queue = q.json<{
        queue: string;
        total: number;
        items: { decision_id: string; reviewed: boolean }[];
      }>();
      expect(queue.queue).toBe('audit-sample');
      expect(queue.items.map((i) => i.decision_id).sort()).toEqual(approved.map((d) => d.decision_id).sort());
      expect(queue.items.filter((i) => i.reviewed)).toHaveLength(12);
      const open = await h.call('reviewer', { method: 'GET', url: '/v1/audit-sample?open=true&limit=500' });
      expect(open.json<{ total: number }>().total).toBe(approved.length - 12);
      const entry = await h.call('auditor', {
        method: 'GET',
        url: `/v1/audit?subject_id=${approved[0]!.decision_id}`,
      });
      const payload = entry.json<{ items: { kind: string; payload: Record<string, unknown> }[] }>().items[0]!
        .payload;
      expect(payload.audit_sample).toMatchObject({ sampled: true, rate: 1, policy_version: 2 });
      // Not in the other tenant (default rate 0.02 there, on other invoices)
      const mine = await h.call('other_reviewer', { method: 'GET', url: '/v1/audit-sample?limit=500' });
      for (const i of mine.json<{ items: { decision_id: string }[] }>().items)
        expect(approved.map((d) => d.decision_id)).not.toContain(i.decision_id);

      const r = await h.call('ds', { method: 'GET', url: '/v1/metrics/auto-approve-error' });
      expect(r.statusCode, r.body).toBe(200);
      const e = r.json<{
        sampled: number;
        reviewed: number;
        errors: number;
        estimate: number;
        interval: { lower: number; upper: number; method: string };
        certified_bound: number;
        alert: boolean;
      }>();
      expect(e).toMatchObject({ sampled: approved.length, reviewed: 12, errors: 1, alert: false });
      expect(e.estimate).toBeCloseTo(1 / 12, 12);
      const ci = clopperPearson(1, 12);
      expect(e.interval.method).toBe('clopper-pearson');
      expect(e.interval.lower).toBeCloseTo(ci.lower, 12);
      expect(e.interval.upper).toBeCloseTo(ci.upper, 12);
      expect(e.certified_bound).toBeCloseTo(0.01, 12); // 0.005 + 0.005 from the two cards
      const metrics = await h.wired.monitoring.autoApproveError('default');
      expect(metrics.by_model[`coding-mismatch@${CHAMPION}`]!.errors).toBe(1);
    });
  });
}
