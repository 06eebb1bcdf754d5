/**
 * HCPCS codes printed in a line description ("A6563 - Gradient compression...",
 * "[E0601] CPAP device", "Lancets (a-4259)"), and the check that the billed code is among them.
 *
 * A printed code is a HCPCS Level II shape: one letter A-V and four digits, in either case,
 * with at most one space or dash between the letter and the digits, not glued to a letter or
 * digit before it nor to a digit after it (so item numbers such as `MS12345` or `123456` are
 * not read as codes). A modifier after the code (`A6563-RR`, `A6563 NU`) is allowed. Pure.
 */

/** Letter, optional single space or dash, four digits; not inside a longer alphanumeric run. */
const PRINTED_CODE = /(?<![A-Za-z0-9])([A-Va-v])[ -]?(\d{4})(?!\d)/g;
/** {@link PRINTED_CODE} without the global flag: whether a description prints any code at all. */
const ANY_PRINTED_CODE = new RegExp(PRINTED_CODE.source);

/**
 * The HCPCS-shaped codes printed in a description, upper-cased, distinct, in order of
 * appearance. `known`, when given, keeps only codes it accepts (e.g. codes of the HCPCS
 * reference), so that a model number that happens to have the shape is not taken for a code.
 */
export function printedCodes(description: string, known?: (code: string) => boolean): string[] {
  const out: string[] = [];
  // Most descriptions print no code: one test instead of `matchAll`'s regex copy and iterator.
  if (!ANY_PRINTED_CODE.test(description)) return out;
  for (const m of description.matchAll(PRINTED_CODE)) {
    const code = `${m[1]!.toUpperCase()}${m[2]!}`;
    if (!out.includes(code) && (known === undefined || known(code))) out.push(code);
  }
  return out;
}

/** A code set a printed code must belong to, e.g. the HCPCS reference view: `get` is undefined for a code it does not know. */
export interface KnownCodes {
  get(code: string): unknown;
}

/** What a line's description prints about its billed code (see {@link printedCodeFinding}). */
export interface PrintedCodeFinding {
  /** The known HCPCS codes printed in the description, upper-cased, in order (may be empty). */
  printed: string[];
  /** The description prints known codes and none of them is the billed code. */
  differs: boolean;
}

/**
 * The printed-code check of one line, the one declaration the `PRINTED_CODE_DIFFERS` rule and the
 * coding model's line features (`printed_code_present`, `printed_code_differs`) both read.
 * @param billed the billed HCPCS code (any case).
 * @param codes when given, only codes it knows count as printed (see {@link printedCodes}).
 */
export function printedCodeFinding(
  description: string,
  billed: string,
  codes?: KnownCodes,
): PrintedCodeFinding {
  const known = codes ? (code: string): boolean => codes.get(code) !== undefined : undefined;
  const printed = printedCodes(description, known);
  return { printed, differs: printed.length > 0 && !printed.includes(billed.trim().toUpperCase()) };
}
