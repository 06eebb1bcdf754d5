/**
 * Line descriptions as suppliers' billing systems print them, built from the CMS short and
 * long descriptions of the billed code: abbreviated, reordered, truncated, upper-cased, with
 * vendor-specific item numbers and code tags, dose and rental suffixes, and keying typos.
 *
 * A vendor describes each catalogue item once (its item master); every line of that item
 * repeats the text, plus per-line parts (dose, rental period) and an occasional typo.
 */
import type { HcpcsCode } from '../../core/reference.js';
import { abbreviate, capitalise, reorder, truncateWords, type Rng } from '../synth.js';

/** How a vendor's billing system writes item descriptions. */
export interface DescriptionStyle {
  /** Which CMS text the item master starts from; `mixed` draws one per item. */
  form: 'short' | 'long' | 'abbreviated' | 'reordered' | 'mixed';
  casing: 'as_is' | 'upper' | 'lower';
  /** Where the HCPCS code is printed in the text, if at all. */
  code_tag: 'none' | 'bracket_prefix' | 'dash_prefix' | 'paren_suffix';
  /** Vendor item number printed before the text. */
  item_number: 'none' | 'SKU' | 'Item#' | 'Cat' | 'MFR';
  /** Probability of one keying typo per line. */
  typo_rate: number;
  /** Suffix of monthly rental lines (`RR`). */
  rental_suffix: string;
  /** How a drug dose is appended: `- 500 MG`, `(500 mg)`, `dose 500 mg`. */
  dose_format: 'dash' | 'paren' | 'dose';
}

/** Abbreviations beyond the shared ones (datasets/synth.ts), applied by the `abbreviated` form. */
const MORE_ABBREVIATIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\blaboratory\b/gi, 'lab'],
  [/\bscreening\b/gi, 'scrn'],
  [/\bexamination\b/gi, 'exam'],
  [/\bemergency\b/gi, 'emerg'],
  [/\btransport(ation)?\b/gi, 'transp'],
  [/\bbasic life support\b/gi, 'BLS'],
  [/\badvanced life support\b/gi, 'ALS'],
  [/\bmilligrams?\b/gi, 'mg'],
  [/\bmicrograms?\b/gi, 'mcg'],
  [/\bintravenous\b/gi, 'IV'],
  [/\bsubcutaneous\b/gi, 'subq'],
  [/\bprosthesis\b/gi, 'prosth'],
  [/\bcustom fabricated\b/gi, 'custom fab'],
  [/\bassessment\b/gi, 'assess'],
  [/\bmanagement\b/gi, 'mgmt'],
  [/\bapproximately\b/gi, 'approx'],
  [/\binches\b/gi, 'in'],
];

/** The abbreviated form of a CMS description: the shared abbreviations plus {@link MORE_ABBREVIATIONS}. */
export function abbreviateMore(text: string): string {
  return MORE_ABBREVIATIONS.reduce((s, [re, rep]) => s.replace(re, rep), abbreviate(text));
}

const FORMS = ['short', 'long', 'abbreviated', 'reordered'] as const;

/** Draws a vendor's description style. */
export function drawDescriptionStyle(rng: Rng): DescriptionStyle {
  return {
    form: rng.pick(['short', 'long', 'abbreviated', 'reordered', 'mixed', 'mixed'] as const),
    casing: rng.pick(['as_is', 'as_is', 'upper', 'lower'] as const),
    code_tag: rng.pick(['none', 'none', 'none', 'bracket_prefix', 'dash_prefix', 'paren_suffix'] as const),
    item_number: rng.pick(['none', 'none', 'SKU', 'Item#', 'Cat', 'MFR'] as const),
    typo_rate: rng.pick([0, 0.01, 0.02, 0.04, 0.08]),
    rental_suffix: rng.pick([' - monthly rental', ' (rental)', ', rent/mo', ' RENTAL MO', ' - rental month']),
    dose_format: rng.pick(['dash', 'paren', 'dose'] as const),
  };
}

/** The CMS text of one form; long forms are cut at a word boundary (90 characters). */
function cmsText(code: HcpcsCode, form: (typeof FORMS)[number]): string {
  const long = truncateWords(code.longDescription, 90);
  switch (form) {
    case 'short':
      return code.shortDescription;
    case 'long':
      return long;
    case 'abbreviated':
      return truncateWords(abbreviateMore(code.longDescription), 70);
    case 'reordered':
      return truncateWords(reorder(abbreviateMore(code.longDescription)), 80);
  }
}

/**
 * The item-master description of a code for a vendor: the CMS text in the vendor's form and
 * casing, with its item number and code tag. Deterministic given the RNG state.
 */
export function itemDescription(code: HcpcsCode, style: DescriptionStyle, rng: Rng): string {
  const form = style.form === 'mixed' ? rng.pick(FORMS) : style.form;
  let text = cmsText(code, form).trim();
  if (text === '') text = code.shortDescription || code.code;
  if (style.casing === 'upper') text = text.toUpperCase();
  else if (style.casing === 'lower') text = text.toLowerCase();
  else text = capitalise(text);
  if (style.code_tag === 'bracket_prefix') text = `[${code.code}] ${text}`;
  else if (style.code_tag === 'dash_prefix') text = `${code.code} - ${text}`;
  else if (style.code_tag === 'paren_suffix') text = `${text} (${code.code})`;
  if (style.item_number === 'SKU') text = `SKU ${rng.digits(6)} ${text}`;
  else if (style.item_number === 'Item#') text = `Item# ${rng.digits(4)}-${rng.digits(2)} ${text}`;
  else if (style.item_number === 'Cat')
    text = `Cat ${rng.pick(['MS', 'DM', 'RX', 'LB'])}${rng.digits(5)} ${text}`;
  else if (style.item_number === 'MFR') text = `MFR#${rng.digits(3)}-${rng.digits(4)} ${text}`;
  return text.slice(0, 240);
}

/** A drug dose appended in the vendor's format, e.g. `- 1000 MG`. */
export function doseText(style: DescriptionStyle, dose: number, measure: string): string {
  const value = Number.isInteger(dose) ? String(dose) : String(Math.round(dose * 1000) / 1000);
  const m = style.casing === 'upper' ? measure.toUpperCase() : measure.toLowerCase();
  if (style.dose_format === 'dash') return ` - ${value} ${m}`;
  if (style.dose_format === 'paren') return ` (${value} ${m})`;
  return `; dose ${value} ${m}`;
}

/** Keys next to each letter on a QWERTY keyboard (for substitution typos). */
const NEIGHBOURS: Readonly<Record<string, string>> = {
  a: 'qwsz',
  b: 'vghn',
  c: 'xdfv',
  d: 'serfcx',
  e: 'wsdr',
  f: 'drtgvc',
  g: 'ftyhbv',
  h: 'gyujnb',
  i: 'ujko',
  j: 'huikmn',
  k: 'jiolm',
  l: 'kop',
  m: 'njk',
  n: 'bhjm',
  o: 'iklp',
  p: 'ol',
  q: 'wa',
  r: 'edft',
  s: 'awedxz',
  t: 'rfgy',
  u: 'yhji',
  v: 'cfgb',
  w: 'qase',
  x: 'zsdc',
  y: 'tghu',
  z: 'asx',
};

/**
 * One keying typo in a word of at least 4 letters: adjacent letters swapped, a letter dropped
 * or doubled, or a neighbouring key struck. Returns the text unchanged when no word qualifies.
 */
export function addTypo(text: string, rng: Rng): string {
  const words = [...text.matchAll(/[A-Za-z]{4,}/g)];
  if (words.length === 0) return text;
  const w = rng.pick(words);
  const start = w.index ?? 0;
  const word = w[0];
  const i = rng.int(1, word.length - 2);
  const c = word.charAt(i);
  let typo: string;
  switch (rng.int(0, 3)) {
    case 0:
      typo = word.slice(0, i) + word.charAt(i + 1) + c + word.slice(i + 2);
      break;
    case 1:
      typo = word.slice(0, i) + word.slice(i + 1);
      break;
    case 2:
      typo = word.slice(0, i) + c + word.slice(i);
      break;
    default: {
      const near = NEIGHBOURS[c.toLowerCase()] ?? c;
      const k = rng.pick([...near]);
      typo = word.slice(0, i) + (c === c.toUpperCase() ? k.toUpperCase() : k) + word.slice(i + 1);
    }
  }
  return text.slice(0, start) + typo + text.slice(start + word.length);
}
