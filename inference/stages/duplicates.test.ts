import { describe, expect, it } from 'vitest';
import { candidateOf, makeInvoice } from '../../test/fixtures.js';
import { createHeuristicDuplicateScorer } from '../heuristic-duplicate.js';
import { DEFAULT_POLICY } from '../policy.js';
import { scoreDuplicates } from './duplicates.js';
import { prepare } from './prepare.js';

const scorer = createHeuristicDuplicateScorer();

describe('duplicates stage', () => {
  const orig = makeInvoice({ invoice_id: 'orig' });

  it('flags an exact resubmission with DUPLICATE_SAME_NUMBER naming the earlier invoice', async () => {
    const p = prepare({ ...orig, invoice_id: 'again' });
    const r = await scoreDuplicates(p, [candidateOf(orig)], scorer, DEFAULT_POLICY, 0.3);
    expect(r.score).toBeGreaterThan(0.9);
    expect(r.flagged?.candidate.invoiceId).toBe('orig');
    expect(r.reasons).toHaveLength(1);
    expect(r.reasons[0]).toMatchObject({
      code: 'DUPLICATE_SAME_NUMBER',
      weight: Math.round(r.score * 1000) / 1000,
      evidence: { duplicate_of: 'orig', earlier_approved: true, earlier_decision: 'AUTO_APPROVE' },
    });
  });

  it('calls a re-numbered copy DUPLICATE_SUSPECTED', async () => {
    const p = prepare({ ...orig, invoice_id: 'renumbered', invoice_number: 'INV-1080' });
    const r = await scoreDuplicates(p, [candidateOf(orig)], scorer, DEFAULT_POLICY, 0.3);
    expect(r.reasons.map((x) => x.code)).toEqual(['DUPLICATE_SUSPECTED']);
  });

  it('reports from the lower of reportAt and the review threshold, but flags only at review', async () => {
    const p = prepare({ ...orig, invoice_id: 'renumbered', invoice_number: 'INV-1080' });
    const loose = await scoreDuplicates(p, [candidateOf(orig)], scorer, DEFAULT_POLICY, 0.3);
    expect(loose.score).toBeLessThan(0.999);
    const strict = { ...DEFAULT_POLICY, duplicateReview: loose.score + 0.0005, duplicateHold: 1 };
    const r = await scoreDuplicates(p, [candidateOf(orig)], scorer, strict, 0.3);
    expect(r.assessment.reported).toHaveLength(1);
    expect(r.score).toBe(loose.score);
    expect(r.flagged).toBeNull();
    expect(r.reasons).toEqual([]);
    const none = await scoreDuplicates(p, [], scorer, DEFAULT_POLICY, 0.3);
    expect(none).toMatchObject({ score: 0, flagged: null, reasons: [] });
  });
});
