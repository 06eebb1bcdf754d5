import { describe, expect, it } from 'vitest';
import type { VendorCodeBaseline } from '../../features/baselines.js';
import type { LineFeatures } from '../../features/invoice-features.js';
import { makeInvoice } from '../../test/fixtures.js';
import { reason } from '../explain.js';
import type { ScoringContext } from '../scorers.js';
import { withBaselineEvidence } from './baselines.js';
import type { LineRecord } from './types.js';

const line = { ...makeInvoice().lines[0]!, code: { system: 'HCPCS' as const, value: 'e0570' } };

/** One line record with a quantity reason and a reason that rests on no baseline. */
const record = (): LineRecord => ({
  line,
  features: {} as LineFeatures,
  score: {
    lineNumber: line.line_number,
    score: 0.7,
    reasons: [
      reason('QUANTITY_IMPLAUSIBLE', 0.7, { quantity: 30 }),
      reason('DESCRIPTION_CODE_MISMATCH', 0.2, {}),
    ],
    suggestedCodes: [],
  },
});

const context = (observations: number): ScoringContext =>
  ({
    vendorBaselines: new Map<string, VendorCodeBaseline>([
      ['E0570', { quantity: { median: 2.0004, madLog: 0.1, observations }, unitPrice: null }],
    ]),
  }) as unknown as ScoringContext;

describe('baseline evidence on quantity reasons', () => {
  it("names the vendor's own quantity baseline with its median and observations once it holds 8", () => {
    const [out] = withBaselineEvidence([record()], context(8));
    expect(out!.score.reasons[0]!.evidence).toEqual({
      quantity: 30,
      quantity_baseline: { source: 'vendor_history', observations: 8, median: 2 },
    });
    expect(out!.score.reasons[1]!.evidence).toEqual({});
  });

  it('names the reference data with the observations so far on a thin or missing history', () => {
    const [thin] = withBaselineEvidence([record()], context(7));
    expect(thin!.score.reasons[0]!.evidence.quantity_baseline).toEqual({
      source: 'reference',
      observations: 7,
    });
    const [none] = withBaselineEvidence([record()], {} as ScoringContext);
    expect(none!.score.reasons[0]!.evidence.quantity_baseline).toEqual({
      source: 'reference',
      observations: 0,
    });
  });
});
