/**
 * What "more agreement" means for each entry of the pair vector, read from the comparison
 * declarations (`NumericFeature.agreement`, `ComparisonSpec.agreementOrder` in `comparison-spec.ts`):
 * the input a monotone pair model (`training/monotone.ts`) must never score lower on when it
 * moves towards agreement.
 */
import type { ComparisonSpec } from './comparison-spec.js';
import { COMPARISONS } from './comparisons.js';

/** Agreement structure of a vector, by column index. */
export interface VectorAgreement {
  /**
   * Per column: +1 when a larger value means more agreement, -1 when a smaller one does, 0 for
   * columns without a direction (missing flags, level one-hots: those are ordered by `chains`).
   */
  direction: number[];
  /**
   * One entry per comparison with an `agreementOrder`: the column indices of its level one-hots
   * from most to least agreement. Moving a pair's hot level earlier in a chain is more agreement.
   */
  chains: number[][];
}

/**
 * The agreement structure of the columns `names` (a model's feature names, in its input order)
 * under the comparison declarations `specs`; names that no declaration gives a direction get 0.
 * @throws RangeError when an `agreementOrder` names a level its comparison lacks.
 */
export function vectorAgreement(
  names: readonly string[],
  specs: readonly ComparisonSpec[] = COMPARISONS,
): VectorAgreement {
  const col = new Map(names.map((n, i) => [n, i]));
  const direction = new Array<number>(names.length).fill(0);
  const chains: number[][] = [];
  for (const s of specs) {
    for (const n of s.numeric) {
      const i = col.get(`${s.name}.${n.name}`);
      if (i !== undefined && n.agreement) direction[i] = n.agreement;
    }
    if (!s.agreementOrder) continue;
    const chain: number[] = [];
    for (const label of s.agreementOrder) {
      if (!s.levels.some((l) => l.label === label))
        throw new RangeError(`comparison ${s.name} has no level ${label} (agreementOrder)`);
      const i = col.get(`${s.name}=${label}`);
      if (i !== undefined) chain.push(i);
    }
    if (chain.length > 1) chains.push(chain);
  }
  return { direction, chains };
}
