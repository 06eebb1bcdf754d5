/**
 * Stage 8, priority: the expected cost of the invoice's exceptions (inference/priority.ts):
 * components fixed at scoring time, and the priority in dollars as of the scoring day. Pure.
 */
import type { Reason } from '../../core/decision.js';
import type { Invoice } from '../../core/invoice.js';
import { priorityAsOf, priorityComponents, type PriorityComponents } from '../priority.js';
import type { RoutingPolicy } from '../policy.js';
import type { LineRecord } from './types.js';

/** Result of {@link prioritise}. */
export interface Prioritised {
  components: PriorityComponents;
  /** Day the priority is computed for, `YYYY-MM-DD`. */
  asOf: string;
  /** Priority in dollars (cents precision) as of `asOf`. */
  dollars: number;
}

/** The heaviest vendor-profile rule weight of a line (0 without one). */
function ruleWeight(l: LineRecord): number {
  return Math.max(
    0,
    ...l.score.reasons.filter((r) => r.code === 'CODE_OUTSIDE_VENDOR_PROFILE').map((r) => r.weight),
  );
}

/** The priority of a routed invoice scored on day `today` (`YYYY-MM-DD`, also the received date when the invoice has none). */
export function prioritise(
  invoice: Invoice,
  lines: readonly LineRecord[],
  duplicateScore: number,
  reasons: readonly Reason[],
  policy: RoutingPolicy,
  today: string,
): Prioritised {
  const components = priorityComponents({
    totalCents: invoice.total_cents,
    documentType: invoice.document_type,
    duplicateScore,
    lines: lines.map((l) => ({
      amountCents: l.line.amount_cents,
      codingScore: l.score.score,
      ruleWeight: ruleWeight(l),
    })),
    reasons,
    invoiceDate: invoice.invoice_date,
    paymentTerms: invoice.payment_terms,
    receivedDate: invoice.received_date ?? today,
    slaCentsPerDay: policy.slaCentsPerDay ?? 0,
  });
  return {
    components,
    asOf: today,
    dollars: Math.round(priorityAsOf(components, today).totalCents) / 100,
  };
}
