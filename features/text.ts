/**
 * Text pipeline for line descriptions: lower-casing, a healthcare-supply abbreviation table,
 * tokenising and stemming with natural (imported by submodule: its root import has side
 * effects), stop-word removal, and the doses, volumes and pack counts parsed out into
 * structured values (`features/doses.ts`, re-exported here).
 */
import { WordTokenizer } from 'natural/lib/natural/tokenizers/index.js';
import { PorterStemmer } from 'natural/lib/natural/stemmers/index.js';
import { LRUCache } from 'lru-cache';
import { parseQuantities, type DescriptionQuantities } from './doses.js';

export {
  parseBillingUnit,
  parseQuantities,
  totalDose,
  type DescriptionQuantities,
  type DoseUnit,
  type ParsedDose,
  type ParsedPack,
} from './doses.js';

const tokenizer = new WordTokenizer();

/**
 * Abbreviations common on supply and service invoices and in CMS HCPCS short descriptors,
 * expanded before stemming so that "O2 conc w/ humid" meets "oxygen concentrator with humidifier".
 * Chosen from the HCPCS 2025 short descriptors (tokens absent from the long descriptors, by
 * frequency) and common supply-catalogue usage. Ambiguous ones are left out: `med` (medical or
 * medium), `ext` (external or extension), `comp`, `min`, `pneum`. `bx` is box (supply catalogues),
 * although a few CMS short descriptors use it for biopsy.
 */
export const ABBREVIATIONS: Readonly<Record<string, string>> = {
  'w/o': 'without',
  'w/': 'with',
  inj: 'injection',
  injs: 'injection',
  ea: 'each',
  bx: 'box',
  cs: 'case',
  pk: 'pack',
  pkg: 'package',
  ctn: 'carton',
  bg: 'bag',
  btl: 'bottle',
  rl: 'roll',
  pr: 'pair',
  dz: 'dozen',
  pc: 'piece',
  pcs: 'piece',
  kt: 'kit',
  tb: 'tube',
  vl: 'vial',
  amp: 'ampule',
  syr: 'syringe',
  ndl: 'needle',
  tab: 'tablet',
  tabs: 'tablet',
  cap: 'capsule',
  caps: 'capsule',
  soln: 'solution',
  sol: 'solution',
  susp: 'suspension',
  oint: 'ointment',
  crm: 'cream',
  pwd: 'powder',
  pwdr: 'powder',
  liq: 'liquid',
  lg: 'large',
  sm: 'small',
  xl: 'extra large',
  ster: 'sterile',
  nonster: 'nonsterile',
  pf: 'powder free',
  ltx: 'latex',
  nitr: 'nitrile',
  irrig: 'irrigation',
  sod: 'sodium',
  hcl: 'hydrochloride',
  o2: 'oxygen',
  conc: 'concentrator',
  nebul: 'nebulizer',
  neb: 'nebulizer',
  supp: 'supply',
  sup: 'supply',
  supl: 'supply',
  sply: 'supply',
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
  tx: 'treatment',
  dx: 'diagnosis',
  rx: 'prescription',
  ped: 'pediatric',
  pt: 'patient',
  pts: 'patient',
  iv: 'intravenous',
  im: 'intramuscular',
  sq: 'subcutaneous',
  subq: 'subcutaneous',
  sc: 'subcutaneous',
  dev: 'device',
  sys: 'system',
  repl: 'replacement',
  surg: 'surgical',
  pwr: 'power',
  pow: 'power',
  mgmt: 'management',
  admin: 'administration',
  vol: 'volume',
  mech: 'mechanical',
  cust: 'custom',
  prefab: 'prefabricated',
  inf: 'infusion',
  infus: 'infusion',
  batt: 'battery',
  prosth: 'prosthetic',
  implt: 'implant',
  trach: 'tracheostomy',
  vacc: 'vaccine',
  vax: 'vaccine',
  compres: 'compression',
  splnt: 'splint',
  jnt: 'joint',
  brst: 'breast',
  outpt: 'outpatient',
  maint: 'maintenance',
  perc: 'percutaneous',
  eval: 'evaluation',
  assess: 'assessment',
  stim: 'stimulator',
  ther: 'therapy',
  serv: 'service',
  svc: 'service',
  std: 'standard',
  sing: 'single',
  msmt: 'measurement',
  meas: 'measurement',
  ml: 'ml',
  mg: 'mg',
  mcg: 'mcg',
  ug: 'mcg',
  gm: 'g',
  cc: 'ml',
  iu: 'units',
  unit: 'units',
  u: 'units',
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

/**
 * Recently seen descriptions: a scoring reads each line's description several times (the
 * invoice features, the line features, the coding evidence), and a supplier bills the same
 * items on invoice after invoice, so the text pipeline runs once per description. Bounded by
 * count; values are never handed out to be changed. The line features' description memo has
 * the same bound.
 */
export const RECENT_DESCRIPTIONS = 4_096;
const normalisedCache = new LRUCache<string, string>({ max: RECENT_DESCRIPTIONS });
const wordsCache = new LRUCache<string, readonly string[]>({ max: RECENT_DESCRIPTIONS });
const tokensCache = new LRUCache<string, readonly string[]>({ max: RECENT_DESCRIPTIONS });

/** Lower-cases, expands `w/`, `w/o`, `w/in`, `w/c`, and maps other non-alphanumerics to spaces (decimal points kept). */
export function normaliseDescription(text: string): string {
  let out = normalisedCache.get(text);
  if (out === undefined) {
    out = normaliseUncached(text);
    normalisedCache.set(text, out);
  }
  return out;
}

function normaliseUncached(text: string): string {
  const lowered = text.normalize('NFKC').toLowerCase();
  // Each expansion needs a "w/" and none makes one: most descriptions skip the four passes.
  const expanded = !lowered.includes('w/')
    ? lowered
    : lowered
        .replace(/\bw\/o\b/g, ' without ')
        .replace(/\bw\/in\b/g, ' within ')
        .replace(/\bw\/c\b/g, ' wheelchair ')
        .replace(/\bw\//g, ' with ');
  return expanded
    .replace(/[^a-z0-9.]+/g, ' ')
    .replace(/(?<!\d)\.|\.(?!\d)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * {@link ABBREVIATIONS} by own key, so a word such as "constructor" is no abbreviation of the
 * table's prototype; a map lookup per word costs less than `Object.hasOwn` on the table.
 */
const ABBREVIATION_OF: ReadonlyMap<string, string> = new Map(Object.entries(ABBREVIATIONS));

const stemCache = new Map<string, string>();

/** Porter stem of one lower-case word, memoised (bounded at 50,000 entries). */
export function stem(word: string): string {
  let s = stemCache.get(word);
  if (s === undefined) {
    s = PorterStemmer.stem(word);
    if (stemCache.size >= 50_000) stemCache.clear();
    stemCache.set(word, s);
  }
  return s;
}

/**
 * Content words of a description: normalised, tokenised (natural's WordTokenizer),
 * abbreviations expanded, stop words dropped; not stemmed.
 */
export function descriptionWords(text: string): string[] {
  let words = wordsCache.get(text);
  if (words === undefined) {
    words = wordsUncached(text);
    wordsCache.set(text, words);
  }
  return [...words];
}

function wordsUncached(text: string): string[] {
  const out: string[] = [];
  for (const raw of tokenizer.tokenize(normaliseDescription(text))) {
    const expanded = ABBREVIATION_OF.get(raw) ?? raw;
    // Most words expand to one word: split (an array per word) only the expansions that hold several.
    if (!expanded.includes(' ')) {
      if (expanded.length > 0 && !STOP_WORDS.has(expanded)) out.push(expanded);
      continue;
    }
    for (const part of expanded.split(' ')) {
      if (part.length === 0 || STOP_WORDS.has(part)) continue;
      out.push(part);
    }
  }
  return out;
}

/**
 * Content tokens of a description: {@link descriptionWords}, Porter-stemmed (numbers kept).
 * Memoised per text like the words ({@link RECENT_DESCRIPTIONS}); each call returns a fresh array.
 * @returns stems in order of appearance, e.g. "O2 Conc w/ humidifier" -> ["oxygen", "concentr", "humidifi"].
 */
export function descriptionTokens(text: string): string[] {
  let tokens = tokensCache.get(text);
  if (tokens === undefined) {
    tokens = descriptionWords(text).map((w) => (/^\d/.test(w) ? w : stem(w)));
    tokensCache.set(text, tokens);
  }
  return [...tokens];
}

/** A description with every form the features use. */
export interface AnalysedDescription {
  /** The text exactly as given. */
  original: string;
  /** {@link normaliseDescription}. */
  normalised: string;
  /** {@link descriptionWords}: content words, abbreviations expanded, not stemmed. */
  words: string[];
  /** {@link descriptionTokens}: stems. */
  tokens: string[];
  quantities: DescriptionQuantities;
}

/** Runs the whole text pipeline on one description. */
export function analyseDescription(text: string): AnalysedDescription {
  const words = descriptionWords(text);
  return {
    original: text,
    normalised: normaliseDescription(text),
    words,
    tokens: descriptionTokens(text),
    quantities: parseQuantities(text),
  };
}
