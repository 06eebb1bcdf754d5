import { describe, expect, it } from 'vitest';
import { PAIR_MONOTONE_SIGNS, PAIR_VECTOR_NAMES } from '../features/comparisons.js';
import { MLP_16_8 } from '../models/specs/index.js';
import { specLogit } from '../models/spec.js';
import { monotoneSigns, monotoneViolation } from './monotone.js';
import { syntheticRows } from './synthetic.js';
import { trainNetwork } from './train.js';

describe('monotone training (projected weights)', () => {
  // x0 raises the risk, x1 lowers it; the constraints below say the opposite for x0 and x1, so
  // an unconstrained network learns weights the projection must forbid.
  const data = syntheticRows({ n: 2000, seed: 3, coef: [2, -2, 1], interaction: 2 });
  const signs = [-1, 1, 0];

  it('keeps the logit monotone in every signed input, against the data', async () => {
    const decl = { ...MLP_16_8, epochs: 4, batchSize: 128 };
    const opts = { task: 'duplicate' as const, featureSchemaVersion: 'fs-test', seed: 7 };
    const free = await trainNetwork(data, decl, opts);
    expect(monotoneViolation(free.spec, signs)).not.toBeNull();
    const mono = await trainNetwork(data, decl, { ...opts, monotone: signs });
    expect(monotoneViolation(mono.spec, signs)).toBeNull();
    // property: raising x0 never raises the logit, raising x1 never lowers it, at random points
    let rng = 12345;
    const u = (): number => ((rng = (rng * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 6 - 3;
    for (let t = 0; t < 200; t++) {
      const x = [u(), u(), u()];
      const step = Math.abs(u()) + 0.01;
      expect(specLogit(mono.spec, [x[0]! + step, x[1]!, x[2]!])).toBeLessThanOrEqual(
        specLogit(mono.spec, x) + 1e-9,
      );
      expect(specLogit(mono.spec, [x[0]!, x[1]! + step, x[2]!])).toBeGreaterThanOrEqual(
        specLogit(mono.spec, x) - 1e-9,
      );
    }
  });

  it('signs the duplicate inputs by name and leaves the coding model free', () => {
    expect(monotoneSigns('coding-mismatch', ['a'])).toBeNull();
    const s = monotoneSigns('duplicate', PAIR_VECTOR_NAMES)!;
    expect(s).toEqual([...PAIR_MONOTONE_SIGNS]);
    const at = (n: string): number => s[PAIR_VECTOR_NAMES.indexOf(n)]!;
    expect(at('invoice_number>=exact_raw')).toBe(1);
    expect(at('vendor_identity>=same_id')).toBe(1);
    expect(at('invoice_date.days_apart')).toBe(-1);
    expect(at('invoice_number.sequence_step')).toBe(-1);
    expect(at('document_kinds=credit_memo|invoice')).toBe(0);
    expect(() => monotoneSigns('duplicate', ['nope'])).toThrow(RangeError);
  });
});
