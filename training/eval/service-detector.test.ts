import { describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../../core/decision.js';
import { causeOf } from './service-detector.js';

const reason = (code: string, weight: number, line?: number) => ({
  code,
  message: code,
  weight,
  evidence: line === undefined ? {} : { line_number: line },
});
const decision = (d: Partial<DecisionResponse>): DecisionResponse =>
  ({ decision: 'REVIEW', queue: 'coding', reasons: [], ...d }) as unknown as DecisionResponse;

describe('causeOf', () => {
  it('names the heaviest reason in the queue the invoice was routed to, with its line', () => {
    const d = decision({
      queue: 'coding',
      reasons: [
        reason('TOTAL_MISMATCH', 0.9), // ap queue: not why it is in the coding queue
        reason('CODING_MODEL_RISK', 0.01, 2),
        reason('QUANTITY_IMPLAUSIBLE', 0.2, 3),
      ] as DecisionResponse['reasons'],
    });
    expect(causeOf(d)).toEqual({ reason: 'QUANTITY_IMPLAUSIBLE', lineNumber: 3 });
  });

  it('an invoice-level reason has no line; an approved invoice has no cause', () => {
    const held = decision({
      decision: 'HOLD',
      queue: 'ap',
      reasons: [reason('DUPLICATE_SAME_NUMBER', 0.99)] as DecisionResponse['reasons'],
    });
    expect(causeOf(held)).toEqual({ reason: 'DUPLICATE_SAME_NUMBER', lineNumber: null });
    expect(causeOf(decision({ decision: 'AUTO_APPROVE', queue: undefined }))).toBeNull();
  });
});
