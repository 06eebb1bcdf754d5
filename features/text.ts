/**
 * Text normalisation for line descriptions: lower-casing, a healthcare-supply abbreviation
 * table, tokenising and stemming with natural (imported by submodule: its root import has
 * side effects) and stop-word removal.
 */
import { WordTokenizer } from 'natural/lib/natural/tokenizers/index.js';
import { PorterStemmer } from 'natural/lib/natural/stemmers/index.js';

const tokenizer = new WordTokenizer();

/**
 * Abbreviations common on supply and service invoices and in CMS short descriptors,
 * expanded before tokenising so that "O2 conc w/ humid" meets "oxygen concentrator with humidifier".
 */
export const ABBREVIATIONS: Readonly<Record<string, string>> = {
  'w/o': 'without',
  'w/': 'with',
  inj: 'injection',
  ea: 'each',
  bx: 'box',
  cs: 'case',
  pk: 'pack',
  o2: 'oxygen',
  conc: 'concentrator',
  supp: 'supply',
  sup: 'supply',
  supl: 'supply',
  wc: 'wheelchair',
  whlchr: 'wheelchair',
  whlchair: 'wheelchair',
  amb: 'ambulance',
  transp: 'transport',
  cath: 'catheter',
  dsg: 'dressing',
  drsg: 'dressing',
  elec: 'electric',
  eq: 'equipment',
  equip: 'equipment',
  accy: 'accessory',
  acc: 'accessory',
  hosp: 'hospital',
  adj: 'adjustable',
  disp: 'disposable',
  reusab: 'reusable',
  ster: 'sterile',
  tx: 'treatment',
  ped: 'pediatric',
  pt: 'patient',
  iv: 'intravenous',
  im: 'intramuscular',
  sq: 'subcutaneous',
  subq: 'subcutaneous',
  sc: 'subcutaneous',
  ml: 'ml',
  mg: 'mg',
  mcg: 'mcg',
};

const STOP_WORDS = new Set([
  'a',
  'an',
  'and',
  'any',
  'as',
  'at',
  'by',
  'each',
  'for',
  'from',
  'in',
  'includes',
  'including',
  'is',
  'of',
  'on',
  'or',
  'other',
  'per',
  'than',
  'the',
  'to',
  'type',
  'with',
  'without',
  'this',
]);

/** Lower-cases, expands `w/` and `w/o`, and maps non-alphanumerics to spaces. */
export function normaliseDescription(text: string): string {
  const lowered = text.normalize('NFKC').toLowerCase();
  const expanded = lowered.replace(/\bw\/o\b/g, ' without ').replace(/\bw\//g, ' with ');
  return expanded
    .replace(/[^a-z0-9.]+/g, ' ')
    .replace(/(?<!\d)\.|\.(?!\d)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Content tokens of a description: normalised, tokenised, abbreviations expanded,
 * stop words dropped, Porter-stemmed.
 * @returns stems in order of appearance, e.g. "O2 Conc w/ humidifier" -> ["oxygen", "concentr", "humidifi"].
 */
export function descriptionTokens(text: string): string[] {
  const out: string[] = [];
  for (const raw of tokenizer.tokenize(normaliseDescription(text))) {
    const t = raw.toLowerCase();
    const expanded = ABBREVIATIONS[t] ?? t;
    for (const part of expanded.split(' ')) {
      if (part.length === 0 || STOP_WORDS.has(part)) continue;
      out.push(/^\d/.test(part) ? part : PorterStemmer.stem(part));
    }
  }
  return out;
}
