/**
 * Stage 5, candidates: earlier invoices that may be the same one (pgvector kNN of the invoice
 * embedding with a recall guard, kNN within the vendor, exact blocking keys), searched inside
 * the scoring transaction so that concurrent submissions of one vendor see each other.
 */
import { BLOCKING_SPEC } from '../../core/blocking.js';
import type { CandidateQuery, CandidateResult, ScoringTx } from '../../store/repository.js';
import type { Prepared } from './prepare.js';

/** Default nearest neighbours fetched per invoice: the blocking spec's k. */
export const DEFAULT_CANDIDATE_K = BLOCKING_SPEC.k;

/** The candidate query of a prepared invoice, `k` neighbours per kNN search, with the replay check of its id. */
export function candidateQuery(p: Prepared, k: number): Omit<CandidateQuery, 'tenantId'> {
  const { invoice, features } = p;
  return {
    embedding: features.embedding,
    k,
    vendorKey: features.vendorKey,
    vendorId: invoice.vendor.id,
    invoiceNumberCanonical: features.invoiceNumber.canonical,
    totalCents: invoice.total_cents,
    invoiceDate: invoice.invoice_date,
    documentType: invoice.document_type,
    replayInvoiceId: invoice.invoice_id,
  };
}

/**
 * Searches the duplicate candidates of a prepared invoice, `k` neighbours per kNN search, and
 * the decision already stored under its invoice id (`stored`, the replay check) in the same query.
 */
export function findCandidates(
  tx: Pick<ScoringTx, 'findDuplicateCandidates'>,
  p: Prepared,
  k: number,
): Promise<CandidateResult> {
  return tx.findDuplicateCandidates(candidateQuery(p, k));
}
