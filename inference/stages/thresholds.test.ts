import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  DEFAULT_POLICY_DOCUMENT,
  effectivePolicy,
  parsePolicyDocument,
  policyDefinition,
} from '../policy.js';
import {
  reasonFloorErrors,
  thresholdResolver,
  thresholdsFor,
  withCardThresholds,
  withCertifiedThresholds,
} from './thresholds.js';

const coding = { model: 'coding-mismatch@3', autoApprove: 0.2, hold: 0.8 };
const duplicate = { model: 'duplicate@2', autoApprove: 0.4, hold: 0.3 };

describe('threshold merging', () => {
  it('keeps the policy thresholds, sourced to the policy, when cards are off', () => {
    const { policy, sources } = withCardThresholds(DEFAULT_POLICY, false, coding, duplicate);
    expect(policy).toBe(DEFAULT_POLICY);
    expect(sources).toEqual({
      'coding.review_at': 'policy:policy-default@1',
      'ap.review_at': 'policy:policy-default@1',
      'ap.hold_at': 'policy:policy-default@1',
    });
  });

  it('reviews just above the card auto-approve threshold, holds at the card hold, never below review', () => {
    const { policy, sources } = withCardThresholds(DEFAULT_POLICY, true, coding, duplicate);
    expect(policy.codingReview).toBe(0.2 + 1e-9);
    expect(policy.codingHold).toBe(0.8);
    expect(policy.duplicateReview).toBe(0.4 + 1e-9);
    expect(policy.duplicateHold).toBe(0.4 + 1e-9); // card hold 0.3 is below review
    expect(sources).toEqual({
      'coding.review_at': 'model-card:coding-mismatch@3',
      'ap.review_at': 'model-card:duplicate@2',
      'ap.hold_at': 'model-card:duplicate@2',
      'coding.hold_at': 'model-card:coding-mismatch@3',
    });
    expect(DEFAULT_POLICY.codingReview).toBe(0.5); // the input is not changed
  });

  it('reads a card threshold outside [0, 1] as review everything / hold nothing', () => {
    const { policy } = withCardThresholds(
      DEFAULT_POLICY,
      true,
      { model: 'c@1', autoApprove: -1, hold: 2 },
      { model: 'd@1', autoApprove: 1, hold: 1.5 },
    );
    expect(policy.codingReview).toBe(0);
    expect(policy.codingHold).toBe(Number.POSITIVE_INFINITY);
    expect(policy.duplicateReview).toBe(1);
    expect(policy.duplicateHold).toBe(Number.POSITIVE_INFINITY);
  });

  it('leaves a task without a card on the policy', () => {
    const { policy, sources } = withCardThresholds(DEFAULT_POLICY, true, null, duplicate);
    expect(policy.codingReview).toBe(0.5);
    expect(policy.codingHold).toBeUndefined();
    expect(sources['coding.review_at']).toBe('policy:policy-default@1');
    expect(sources['ap.review_at']).toBe('model-card:duplicate@2');
  });

  it('lets a matching override win over the cards', () => {
    const doc = parsePolicyDocument({
      ...DEFAULT_POLICY_DOCUMENT,
      name: 'site',
      overrides: [{ when: { vendor_category: 'lab' }, queues: { coding: { review_at: 0.7 } } }],
    });
    const base = { policyDef: policyDefinition(doc, 2), useCards: true, coding, duplicate, facilityId: null };
    const lab = thresholdsFor({ ...base, vendorCategory: 'lab' });
    expect(lab.policy.codingReview).toBe(0.7);
    expect(lab.policy.duplicateReview).toBe(0.6);
    expect(lab.sources['coding.review_at']).toBe('policy:site@2');
    const other = thresholdsFor({ ...base, vendorCategory: 'dme' });
    expect(other.policy.codingReview).toBe(0.2 + 1e-9);
  });
});

describe('a default bound to its certified champions', () => {
  const doc = parsePolicyDocument({
    ...DEFAULT_POLICY_DOCUMENT,
    name: 'policy-certified',
    queues: { ...DEFAULT_POLICY_DOCUMENT.queues, coding: { review_at: 0.25, hold_at: 0.55 } },
  });
  const bound = { ...policyDefinition(doc, 1), certifiedFor: ['coding-mismatch@3', 'duplicate@2'] };
  const ctx = { vendorCategory: null, facilityId: null };
  const served = (codingVersion: string, codingCard: typeof coding | null = coding) => ({
    coding: { version: codingVersion, thresholds: codingCard },
    duplicate: { version: 'duplicate@2', thresholds: duplicate },
  });
  /** A resolver serving coding-mismatch@4 (not certified) by its card, and the warnings it gives. */
  const servingUncertified = () => {
    const warnings: unknown[] = [];
    const resolve = thresholdResolver({
      defaultPolicy: bound,
      fromCards: true,
      ...served('coding-mismatch@4', { ...coding, model: 'coding-mismatch@4' }),
      warn: (fields) => warnings.push(fields),
    });
    return { resolve, warnings };
  };

  it('routes the certified champions by the policy, whatever their cards say', () => {
    const resolve = thresholdResolver({
      defaultPolicy: bound,
      fromCards: true,
      ...served('coding-mismatch@3'),
    });
    const { policy, sources } = resolve(bound, ctx);
    expect([policy.codingReview, policy.codingHold, policy.duplicateReview, policy.duplicateHold]).toEqual([
      0.25, 0.55, 0.6, 0.9,
    ]);
    expect(new Set(Object.values(sources))).toEqual(new Set(['policy:policy-certified@1']));
  });

  it('routes another model by its card, says so in the sources, and warns once', () => {
    const { resolve, warnings } = servingUncertified();
    const { policy, sources } = resolve(bound, ctx);
    resolve(bound, ctx);
    expect(policy.codingReview).toBe(0.2 + 1e-9);
    expect(policy.codingHold).toBe(0.8);
    expect(policy.duplicateReview).toBe(0.6); // the duplicate champion is certified: the policy's
    const note = ' (policy-certified@1 is certified for coding-mismatch@3, duplicate@2)';
    expect(sources).toEqual({
      'coding.review_at': `model-card:coding-mismatch@4${note}`,
      'coding.hold_at': `model-card:coding-mismatch@4${note}`,
      'ap.review_at': 'policy:policy-certified@1',
      'ap.hold_at': 'policy:policy-certified@1',
    });
    expect(warnings).toEqual([
      { policy: 'policy-certified@1', model: 'coding-mismatch@4', certified_for: bound.certifiedFor },
    ]);
  });

  it('routes a model without a card (a heuristic) by the hand-set default, not the certified thresholds', () => {
    const { policy, sources } = withCertifiedThresholds(
      effectivePolicy(bound, ctx),
      bound.certifiedFor,
      { version: 'heuristic-coding@1', thresholds: null },
      { version: 'duplicate@2', thresholds: duplicate },
    );
    expect(policy.codingReview).toBe(DEFAULT_POLICY.codingReview);
    expect(policy.codingHold).toBeUndefined();
    expect(sources['coding.review_at']).toMatch(
      /^policy:policy-default@1 \(policy-certified@1 is certified for /,
    );
    expect(sources['coding.hold_at']).toBeUndefined();
  });

  it('lets a stored policy version win: its own thresholds, no binding', () => {
    const resolve = thresholdResolver({
      defaultPolicy: bound,
      fromCards: true,
      ...served('coding-mismatch@4'),
    });
    const stored = policyDefinition({ ...doc, name: 'site' }, 2);
    const { policy, sources } = resolve(stored, ctx);
    expect(policy.codingReview).toBe(0.25);
    expect(new Set(Object.values(sources))).toEqual(new Set(['policy:site@2']));
  });

  it('keeps the certified document bound to its champions when a tenant stores it again', () => {
    const { resolve, warnings } = servingUncertified();
    const stored = policyDefinition(doc, 3);
    const { policy, sources } = resolve(stored, ctx);
    expect([policy.codingReview, policy.codingHold]).toEqual([0.2 + 1e-9, 0.8]);
    const note = ' (policy-certified@3 is certified for coding-mismatch@3, duplicate@2)';
    expect(sources['coding.review_at']).toBe(`model-card:coding-mismatch@4${note}`);
    expect(sources['ap.hold_at']).toBe('policy:policy-certified@3');
    expect(warnings).toEqual([
      { policy: 'policy-certified@3', model: 'coding-mismatch@4', certified_for: bound.certifiedFor },
    ]);
  });
});

describe('the served coding model reason floor', () => {
  const floor = { model: 'coding-mismatch@4', value: 0.2397 };
  const ctx = { vendorCategory: 'lab', facilityId: null };
  const doc = parsePolicyDocument({
    ...DEFAULT_POLICY_DOCUMENT,
    name: 'low',
    queues: { ...DEFAULT_POLICY_DOCUMENT.queues, coding: { review_at: 0.01, hold_at: 0.1 } },
    overrides: [{ when: { vendor_category: 'lab' }, queues: { coding: { review_at: 0.3, hold_at: 0.6 } } }],
  });
  const resolve = thresholdResolver({
    defaultPolicy: policyDefinition(DEFAULT_POLICY_DOCUMENT, 1),
    fromCards: true,
    coding: { version: floor.model, thresholds: { ...coding, model: floor.model }, reasonFloor: floor },
    duplicate: { version: 'duplicate@2', thresholds: duplicate },
  });

  it('applies and reports just above the floor what a policy asks at or below it', () => {
    const { policy, sources } = resolve(policyDefinition(doc, 4), { vendorCategory: null, facilityId: null });
    expect(policy.codingReview).toBe(0.2397 + 1e-9);
    expect(policy.codingHold).toBe(0.2397 + 1e-9);
    expect(sources['coding.review_at']).toBe(
      'model-card:coding-mismatch@4 reason floor (policy low@4 asks 0.01)',
    );
    expect(sources['coding.hold_at']).toBe(
      'model-card:coding-mismatch@4 reason floor (policy low@4 asks 0.1)',
    );
    expect(sources['ap.review_at']).toBe('policy:low@4');
  });

  it('keeps a threshold above the floor (an override raising it) on the policy', () => {
    const { policy, sources } = resolve(policyDefinition(doc, 4), ctx);
    expect(policy.codingReview).toBe(0.3);
    expect(sources['coding.review_at']).toBe('policy:low@4');
  });

  it('names each coding review_at at or below the floor, queues and overrides', () => {
    expect(reasonFloorErrors(doc, floor).map((e) => e.path)).toEqual(['/queues/coding/review_at']);
    const atFloor = {
      ...doc,
      overrides: [{ when: { facility_id: 'F' }, queues: { coding: { review_at: 0.2397 } } }],
    };
    expect(reasonFloorErrors(atFloor, floor, '/policy').map((e) => e.path)).toEqual([
      '/policy/queues/coding/review_at',
      '/policy/overrides/0/queues/coding/review_at',
    ]);
    expect(reasonFloorErrors(doc, null)).toEqual([]);
  });
});
