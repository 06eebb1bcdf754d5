import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { isTriageError } from '../core/errors.js';
import {
  DEFAULT_POLICY,
  DEFAULT_POLICY_DOCUMENT,
  effectivePolicy,
  parsePolicyDocument,
  policyDefinition,
  routeWithFiring,
} from './policy.js';

describe('routing policy documents', () => {
  it('ships the default as policy-default@1 from inference/policies/default.json', () => {
    const file = JSON.parse(
      readFileSync(join(packageRoot(), 'inference', 'policies', 'default.json'), 'utf8'),
    );
    expect(DEFAULT_POLICY_DOCUMENT).toEqual(file);
    expect(DEFAULT_POLICY).toMatchObject({
      version: 'policy-default@1',
      duplicateHold: 0.9,
      duplicateReview: 0.6,
      codingReview: 0.5,
      complianceReview: 0.5,
      slaCentsPerDay: 200,
      overridesApplied: [],
    });
  });

  it('applies matching overrides in order, the later winning, and adds forced reasons', () => {
    const doc = parsePolicyDocument({
      ...DEFAULT_POLICY_DOCUMENT,
      name: 'site',
      overrides: [
        { when: { vendor_category: 'lab' }, queues: { coding: { review_at: 0.7 } } },
        {
          when: { vendor_category: 'lab', facility_id: 'F-1' },
          queues: { coding: { review_at: 0.8 }, ap: { hold_at: 0.95 } },
        },
        { when: { facility_id: 'F-2' }, always_review: ['DUPLICATE_SUSPECTED'] },
      ],
    });
    const def = policyDefinition(doc, 3);
    expect(def.label).toBe('site@3');
    const p = effectivePolicy(def, { vendorCategory: 'lab', facilityId: 'F-1' });
    expect(p).toMatchObject({ codingReview: 0.8, duplicateHold: 0.95, duplicateReview: 0.6 });
    expect(p.overridesApplied).toEqual(['vendor_category=lab', 'vendor_category=lab&facility_id=F-1']);
    expect(effectivePolicy(def, { vendorCategory: 'lab', facilityId: null }).codingReview).toBe(0.7);
    const f2 = effectivePolicy(def, { vendorCategory: null, facilityId: 'F-2' });
    expect(f2.alwaysReview).toContain('DUPLICATE_SUSPECTED');
    const r = { code: 'DUPLICATE_SUSPECTED' as const, message: '', weight: 0.4, evidence: {} };
    expect(routeWithFiring(f2, { coding_mismatch: 0, duplicate: 0.4 }, [r])).toEqual({
      route: { decision: 'REVIEW', queue: 'ap' },
      firing: ['DUPLICATE_SUSPECTED'],
    });
  });

  it('refuses inconsistent thresholds, naming the field', () => {
    try {
      parsePolicyDocument({
        ...DEFAULT_POLICY_DOCUMENT,
        overrides: [{ when: { facility_id: 'F' }, queues: { ap: { hold_at: 0.5 } } }],
      });
      expect.unreachable();
    } catch (e) {
      expect(isTriageError(e, 'TRIAGE_INPUT_INVALID')).toBe(true);
      expect((e as { errors: { path: string }[] }).errors[0]!.path).toBe('/overrides/0/queues/ap');
    }
  });

  it('refuses a coding hold threshold below the coding review threshold, naming it', () => {
    const queues = { ...DEFAULT_POLICY_DOCUMENT.queues, coding: { review_at: 0.9, hold_at: 0.1 } };
    try {
      parsePolicyDocument({ ...DEFAULT_POLICY_DOCUMENT, queues });
      expect.unreachable();
    } catch (e) {
      expect(isTriageError(e, 'TRIAGE_INPUT_INVALID')).toBe(true);
      expect((e as { errors: { path: string; message: string }[] }).errors).toEqual([
        { path: '/queues/coding/hold_at', message: 'must not be below coding.review_at' },
      ]);
    }
    const ok = { ...DEFAULT_POLICY_DOCUMENT.queues, coding: { review_at: 0.2, hold_at: 0.2 } };
    expect(parsePolicyDocument({ ...DEFAULT_POLICY_DOCUMENT, queues: ok }).queues.coding.hold_at).toBe(0.2);
  });
});

describe('the heaviest coding reason', () => {
  const coding = (code: 'CODE_UNKNOWN' | 'PRICE_ABOVE_FEE_SCHEDULE', weight: number) => ({
    code,
    message: '',
    weight,
    evidence: {},
  });
  const policy = { ...DEFAULT_POLICY, alwaysReview: [], codingReview: 0.5, codingHold: 0.9 };

  it('sends to coding review when the score crosses the threshold though every reason weighs less', () => {
    // A model's contributions share the line score 0.6 between two reasons of 0.35 and 0.25.
    const reasons = [coding('PRICE_ABOVE_FEE_SCHEDULE', 0.25), coding('CODE_UNKNOWN', 0.35)];
    expect(routeWithFiring(policy, { coding_mismatch: 0.6, duplicate: 0 }, reasons)).toEqual({
      route: { decision: 'REVIEW', queue: 'coding' },
      firing: ['CODE_UNKNOWN'],
    });
  });

  it('does not fire below the coding threshold', () => {
    const reasons = [coding('CODE_UNKNOWN', 0.35)];
    expect(routeWithFiring(policy, { coding_mismatch: 0.45, duplicate: 0 }, reasons).route.decision).toBe(
      'AUTO_APPROVE',
    );
  });

  it('holds at the coding hold threshold only with a coding reason', () => {
    expect(
      routeWithFiring(policy, { coding_mismatch: 0.95, duplicate: 0 }, [coding('CODE_UNKNOWN', 0.4)]).route,
    ).toEqual({ decision: 'HOLD', queue: 'coding' });
    expect(routeWithFiring(policy, { coding_mismatch: 0.95, duplicate: 0 }, []).route).toEqual({
      decision: 'AUTO_APPROVE',
      queue: undefined,
    });
  });
});
