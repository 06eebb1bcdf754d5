/** A scoring service with its `score` wrapped (deadlines, metrics). */
import type { ScoringService } from './pipeline.js';

/**
 * The same service with `score` replaced (for wrappers: deadlines, metrics), and `scoreChunk`
 * when given; every other member delegates to `scoring`, and `versions` is read live
 * (hot-reloaded models).
 */
export function withScore(
  scoring: ScoringService,
  score: ScoringService['score'],
  scoreChunk: ScoringService['scoreChunk'] = scoring.scoreChunk,
): ScoringService {
  return {
    get versions() {
      return scoring.versions;
    },
    policyFor: (tenantId) => scoring.policyFor(tenantId),
    defaultPolicy: scoring.defaultPolicy,
    effectiveThresholds: (def) => scoring.effectiveThresholds(def),
    codingReasonFloor: () => scoring.codingReasonFloor(),
    referenceCode: (code) => scoring.referenceCode(code),
    unknownVendorCategories: (input) => scoring.unknownVendorCategories(input),
    ...(scoreChunk ? { scoreChunk } : {}),
    score,
  };
}
