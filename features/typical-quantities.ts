/**
 * Typical billed quantities per line (the `quantity_typical_*` line features): medians of
 * accepted past lines per code and per category, and for a priced code with too few lines of
 * its own, the median of the lines of its HCPCS section whose codes' reference fees are in the
 * same price band. A code without history is judged by codes billed at its price, not by its
 * BETOS category: one category holds a USD 1.34 "per 250 square centimeters" foam sheet (billed
 * by the dozen) beside a USD 90 compression wrap (billed one at a time), and drugs billed per
 * 0.1 mg beside drugs billed per 500 mg, so a category median is off by orders of magnitude for
 * many of its codes. How much of an item one line bills follows its unit price (cheap units
 * come in boxes and many billing units per dose), which the fee band captures.
 *
 * Reference data: the fees are the CMS 2025 fee schedules (DMEPOS, PFS, CLFS, ASP) of
 * `datasets/reference/`, read by the caller.
 */
import type { TypicalQuantities } from './line-features.js';

/** A past accepted line: its code, the code's category, its quantity, and the code's fee when priced. */
export interface TypicalQuantityLine {
  code: string;
  category: string;
  quantity: number;
  /** The code's reference fee in cents (its plain entry, see `referenceFee`), when it has one. */
  feeCents?: number | null;
}

/** A priced code that may need an estimate: the code and its reference fee in cents (> 0). */
export interface PricedCode {
  code: string;
  feeCents: number;
}

/**
 * The price band of a code: its HCPCS section (first letter) and the binary order of magnitude
 * of its fee in cents (`floor(log2(fee))`, so a band spans a factor of 2).
 */
export function feeBand(code: string, feeCents: number): string {
  return `${code.slice(0, 1).toUpperCase()}:${Math.floor(Math.log2(Math.max(1, feeCents)))}`;
}

function median(qs: readonly number[]): number {
  const s = [...qs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Fits typical quantities (medians of |quantity|, zero quantities skipped):
 *
 * - `byCode`: the code's own median where at least `minLines` lines bill it; else, for a code of
 *   `priced`, the median of the lines in its {@link feeBand} (its section and price within a
 *   factor of 2), or when that band has fewer than `minLines` lines, of the band and the two
 *   next to it; no entry when those hold fewer than `minLines` lines either;
 * - `byCategory`: the category's median where at least `minLines` lines support it (the
 *   fallback the line features use for a code without a `byCode` entry: unpriced codes).
 *
 * @param lines past accepted lines (see {@link TypicalQuantityLine}); lines without `feeCents`
 *   count for their code and category only.
 * @param source what the lines are, recorded in the result (e.g. `approved lines 2024, tenant X`).
 * @param minLines least lines behind a median (default 5).
 * @param priced codes to estimate from their price band when their own lines are too few
 *   (default none: code and category medians only).
 * @returns quantities in billed units, > 0; `estimated` lists the codes of `byCode` estimated
 *   from their price band.
 */
export function fitTypicalQuantities(
  lines: Iterable<TypicalQuantityLine>,
  source: string,
  minLines = 5,
  priced: Iterable<PricedCode> = [],
): TypicalQuantities {
  const byCode = new Map<string, number[]>();
  const byCategory = new Map<string, number[]>();
  const byBand = new Map<string, number[]>();
  const push = (m: Map<string, number[]>, k: string, q: number): void => {
    const xs = m.get(k);
    if (xs) xs.push(q);
    else m.set(k, [q]);
  };
  for (const l of lines) {
    if (l.quantity === 0) continue;
    const q = Math.abs(l.quantity);
    const code = l.code.toUpperCase();
    push(byCode, code, q);
    push(byCategory, l.category, q);
    if (l.feeCents != null && l.feeCents > 0) push(byBand, feeBand(code, l.feeCents), q);
  }
  const medians = (m: Map<string, number[]>): Map<string, number> => {
    const out = new Map<string, number>();
    for (const [k, qs] of m) if (qs.length >= minLines) out.set(k, median(qs));
    return out;
  };
  const codes = medians(byCode);
  const estimated = new Set<string>();
  for (const p of priced) {
    const code = p.code.toUpperCase();
    if (codes.has(code) || !(p.feeCents > 0)) continue;
    const band = feeBand(code, p.feeCents);
    let qs = byBand.get(band) ?? [];
    if (qs.length < minLines) {
      const [section, k] = band.split(':') as [string, string];
      qs = [-1, 0, 1].flatMap((d) => byBand.get(`${section}:${Number(k) + d}`) ?? []);
    }
    if (qs.length >= minLines) {
      codes.set(code, median(qs));
      estimated.add(code);
    }
  }
  return { source, byCode: codes, byCategory: medians(byCategory), estimated };
}
