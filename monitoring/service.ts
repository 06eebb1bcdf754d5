/**
 * Model monitoring at run time: the {@link ScoringMonitor} the scoring pipeline calls, the live
 * drift counts and their periodic flush, the shadow runner, the audit-sample estimate, the
 * promotion gate on a shadow record, and the Prometheus gauges. Routes: api/routes/monitoring.ts.
 */
import { join } from 'node:path';
import { Counter, Gauge } from 'prom-client';
import { isTriageError, TriageError } from '../core/errors.js';
import type { ModelCard } from '../models/card.js';
import type { ShadowAssignment } from '../store/monitoring.js';
import { auditSampler, estimateAutoApproveError, type AutoApproveErrorEstimate } from './audit-sample.js';
import type { CardDrift } from './card-page.js';
import { DriftAccumulator, driftReport, type DriftStatus } from './drift.js';
import type { ScoredEvent, ScoringMonitor } from './hooks.js';
import { readReference, type ReferenceHistograms } from './reference.js';
import { compareShadow, type ShadowComparison } from './shadow.js';
import { servedPairVector } from '../features/served-pair-vector.js';
import type { Monitoring, MonitoringDeps, ShadowScorer, Task } from './service-types.js';

export type { Monitoring, MonitoringDeps, ShadowScorer } from './service-types.js';

const STATUS_VALUE: Record<DriftStatus, number> = { insufficient_data: -1, ok: 0, watch: 1, drift: 2 };
/** How long a tenant's audit-sample policy is cached, ms. */
const POLICY_TTL_MS = 5_000;
/** Shadow runs queued at most; more are dropped (and counted) rather than delaying anything. */
const SHADOW_QUEUE_MAX = 1000;

/** Invoice-level score of the champion as the pipeline computed it (max over lines / pairs, 0 without any). */
export function championInvoiceScore(task: Task, e: ScoredEvent): number {
  return task === 'coding-mismatch'
    ? e.lineScores.reduce((m, l) => Math.max(m, l.score ?? 0), 0)
    : e.pairs.reduce((m, p) => Math.max(m, p.modelScore), 0);
}

/** Creates the monitoring of a service. */
export function createMonitoring(d: MonitoringDeps): Monitoring {
  const clock = d.clock ?? (() => new Date());
  const acc = new DriftAccumulator(clock);
  const minLabelled = d.minShadowLabelled ?? 0;
  const warn = d.warn ?? (() => undefined);

  // ---- reference histograms, cards ----
  const references = new Map<string, ReferenceHistograms | null>();
  function referenceOf(label: string): ReferenceHistograms | null {
    if (references.has(label)) return references.get(label)!;
    const at = label.lastIndexOf('@');
    let ref: ReferenceHistograms | null = null;
    try {
      ref = d.modelsDir ? readReference(join(d.modelsDir, label.slice(0, at), label.slice(at + 1))) : null;
    } catch (e) {
      warn(
        { model: label, err: (e as Error).message },
        'reference histograms unreadable: no drift for this model',
      );
    }
    references.set(label, ref);
    return ref;
  }
  async function cardOf(name: string, version: string): Promise<ModelCard> {
    if (!d.registry) throw new TriageError('TRIAGE_MODEL_NOT_FOUND', `no model registry: ${name}@${version}`);
    return d.registry.card(name, version);
  }

  // ---- gauges ----
  const g = d.metrics
    ? {
        psi: new Gauge({
          name: 'invoice_triage_drift_psi',
          help: 'PSI of a model input feature (or feature="score") for a tenant over the drift window',
          labelNames: ['tenant', 'model', 'feature'] as const,
          registers: [d.metrics],
        }),
        status: new Gauge({
          name: 'invoice_triage_drift_status',
          help: 'Drift status of a model for a tenant: -1 insufficient data, 0 ok, 1 watch, 2 drift',
          labelNames: ['tenant', 'model'] as const,
          registers: [d.metrics],
        }),
        aaError: new Gauge({
          name: 'invoice_triage_auto_approve_error',
          help: 'Audit-sample estimate of the production AUTO_APPROVE error rate (bound: estimate, lower, upper, certified)',
          labelNames: ['tenant', 'bound'] as const,
          registers: [d.metrics],
        }),
        aaAlert: new Gauge({
          name: 'invoice_triage_auto_approve_error_alert',
          help: '1 when the lower end of the auto-approve error interval is above the certified bound',
          labelNames: ['tenant'] as const,
          registers: [d.metrics],
        }),
        shadowDropped: new Counter({
          name: 'invoice_triage_shadow_dropped_total',
          help: 'Shadow scoring runs dropped because the shadow queue was full',
          registers: [d.metrics],
        }),
      }
    : null;

  // ---- drift ----
  function observeDrift(e: ScoredEvent): void {
    const coding = e.decision.versions.models['coding-mismatch'];
    const codingRef = coding ? referenceOf(coding) : null;
    if (coding && codingRef && e.lineScores.length > 0)
      acc.observe(
        e.tenantId,
        coding,
        codingRef,
        e.lineScores.map((l) => l.features ?? null),
        e.lineScores.map((l) => l.score),
      );
    const dup = e.decision.versions.models.duplicate;
    const dupRef = dup ? referenceOf(dup) : null;
    if (dup && dupRef && e.pairs.length > 0)
      acc.observe(
        e.tenantId,
        dup,
        dupRef,
        e.pairs.map((p) => servedPairVector(p.comparison)),
        e.pairs.map((p) => p.modelScore),
      );
  }
  let flushing: Promise<void> = Promise.resolve();
  function flush(): Promise<void> {
    flushing = flushing.then(async () => {
      const rows = acc.drain();
      try {
        await d.store.addDriftCounts(rows);
      } catch (e) {
        acc.restore(rows);
        warn(
          { err: (e as Error).message, rows: rows.length },
          'drift counts not flushed; kept for the next flush',
        );
      }
    });
    return flushing;
  }
  const timer = d.flushMs === 0 ? null : setInterval(() => void flush(), d.flushMs ?? 10_000);
  timer?.unref();

  async function drift(tenantId: string, name: string, opts: { version?: string; hours?: number } = {}) {
    if (!d.registry) throw new TriageError('TRIAGE_MODEL_NOT_FOUND', `no model registry: ${name}`);
    const card = await d.registry.card(name, opts.version ?? 'champion');
    const label = `${card.name}@${card.version}`;
    const ref = referenceOf(label);
    if (!ref)
      throw new TriageError(
        'TRIAGE_MONITORING_NO_REFERENCE',
        `${label} has no reference histograms (reference-histograms.json): drift cannot be computed`,
      );
    await flush();
    const to = clock();
    const hours = opts.hours ?? 168;
    const from = new Date(to.getTime() - hours * 3_600_000);
    const report = driftReport(ref, await d.store.driftCounts(tenantId, label, from), {
      model: label,
      tenantId,
      from,
      to,
    });
    if (g) {
      g.status.set({ tenant: tenantId, model: label }, STATUS_VALUE[report.status]);
      for (const f of [report.score, ...report.features])
        if (f.psi !== null) g.psi.set({ tenant: tenantId, model: label, feature: f.feature }, f.psi);
    }
    return report;
  }

  // ---- shadow ----
  let assignments: ShadowAssignment[] = [];
  let assignmentsRead = 0;
  let refreshing: Promise<void> | null = null;
  const scorers = new Map<string, Promise<ShadowScorer>>();
  async function refreshAssignments(): Promise<void> {
    assignments = await d.store.activeShadows();
    assignmentsRead = clock().getTime();
  }
  function currentAssignments(tenantId: string): ShadowAssignment[] {
    if (clock().getTime() - assignmentsRead > 5_000 && !refreshing)
      refreshing = refreshAssignments()
        .catch(() => undefined)
        .finally(() => (refreshing = null));
    return assignments.filter((a) => a.tenant_id === tenantId);
  }
  function scorerOf(name: string, version: string): Promise<ShadowScorer> {
    const key = `${name}@${version}`;
    let s = scorers.get(key);
    if (!s) {
      if (!d.loadShadowScorer) return Promise.reject(new Error('shadow scoring is not configured'));
      s = d.loadShadowScorer(name, version);
      s.catch(() => scorers.delete(key));
      scorers.set(key, s);
    }
    return s;
  }
  let queue: Promise<void> = Promise.resolve();
  let queued = 0;
  function shadowScore(e: ScoredEvent): void {
    for (const a of currentAssignments(e.tenantId)) {
      const task: Task = a.model_name === 'duplicate' ? 'duplicate' : 'coding-mismatch';
      const champion = e.decision.versions.models[task];
      if (!champion) continue;
      if (queued >= SHADOW_QUEUE_MAX) {
        g?.shadowDropped.inc();
        continue;
      }
      queued++;
      queue = queue
        .then(async () => {
          const scorer = await scorerOf(a.model_name, a.version);
          const challengerScore = await scorer.invoiceScore(e);
          await d.store.addShadowScore({
            assignmentId: a.id,
            tenantId: e.tenantId,
            decisionId: e.decision.decision_id,
            champion,
            championScore: championInvoiceScore(task, e),
            challenger: scorer.label,
            challengerScore,
            at: clock(),
          });
        })
        .catch((err: unknown) =>
          warn(
            { model: `${a.model_name}@${a.version}`, err: err instanceof Error ? err.message : String(err) },
            'shadow scoring failed',
          ),
        )
        .finally(() => queued--);
    }
  }

  /** @throws TriageError `TRIAGE_MODEL_NOT_FOUND` (as the drift route says it) when no model is named `name`. */
  async function requireModel(name: string): Promise<void> {
    const names = d.registry ? await d.registry.names() : [];
    if (!names.includes(name))
      throw new TriageError(
        'TRIAGE_MODEL_NOT_FOUND',
        `No model named ${name} (registered: ${names.join(', ') || 'none'})`,
      );
  }

  async function compare(tenantId: string, name: string, version?: string): Promise<ShadowComparison> {
    await requireModel(name);
    const a = await d.store.latestShadow(tenantId, name, version);
    if (!a)
      throw new TriageError(
        'TRIAGE_SHADOW_NOT_FOUND',
        `no shadow record of ${name}${version ? `@${version}` : ''} in this tenant`,
      );
    const challengerCard = await cardOf(name, a.version);
    const pairs = await d.store.shadowPairs(a.id, challengerCard.task);
    // The champion of the latest shadowed invoice; before any, the one serving now.
    const championLabel =
      pairs[pairs.length - 1]?.champion ?? `${name}@${await d.registry!.versionOf(name, 'champion')}`;
    const championCard = await cardOf(name, championLabel.slice(championLabel.lastIndexOf('@') + 1));
    return compareShadow(
      a,
      pairs,
      { champion: championCard.thresholds, challenger: challengerCard.thresholds },
      minLabelled,
      championLabel,
    );
  }

  // ---- audit sample ----
  const alerted = new Set<string>();
  async function autoApproveError(tenantId: string, from?: Date) {
    const items = await d.store.auditSample(tenantId, from ? { from } : {});
    const reviewed = items.filter((i) => i.reviewed);
    // Certified bound of an AUTO_APPROVE: each served card bounds its own task's errors by its
    // alpha; both must pass, so the union bound (sum of the alphas) bounds the invoice's error.
    const alphas: Record<string, { model: string; alpha: number }> = {};
    if (d.registry)
      for (const task of ['coding-mismatch', 'duplicate'] as const) {
        const card = await d.registry.card(task, 'champion').catch(() => null);
        const alpha = card?.training?.thresholds.autoApprove.alpha;
        if (card && typeof alpha === 'number' && card.thresholds.autoApprove >= 0)
          alphas[task] = { model: `${card.name}@${card.version}`, alpha };
      }
    const modelTasks = Object.keys(alphas) as Task[];
    const isError = (i: (typeof items)[number], tasks: readonly Task[]): boolean =>
      tasks.some((t) => i.exceptions[t] === true);
    const bound = modelTasks.length ? modelTasks.reduce((s, t) => s + alphas[t]!.alpha, 0) : null;
    const all = estimateAutoApproveError(
      {
        sampled: items.length,
        reviewed: reviewed.length,
        errors: reviewed.filter((i) => isError(i, modelTasks)).length,
      },
      bound,
    );
    const byModel: Record<string, AutoApproveErrorEstimate> = {};
    for (const t of modelTasks)
      byModel[alphas[t]!.model] = estimateAutoApproveError(
        {
          sampled: items.length,
          reviewed: reviewed.length,
          errors: reviewed.filter((i) => isError(i, [t])).length,
        },
        alphas[t]!.alpha,
      );
    if (g) {
      g.aaError.set({ tenant: tenantId, bound: 'estimate' }, all.estimate ?? 0);
      g.aaError.set({ tenant: tenantId, bound: 'lower' }, all.interval.lower);
      g.aaError.set({ tenant: tenantId, bound: 'upper' }, all.interval.upper);
      if (bound !== null) g.aaError.set({ tenant: tenantId, bound: 'certified' }, bound);
      g.aaAlert.set({ tenant: tenantId }, all.alert ? 1 : 0);
    }
    if (all.alert && !alerted.has(tenantId))
      warn(
        {
          tenant_id: tenantId,
          estimate: all.estimate,
          lower: all.interval.lower,
          certified_bound: bound,
          reviewed: all.reviewed,
          errors: all.errors,
        },
        'auto-approve error rate above the certified bound (lower end of the 95% Clopper-Pearson interval)',
      );
    if (all.alert) alerted.add(tenantId);
    else alerted.delete(tenantId);
    return { ...all, by_model: byModel };
  }

  const samplers = new Map<string, { at: number; draw: ReturnType<typeof auditSampler> }>();
  const monitor: ScoringMonitor = {
    async auditSampler(tenantId) {
      // The tenant's policy is read at most every POLICY_TTL_MS (a new policy applies within that time).
      const now = clock().getTime();
      let c = samplers.get(tenantId);
      if (!c || now - c.at > POLICY_TTL_MS) {
        const policy = await d.store.auditSamplePolicy(tenantId, { rate: d.defaultAuditRate ?? 0.02 });
        c = { at: now, draw: auditSampler(policy) };
        samplers.set(tenantId, c);
      }
      const draw = c.draw;
      return (decisionId, decision) => (decision === 'AUTO_APPROVE' ? draw(decisionId) : null);
    },
    scored(e) {
      try {
        observeDrift(e);
        shadowScore(e);
      } catch (err) {
        warn({ err: err instanceof Error ? err.message : String(err) }, 'monitoring hook failed');
      }
    },
  };

  return {
    monitor,
    drift,
    async cardWithDrift(tenantId, name, version) {
      const card = await cardOf(name, version);
      let report: CardDrift;
      try {
        report = { report: await drift(tenantId, name, { version: card.version }) };
      } catch (err) {
        if (!isTriageError(err)) throw err;
        report = { unavailable: err.message };
      }
      return { card, drift: report };
    },
    async startShadow(tenantId, name, version, actor) {
      await cardOf(name, version);
      const champion = await d.registry?.card(name, 'champion').catch(() => null);
      if (champion?.version === version)
        throw new TriageError(
          'TRIAGE_SHADOW_IS_CHAMPION',
          `${name}@${version} is the serving champion: shadow another version to compare with it`,
          [{ path: '/version', message: 'is the serving champion; shadow a challenger' }],
        );
      const a = await d.store.startShadow(tenantId, name, version, actor);
      await refreshAssignments();
      return a;
    },
    async stopShadow(tenantId, name, actor) {
      await requireModel(name);
      const a = await d.store.stopShadow(tenantId, name, actor);
      await refreshAssignments();
      return a;
    },
    compareShadow: compare,
    async checkPromotion(tenantId, name, version) {
      if (minLabelled <= 0) return;
      const a = await d.store.latestShadow(tenantId, name, version);
      const labelled = a ? (await compare(tenantId, name, version)).labelled : 0;
      if (labelled < minLabelled)
        throw new TriageError(
          'TRIAGE_SHADOW_RECORD_INSUFFICIENT',
          `${name}@${version} has ${labelled} labelled shadowed invoices in this tenant; promotion needs ${minLabelled}`,
          [
            {
              path: '/version',
              message: `needs a shadow record of at least ${minLabelled} labelled invoices`,
            },
          ],
        );
    },
    autoApproveError,
    flush,
    async idle() {
      while (queued > 0) await queue;
    },
    async close() {
      if (timer) clearInterval(timer);
      await flush();
      await queue;
      await this.stop();
    },
    async stop() {
      if (timer) clearInterval(timer);
      const loaded = [...scorers.values()];
      scorers.clear();
      for (const s of loaded) await (await s.catch(() => null))?.close();
    },
  };
}
