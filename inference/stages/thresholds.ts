/**
 * Stage 4, thresholds: the routing policy in effect for the invoice (the tenant's policy with
 * its matching overrides) and, for the default policy, where its queue thresholds come from:
 * - a default bound to certified champions (`PolicyDefinition.certifiedFor`, the shipped
 *   whole-decision policy): its own thresholds for each task whose served model is the one it
 *   was certified with; for a task served by another model (a retrain, a promotion), that
 *   model's card thresholds, or the hand-set `policy-default@1` ones when it has no card (a
 *   heuristic); the source says which and what the policy is certified for;
 * - an unbound default (the hand-set `policy-default@1`) with cards on: the cards' thresholds;
 * - a tenant's stored version whose document is the bound default's (same sha256): bound to
 *   the same champions, as the default;
 * - any other policy (an operator's POLICY_FILE, a tenant's stored version, a matching
 *   override): its own thresholds.
 * Last, the served coding scorer's reason floor, when it has one (a fixed `reasonAt`; the model
 * scorer by default gives reasons from the policy's `coding.review_at` when stricter than its
 * card, `codingReasonThreshold`, and has none): a line carries a coding reason only when its
 * score exceeds the floor and routing reviews a coding score only with one, so a coding review
 * threshold at or below the floor is applied (and reported) as just above it.
 * Pure, except for the once-per-model warning of {@link thresholdResolver}.
 */
import type { FieldError } from '../../core/errors.js';
import type { CardThresholds, ReasonFloor } from '../scorers.js';
import {
  DEFAULT_POLICY,
  effectivePolicy,
  type PolicyContext,
  type PolicyDefinition,
  type PolicyDocument,
  type RoutingPolicy,
} from '../policy.js';

/** Smallest step above a card's auto-approve threshold: the card approves p <= t, the policy reviews p >= review_at. */
const ABOVE = 1e-9;

/** A routing policy with the source of each queue threshold (`model-card:<model>` or `policy:<label>`). */
export interface SourcedPolicy {
  policy: RoutingPolicy;
  /** Threshold name (`coding.review_at`, `coding.hold_at`, `ap.review_at`, `ap.hold_at`) -> source. */
  sources: Record<string, string>;
}

const review = (t: number): number => (t < 0 ? 0 : Math.min(1, t + ABOVE));
const hold = (t: number): number => (t > 1 ? Number.POSITIVE_INFINITY : Math.max(0, t));

/**
 * Where one task's thresholds are written: the policy being built, its threshold sources, the
 * (hand-set) policy whose thresholds stand in for a missing card, and the note appended to each
 * source (empty, or why the policy's own thresholds do not apply).
 */
interface ThresholdTarget {
  out: RoutingPolicy;
  sources: Record<string, string>;
  fallback: RoutingPolicy;
  note: string;
}

/** The source label of a threshold taken from `card`, or from the target's fallback policy. */
const sourceOf = (t: ThresholdTarget, card: CardThresholds | null): string =>
  (card ? `model-card:${card.model}` : `policy:${t.fallback.version}`) + t.note;

/** Sets the coding thresholds of `t.out` from a card, or from `t.fallback`'s (hand-set) ones. */
function codingFrom(t: ThresholdTarget, card: CardThresholds | null): void {
  const { out, sources, fallback } = t;
  if (card) {
    out.codingReview = review(card.autoApprove);
    out.codingHold = hold(card.hold);
  } else {
    out.codingReview = fallback.codingReview;
    if (fallback.codingHold === undefined) delete out.codingHold;
    else out.codingHold = fallback.codingHold;
  }
  const source = sourceOf(t, card);
  sources['coding.review_at'] = source;
  if (out.codingHold === undefined) delete sources['coding.hold_at'];
  else sources['coding.hold_at'] = source;
}

/** Sets the duplicate (AP) thresholds of `t.out` from a card (hold never below review), or from `t.fallback`'s. */
function duplicateFrom(t: ThresholdTarget, card: CardThresholds | null): void {
  const { out, sources, fallback } = t;
  out.duplicateReview = card ? review(card.autoApprove) : fallback.duplicateReview;
  out.duplicateHold = card ? Math.max(out.duplicateReview, hold(card.hold)) : fallback.duplicateHold;
  const source = sourceOf(t, card);
  sources['ap.review_at'] = source;
  sources['ap.hold_at'] = source;
}

/** Every threshold sourced to the policy itself. */
function policySources(policy: RoutingPolicy): Record<string, string> {
  const fromPolicy = `policy:${policy.version}`;
  const sources: Record<string, string> = {
    'coding.review_at': fromPolicy,
    'ap.review_at': fromPolicy,
    'ap.hold_at': fromPolicy,
  };
  if (policy.codingHold !== undefined) sources['coding.hold_at'] = fromPolicy;
  return sources;
}

/**
 * The routing policy with the card thresholds of the served models in place of the policy's
 * queue thresholds (when `useCards` and no override matched). A card threshold outside [0, 1]
 * (no threshold met its guarantee in training) means: review every scored invoice
 * (auto-approve side) or hold none. The duplicate hold threshold never falls below its review
 * threshold. A task without a card keeps the policy's thresholds.
 */
export function withCardThresholds(
  policy: RoutingPolicy,
  useCards: boolean,
  coding: CardThresholds | null,
  duplicate: CardThresholds | null,
): SourcedPolicy {
  const sources = policySources(policy);
  if (!useCards || (policy.overridesApplied?.length ?? 0) > 0) return { policy, sources };
  const target: ThresholdTarget = { out: { ...policy }, sources, fallback: policy, note: '' };
  if (coding) codingFrom(target, coding);
  if (duplicate) duplicateFrom(target, duplicate);
  return { policy: target.out, sources };
}

/** A served model as the thresholds stage sees it: its version and its card's thresholds (null: none). */
export interface ServedThresholds {
  /** `<name>@<version>`, e.g. `coding-mismatch@3` or `heuristic-coding@1`. */
  version: string;
  thresholds: CardThresholds | null;
}

/**
 * The routing policy of a default bound to champions (`certifiedFor`, model versions): a task
 * whose served model is among them keeps the policy's thresholds; another model routes by its
 * card's thresholds, or by `fallback`'s (the hand-set default) when it has no card, its
 * sources then ending in ` (<policy label> is certified for <champions>)`. A matching
 * override keeps the policy's thresholds. @returns the policy, the sources, and the served
 * versions that are not certified (empty when the binding holds).
 */
export function withCertifiedThresholds(
  policy: RoutingPolicy,
  certifiedFor: readonly string[],
  coding: ServedThresholds,
  duplicate: ServedThresholds,
  fallback: RoutingPolicy = DEFAULT_POLICY,
): SourcedPolicy & { uncertified: string[] } {
  const sources = policySources(policy);
  const uncertified = [coding.version, duplicate.version].filter((v) => !certifiedFor.includes(v));
  if (uncertified.length === 0 || (policy.overridesApplied?.length ?? 0) > 0)
    return { policy, sources, uncertified };
  const note = ` (${policy.version} is certified for ${certifiedFor.join(', ')})`;
  const target: ThresholdTarget = { out: { ...policy }, sources, fallback, note };
  if (!certifiedFor.includes(coding.version)) codingFrom(target, coding.thresholds);
  if (!certifiedFor.includes(duplicate.version)) duplicateFrom(target, duplicate.thresholds);
  return { policy: target.out, sources, uncertified };
}

/** True when a coding review threshold cannot apply: the served model gives no reason at or below its floor. */
const atOrBelowFloor = (reviewAt: number, floor: ReasonFloor): boolean => reviewAt <= floor.value;

/**
 * The policy with its coding thresholds raised to just above the served coding model's reason
 * floor when they are at or below it (the thresholds routing can apply); each raised source names
 * the floor and what was asked, e.g.
 * `model-card:coding-mismatch@4 reason floor (policy low@4 asks 0.01)`. Null floor: unchanged.
 */
export function withReasonFloor(sourced: SourcedPolicy, floor: ReasonFloor | null): SourcedPolicy {
  if (!floor) return sourced;
  const policy = { ...sourced.policy };
  const sources = { ...sourced.sources };
  const raise = (name: string, asked: number): number => {
    const from = (sources[name] ?? `policy:${policy.version}`).replace(':', ' ');
    sources[name] = `model-card:${floor.model} reason floor (${from} asks ${asked})`;
    return review(floor.value);
  };
  if (atOrBelowFloor(policy.codingReview, floor))
    policy.codingReview = raise('coding.review_at', policy.codingReview);
  if (policy.codingHold !== undefined && atOrBelowFloor(policy.codingHold, floor))
    policy.codingHold = raise('coding.hold_at', policy.codingHold);
  return { policy, sources };
}

/**
 * The coding review thresholds of a policy document (its queues and each override's) that
 * routing could not apply under the served coding model's reason floor.
 * @param source prefix of the error paths (`''` for a request body).
 * @returns one error per threshold at or below the floor (`/queues/coding/review_at`,
 *   `/overrides/<i>/queues/coding/review_at`); none when `floor` is null.
 */
export function reasonFloorErrors(doc: PolicyDocument, floor: ReasonFloor | null, source = ''): FieldError[] {
  if (!floor) return [];
  const message =
    `must be above ${floor.value}, the reason floor of the served coding model ${floor.model}: ` +
    'a line carries a coding reason only when its score exceeds the floor, and routing reviews a ' +
    'coding score only with a reason, so a threshold at or below it could not apply';
  const asked = [
    { path: `${source}/queues/coding/review_at`, value: doc.queues.coding.review_at },
    ...doc.overrides.map((o, i) => ({
      path: `${source}/overrides/${i}/queues/coding/review_at`,
      value: o.queues?.coding?.review_at,
    })),
  ];
  return asked
    .filter(
      (a): a is { path: string; value: number } => a.value !== undefined && atOrBelowFloor(a.value, floor),
    )
    .map(({ path }) => ({ path, message }));
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

/** A served scorer as {@link thresholdResolver} reads it (live: a hot reload changes both). */
export interface ServedScorer {
  readonly version: string;
  readonly thresholds?: CardThresholds | null | undefined;
  /** The coding scorer's reason floor (see {@link withReasonFloor}); absent or null: none. */
  readonly reasonFloor?: ReasonFloor | null | undefined;
}

/** What {@link thresholdResolver} resolves against. */
export interface ThresholdResolverDeps {
  /** Version 1 of every tenant's policy; bound to champions when it has `certifiedFor`. */
  defaultPolicy: PolicyDefinition;
  /** True when an unbound default yields to the served models' cards (see the module doc). */
  fromCards: boolean;
  coding: ServedScorer;
  duplicate: ServedScorer;
  /** Told once per served model version the bound default is not certified for (no invoice contents). */
  warn?: (fields: Record<string, unknown>, message: string) => void;
}

/**
 * The thresholds stage of the scoring service: `(policy version, invoice context) -> policy in
 * effect with sources`, following the module doc's order, reading the served models' versions
 * and cards at each call, the coding thresholds raised to the served coding model's reason
 * floor last; warns once per served model version a bound default is not certified for.
 */
export function thresholdResolver(
  d: ThresholdResolverDeps,
): (policyDef: PolicyDefinition, ctx: PolicyContext) => SourcedPolicy {
  const warned = new Set<string>();
  return (policyDef, ctx) => {
    const bound = d.defaultPolicy.certifiedFor;
    // The certified document stays bound to its champions wherever it is stored (same sha256).
    const certifiedFor =
      policyDef === d.defaultPolicy || (bound && policyDef.sha256 === d.defaultPolicy.sha256)
        ? bound
        : undefined;
    const card = (s: ServedScorer): CardThresholds | null => s.thresholds ?? null;
    const floor = d.coding.reasonFloor ?? null;
    if (!certifiedFor) {
      const useCards = d.fromCards && policyDef === d.defaultPolicy;
      const sourced = thresholdsFor({
        policyDef,
        useCards,
        coding: card(d.coding),
        duplicate: card(d.duplicate),
        ...ctx,
      });
      return withReasonFloor(sourced, floor);
    }
    const served = (s: ServedScorer): ServedThresholds => ({ version: s.version, thresholds: card(s) });
    const { uncertified, ...sourced } = withCertifiedThresholds(
      effectivePolicy(policyDef, ctx),
      certifiedFor,
      served(d.coding),
      served(d.duplicate),
    );
    for (const model of uncertified) {
      if (warned.has(model)) continue;
      warned.add(model);
      d.warn?.(
        { policy: policyDef.label, model, certified_for: certifiedFor },
        'served model is not the one the default policy is certified for: it routes by its card (hand-set thresholds without one)',
      );
    }
    return withReasonFloor(sourced, floor);
  };
}
