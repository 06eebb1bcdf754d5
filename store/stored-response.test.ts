import { describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import { packResponse, unpackResponse, type StoredResponse } from './stored-response.js';

type R = DecisionResponse['reasons'][number];
const lineReason = (code: string, evidence: Record<string, unknown>): R => ({
  code,
  message: `${code} message`,
  weight: 0.5,
  evidence,
});
const lifted = (n: number, r: R): R => ({ ...r, evidence: { line_number: n, ...r.evidence } });

function response(reasons: R[], lines: DecisionResponse['lines']): DecisionResponse {
  return {
    decision_id: '00000000-0000-4000-8000-000000000001',
    invoice_id: 'INV-1',
    decision: 'REVIEW',
    priority: 1,
    scores: { coding_mismatch: 0.9, duplicate: 0 },
    reasons,
    duplicates: [],
    lines,
    versions: { models: {}, feature_schema: 'f', policy: 'p', reference_data: 'r' },
    created_at: '2026-01-01T00:00:00.000Z',
  } as DecisionResponse;
}

const line = (n: number, reasons: R[]) => ({
  line_number: n,
  coding_mismatch: 0.9,
  reasons,
  suggested_codes: [],
});

describe('stored decision response', () => {
  const a = lineReason('PRICE_ABOVE_FEE_SCHEDULE', {
    ratio: 7.26,
    features: { x: { value: 1, contribution: 2 } },
  });
  const b = lineReason('CODING_MODEL_RISK', { group: 'g', contribution: 0.4 });
  const amount = lineReason('LINE_AMOUNT_MISMATCH', { expected_cents: 100 });

  it('stores a lifted line reason as its index and reads back the same JSON', () => {
    const d = response([lifted(2, b), lifted(1, a), lifted(2, a)], [line(1, [a]), line(2, [a, b, amount])]);
    const stored = packResponse(d);
    expect(stored.lines.map((l) => l.reasons)).toEqual([
      [{ reason_ref: 1 }],
      [{ reason_ref: 2 }, { reason_ref: 0 }, amount],
    ]);
    expect(JSON.stringify(stored).length).toBeLessThan(JSON.stringify(d).length);
    expect(unpackResponse(JSON.parse(JSON.stringify(stored)) as StoredResponse)).toEqual(
      JSON.parse(JSON.stringify(d)),
    );
  });

  it('keeps a line reason whole unless it equals the lifted one exactly', () => {
    const other = { ...a, weight: 0.25 };
    const ownLine = lineReason('CODING_MODEL_RISK', { line_number: 2, group: 'g' });
    const d = response(
      [
        lifted(1, other),
        { ...ownLine },
        lifted(3, b),
        lifted(2, { ...b, evidence: { ...b.evidence, extra: 1 } }),
      ],
      [line(1, [a]), line(2, [ownLine, b])],
    );
    expect(packResponse(d).lines.flatMap((l) => l.reasons)).toEqual([a, ownLine, b]);
  });

  it('reads a response stored whole as it is, and refuses a reference outside the reasons', () => {
    const d = response([lifted(1, a)], [line(1, [a])]);
    expect(unpackResponse(d)).toBe(d);
    const bad = { ...d, lines: [{ ...line(1, []), reasons: [{ reason_ref: 4 }] }] } as StoredResponse;
    expect(() => unpackResponse(bad)).toThrow(/no reason 4/);
  });
});
