/**
 * The price group's reason follows the direction of the price vs the fee: a price below the
 * fee that raises the coding risk is PRICE_BELOW_FEE_SCHEDULE, never "far above"; without a
 * known fee it is CODING_MODEL_RISK.
 */
import { describe, expect, it } from 'vitest';
import { REASON_CODES } from '../core/decision.js';
import type { ModelExplanation } from './explain-model.js';
import { directedExplanation, modelReasons } from './model-reasons.js';
import type { LoadedModel } from './onnx-champion.js';

const spec = {
  featureNames: ['fee_known', 'unit_price_fee_log_ratio', 'desc_ref_cosine'],
} as unknown as NonNullable<LoadedModel['spec']>;
const model = { label: 'coding-mismatch@9', spec } as unknown as LoadedModel;

/** An explanation whose price group raises the logit by 2 and description fit by 1. */
const explanation: ModelExplanation = {
  method: 'exact-linear',
  baseValue: -3,
  logit: 0,
  probability: 0.5,
  calibration: 'platt' as ModelExplanation['calibration'],
  contributions: [
    {
      group: 'price_vs_fee_schedule',
      value: 2,
      features: { fee_known: 0.1, unit_price_fee_log_ratio: 1.9 },
      reason: 'PRICE_ABOVE_FEE_SCHEDULE',
    },
    {
      group: 'description_fit',
      value: 1,
      features: { desc_ref_cosine: 1 },
      reason: 'DESCRIPTION_CODE_MISMATCH',
    },
  ],
  completenessGap: 0,
  steps: 1,
  baseline: 'training-mean',
};

describe('price reason direction', () => {
  it('names a price far below the fee PRICE_BELOW_FEE_SCHEDULE, with its own message', () => {
    // E0431 billed at 75 cents: ln(75 / 2160) = -3.36.
    const below = modelReasons(model, 0.969, explanation, [1, -3.36, 0.2], []);
    expect(below.map((r) => r.code)).toEqual(['PRICE_BELOW_FEE_SCHEDULE', 'DESCRIPTION_CODE_MISMATCH']);
    expect(below[0]!.message).toBe(REASON_CODES.PRICE_BELOW_FEE_SCHEDULE.summary);
    expect(below[0]!.message).not.toMatch(/above/);
    expect(below[0]!.weight).toBeCloseTo((0.969 * 2) / 3, 3);
    const explained = directedExplanation(spec, explanation, [1, -3.36, 0.2]);
    expect(explained.contributions.map((c) => c.reason)).toEqual([
      'PRICE_BELOW_FEE_SCHEDULE',
      'DESCRIPTION_CODE_MISMATCH',
    ]);
  });

  it('keeps PRICE_ABOVE_FEE_SCHEDULE above the fee', () => {
    const reasons = modelReasons(model, 0.6, explanation, [1, 1.2, 0.2], []);
    expect(reasons[0]!.code).toBe('PRICE_ABOVE_FEE_SCHEDULE');
    expect(directedExplanation(spec, explanation, [1, 1.2, 0.2]).contributions[0]!.reason).toBe(
      'PRICE_ABOVE_FEE_SCHEDULE',
    );
  });

  it('names the price group CODING_MODEL_RISK when no fee is known: neither above nor below', () => {
    const reasons = modelReasons(model, 0.6, explanation, [0, 0, 0.2], []);
    expect(reasons.map((r) => r.code)).toEqual(['CODING_MODEL_RISK', 'DESCRIPTION_CODE_MISMATCH']);
    expect(reasons[0]!.message).toBe(REASON_CODES.CODING_MODEL_RISK.summary);
    expect(reasons[0]!.evidence.group).toBe('price_vs_fee_schedule');
    expect(directedExplanation(spec, explanation, [0, 0, 0.2]).contributions[0]!.reason).toBe(
      'CODING_MODEL_RISK',
    );
  });
});
