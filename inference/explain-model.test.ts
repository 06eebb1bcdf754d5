import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { logitOfStandardised, standardiseRow } from '../models/spec-math.js';
import { specLogit, type TrainedModelSpec } from '../models/spec.js';
import { LINE_NAMES, lineRows, makeSpec, randomRows } from '../test/model-fixtures.js';
import { ModelExplainer, type FeatureGroup } from './explain-model.js';

const GROUPS: FeatureGroup[] = [
  {
    name: 'description_fit',
    features: ['desc_ref_cosine', 'desc_ref_token_overlap'],
    reason: 'DESCRIPTION_CODE_MISMATCH',
  },
  { name: 'code_status', features: ['code_known', 'code_terminated'] },
  { name: 'price', features: ['unit_price_fee_log_ratio'], reason: 'PRICE_ABOVE_FEE_SCHEDULE' },
  { name: 'amount', features: ['line_amount_gap_cents'], reason: 'LINE_AMOUNT_MISMATCH' },
];

/**
 * The exact path walk written plainly over the spec's nested weights (every product summed,
 * off units zeroed, both passes recomputed at every piece): what the explainer's walk must
 * equal bit for bit. Returns the per-feature contributions and the number of pieces.
 */
function plainWalk(spec: TrainedModelSpec, x: readonly number[]): { phi: number[]; pieces: number } {
  const z = standardiseRow(spec, x);
  const phi = new Array<number>(z.length).fill(0);
  let t = 0;
  let pieces = 0;
  while (t < 1) {
    let h = Array.from(z, (v) => t * v);
    let d = Array.from(z);
    let next = 1;
    const masks: boolean[][] = [];
    for (const l of spec.layers) {
      const hOut: number[] = [];
      const dOut: number[] = [];
      const mask: boolean[] = [];
      for (let j = 0; j < l.bias.length; j++) {
        let p = l.bias[j]!;
        let dp = 0;
        for (let i = 0; i < h.length; i++) {
          p += h[i]! * l.weights[i]![j]!;
          dp += d[i]! * l.weights[i]![j]!;
        }
        let on = true;
        if (l.activation === 'relu') {
          const atZero = Math.abs(p) <= 1e-12 * (1 + Math.abs(p));
          on = atZero ? dp > 0 : p > 0;
          if (dp !== 0 && !atZero) {
            const cross = t - p / dp;
            if (cross > t + 1e-12 && cross < next) next = cross;
          }
          if (!on) [p, dp] = [0, 0];
        }
        hOut.push(p);
        dOut.push(dp);
        mask.push(on);
      }
      masks.push(mask);
      [h, d] = [hOut, dOut];
    }
    let g = [1];
    for (let k = spec.layers.length - 1; k >= 0; k--) {
      const l = spec.layers[k]!;
      const gated = g.map((v, j) => (masks[k]![j] ? v : 0));
      g = l.weights.map((row) => row.reduce((s, w, j) => s + w * gated[j]!, 0));
    }
    for (let i = 0; i < z.length; i++) phi[i]! += z[i]! * g[i]! * (next - t);
    t = next;
    pieces++;
  }
  return { phi, pieces };
}

describe('ModelExplainer', () => {
  it("the exact path walk gives the plain walk's numbers bit for bit (test MLP and the shipped champions)", () => {
    const shipped = ['coding-mismatch/2', 'duplicate/2'].map(
      (v) =>
        JSON.parse(
          readFileSync(new URL(`../models/artifacts/${v}/spec.json`, import.meta.url), 'utf8'),
        ) as TrainedModelSpec,
    );
    const specs = [makeSpec({ seed: 32, hidden: [16, 8], weightScale: 1.5 }), ...shipped];
    let rows = 0;
    let maxPieces = 0;
    for (const spec of specs) {
      const ex = new ModelExplainer(spec, [{ name: 'all', features: spec.featureNames }]);
      for (const x of randomRows(spec, 150, 7, 2)) {
        const e = ex.explain(x);
        const plain = plainWalk(spec, x);
        expect(e.method).toBe('integrated-gradients-exact');
        expect(e.steps).toBe(plain.pieces);
        expect(Object.is(e.logit, logitOfStandardised(spec, standardiseRow(spec, x)))).toBe(true);
        const features = e.contributions[0]!.features;
        spec.featureNames.forEach((n, i) => expect(Object.is(features[n], plain.phi[i])).toBe(true));
        rows++;
        maxPieces = Math.max(maxPieces, plain.pieces);
      }
    }
    expect(rows).toBe(450);
    expect(maxPieces).toBeGreaterThan(3); // the walks cross ReLU switches, not a single piece
  });

  it('logistic: exact contributions w_i * z_i that add up to the logit (gap <= 1e-9)', () => {
    const spec = makeSpec({ seed: 31 });
    const ex = new ModelExplainer(spec, GROUPS);
    let maxGap = 0;
    for (const x of [...lineRows(1000, 1), ...randomRows(spec, 1000, 2, 10)]) {
      const e = ex.explain(x);
      expect(e.method).toBe('exact-linear');
      maxGap = Math.max(maxGap, Math.abs(e.completenessGap));
      expect(e.logit).toBeCloseTo(specLogit(spec, x), 12);
      const w = spec.layers[0]!.weights;
      const i = 4; // unit_price_fee_log_ratio
      const z = (x[i]! - spec.standardise.mean[i]!) / spec.standardise.std[i]!;
      expect(e.contributions.find((c) => c.group === 'price')!.value).toBeCloseTo(w[i]![0]! * z, 12);
      expect(e.baseValue).toBe(spec.layers[0]!.bias[0]);
    }
    console.log(`logistic explanation: max |completeness gap| ${maxGap.toExponential(2)} over 2000 rows`);
    expect(maxGap).toBeLessThanOrEqual(1e-9);
  });

  it('MLP: integrated gradients, exact along the ReLU pieces (gap <= 1e-9), Riemann 64 steps close to it', () => {
    const spec = makeSpec({ seed: 32, hidden: [16, 8], weightScale: 1.5 });
    const exact = new ModelExplainer(spec, GROUPS);
    const riemann64 = new ModelExplainer(spec, GROUPS, { method: 'riemann', steps: 64 });
    const riemann32 = new ModelExplainer(spec, GROUPS, { method: 'riemann', steps: 32 });
    let maxExact = 0;
    let max64 = 0;
    let max32 = 0;
    let maxPieces = 0;
    let maxDiffVsExact = 0;
    let maxRel64 = 0;
    for (const x of [...lineRows(300, 3), ...randomRows(spec, 300, 4)]) {
      const e = exact.explain(x);
      expect(e.method).toBe('integrated-gradients-exact');
      const r = riemann64.explain(x);
      maxExact = Math.max(maxExact, Math.abs(e.completenessGap));
      max64 = Math.max(max64, Math.abs(r.completenessGap));
      maxRel64 = Math.max(
        maxRel64,
        Math.abs(r.completenessGap) / Math.max(1, Math.abs(r.logit - r.baseValue)),
      );
      max32 = Math.max(max32, Math.abs(riemann32.explain(x).completenessGap));
      maxPieces = Math.max(maxPieces, e.steps);
      e.contributions.forEach(
        (c, k) => (maxDiffVsExact = Math.max(maxDiffVsExact, Math.abs(c.value - r.contributions[k]!.value))),
      );
      expect(e.logit).toBeCloseTo(specLogit(spec, x), 10);
    }
    console.log(
      `MLP 16-8 integrated gradients over 600 rows: max |gap| exact ${maxExact.toExponential(2)} (<= ${maxPieces} pieces),` +
        ` Riemann 64 steps ${max64.toExponential(2)} (relative to |logit - base|: ${maxRel64.toExponential(2)}),` +
        ` 32 steps ${max32.toExponential(2)};` +
        ` max |group contribution, Riemann 64 - exact| ${maxDiffVsExact.toExponential(2)}`,
    );
    expect(maxExact).toBeLessThanOrEqual(1e-9);
    expect(max64).toBeLessThan(0.1); // logit units: why the exact integration is the default
    expect(max64).toBeGreaterThan(maxExact); // the Riemann sum really is an approximation here
  });

  it('IG gives no credit to a feature at its baseline and credits the one that moved', () => {
    const spec = makeSpec({ seed: 33, hidden: [8] });
    const ex = new ModelExplainer(spec, GROUPS);
    const x = [...spec.standardise.mean];
    x[4] = x[4]! + 3 * spec.standardise.std[4]!; // only the price ratio moves
    const e = ex.explain(x);
    for (const c of e.contributions) if (c.group !== 'price') expect(c.value).toBe(0);
    expect(e.contributions.find((c) => c.group === 'price')!.value).toBeCloseTo(e.logit - e.baseValue, 9);
  });

  it('refuses a grouping that does not cover every feature exactly once', () => {
    const spec = makeSpec({ seed: 1 });
    expect(() => new ModelExplainer(spec, GROUPS.slice(1))).toThrow(/features in no group: desc_ref_cosine/);
    expect(() => new ModelExplainer(spec, [...GROUPS, { name: 'x', features: ['code_known'] }])).toThrow(
      /more than one group/,
    );
    expect(() => new ModelExplainer(spec, [...GROUPS, { name: 'x', features: ['nope'] }])).toThrow(
      /unknown feature/,
    );
    expect(LINE_NAMES).toHaveLength(6);
  });
});
