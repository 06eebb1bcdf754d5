/**
 * Who answers for a change of the shared models, for the server, the worker and the command
 * line: {@link modelAudit} writes registry events to the hash-chained audit log (and tells every
 * tenant of a promotion), and {@link openModelGovernance} gives `npm run models` the same audit
 * and pre-promotion check as the API (`models/governed-promotion.ts`), against the service's
 * store and in the operator tenant's chain.
 */
import type { PromotionGovernance } from '../models/governed-promotion.js';
import type { ModelRegistry, RegistryEvent } from '../models/registry.js';
import { createMonitoring } from '../monitoring/service.js';
import { createMonitoringStore } from '../store/monitoring.js';
import {
  appendAudit,
  appendEventToEveryTenant,
  createRepository,
  enqueueAuditMany,
  modelPromotedEvent,
  openDatabase,
  type StoreConfig,
  type TriageRepository,
} from '../store/index.js';

/**
 * Appends a registry event to the audit log of `tenantId` (the operator tenant that acted; kind =
 * the event type, subject `<name>@<version>`, payload = the event: names, versions, hashes, key
 * ids; no invoice data). A promotion changes what every tenant is served, so it also emits
 * `model.promoted` to every tenant's event feed and writes a linked entry (the operator's tenant,
 * audit `seq` and row hash) to every other tenant's audit log (through the outbox: no lock on
 * their chains), all in the same transaction.
 */
export function modelAudit(
  repo: Pick<TriageRepository, 'transaction'>,
): (event: RegistryEvent, actorKeyId: string | null, tenantId: string) => Promise<void> {
  return async (event, actorKeyId, tenantId) => {
    await repo.transaction(async (tx) => {
      const subjectId = `${event.name}@${event.version}`;
      const row = await appendAudit(tx, {
        tenantId,
        actorKeyId,
        kind: event.type,
        subjectId,
        payload: { ...event },
      });
      if (event.type !== 'model.promoted') return;
      const { tenantId: _operator, ...shared } = modelPromotedEvent(tenantId, event);
      const emitted = await appendEventToEveryTenant(tx, shared, [tenantId]);
      const link = { operator_tenant: tenantId, operator_audit_seq: row.seq, operator_audit_hash: row.hash };
      await enqueueAuditMany(
        tx,
        emitted
          .filter((e) => e.tenantId !== tenantId)
          .map((e) => ({
            tenantId: e.tenantId,
            actorKeyId: null,
            kind: event.type,
            subjectId,
            payload: { ...event, ...link },
          })),
      );
    });
  };
}

/** Options of {@link openModelGovernance}. */
export interface ModelGovernanceOptions {
  /** The service's store (bin/cli-store.ts `serviceStore`). */
  store: StoreConfig;
  registry: ModelRegistry;
  /** The registry's directory (reference histograms of the shadow comparison). */
  modelsDir: string;
  /** The tenant in whose chain the changes are audited (`MODEL_OPERATOR_TENANT`). */
  operatorTenant: string;
  /** Labelled shadowed invoices an unforced promotion needs (`SHADOW_MIN_LABELLED`); 0: none. */
  minShadowLabelled: number;
}

/** An opened {@link PromotionGovernance} of the command line. */
export interface OpenedModelGovernance extends PromotionGovernance {
  audit(event: RegistryEvent, actorKeyId: string | null, tenantId: string): Promise<void>;
  /** The operator tenant the changes are audited in. */
  tenantId: string;
  /** Closes the store. */
  close(): Promise<void>;
}

/**
 * Opens the service's store (applying migrations) for a command that changes the shared models:
 * its audit hook is {@link modelAudit}, its pre-promotion check the shadow record the service
 * requires (monitoring/service.ts `checkPromotion`, in the operator tenant).
 * @throws what opening the store throws (e.g. `TRIAGE_STORE_UNAVAILABLE`).
 */
export async function openModelGovernance(o: ModelGovernanceOptions): Promise<OpenedModelGovernance> {
  const db = await openDatabase(o.store);
  const repo = createRepository(db);
  const monitoring = createMonitoring({
    store: createMonitoringStore(db),
    registry: o.registry,
    modelsDir: o.modelsDir,
    minShadowLabelled: o.minShadowLabelled,
    flushMs: 0,
  });
  return {
    registry: o.registry,
    tenantId: o.operatorTenant,
    audit: modelAudit(repo),
    beforePromote: (tenantId, name, version) => monitoring.checkPromotion(tenantId, name, version),
    close: async () => {
      await monitoring.stop();
      await repo.close();
    },
  };
}
