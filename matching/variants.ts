/**
 * Variant attributes of an item description: the words and measures that tell two members of one
 * product family apart (size `medium`/`large`/`XL`, colour, French size `16 Fr`, needle gauge
 * `22G`, suture size `4-0`, volume `10 mL`, length `18 in`, strength `10 mg`, ply). Two records
 * that both state an attribute of one kind with no value in common are different items, however
 * alike the rest of their descriptions: a large glove is not the medium glove ordered. The line
 * matcher reads the kinds two descriptions state alike and differently as features
 * (matching/compare.ts `variant_agree`, `variant_conflict`); the alignment
 * (inference/procurement/align.ts) also keeps a conflict from aligning, since the matcher's
 * permissive certified threshold still passes some conflicting pairs.
 *
 * Only what both sides state is compared: a description without a colour says nothing about it.
 * Units are folded (`cc` = `mL`, `inch`/`"` = `in`, `french` = `Fr`, `ga`/`gauge` = `G`) and
 * abbreviations expanded (`MED`, `LG`, `XL`, `UNIV`, `YEL`, `BLU`).
 */

import { ownValue } from '../core/own.js';

/** Attribute kind -> the values a description states for it (e.g. `size` -> `{large}`). */
export type VariantAttributes = ReadonlyMap<string, ReadonlySet<string>>;

const SIZE_WORDS: readonly [RegExp, string][] = [
  [/\b(?:xx-?large|xxl|2xl|2x-large)\b/g, 'xx-large'],
  [/\b(?:x-?large|xl|extra[- ]large|xlg)\b/g, 'x-large'],
  [/\b(?:x-?small|xs|extra[- ]small)\b/g, 'x-small'],
  [/\b(?:large|lg|lrg)\b/g, 'large'],
  [/\b(?:medium|med|md)\b/g, 'medium'],
  [/\b(?:small|sm)\b/g, 'small'],
  [/\b(?:universal|univ|one[- ]size)\b/g, 'universal'],
];

const COLOURS: Readonly<Record<string, string>> = {
  yellow: 'yellow',
  yel: 'yellow',
  yl: 'yellow',
  blue: 'blue',
  blu: 'blue',
  green: 'green',
  grn: 'green',
  pink: 'pink',
  red: 'red',
  white: 'white',
  wht: 'white',
  black: 'black',
  blk: 'black',
  purple: 'purple',
  violet: 'purple',
  orange: 'orange',
  grey: 'grey',
  gray: 'grey',
  tan: 'tan',
  beige: 'beige',
  lavender: 'lavender',
  clear: 'clear',
};

/** Number + unit measures: unit spelling -> attribute kind. */
const MEASURE_UNITS: Readonly<Record<string, string>> = {
  fr: 'french',
  french: 'french',
  g: 'gauge',
  ga: 'gauge',
  gauge: 'gauge',
  ml: 'volume_ml',
  cc: 'volume_ml',
  l: 'volume_l',
  oz: 'ounces',
  mm: 'length_mm',
  cm: 'length_cm',
  in: 'length_in',
  inch: 'length_in',
  inches: 'length_in',
  '"': 'length_in',
  mg: 'strength_mg',
  mcg: 'strength_mcg',
  ply: 'ply',
};

const MEASURE =
  /(?<![a-z0-9.-])(\d+(?:\.\d+)?)\s*-?\s*(french|fr|gauge|ga|g|ml|cc|l|oz|mm|cm|inches|inch|in|"|mg|mcg|ply)(?![a-z])/g;
const SUTURE = /\b([1-9])-0\b/g;

function add(out: Map<string, Set<string>>, kind: string, value: string): void {
  let s = out.get(kind);
  if (!s) out.set(kind, (s = new Set()));
  s.add(value);
}

/**
 * The variant attributes a description states (see the module doc).
 * @example variantAttributes('Nitrile exam glove PF textured LARGE 100/BX').get('size') -> Set {'large'}
 * @example variantAttributes('Foley cath 2-way 16FR 5cc balloon').get('french') -> Set {'16'}
 */
export function variantAttributes(description: string): VariantAttributes {
  const out = new Map<string, Set<string>>();
  let text = description.normalize('NFKC').toLowerCase();
  for (const m of text.matchAll(SUTURE)) add(out, 'suture_size', `${m[1]}-0`);
  text = text.replace(SUTURE, ' ');
  for (const m of text.matchAll(MEASURE)) add(out, MEASURE_UNITS[m[2]!]!, String(Number(m[1])));
  for (const [re, size] of SIZE_WORDS) {
    if (re.test(text)) add(out, 'size', size);
    text = text.replace(re, ' ');
  }
  for (const w of text.split(/[^a-z]+/)) {
    const c = ownValue(COLOURS, w);
    if (c !== undefined) add(out, 'colour', c);
  }
  return out;
}

/**
 * The attribute kinds both descriptions state, split by whether they have a value in common
 * (`agree`) or none (`conflict`). Kinds only one side states are in neither. Takes
 * descriptions, or their {@link variantAttributes} when compared many times.
 * @example variantAgreement('glove medium blue', 'GLOVE LG BLU') -> { agree: ['colour'], conflict: ['size'] }
 */
export function variantAgreement(
  a: string | VariantAttributes,
  b: string | VariantAttributes,
): { agree: string[]; conflict: string[] } {
  const va = typeof a === 'string' ? variantAttributes(a) : a;
  const vb = typeof b === 'string' ? variantAttributes(b) : b;
  const agree: string[] = [];
  const conflict: string[] = [];
  for (const [kind, values] of va) {
    const other = vb.get(kind);
    if (other) ([...values].some((v) => other.has(v)) ? agree : conflict).push(kind);
  }
  return { agree, conflict };
}

/**
 * The attribute kinds both descriptions state with no value in common (empty: no conflict).
 * @example variantConflicts('glove medium 100/box', 'GLOVE LG 100/BX') -> ['size']
 */
export function variantConflicts(a: string | VariantAttributes, b: string | VariantAttributes): string[] {
  return variantAgreement(a, b).conflict;
}
