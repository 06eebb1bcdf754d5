/**
 * Builders of pair comparisons declared in features/comparisons.ts: ordered levels without
 * numeric features, the two unpadded-number comparisons of pair edition 4, and the document-kind
 * levels.
 */
import type { PairComparison } from './pair.js';
import { always, type ComparisonLevel, type ComparisonSpec } from './comparison-spec.js';

const DOC_KINDS = ['invoice', 'credit_memo', 'debit_memo'] as const;

/** {@link kindPair} by `documentTypes` (nine combinations of three document types). */
const KIND_PAIRS = new Map<string, string>();

/** Unordered document-kind pair of a comparison, e.g. `credit_memo|invoice`. */
function kindPair(c: PairComparison): string {
  let pair = KIND_PAIRS.get(c.documentTypes);
  if (pair === undefined)
    KIND_PAIRS.set(c.documentTypes, (pair = c.documentTypes.split('/').sort().join('|')));
  return pair;
}

/** The levels of `document_kinds`: one per unordered pair of document kinds. */
export const docKindLevels: ComparisonLevel[] = [];
for (let i = 0; i < DOC_KINDS.length; i++) {
  for (let j = i; j < DOC_KINDS.length; j++) {
    const label = [DOC_KINDS[i]!, DOC_KINDS[j]!].sort().join('|');
    docKindLevels.push({
      label,
      description: `Document kinds ${label.replace('|', ' and ')}.`,
      when: (c) => kindPair(c) === label,
    });
  }
}

/**
 * A comparison without numeric features whose levels are declared from most to least agreement
 * (its `agreementOrder`), the last one holding for every other pair.
 * @param agree `[label, description, predicate]` of each level but the last, most agreement first.
 * @param last `[label, description]` of the catch-all level.
 */
export function orderedLevels(
  name: string,
  description: string,
  since: number,
  agree: readonly (readonly [string, string, ComparisonLevel['when']])[],
  last: readonly [string, string],
): ComparisonSpec {
  return {
    name,
    description,
    since,
    agreementOrder: [...agree.map(([label]) => label), last[0]],
    numeric: [],
    levels: [
      ...agree.map(([label, d, when]) => ({ label, description: d, when })),
      { label: last[0], description: last[1], when: always },
    ],
  };
}

/**
 * Pair-vector edition 4's comparison of the invoice numbers with the zero padding of every
 * numeric run dropped: normalised forms equal, else canonical forms equal, else neither; with
 * `sameVendor`, each level also needs the same vendor (id, tax id or NPI).
 * @param equal, canonical, other `[label, description]` of the three levels.
 */
export function unpaddedNumbers(
  name: string,
  description: string,
  sameVendor: boolean,
  equal: readonly [string, string],
  canonical: readonly [string, string],
  other: readonly [string, string],
): ComparisonSpec {
  const vendor = (c: PairComparison): boolean => !sameVendor || c.sameVendor;
  return orderedLevels(
    name,
    description,
    4,
    [
      [...equal, (c) => vendor(c) && c.invoiceNumberUnpaddedEqual],
      [...canonical, (c) => vendor(c) && c.invoiceNumberCanonicalUnpaddedEqual],
    ],
    other,
  );
}
