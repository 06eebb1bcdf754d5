import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, DEFAULT_POLICY_DOCUMENT, parsePolicyDocument, policyDefinition } from '../policy.js';
import { thresholdsFor, withCardThresholds } from './thresholds.js';

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
