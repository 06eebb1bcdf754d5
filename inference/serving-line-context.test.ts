import { beforeAll, describe, expect, it } from 'vitest';
import { loadReferenceData } from '../datasets/reference.js';
import { buildReferenceIndex, type ReferenceIndex } from '../features/reference-index.js';
import { lineFeatures } from '../features/line-features.js';
import { makeInvoice } from '../test/fixtures.js';
import type { VendorProfile } from '../core/vendor.js';
import type { VendorCodeBaseline } from '../features/baselines.js';
import type { LoadedModel } from './onnx-champion.js';
import { servingLineContext } from './serving-line-context.js';

let reference: ReferenceIndex;
beforeAll(() => {
  reference = buildReferenceIndex(loadReferenceData());
});

const model = {
  label: 'coding-test@1',
  files: {
    'line-context.json': Buffer.from(
      JSON.stringify({ typicalQuantities: { source: 'training run', byCode: { E0570: 1 }, byCategory: {} } }),
    ),
  },
} as unknown as LoadedModel;
const profile: VendorProfile = {
  vendor_id: 'V-100',
  name: null,
  category: null,
  approved_betos: [],
  approved_hcpcs_prefixes: ['E'],
  version: 1,
  updated_at: '2025-01-01T00:00:00.000Z',
};
const baseline = (observations: number): Map<string, VendorCodeBaseline> =>
  new Map([['E0570', { quantity: { median: 30, madLog: 0, observations }, unitPrice: null }]]);

describe('serving line context with tenant-adaptive quantity baselines', () => {
  const invoice = makeInvoice();
  const line = { ...invoice.lines[1]!, quantity: 30 };
  const ratioWith = (vendorBaselines: Map<string, VendorCodeBaseline>) => {
    const ctx = servingLineContext(reference)(invoice, line, model, {
      vendorProfile: profile,
      vendorCodeCounts: new Map(),
      vendorBaselines,
    });
    return lineFeatures(line, ctx).values.quantity_typical_log_ratio;
  };

  it("judges the vendor's usual quantity against its own median once its history is deep enough", () => {
    expect(ratioWith(baseline(8))).toBe(0);
  });

  it('falls back to the training-run table on a thin history', () => {
    expect(ratioWith(baseline(7))).toBeCloseTo(Math.log(30), 6);
    expect(ratioWith(new Map())).toBeCloseTo(Math.log(30), 6);
  });
});

describe("serving line context with the vendor's per-code history", () => {
  it('gives the coding model the counts of the codes the vendor billed before, as training does', () => {
    const invoice = makeInvoice();
    const line = invoice.lines[1]!;
    const code = line.code!.value.toUpperCase();
    const ctx = servingLineContext(reference)(invoice, line, model, {
      vendorProfile: profile,
      vendorCodeCounts: new Map([
        [code, 6],
        ['A4253', 3],
      ]),
    });
    const v = lineFeatures(line, ctx).values;
    expect(v.vendor_code_lines_log).toBeCloseTo(Math.log(7), 6);
    expect(v.vendor_lines_log).toBeCloseTo(Math.log(10), 6);
  });
});
