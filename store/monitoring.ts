/**
 * Store of model monitoring (tables of migration 050): live drift counts, shadow challengers
 * and their scores, the audit sample of AUTO_APPROVE decisions and its per-tenant policy, and
 * the labels of decisions (reviews) the comparisons read.
 */
import { randomUUID } from 'node:crypto';
import { TriageError } from '../core/errors.js';
import { appendAudit } from './audit.js';
import { lockForTransaction, lockKey } from './locks.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';

/** Live counts of one distribution in one hour (see monitoring/drift.ts). */
export interface DriftCountInput {
  tenantId: string;
  model: string;
  bucketStart: string;
  feature: string;
  counts: number[];
  missing: number;
}

/** An active or stopped shadow assignment. Dates ISO 8601. */
export interface ShadowAssignment {
  id: string;
  tenant_id: string;
  model_name: string;
  version: string;
  started_at: string;
  started_by: string | null;
  stopped_at: string | null;
}

/** Champion and challenger invoice scores of one decision, with the decision's reviewed label. */
export interface ShadowPair {
  decision_id: string;
  decision: string;
  champion: string;
  champion_score: number;
  challenger: string;
  challenger_score: number;
  /** 1 exception confirmed, 0 reviewed as clean, null not labelled (latest review of the task wins). */
  label: 0 | 1 | null;
}

/** The audit-sample policy of a tenant. */
export interface AuditSamplePolicy {
  /** Share of AUTO_APPROVE decisions drawn, in [0, 1]. */
  rate: number;
  seed: string;
  /** 1 = the service default (never stored); stored versions count from 2. */
  version: number;
}

/** One sampled decision with its review state. */
export interface AuditSampleItem {
  decision_id: string;
  invoice_id: string;
  created_at: string;
  rate: number;
  draw: number;
  /** True once any review of the decision is stored. */
  reviewed: boolean;
  /**
   * Per review task, the latest review's finding: true = an exception (`confirmed`,
   * `corrected_code`), false = none (`false_positive`), null = no review of that task.
   */
  exceptions: Record<'coding-mismatch' | 'duplicate' | 'other', boolean | null>;
}

/** Monitoring operations. */
export interface MonitoringStore {
  /**
   * Adds live counts (element-wise; rows of one key added together) in one statement: all of
   * them or, on an error, none (the caller keeps them for its next flush).
   */
  addDriftCounts(rows: readonly DriftCountInput[]): Promise<void>;
  /** Live counts of a tenant's model summed per feature since `from`. */
  driftCounts(
    tenantId: string,
    model: string,
    from: Date,
  ): Promise<Map<string, { feature: string; counts: number[]; missing: number }>>;

  /** The active assignment of a tenant's model, or null. */
  activeShadow(tenantId: string, modelName: string): Promise<ShadowAssignment | null>;
  /** Every active assignment (for the shadow runner's cache). */
  activeShadows(): Promise<ShadowAssignment[]>;
  /**
   * Puts `version` in shadow for the tenant (stopping any other), audited `model.shadow_started`.
   */
  startShadow(
    tenantId: string,
    modelName: string,
    version: string,
    actor: string | null,
  ): Promise<ShadowAssignment>;
  /** Stops the active assignment (audited `model.shadow_stopped`); null when none was active. */
  stopShadow(tenantId: string, modelName: string, actor: string | null): Promise<ShadowAssignment | null>;
  /** Latest assignment of the version for the tenant (active or not), or null. */
  latestShadow(tenantId: string, modelName: string, version?: string): Promise<ShadowAssignment | null>;
  /** Stores one shadow score (idempotent per assignment and decision). */
  addShadowScore(s: {
    assignmentId: string;
    tenantId: string;
    decisionId: string;
    champion: string;
    championScore: number;
    challenger: string;
    challengerScore: number;
    at: Date;
  }): Promise<void>;
  /** Scores of an assignment with the decisions' labels for `task` (reviews after scoring). */
  shadowPairs(assignmentId: string, task: 'coding-mismatch' | 'duplicate'): Promise<ShadowPair[]>;

  /** The tenant's audit-sample policy (the default when none is stored). */
  auditSamplePolicy(tenantId: string, fallback: { rate: number }): Promise<AuditSamplePolicy>;
  /** Stores a new policy version, audited `audit_sample.policy_set`. */
  setAuditSamplePolicy(
    tenantId: string,
    p: { rate: number; seed?: string },
    actor: string | null,
  ): Promise<AuditSamplePolicy>;
  /** Sampled decisions of the tenant, oldest first, optionally only those not reviewed yet. */
  auditSample(
    tenantId: string,
    opts?: { from?: Date; openOnly?: boolean; limit?: number },
  ): Promise<AuditSampleItem[]>;
}

/** The default seed of a tenant without a stored audit-sample policy. */
export function defaultAuditSeed(tenantId: string): string {
  return `tenant:${tenantId}`;
}

/**
 * Records a sampled decision (inside the scoring transaction, after the decision row).
 */
export async function insertAuditSample(
  tx: SqlExecutor,
  tenantId: string,
  decisionId: string,
  s: { rate: number; draw: number; seedSha256: string },
  at: string,
): Promise<void> {
  await tx.query(
    `INSERT INTO audit_samples (decision_id, tenant_id, rate, draw, seed_sha256, created_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [decisionId, tenantId, s.rate, s.draw, s.seedSha256, at],
  );
}

type Row = Record<string, unknown>;
const flag = (v: unknown): boolean | null => (v === null || v === undefined ? null : v === true);
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

function toAssignment(r: Row): ShadowAssignment {
  return {
    id: String(r.id),
    tenant_id: String(r.tenant_id),
    model_name: String(r.model_name),
    version: String(r.version),
    started_at: iso(r.started_at),
    started_by: (r.started_by as string | null) ?? null,
    stopped_at: r.stopped_at ? iso(r.stopped_at) : null,
  };
}

const ASSIGNMENT_COLUMNS = 'id, tenant_id, model_name, version, started_at, started_by, stopped_at';

/**
 * Label of a decision for a task: the latest review of that task (`confirmed` /
 * `corrected_code` = 1, `false_positive` = 0), or for reviews without a task of their own
 * (`other`), none. Used by the shadow comparison.
 */
const LABEL_OF_DECISION = `(SELECT CASE WHEN r.outcome = 'false_positive' THEN 0 ELSE 1 END
   FROM reviews r WHERE r.decision_id = d.id AND r.task = $2
   ORDER BY r.created_at DESC, r.id DESC LIMIT 1)`;

/**
 * The rows of one flush as one statement, so a flush holds its row locks only while the
 * statement runs (not across the round trips of a transaction) and is all-or-nothing.
 * Parameters: six arrays of equal length, one element per row: tenant ids, models, bucket
 * starts (ISO 8601), features, counts (bigint array literals `{1,0,3}`) and missing counts;
 * keys must be distinct. Rows are inserted in key order, so two flushers that share keys
 * lock them in the same order: one waits for the other's statement, neither deadlocks.
 * Counts add element-wise (a shorter array counts as zeros where it ends).
 */
const ADD_DRIFT_COUNTS = `INSERT INTO drift_counts AS d (tenant_id, model, bucket_start, feature, counts, missing)
  SELECT r.tenant_id, r.model, r.bucket_start, r.feature, r.counts::bigint[], r.missing
  FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::bigint[])
    AS r(tenant_id, model, bucket_start, feature, counts, missing)
  ORDER BY r.tenant_id, r.model, r.bucket_start, r.feature
  ON CONFLICT (tenant_id, model, bucket_start, feature) DO UPDATE SET
    counts = (SELECT array_agg(COALESCE(a, 0) + COALESCE(b, 0) ORDER BY i)
              FROM unnest(d.counts, EXCLUDED.counts) WITH ORDINALITY AS t(a, b, i)),
    missing = d.missing + EXCLUDED.missing`;

/** Adds `counts` element-wise and `missing` into `into` (which grows to the longer length). */
function addCounts(
  into: { counts: number[]; missing: number },
  counts: readonly number[],
  missing: number,
): void {
  counts.forEach((c, i) => (into.counts[i] = (into.counts[i] ?? 0) + c));
  into.missing += missing;
}

/**
 * `rows` with the counts of equal keys (tenant, model, bucket start as an instant, feature)
 * added into the first row of that key, bucket starts normalised to ISO 8601 UTC; inputs are
 * not changed.
 */
export function mergeDriftRows(rows: readonly DriftCountInput[]): DriftCountInput[] {
  const byKey = new Map<string, DriftCountInput>();
  for (const r of rows) {
    const bucketStart = new Date(r.bucketStart).toISOString();
    const key = `${r.tenantId}\u0001${r.model}\u0001${bucketStart}\u0001${r.feature}`;
    const prev = byKey.get(key);
    if (!prev) byKey.set(key, { ...r, bucketStart, counts: [...r.counts] });
    else addCounts(prev, r.counts, r.missing);
  }
  return [...byKey.values()];
}

/**
 * The lock of a tenant's shadow assignment of one model: a start or stop reads the active
 * assignment, then writes, so two at once would both find none (or the same one) and insert two
 * active rows, which the unique index `shadow_assignments_active` refuses.
 */
const shadowLock = (tenantId: string, modelName: string): string => lockKey('shadow', tenantId, modelName);

/** Builds the monitoring store over the service's database. */
export function createMonitoringStore(db: SqlDatabase): MonitoringStore {
  async function stopActive(
    tx: SqlExecutor,
    tenantId: string,
    modelName: string,
    actor: string | null,
    at: string,
  ) {
    const rows = await tx.query(
      `UPDATE shadow_assignments SET stopped_at = $3, stopped_by = $4
       WHERE tenant_id = $1 AND model_name = $2 AND stopped_at IS NULL RETURNING ${ASSIGNMENT_COLUMNS}`,
      [tenantId, modelName, at, actor],
    );
    return rows[0] ? toAssignment(rows[0]) : null;
  }

  return {
    async addDriftCounts(rows) {
      const merged = mergeDriftRows(rows);
      if (merged.length === 0) return;
      await db.query(
        ADD_DRIFT_COUNTS,
        [
          merged.map((r) => r.tenantId),
          merged.map((r) => r.model),
          merged.map((r) => r.bucketStart),
          merged.map((r) => r.feature),
          merged.map((r) => `{${r.counts.join(',')}}`),
          merged.map((r) => r.missing),
        ],
        // Once per flush and process: parsed and planned once per connection.
        { name: 'drift_counts_add_rows' },
      );
    },

    async driftCounts(tenantId, model, from) {
      const rows = await db.query<{ feature: string; counts: (string | number)[]; missing: string | number }>(
        `SELECT feature, counts, missing FROM drift_counts
         WHERE tenant_id = $1 AND model = $2 AND bucket_start >= $3`,
        [tenantId, model, from.toISOString()],
      );
      const out = new Map<string, { feature: string; counts: number[]; missing: number }>();
      for (const r of rows) {
        const counts = r.counts.map(Number);
        const prev = out.get(r.feature);
        if (!prev) out.set(r.feature, { feature: r.feature, counts, missing: Number(r.missing) });
        else addCounts(prev, counts, Number(r.missing));
      }
      return out;
    },

    async activeShadow(tenantId, modelName) {
      const rows = await db.query(
        `SELECT ${ASSIGNMENT_COLUMNS} FROM shadow_assignments
         WHERE tenant_id = $1 AND model_name = $2 AND stopped_at IS NULL`,
        [tenantId, modelName],
      );
      return rows[0] ? toAssignment(rows[0]) : null;
    },

    async activeShadows() {
      const rows = await db.query(
        `SELECT ${ASSIGNMENT_COLUMNS} FROM shadow_assignments WHERE stopped_at IS NULL`,
      );
      return rows.map(toAssignment);
    },

    startShadow(tenantId, modelName, version, actor) {
      return db.transaction(async (tx) => {
        await lockForTransaction(tx, [shadowLock(tenantId, modelName)]);
        const at = new Date().toISOString();
        const stopped = await stopActive(tx, tenantId, modelName, actor, at);
        const id = randomUUID();
        const rows = await tx.query(
          `INSERT INTO shadow_assignments (id, tenant_id, model_name, version, started_at, started_by)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${ASSIGNMENT_COLUMNS}`,
          [id, tenantId, modelName, version, at, actor],
        );
        await appendAudit(tx, {
          tenantId,
          actorKeyId: actor,
          kind: 'model.shadow_started',
          subjectId: `${modelName}@${version}`,
          payload: { assignment_id: id, model: modelName, version, replaces: stopped?.version ?? null },
        });
        return toAssignment(rows[0]!);
      });
    },

    stopShadow(tenantId, modelName, actor) {
      return db.transaction(async (tx) => {
        await lockForTransaction(tx, [shadowLock(tenantId, modelName)]);
        const stopped = await stopActive(tx, tenantId, modelName, actor, new Date().toISOString());
        if (stopped)
          await appendAudit(tx, {
            tenantId,
            actorKeyId: actor,
            kind: 'model.shadow_stopped',
            subjectId: `${modelName}@${stopped.version}`,
            payload: { assignment_id: stopped.id, model: modelName, version: stopped.version },
          });
        return stopped;
      });
    },

    async latestShadow(tenantId, modelName, version) {
      const rows = await db.query(
        `SELECT ${ASSIGNMENT_COLUMNS} FROM shadow_assignments
         WHERE tenant_id = $1 AND model_name = $2 AND ($3::text IS NULL OR version = $3)
         ORDER BY started_at DESC, id DESC LIMIT 1`,
        [tenantId, modelName, version ?? null],
      );
      return rows[0] ? toAssignment(rows[0]) : null;
    },

    async addShadowScore(s) {
      await db.query(
        `INSERT INTO shadow_scores (assignment_id, tenant_id, decision_id, champion, champion_score,
           challenger, challenger_score, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (assignment_id, decision_id) DO NOTHING`,
        [
          s.assignmentId,
          s.tenantId,
          s.decisionId,
          s.champion,
          s.championScore,
          s.challenger,
          s.challengerScore,
          s.at.toISOString(),
        ],
      );
    },

    async shadowPairs(assignmentId, task) {
      const rows = await db.query(
        `SELECT s.decision_id, d.decision, s.champion, s.champion_score, s.challenger, s.challenger_score,
           ${LABEL_OF_DECISION} AS label
         FROM shadow_scores s JOIN decisions d ON d.id = s.decision_id
         WHERE s.assignment_id = $1 ORDER BY s.created_at, s.decision_id`,
        [assignmentId, task],
      );
      return rows.map((r) => ({
        decision_id: String(r.decision_id),
        decision: String(r.decision),
        champion: String(r.champion),
        champion_score: Number(r.champion_score),
        challenger: String(r.challenger),
        challenger_score: Number(r.challenger_score),
        label: r.label === null || r.label === undefined ? null : (Number(r.label) as 0 | 1),
      }));
    },

    async auditSamplePolicy(tenantId, fallback) {
      const rows = await db.query<{ rate: number; seed: string; version: number }>(
        'SELECT rate, seed, version FROM audit_sample_policies WHERE tenant_id = $1',
        [tenantId],
      );
      const r = rows[0];
      return r
        ? { rate: Number(r.rate), seed: r.seed, version: Number(r.version) }
        : { rate: fallback.rate, seed: defaultAuditSeed(tenantId), version: 1 };
    },

    setAuditSamplePolicy(tenantId, p, actor) {
      if (!(p.rate >= 0 && p.rate <= 1))
        throw new TriageError('TRIAGE_INPUT_INVALID', 'rate must be in [0, 1]', [
          { path: '/rate', message: 'must be in [0, 1]' },
        ]);
      return db.transaction(async (tx) => {
        // FOR UPDATE locks no row before the first policy: the lock orders the first ones too.
        await lockForTransaction(tx, [lockKey('audit-sample-policy', tenantId)]);
        const prev = await tx.query<{ version: number; seed: string }>(
          'SELECT version, seed FROM audit_sample_policies WHERE tenant_id = $1 FOR UPDATE',
          [tenantId],
        );
        const version = (prev[0] ? Number(prev[0].version) : 1) + 1;
        const seed = p.seed ?? prev[0]?.seed ?? defaultAuditSeed(tenantId);
        await tx.query(
          `INSERT INTO audit_sample_policies (tenant_id, rate, seed, version, updated_at, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (tenant_id) DO UPDATE SET rate = $2, seed = $3, version = $4, updated_at = $5, updated_by = $6`,
          [tenantId, p.rate, seed, version, new Date().toISOString(), actor],
        );
        await appendAudit(tx, {
          tenantId,
          actorKeyId: actor,
          kind: 'audit_sample.policy_set',
          subjectId: `audit-sample-policy@${version}`,
          payload: { rate: p.rate, seed, version },
        });
        return { rate: p.rate, seed, version };
      });
    },

    async auditSample(tenantId, opts = {}) {
      const rows = await db.query(
        `SELECT a.decision_id, i.invoice_id, a.created_at, a.rate, a.draw,
           EXISTS (SELECT 1 FROM reviews r WHERE r.decision_id = a.decision_id) AS reviewed,
           ${['coding-mismatch', 'duplicate', 'other']
             .map(
               (t, k) => `(SELECT r.outcome <> 'false_positive' FROM reviews r
                 WHERE r.decision_id = a.decision_id AND r.task = '${t}'
                 ORDER BY r.created_at DESC, r.id DESC LIMIT 1) AS x${k}`,
             )
             .join(', ')}
         FROM audit_samples a JOIN decisions d ON d.id = a.decision_id JOIN invoices i ON i.pk = d.invoice_pk
         WHERE a.tenant_id = $1 AND a.created_at >= $2
         ORDER BY a.created_at, a.decision_id LIMIT $3`,
        [tenantId, (opts.from ?? new Date(0)).toISOString(), opts.limit ?? 100_000],
      );
      const items = rows.map((r): AuditSampleItem => ({
        decision_id: String(r.decision_id),
        invoice_id: String(r.invoice_id),
        created_at: iso(r.created_at),
        rate: Number(r.rate),
        draw: Number(r.draw),
        reviewed: r.reviewed === true,
        exceptions: { 'coding-mismatch': flag(r.x0), duplicate: flag(r.x1), other: flag(r.x2) },
      }));
      return opts.openOnly ? items.filter((i) => !i.reviewed) : items;
    },
  };
}
