import { describe, expect, it } from 'vitest';
import { makeInvoice } from '../../test/fixtures.js';
import { reason } from '../explain.js';
import { DEFAULT_POLICY } from '../policy.js';
import { prepare } from './prepare.js';
import { prioritise } from './priority.js';
import type { LineRecord } from './types.js';

describe('priority stage', () => {
  const inv = makeInvoice({ received_date: '2025-03-02' });
  const lines: LineRecord[] = prepare(inv).lines.map((l, i) => ({
    ...l,
    score: {
      lineNumber: l.line.line_number,
      score: i === 0 ? 0.5 : null,
      reasons: i === 1 ? [reason('CODE_OUTSIDE_VENDOR_PROFILE', 0.6, {})] : [],
      suggestedCodes: [],
    },
  }));

  it('prices the expected loss from line scores and the vendor-profile rule weight, in cents', () => {
    const p = prioritise(inv, lines, 0, [], { ...DEFAULT_POLICY, slaCentsPerDay: 0 }, '2025-03-02');
    // max(0 x 21500, 0.5 x 20000 + 0.6 x 1500) = 10900 cents
    expect(p.components.expectedLossCents).toBe(10_900);
    expect(p.components.receivedDate).toBe('2025-03-02');
    expect(p.asOf).toBe('2025-03-02');
    expect(p.dollars).toBe(109);
  });

  it('takes the scoring day as the received date when the invoice has none, and ages by the SLA', () => {
    const p = prioritise(
      makeInvoice(),
      lines,
      0.9,
      [],
      { ...DEFAULT_POLICY, slaCentsPerDay: 200 },
      '2025-03-05',
    );
    expect(p.components.receivedDate).toBe('2025-03-05');
    expect(p.components.slaCentsPerDay).toBe(200);
    expect(p.components.expectedLossCents).toBe(Math.round(0.9 * 21_500));
  });

  it('gives a credit memo (it pays nothing) a priority of 0 on its scoring day', () => {
    const credit = makeInvoice({ received_date: '2025-03-02', document_type: 'credit_memo' });
    credit.total_cents = -credit.total_cents;
    for (const l of credit.lines) {
      l.amount_cents = -l.amount_cents;
      l.quantity = -l.quantity;
    }
    const p = prioritise(credit, lines, 0.9, [], { ...DEFAULT_POLICY, slaCentsPerDay: 200 }, '2025-03-02');
    expect(p.components.expectedLossCents).toBe(0);
    expect(p.dollars).toBe(0);
  });
});
