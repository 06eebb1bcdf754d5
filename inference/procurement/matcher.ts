/**
 * The line matcher the procurement stage aligns invoice lines to PO lines with: a probability
 * that two line records are the same item. The trained, calibrated matcher (matching/) is
 * served when loaded; {@link identifierRuleMatcher} is the fallback without a trained model.
 */
import { descriptionTokens } from '../../features/text.js';
import { shareIdentifier } from './identifiers.js';

/** One line as the matcher sees it (an invoice line, a PO line or a contract item). Money in cents. */
export interface LineRecordForMatch {
  description: string;
  identifiers?: string[];
  manufacturer?: string | null;
  unitPriceCents?: number | null;
  uom?: string | null;
  packQty?: number | null;
  quantity?: number | null;
}

/** A line matcher: `score` is P(same item) in [0, 1]. */
export interface ProcurementMatcher {
  readonly version: string;
  score(a: LineRecordForMatch, b: LineRecordForMatch): number;
}

/** Probability at or above which two lines are taken as the same item, when the matcher's card sets none. */
export const DEFAULT_MATCH_THRESHOLD = 0.5;

function jaccard(a: readonly string[], b: readonly string[]): number {
  const sa = new Set(a);
  const sb = new Set(b);
  if (sa.size === 0 || sb.size === 0) return 0;
  let inter = 0;
  for (const x of sa) if (sb.has(x)) inter++;
  return inter / (sa.size + sb.size - inter);
}

/**
 * The untrained fallback: 0.95 when the lines share a normalised identifier, else the
 * description-token Jaccard similarity (0..1) scaled by 0.9.
 */
export const identifierRuleMatcher: ProcurementMatcher = {
  version: 'identifier-rule@1',
  score(a, b) {
    if (shareIdentifier(a.identifiers ?? [], b.identifiers ?? [])) return 0.95;
    return 0.9 * jaccard(descriptionTokens(a.description), descriptionTokens(b.description));
  },
};
