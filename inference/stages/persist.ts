/**
 * Stage 11, persist: the invoice, its lines and index keys, the decision with its priority
 * components and explanation, and the `decision.created` audit entry, written in the scoring
 * transaction: all or nothing. A re-sent invoice id returns the stored decision instead.
 */
import type { DecisionExtras, SaveResult, ScoringTx } from '../../store/repository.js';
import type { BuiltDecision } from './decision.js';
import type { StoredExplanation } from './explanation.js';
import type { Prepared } from './prepare.js';
import type { Prioritised } from './priority.js';

/**
 * Writes a scored invoice. `actorKeyId` is the API key that scored it (null for the system);
 * `auditSample` is the decision's audit-sample draw (monitoring), queued when sampled.
 * @throws TriageError `TRIAGE_INVOICE_CONFLICT` when the invoice id was stored with other content.
 */
export function persist(
  tx: Pick<ScoringTx, 'insert'>,
  p: Prepared,
  built: BuiltDecision,
  explanation: StoredExplanation,
  priority: Prioritised,
  actorKeyId: string | null,
  auditSample: DecisionExtras['auditSample'] | null = null,
): Promise<SaveResult> {
  return tx.insert(
    p.invoice,
    p.sha256,
    p.keys,
    built.decision,
    persistExtras(built, explanation, priority, actorKeyId, auditSample),
  );
}

/** What the store keeps beside the decision of a scored invoice (shared by {@link persist} and batch chunks). */
export function persistExtras(
  built: BuiltDecision,
  explanation: StoredExplanation,
  priority: Prioritised,
  actorKeyId: string | null,
  auditSample: DecisionExtras['auditSample'] | null = null,
): DecisionExtras {
  return {
    ...(auditSample ? { auditSample } : {}),
    scoredByKeyId: actorKeyId,
    priority: priority.components,
    explanation,
    reversesInvoiceId: built.decision.reverses?.invoice_id ?? null,
    auditPayload: built.auditPayload,
  };
}
