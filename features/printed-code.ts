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

/**
 * The HCPCS-shaped codes printed in a description, upper-cased, distinct, in order of
 * appearance. `known`, when given, keeps only codes it accepts (e.g. codes of the HCPCS
 * reference), so that a model number that happens to have the shape is not taken for a code.
 */
export function printedCodes(description: string, known?: (code: string) => boolean): string[] {
  const out: string[] = [];
  for (const m of description.matchAll(PRINTED_CODE)) {
    const code = `${m[1]!.toUpperCase()}${m[2]!}`;
    if (!out.includes(code) && (known === undefined || known(code))) out.push(code);
  }
  return out;
}

/** Result of {@link printedCodeDiffers} when the description prints codes but not the billed one. */
export interface PrintedCodeMismatch {
  /** The billed code, upper-cased. */
  billed: string;
  /** The codes printed in the description (none of them the billed one). */
  printed: string[];
}

/**
 * Whether a line prints a HCPCS code other than the one it bills: null when the description
 * prints no code or prints the billed code (possibly beside others, e.g. "replaces E0100").
 * @param billed the billed HCPCS code (any case).
 * @param known see {@link printedCodes}.
 */
export function printedCodeDiffers(
  description: string,
  billed: string,
  known?: (code: string) => boolean,
): PrintedCodeMismatch | null {
  const code = billed.trim().toUpperCase();
  const printed = printedCodes(description, known);
  if (printed.length === 0 || printed.includes(code)) return null;
  return { billed: code, printed };
}
