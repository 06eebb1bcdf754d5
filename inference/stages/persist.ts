/**
 * Stage 11, persist: the invoice, its lines and index keys, the decision with its priority
 * components and explanation, and the `decision.created` audit entry, written in the scoring
 * transaction: all or nothing. A re-sent invoice id returns the stored decision instead.
 */
import type { Explanation } from '../../core/decision.js';
import type { SaveResult, ScoringTx } from '../../store/repository.js';
import type { BuiltDecision } from './decision.js';
import type { Prepared } from './prepare.js';
import type { Prioritised } from './priority.js';

/**
 * Writes a scored invoice. `actorKeyId` is the API key that scored it (null for the system).
 * @throws TriageError `TRIAGE_INVOICE_CONFLICT` when the invoice id was stored with other content.
 */
export function persist(
  tx: Pick<ScoringTx, 'insert'>,
  p: Prepared,
  built: BuiltDecision,
  explanation: Explanation,
  priority: Prioritised,
  actorKeyId: string | null,
): Promise<SaveResult> {
  return tx.insert(p.invoice, p.sha256, p.keys, built.decision, {
    scoredByKeyId: actorKeyId,
    priority: priority.components,
    explanation,
    reversesInvoiceId: built.decision.reverses?.invoice_id ?? null,
    auditPayload: built.auditPayload,
  });
}
