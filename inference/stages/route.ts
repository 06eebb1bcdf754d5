/**
 * Stage 7, route: the invoice's scores (max line coding score; best duplicate score) and its
 * reasons routed by the policy in effect: AUTO_APPROVE, REVIEW in a queue, or HOLD, with the
 * reasons that fired. Routing reads the unrounded scores (a card threshold is exact: p <=
 * autoApprove goes through); the decision shows them rounded to 3 decimals. Pure.
 */
import type { Reason, ReasonCode } from '../../core/decision.js';
import { round3 } from '../explain.js';
import { routeWithFiring, type RoutingPolicy, type Route } from '../policy.js';
import type { LineRecord } from './types.js';

/** Invoice scores as the decision shows them (rounded to 3 decimals). */
export interface InvoiceScores {
  coding_mismatch: number;
  duplicate: number;
}

/** Result of {@link routeInvoice}. */
export interface Routed {
  route: Route;
  /** Reasons that crossed their threshold. */
  firing: ReasonCode[];
  /** All reasons, heaviest first (a new array; ties keep their order). */
  reasons: Reason[];
  /** Unrounded scores, probabilities in [0, 1]. */
  raw: InvoiceScores;
  /** Scores rounded to 3 decimals. */
  scores: InvoiceScores;
}

/** The invoice coding score: the highest line score (0 when no line is scored). */
export function invoiceCodingScore(lines: readonly LineRecord[]): number {
  return lines.reduce((m, l) => Math.max(m, l.score.score ?? 0), 0);
}

/** Routes an invoice (see the module doc). */
export function routeInvoice(
  policy: RoutingPolicy,
  lines: readonly LineRecord[],
  duplicateScore: number,
  reasons: readonly Reason[],
): Routed {
  const raw = { coding_mismatch: invoiceCodingScore(lines), duplicate: duplicateScore };
  const { route, firing } = routeWithFiring(policy, raw, reasons);
  return {
    route,
    firing,
    reasons: [...reasons].sort((a, b) => b.weight - a.weight),
    raw,
    scores: { coding_mismatch: round3(raw.coding_mismatch), duplicate: round3(raw.duplicate) },
  };
}
