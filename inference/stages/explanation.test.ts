import { describe, expect, it } from 'vitest';
import { decisionInputs } from '../../test/stage-fixtures.js';
import { DEFAULT_POLICY } from '../policy.js';
import { buildDecision } from './decision.js';
import { buildExplanation, type ReferenceCodeInfo } from './explanation.js';

describe('explanation stage', () => {
  it('explains reasons, the linear duplicate score, the evidence and the thresholds in effect', async () => {
    const i = await decisionInputs();
    const { decision } = buildDecision(i);
    const known: ReferenceCodeInfo = {
      code: 'E1390',
      description: 'Oxygen concentrator',
      long_description: 'Oxygen concentrator, single delivery port',
      betos: 'D1C',
      termination_date: null,
    };
    const e = buildExplanation({
      ...i,
      reasons: i.routed.reasons,
      firing: i.routed.firing,
      scores: i.routed.scores,
      policy: DEFAULT_POLICY,
      vendorCategory: null,
      profile: null,
      search: {
        method: 'exact',
        k: 10,
        tenantRowsCounted: 1,
        knnFound: 1,
        vendorKnnFound: 1,
        exactKeyFound: 1,
      },
      decisionVersions: decision.versions,
      referenceCode: (code) => (code === 'E1390' ? known : null),
      codingVersion: 'coding-mismatch@8',
      duplicateVersion: 'heuristic-duplicate@1',
      duplicateIntercept: -6,
    });
    expect(e.reasons.map((r) => [r.code, r.fired, r.queue])).toEqual([['DUPLICATE_SAME_NUMBER', true, 'ap']]);
    const dup = e.duplicate!;
    expect(dup.invoice_id).toBe('orig');
    expect(dup.intercept).toBe(-6);
    expect(dup.sum_of_contributions).toBeCloseTo(
      Object.values(dup.contributions).reduce((a, b) => a + b, 0),
      9,
    );
    expect(e.evidence.lines.map((l) => [l.billed?.code, l.billed?.description])).toEqual([
      ['E1390', 'Oxygen concentrator'],
      ['E0570', null],
    ]);
    expect(e.evidence.candidate_search).toMatchObject({ method: 'exact', candidates: 1 });
    expect(e.routing.thresholds).toMatchObject({
      'ap.review_at': 0.6,
      'ap.hold_at': 0.9,
      'coding.review_at': 0.5,
    });
    expect(e.priority.as_of).toBe('2025-03-10');
    expect(e.versions).toBe(decision.versions);
  });
});
