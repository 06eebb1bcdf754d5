/**
 * The price reason of a line whose code has no CMS fee, through the served path (the shipped
 * coding champion, in-memory PGlite): the model's price group raises the risk of a terminated
 * enteral pump code billed at USD 261.63 (a line of the golden fixture, `bm7-0001867`), and with
 * no fee to compare with it is CODING_MODEL_RISK, not "far above the fee schedule".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wire, type Wired } from '../bin/bootstrap.js';
import { validateInvoice } from '../core/validate.js';
import { makeInvoice } from './fixtures.js';

let w: Wired;
beforeAll(async () => {
  w = await wire({ engine: 'pglite' }, { models: { reloadMs: null } });
}, 300_000);
afterAll(async () => {
  await w?.repo.close();
  await w?.closeModels();
});

describe('the price reason without a known fee', () => {
  it('is CODING_MODEL_RISK from the price group, never PRICE_ABOVE_FEE_SCHEDULE', async () => {
    const pump = {
      line_number: 1,
      description: 'Enteral nutrition infusion pump - w/o alarm',
      code: { system: 'HCPCS' as const, value: 'B9000' },
      quantity: 1,
      unit_price_cents: 26_163,
      amount_cents: 26_163,
      service_date: '2025-05-01',
    };
    const inv = makeInvoice({
      invoice_id: 'no-fee-1',
      vendor: { id: 'V-300122', name: 'Beacon United Clinical Nutrition P.C.' },
      invoice_date: '2025-05-21',
      due_date: '2025-06-20',
      total_cents: 26_163,
      lines: [pump],
    });
    const { decision } = await w.scoring.score(validateInvoice(inv));
    const reasons = decision.lines[0]!.reasons;
    expect(reasons.map((r) => r.code)).toContain('CODE_TERMINATED');
    const price = reasons.find((r) => r.evidence.group === 'price_vs_fee_schedule');
    expect(price?.code).toBe('CODING_MODEL_RISK');
    expect(price!.weight).toBeGreaterThan(0.05);
    const features = price!.evidence.features as Record<string, { value: number }>;
    expect(features.fee_known!.value).toBe(0);
    expect(reasons.map((r) => r.code)).not.toContain('PRICE_ABOVE_FEE_SCHEDULE');
    expect(reasons.map((r) => r.code)).not.toContain('PRICE_BELOW_FEE_SCHEDULE');
  }, 120_000);
});
