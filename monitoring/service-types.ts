/**
 * Types of the run-time model monitoring (monitoring/service.ts): what it needs, what it offers,
 * and a challenger loaded for shadow scoring.
 */
import type { Registry } from 'prom-client';
import type { ModelCard } from '../models/card.js';
import type { ModelRegistry } from '../models/registry.js';
import type { MonitoringStore, ShadowAssignment } from '../store/monitoring.js';
import type { AutoApproveErrorEstimate } from './audit-sample.js';
import type { CardDrift } from './card-page.js';
import type { DriftReport } from './drift.js';
import type { ScoredEvent, ScoringMonitor } from './hooks.js';
import type { ShadowComparison } from './shadow.js';

/** A challenger loaded for shadow scoring. */
export interface ShadowScorer {
  /** `<name>@<version>`. */
  label: string;
  /** The challenger's invoice-level score of a scored invoice (same unit as the champion's). */
  invoiceScore(e: ScoredEvent): Promise<number>;
  close(): Promise<void>;
}

/** The model tasks monitored, by the task name of a card. */
export type Task = 'coding-mismatch' | 'duplicate';

/** Dependencies of `createMonitoring` (monitoring/service.ts). */
export interface MonitoringDeps {
  store: MonitoringStore;
  /** The model registry (cards, versions); null when models are off (heuristics: nothing to monitor but the audit sample). */
  registry: ModelRegistry | null;
  /** The registry's directory (reference sidecars are read from `<dir>/<name>/<version>/`). */
  modelsDir: string | null;
  /** Loads a registered version as a shadow scorer. */
  loadShadowScorer?: (name: string, version: string) => Promise<ShadowScorer>;
  /** Audit-sample rate of tenants without a stored policy; default 0.02. */
  defaultAuditRate?: number;
  /** Labelled shadowed invoices a challenger needs before promotion; 0 (default): no requirement. */
  minShadowLabelled?: number;
  /** Flush interval of the live drift counts, ms; default 10 000; 0: only on demand. */
  flushMs?: number;
  /** Prometheus registry for the gauges; none: no gauges. */
  metrics?: Registry;
  /** Warning sink (no invoice contents): alerts and failed shadow runs. */
  warn?: (fields: Record<string, unknown>, message: string) => void;
  clock?: () => Date;
}

/** Monitoring of a running service. */
export interface Monitoring {
  /** The pipeline's hooks. */
  readonly monitor: ScoringMonitor;
  /**
   * Drift of a tenant's model over the last `hours` (default 168) for `version` (default the
   * served champion). @throws TriageError `TRIAGE_MODEL_NOT_FOUND`, `TRIAGE_MONITORING_NO_REFERENCE`.
   */
  drift(tenantId: string, name: string, opts?: { version?: string; hours?: number }): Promise<DriftReport>;
  /**
   * The card of a registered version with the tenant's drift of it (or why there is none), for
   * the card page. @throws TriageError `TRIAGE_MODEL_NOT_FOUND`.
   */
  cardWithDrift(
    tenantId: string,
    name: string,
    version: string,
  ): Promise<{ card: ModelCard; drift: CardDrift }>;
  /**
   * Puts a registered version in shadow for the tenant.
   * @throws TriageError `TRIAGE_MODEL_NOT_FOUND`; `TRIAGE_SHADOW_IS_CHAMPION` (409, `/version`)
   *   when the version is the serving champion.
   */
  startShadow(
    tenantId: string,
    name: string,
    version: string,
    actor: string | null,
  ): Promise<ShadowAssignment>;
  /** Stops the active shadow (null: none). @throws TriageError `TRIAGE_MODEL_NOT_FOUND` for a model not registered. */
  stopShadow(tenantId: string, name: string, actor: string | null): Promise<ShadowAssignment | null>;
  /**
   * Comparison of the tenant's latest (or `version`'s) assignment.
   * @throws TriageError `TRIAGE_MODEL_NOT_FOUND` for a model not registered, `TRIAGE_SHADOW_NOT_FOUND`
   *   for a registered model without a shadow record in the tenant.
   */
  compareShadow(tenantId: string, name: string, version?: string): Promise<ShadowComparison>;
  /**
   * Refuses a promotion whose challenger lacks the minimum shadow record in the tenant.
   * @throws TriageError `TRIAGE_SHADOW_RECORD_INSUFFICIENT` (409).
   */
  checkPromotion(tenantId: string, name: string, version: string): Promise<void>;
  /** The production auto-approve error estimate of the tenant (optionally since `from`). */
  autoApproveError(
    tenantId: string,
    from?: Date,
  ): Promise<AutoApproveErrorEstimate & { by_model: Record<string, AutoApproveErrorEstimate> }>;
  /** Writes the pending drift counts. */
  flush(): Promise<void>;
  /** Resolves when queued shadow scoring has finished. */
  idle(): Promise<void>;
  /** Flushes the drift counts and waits for queued shadow runs, then {@link stop} (before the store closes). */
  close(): Promise<void>;
  /** Stops the flush timer and releases the shadow scorers, without touching the store. */
  stop(): Promise<void>;
}
