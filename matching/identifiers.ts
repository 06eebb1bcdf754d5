/**
 * Item identifiers compared across formatting: supplier and manufacturer part numbers, NDC,
 * GTIN (UPC-A, EAN-13, GTIN-14), HCPCS. The kind of an identifier is usually not stated on an
 * invoice or a PO line, so every identifier gets the keys it could stand for and two
 * identifiers agree when any key agrees.
 *
 * - Part numbers: upper case, separators (space `-` `.` `/` `_`) removed, leading zeros
 *   dropped, so `010-00715-20`, `0100071520` and `100071520` agree.
 * - Variants: two part numbers that share a stem of at least 4 characters and differ only by a
 *   short trailing segment (`AB1234-BLU` / `AB1234-RED`, `AB1234` / `AB1234L`, sizes `-S`/`-XL`)
 *   are the same model in another colour or size: a different item, reported as a variant.
 * - NDC (FDA National Drug Code): the 10-digit forms 4-4-2, 5-3-2 and 5-4-1 are padded to the
 *   11-digit 5-4-2 billing form (HIPAA); an unhyphenated 10-digit number yields all three.
 * - GTIN (GS1): 8, 12, 13 or 14 digits with a valid mod-10 check digit, left-padded to 14 digits;
 *   a UPC whose number system is 3 also carries an NDC-10 (positions 2-11 of the UPC-A).
 */

/** How two identifier lists relate. */
export interface IdentifierComparison {
  /** Some identifier of one side has a key equal to a key of the other. */
  exact: boolean;
  /** No exact key, but two part numbers differ only in a variant suffix (colour, size). */
  variant: boolean;
  /** Both sides carry identifiers and none agrees (exactly or as a variant). */
  conflict: boolean;
  /** Both sides carry at least one identifier. */
  bothPresent: boolean;
}

const SEPARATORS = /[\s\-./_,:#]+/g;

/** Upper case, separators removed (`"010-00715-20"` -> `"0100071520"`). */
export function compactIdentifier(raw: string): string {
  return raw.normalize('NFKC').toUpperCase().replace(SEPARATORS, '');
}

/** GS1 mod-10 check digit of the digits before it. */
function gs1CheckDigit(body: string): number {
  let s = 0;
  for (let i = 0; i < body.length; i++) {
    const d = body.charCodeAt(body.length - 1 - i) - 48;
    s += i % 2 === 0 ? d * 3 : d;
  }
  return (10 - (s % 10)) % 10;
}

/**
 * The GTIN-14 of a digit string, or null when it is not a GTIN (wrong length or check digit).
 * @example gtin14('036000291452') === '00036000291452'
 */
export function gtin14(digits: string): string | null {
  if (!/^\d+$/.test(digits) || ![8, 12, 13, 14].includes(digits.length)) return null;
  const check = gs1CheckDigit(digits.slice(0, -1));
  return check === Number(digits[digits.length - 1]) ? digits.padStart(14, '0') : null;
}

/**
 * The 11-digit (5-4-2) forms an NDC may stand for.
 * @param raw as written; hyphens decide the 10-digit layout when present.
 * @returns one form for a hyphenated or 11-digit NDC, three for a bare 10-digit number, none otherwise.
 */
export function ndc11Candidates(raw: string): string[] {
  const t = raw.trim();
  const parts = t.split(/[-\s]/);
  if (parts.length === 3 && parts.every((p) => /^\d+$/.test(p))) {
    const [a, b, c] = parts as [string, string, string];
    const lens = `${a.length}-${b.length}-${c.length}`;
    if (lens === '4-4-2') return [`0${a}${b}${c}`];
    if (lens === '5-3-2') return [`${a}0${b}${c}`];
    if (lens === '5-4-1') return [`${a}${b}0${c}`];
    if (lens === '5-4-2') return [`${a}${b}${c}`];
    return [];
  }
  const d = t.replace(SEPARATORS, '');
  if (!/^\d+$/.test(d)) return [];
  if (d.length === 11) return [d];
  if (d.length === 10) return [`0${d}`, `${d.slice(0, 5)}0${d.slice(5)}`, `${d.slice(0, 9)}0${d.slice(9)}`];
  return [];
}

/**
 * Every comparison key of one identifier: `P:` the compact form without leading zeros, `N:` the
 * NDC-11 candidates, `G:` the GTIN-14 (and `N:` keys of the NDC a number-system-3 UPC carries).
 * @returns an empty list for an identifier with no letter or digit.
 */
export function identifierKeys(raw: string): string[] {
  const compact = compactIdentifier(raw);
  if (compact === '') return [];
  const keys = new Set<string>([`P:${compact.replace(/^0+(?=.)/, '')}`]);
  for (const n of ndc11Candidates(raw)) keys.add(`N:${n}`);
  const g = gtin14(compact);
  if (g !== null) {
    keys.add(`G:${g}`);
    if (g.startsWith('003')) for (const n of ndc11Candidates(g.slice(3, 13))) keys.add(`N:${n}`);
  }
  return [...keys];
}

/**
 * Splits a part number into stem and variant suffix: the last separator-delimited segment when
 * it is 1-4 characters, else trailing letters (1-3) after a digit. Null when there is no
 * suffix or the stem would be shorter than 4 characters.
 */
export function variantSplit(raw: string): { stem: string; suffix: string } | null {
  const t = raw.normalize('NFKC').toUpperCase().trim();
  const seg = /^(.*\S)[\s\-./_]+([A-Z0-9]{1,4})$/.exec(t);
  if (seg) {
    const stem = compactIdentifier(seg[1]!).replace(/^0+(?=.)/, '');
    if (stem.length >= 4) return { stem, suffix: seg[2]! };
  }
  const c = compactIdentifier(t);
  const tail = /^(.*\d)([A-Z]{1,3})$/.exec(c);
  if (tail) {
    const stem = tail[1]!.replace(/^0+(?=.)/, '');
    if (stem.length >= 4) return { stem, suffix: tail[2]! };
  }
  return null;
}

function isVariantPair(a: string, b: string): boolean {
  const ca = compactIdentifier(a).replace(/^0+(?=.)/, '');
  const cb = compactIdentifier(b).replace(/^0+(?=.)/, '');
  if (ca === cb || (/^\d+$/.test(ca) && /^\d+$/.test(cb))) return false;
  const va = variantSplit(a);
  const vb = variantSplit(b);
  if (va && vb && va.stem === vb.stem && va.suffix !== vb.suffix) return true;
  // one is the other's stem plus a suffix
  if (va && va.stem === cb) return true;
  if (vb && vb.stem === ca) return true;
  return false;
}

/**
 * Compares two identifier lists (see the module doc for the keys and variants).
 * @example compareIdentifiers(['010-00715-20'], ['0100071520']).exact === true
 * @example compareIdentifiers(['AB1234-BLU'], ['AB1234-RED']).variant === true
 */
export function compareIdentifiers(a: readonly string[], b: readonly string[]): IdentifierComparison {
  const ka = new Set(a.flatMap(identifierKeys));
  const bothPresent = ka.size > 0 && b.some((x) => identifierKeys(x).length > 0);
  const exact = b.some((x) => identifierKeys(x).some((k) => ka.has(k)));
  const variant = !exact && a.some((x) => b.some((y) => isVariantPair(x, y)));
  return { exact, variant, conflict: bothPresent && !exact && !variant, bothPresent };
}

/**
 * Code-like tokens of a description that may be identifiers: at least 4 characters after
 * compaction, with a digit, and either a letter or at least 5 digits (`t9161ll/a`,
 * `13102488`); plain years and small numbers are left to the number comparison.
 */
export function descriptionCodes(text: string): string[] {
  const out = new Set<string>();
  for (const tok of text.normalize('NFKC').split(/[\s,;()[\]{}]+/)) {
    const c = compactIdentifier(tok);
    if (c.length < 4 || !/\d/.test(c)) continue;
    if (/[A-Z]/.test(c) || c.length >= 5) out.add(tok);
  }
  return [...out];
}
