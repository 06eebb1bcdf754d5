/**
 * Stage 4, thresholds: the routing policy in effect for the invoice (the tenant's policy with
 * its matching overrides) and, for the default policy, the thresholds the served models' cards
 * certify in place of its queue thresholds; with where each threshold came from. Pure.
 */
import type { CardThresholds } from '../scorers.js';
import { effectivePolicy, type PolicyDefinition, type RoutingPolicy } from '../policy.js';

/** Smallest step above a card's auto-approve threshold: the card approves p <= t, the policy reviews p >= review_at. */
const ABOVE = 1e-9;

/** A routing policy with the source of each queue threshold (`model-card:<model>` or `policy:<label>`). */
export interface SourcedPolicy {
  policy: RoutingPolicy;
  /** Threshold name (`coding.review_at`, `coding.hold_at`, `ap.review_at`, `ap.hold_at`) -> source. */
  sources: Record<string, string>;
}

/**
 * The routing policy with the card thresholds of the served models in place of the policy's
 * queue thresholds (when `useCards` and no override matched). A card threshold outside [0, 1]
 * (no threshold met its guarantee in training) means: review every scored invoice
 * (auto-approve side) or hold none. The duplicate hold threshold never falls below its review
 * threshold.
 */
export function withCardThresholds(
  policy: RoutingPolicy,
  useCards: boolean,
  coding: CardThresholds | null,
  duplicate: CardThresholds | null,
): SourcedPolicy {
  const fromPolicy = `policy:${policy.version}`;
  const sources: Record<string, string> = {
    'coding.review_at': fromPolicy,
    'ap.review_at': fromPolicy,
    'ap.hold_at': fromPolicy,
  };
  if (policy.codingHold !== undefined) sources['coding.hold_at'] = fromPolicy;
  if (!useCards || (policy.overridesApplied?.length ?? 0) > 0) return { policy, sources };
  const out: RoutingPolicy = { ...policy };
  const review = (t: number): number => (t < 0 ? 0 : Math.min(1, t + ABOVE));
  const hold = (t: number): number => (t > 1 ? Number.POSITIVE_INFINITY : Math.max(0, t));
  if (coding) {
    out.codingReview = review(coding.autoApprove);
    out.codingHold = hold(coding.hold);
    sources['coding.review_at'] = `model-card:${coding.model}`;
    sources['coding.hold_at'] = `model-card:${coding.model}`;
  }
  if (duplicate) {
    out.duplicateReview = review(duplicate.autoApprove);
    out.duplicateHold = Math.max(out.duplicateReview, hold(duplicate.hold));
    sources['ap.review_at'] = `model-card:${duplicate.model}`;
    sources['ap.hold_at'] = `model-card:${duplicate.model}`;
  }
  return { policy: out, sources };
}

/** What {@link thresholdsFor} merges. */
export interface ThresholdInputs {
  /** The tenant's policy version in effect. */
  policyDef: PolicyDefinition;
  /** True when the cards' thresholds replace the policy's (the default policy, cards enabled). */
  useCards: boolean;
  coding: CardThresholds | null;
  duplicate: CardThresholds | null;
  vendorCategory: string | null;
  facilityId: string | null;
}

/** The policy in effect for one invoice: overrides, then card thresholds (see the module doc). */
export function thresholdsFor(i: ThresholdInputs): SourcedPolicy {
  return withCardThresholds(
    effectivePolicy(i.policyDef, { vendorCategory: i.vendorCategory, facilityId: i.facilityId }),
    i.useCards,
    i.coding,
    i.duplicate,
  );
}
