/**
 * Exact edit scripts between two short strings (invoice numbers), shown to reviewers as
 * evidence: which characters were substituted, inserted or deleted.
 */

/** One edit turning `from` into `to`. Positions are 0-based code-point indexes in `from`. */
export interface EditOp {
  op: 'substitute' | 'insert' | 'delete';
  position: number;
  from?: string;
  to?: string;
}

/**
 * Minimal Levenshtein edit script from `a` to `b` (dynamic programming with backtrace), over
 * Unicode code points so that no edit splits a surrogate pair. Intended for short strings
 * (O(|a|*|b|) memory); inputs longer than 256 code points are refused.
 * @throws RangeError when either string is longer than 256 characters.
 */
export function editScript(aText: string, bText: string): EditOp[] {
  const a = Array.from(aText);
  const b = Array.from(bText);
  if (a.length > 256 || b.length > 256)
    throw new RangeError('editScript: strings longer than 256 characters');
  const n = a.length;
  const m = b.length;
  // The distance table in one array, row-major: d(i, j) = d[i * w + j].
  const w = m + 1;
  const d = new Uint16Array((n + 1) * w);
  for (let i = 0; i <= n; i++) d[i * w] = i;
  for (let j = 0; j <= m; j++) d[j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i * w + j] = Math.min(d[(i - 1) * w + j]! + 1, d[i * w + j - 1]! + 1, d[(i - 1) * w + j - 1]! + cost);
    }
  }
  const ops: EditOp[] = [];
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && d[i * w + j] === d[(i - 1) * w + j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)) {
      if (a[i - 1] !== b[j - 1])
        ops.push({ op: 'substitute', position: i - 1, from: a[i - 1]!, to: b[j - 1]! });
      i--;
      j--;
    } else if (i > 0 && d[i * w + j] === d[(i - 1) * w + j]! + 1) {
      ops.push({ op: 'delete', position: i - 1, from: a[i - 1]! });
      i--;
    } else {
      ops.push({ op: 'insert', position: i, to: b[j - 1]! });
      j--;
    }
  }
  return ops.reverse();
}

/** Human-readable form of an edit script, e.g. `substitute 'O'->'0' at 5`. */
export function describeEdits(ops: readonly EditOp[]): string {
  if (ops.length === 0) return 'identical';
  return ops
    .map((o) =>
      o.op === 'substitute'
        ? `substitute '${o.from}'->'${o.to}' at ${o.position}`
        : o.op === 'insert'
          ? `insert '${o.to}' at ${o.position}`
          : `delete '${o.from}' at ${o.position}`,
    )
    .join('; ');
}
