/**
 * The coding model reads the printed-code check: the served ONNX graphs of `coding-mismatch@5`
 * and `@7` (line edition 4), loaded from the shipped registry against the served line signature,
 * score a line that prints another HCPCS code than it bills above the same line printing no code
 * or its own code, and above each card's review threshold.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { shippedModelsDir } from '../bin/bootstrap.js';
import type { InvoiceLine } from '../core/invoice.js';
import { loadReferenceData } from '../datasets/reference.js';
import { LINE_FEATURE_SPECS, lineFeatureVector, LINE_VECTOR_NAMES } from '../features/line-features.js';
import { buildReferenceIndex, type ReferenceIndex } from '../features/reference-index.js';
import { OnnxModelSession } from '../inference/onnx-session.js';
import { ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import { inputProjection } from '../models/signature.js';

/** The line features of edition `e` and before, in vector order. */
const editionNames = (e: number): string[] =>
  LINE_FEATURE_SPECS.filter((f) => (f.since ?? 3) <= e).map((f) => f.name);

let reference: ReferenceIndex;
let session: OnnxModelSession;
let reviewAt: number;
beforeAll(() => {
  reference = buildReferenceIndex(loadReferenceData());
}, 600_000);

/** An enteral infusion pump line billed as `billed` at a clean seed-101 benchmark line's price. */
const pump = (description: string, billed: string): InvoiceLine => ({
  line_number: 1,
  description,
  code: { system: 'HCPCS', value: billed },
  quantity: 1,
  unit_price_cents: 94_957,
  amount_cents: 94_957,
});
/** The line's current vector restricted to the model's inputs (line edition 4), by name, as the service feeds it. */
const vector = (l: InvoiceLine): Float32Array => {
  const x = lineFeatureVector(l, { reference, serviceDate: '2025-03-01' });
  const at = inputProjection(session.featureNames, LINE_VECTOR_NAMES);
  return at ? Float32Array.from(at, (i) => x[i]!) : x;
};
const score = async (rows: Float32Array[]): Promise<number[]> =>
  Array.from((await session.run(rows)).probability);

describe.each(['5', '7'])('coding-mismatch@%s and the printed code', (version) => {
  beforeAll(async () => {
    const registry = new ModelRegistry({ root: shippedModelsDir(), featureSchemas: servedFeatureSchemas() });
    const r = await registry.resolve('coding-mismatch', version);
    reviewAt = r.card.thresholds.autoApprove;
    session = await OnnxModelSession.fromBuffer(r.onnx, {
      expected: servedFeatureSchemas()['coding-mismatch'],
      label: r.label,
    });
  }, 600_000);

  it('reads the line vector with the printed-code features', () => {
    expect(session.featureNames).toEqual(editionNames(4));
    expect(session.featureNames).toContain('printed_code_differs');
  });

  it('scores a line printing another code than it bills higher, whatever the formatting', async () => {
    const [plain, own] = await score([
      vector(pump('SKU 891021 ENTER NUTR INF PUMP ANY TYPE', 'B9002')),
      vector(pump('SKU 891021 [B9002] ENTER NUTR INF PUMP ANY TYPE', 'B9002')),
    ]);
    const differing = await score(
      [
        'SKU 891021 [B9004] ENTER NUTR INF PUMP ANY TYPE',
        'B9004 - Enter nutr inf pump any type, SKU 891021',
        'HCPCS: b9004 enter nutr inf pump any type',
        'Enter nutr inf pump any type (B9004)',
      ].map((d) => vector(pump(d, 'B9002'))),
    );
    for (const p of differing) {
      expect(p).toBeGreaterThan(reviewAt);
      expect(p).toBeGreaterThan(plain! + 0.2);
      expect(p).toBeGreaterThan(own! + 0.2);
    }
    expect(plain).toBeLessThan(reviewAt);
    expect(own).toBeLessThan(reviewAt);
  });

  it('raises the score through printed_code_differs alone', async () => {
    const v = vector(pump('SKU 891021 [B9002] ENTER NUTR INF PUMP ANY TYPE', 'B9002'));
    const at = LINE_VECTOR_NAMES.indexOf('printed_code_differs');
    expect(v[at]).toBe(0);
    const on = Float32Array.from(v);
    on[at] = 1;
    const [differs, same] = await score([on, v]);
    expect(differs).toBeGreaterThan(same! + 0.2);
  });
});
