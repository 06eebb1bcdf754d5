/**
 * The line matcher the procurement stage aligns invoice lines to PO lines with: a calibrated
 * probability that two {@link MatchRecord}s are the same item. The trained matcher
 * (matching/line-matcher.ts, shipped in models/artifacts/line-matcher/) is served when loaded;
 * {@link identifierRuleMatcher} is the fallback without it.
 */
import { descriptionTokens } from '../../features/text.js';
import { compareIdentifiers } from '../../matching/identifiers.js';
import type { LineMatcher, MatchRecord } from '../../matching/line-matcher.js';

/** What the stage needs of a line matcher. */
export type ProcurementMatcher = Pick<LineMatcher, 'version' | 'score'>;

/**
 * Probability at or above which two lines are taken as the same item by the identifier rule.
 * The trained matcher brings its own threshold, certified at training (its card's `threshold`
 * and `guarantee`, training/po-matcher.ts).
 */
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
 * The untrained fallback: 0.95 when the lines share an identifier (matching/identifiers.ts
 * `compareIdentifiers(...).exact`), 0 when both carry identifiers that conflict, else the
 * description-token Jaccard similarity scaled by 0.9.
 */
export const identifierRuleMatcher: ProcurementMatcher = {
  version: 'identifier-rule@1',
  score(a: MatchRecord, b: MatchRecord) {
    const ids = compareIdentifiers(a.identifiers ?? [], b.identifiers ?? []);
    if (ids.exact) return 0.95;
    if (ids.conflict || ids.variant) return 0;
    return 0.9 * jaccard(descriptionTokens(a.description), descriptionTokens(b.description));
  },
};
