/** Inputs of the later scoring stages for their unit tests: an exact resubmission of the fixture invoice. */
import { candidateOf, makeInvoice } from './fixtures.js';
import { createHeuristicDuplicateScorer } from '../inference/heuristic-duplicate.js';
import { DEFAULT_POLICY, DEFAULT_POLICY_DEFINITION } from '../inference/policy.js';
import {
  prepare,
  prioritise,
  routeInvoice,
  scoreDuplicates,
  type DecisionInputs,
  type LineRecord,
} from '../inference/stages/index.js';

/**
 * Decision inputs for invoice `again`, an exact resubmission of the auto-approved `orig`, scored
 * by the heuristic pair scorer on the default policy; both lines score 0.1 by `coding-mismatch@7`.
 */
export async function decisionInputs(): Promise<DecisionInputs> {
  const orig = makeInvoice({ invoice_id: 'orig' });
  const p = prepare({ ...orig, invoice_id: 'again' });
  const lines: LineRecord[] = p.lines.map((l) => ({
    ...l,
    score: {
      lineNumber: l.line.line_number,
      score: 0.1,
      reasons: [],
      suggestedCodes: [],
      modelVersion: 'coding-mismatch@7',
    },
  }));
  const duplicates = await scoreDuplicates(
    p,
    [candidateOf(orig)],
    createHeuristicDuplicateScorer(),
    DEFAULT_POLICY,
    0.3,
  );
  const routed = routeInvoice(DEFAULT_POLICY, lines, duplicates.score, duplicates.reasons);
  return {
    prepared: p,
    lines,
    duplicates,
    routed,
    priority: prioritise(p.invoice, lines, duplicates.score, routed.reasons, DEFAULT_POLICY, '2025-03-10'),
    policyDef: DEFAULT_POLICY_DEFINITION,
    policyVersion: 'policy-default@1',
    thresholdSources: { 'ap.review_at': 'policy:policy-default@1' },
    serviceVersions: {
      models: { 'coding-mismatch': 'coding-mismatch@8', duplicate: 'heuristic-duplicate@1' },
      feature_schema: 'fs-x',
      policy: 'policy-default@1',
      reference_data: 'ref-x',
    },
    decisionId: '00000000-0000-4000-8000-000000000001',
    now: new Date('2025-03-10T09:00:00.000Z'),
  };
}
