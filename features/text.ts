/**
 * Text pipeline for line descriptions: lower-casing, a healthcare-supply abbreviation table,
 * tokenising and stemming with natural (imported by submodule: its root import has side
 * effects), stop-word removal, and the doses, volumes and pack counts parsed out into
 * structured values (`"dexamethasone 4 mg/ml, 25/bx"` -> dose 4 mg per 1 ml, pack of 25 per box).
 */
import { WordTokenizer } from 'natural/lib/natural/tokenizers/index.js';
import { PorterStemmer } from 'natural/lib/natural/stemmers/index.js';
import { LRUCache } from 'lru-cache';

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
  const expanded = lowered
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
    const expanded = ABBREVIATIONS[raw] ?? raw;
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

/** Canonical units of doses and volumes. */
export type DoseUnit = 'mg' | 'ml' | 'units' | 'meq' | 'mmol' | 'mci' | 'sq cm' | '%';

/** A dose, volume or strength read from a description, in canonical units. */
export interface ParsedDose {
  /** Amount in `unit` (mcg and g converted to mg, l and cc to ml, IU/U to units). */
  value: number;
  unit: DoseUnit;
  /** For a concentration (`4 mg/ml`, `250 mg per 5 ml`): the denominator. */
  per?: { value: number; unit: DoseUnit };
  /**
   * True when the text marks this as the dose given rather than a strength: after `dose`,
   * `total`, `administered` or `given`, inside parentheses, or after a dash (`"rituximab, 10 mg - 70 mg"`).
   */
  marked?: boolean;
  /** The matched text. */
  text: string;
}

/** A pack count read from a description (`25/bx`, `box of 100`, `10 ea`). */
export interface ParsedPack {
  count: number;
  /** Container the count refers to. `each` for counts of single items (`100 ct`, `10 ea`). */
  per: 'box' | 'case' | 'pack' | 'bag' | 'carton' | 'bottle' | 'package' | 'roll' | 'kit' | 'each';
  text: string;
}

/** Quantities parsed out of a description. */
export interface DescriptionQuantities {
  doses: ParsedDose[];
  packs: ParsedPack[];
}

/** Unit spellings -> canonical unit and factor to it. */
const UNIT_TABLE: Readonly<Record<string, readonly [DoseUnit, number]>> = {
  mcg: ['mg', 0.001],
  ug: ['mg', 0.001],
  µg: ['mg', 0.001],
  microgram: ['mg', 0.001],
  micrograms: ['mg', 0.001],
  mg: ['mg', 1],
  milligram: ['mg', 1],
  milligrams: ['mg', 1],
  g: ['mg', 1000],
  gm: ['mg', 1000],
  gram: ['mg', 1000],
  grams: ['mg', 1000],
  kg: ['mg', 1_000_000],
  ml: ['ml', 1],
  cc: ['ml', 1],
  milliliter: ['ml', 1],
  milliliters: ['ml', 1],
  l: ['ml', 1000],
  liter: ['ml', 1000],
  litre: ['ml', 1000],
  u: ['units', 1],
  unit: ['units', 1],
  units: ['units', 1],
  iu: ['units', 1],
  'i.u.': ['units', 1],
  'i.u': ['units', 1],
  kiu: ['units', 1000],
  meq: ['meq', 1],
  mmol: ['mmol', 1],
  mci: ['mci', 1],
  millicurie: ['mci', 1],
  millicuries: ['mci', 1],
  microcurie: ['mci', 0.001],
  microcuries: ['mci', 0.001],
  'sq cm': ['sq cm', 1],
  '%': ['%', 1],
};

const PACK_WORDS: Readonly<Record<string, ParsedPack['per']>> = {
  bx: 'box',
  box: 'box',
  boxes: 'box',
  cs: 'case',
  case: 'case',
  pk: 'pack',
  pack: 'pack',
  bg: 'bag',
  bag: 'bag',
  ctn: 'carton',
  carton: 'carton',
  btl: 'bottle',
  bottle: 'bottle',
  pkg: 'package',
  package: 'package',
  rl: 'roll',
  roll: 'roll',
  kit: 'kit',
  kt: 'kit',
};
const EACH_WORDS = 'ea|each|ct|count|pcs|pc|pieces|units? per (?:box|case|pack)';

const NUM = String.raw`(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\.\d+)`;
const UNIT = String.raw`(mcg|µg|ug|micrograms?|mg|milligrams?|gm|grams?|g|kg|ml|cc|milliliters?|l|liters?|litre|kiu|iu|i\.u\.?|units?|u|meq|mmol|mci|millicuries?|microcuries?|sq\s*cm|%)`;
const DOSE_RE = new RegExp(
  String.raw`(?<![a-z0-9.])${NUM}\s*${UNIT}(?![a-z])(?:\s*(?:/|per)\s*(?:${NUM}\s*)?(ml|cc|l|g|gm|mg|kg|sq\s*cm)(?![a-z]))?`,
  'g',
);
const PACK_WORDS_RE = Object.keys(PACK_WORDS).join('|');
const PACK_RES: readonly RegExp[] = [
  new RegExp(String.raw`(?<![a-z0-9.])(\d+)\s*(?:/|per)\s*(${PACK_WORDS_RE})(?![a-z])`, 'g'), // 25/bx, 100 per case
  new RegExp(String.raw`(?<![a-z0-9])(${PACK_WORDS_RE})\s*(?:/|of)\s*(\d+)(?![0-9.])`, 'g'), // bx/25, box of 100
  new RegExp(String.raw`(?<![a-z0-9.])(\d+)\s*[- ]?\s*(pk|pack|ct|count)(?![a-z])`, 'g'), // 10pk, 3-pack, 100 ct
  new RegExp(String.raw`(?<![a-z0-9.])(\d+)\s*(${EACH_WORDS})(?![a-z])`, 'g'), // 10 ea
];

/** Text right before a dose that marks it as the dose given ("dose 250 mg", "(40 units)", "- 70 mg"). */
const DOSE_MARKER = /(?:\b(?:dose|dosage|total|administered|given)\s*[:=]?\s*|\(\s*|\s[-\u2013]\s*)$/;

const NEEDLE_CONTEXT = /needle|gauge|cannula|catheter|lancet|syringe|\bndl\b|\bsyr\b/;

function toNumber(s: string): number {
  return Number(s.replace(/,/g, ''));
}

function canonicalUnit(u: string): readonly [DoseUnit, number] | undefined {
  return UNIT_TABLE[u.replace(/\s+/g, ' ')];
}

/**
 * Parses doses, strengths, volumes and pack counts out of a description. Works on the raw text
 * (lower-cased, NFKC), so `"4 mg/ml"`, `"250mg/5ml"`, `"100,000 units"`, `"1.5 ml"` keep their
 * structure. A bare `u` counts as units only right after a number.
 * @example parseQuantities('Dexamethasone 4 mg/ml, 1 ml vial, 25/bx') ->
 *   { doses: [{ value: 4, unit: 'mg', per: { value: 1, unit: 'ml' } }, { value: 1, unit: 'ml' }],
 *     packs: [{ count: 25, per: 'box' }] }
 */
export function parseQuantities(text: string): DescriptionQuantities {
  const s = text.normalize('NFKC').toLowerCase();
  const doses: ParsedDose[] = [];
  // "22g needle" is a gauge, not 22 grams.
  const gauges = NEEDLE_CONTEXT.test(s);
  for (const m of s.matchAll(DOSE_RE)) {
    const unit = canonicalUnit(m[2]!);
    if (!unit || (gauges && m[2] === 'g')) continue;
    const dose: ParsedDose = { value: toNumber(m[1]!) * unit[1], unit: unit[0], text: m[0].trim() };
    if (DOSE_MARKER.test(s.slice(Math.max(0, m.index - 16), m.index))) dose.marked = true;
    if (m[4] !== undefined) {
      const perUnit = canonicalUnit(m[4]);
      if (perUnit)
        dose.per = { value: (m[3] === undefined ? 1 : toNumber(m[3])) * perUnit[1], unit: perUnit[0] };
    }
    doses.push(dose);
  }
  const packs: ParsedPack[] = [];
  const taken: [number, number][] = [];
  PACK_RES.forEach((re, i) => {
    for (const m of s.matchAll(re)) {
      const start = m.index;
      const end = start + m[0].length;
      if (taken.some(([a, b]) => start < b && end > a)) continue;
      const countText = i === 1 ? m[2]! : m[1]!;
      const word = i === 1 ? m[1]! : m[2]!;
      const per: ParsedPack['per'] =
        i === 3 ? 'each' : i === 2 && !/^p/.test(word) ? 'each' : (PACK_WORDS[word] ?? 'pack');
      taken.push([start, end]);
      packs.push({ count: Number(countText), per, text: m[0].trim() });
    }
  });
  return { doses, packs };
}

/**
 * Total amount of active substance a description states, in a mass-like unit (mg, units,
 * meq, mmol, mci, sq cm), in this order of preference: the last dose marked as given
 * (`"dalbavancin 5 mg; dose 250 mg"` -> 250 mg, see {@link ParsedDose.marked}); a concentration
 * times a volume (`4 mg/ml` with `5 ml` -> 20 mg); the largest plain dose (a line often repeats
 * the code's unit strength before the dose: `"imiglucerase 10 units 40 units"` -> 40 units);
 * a bare concentration's numerator.
 * @returns null when no such dose is stated.
 */
export function totalDose(q: DescriptionQuantities): { value: number; unit: DoseUnit } | null {
  const massLike = (d: ParsedDose): boolean => d.unit !== 'ml' && d.unit !== '%';
  const marked = q.doses.filter((d) => d.marked && d.per === undefined && massLike(d));
  if (marked.length > 0)
    return { value: marked[marked.length - 1]!.value, unit: marked[marked.length - 1]!.unit };
  const conc = q.doses.find((d) => d.per !== undefined && massLike(d));
  const volume = q.doses.find((d) => d.per === undefined && d.unit === 'ml');
  if (conc?.per && volume && conc.per.unit === 'ml' && conc.per.value > 0) {
    return { value: (conc.value / conc.per.value) * volume.value, unit: conc.unit };
  }
  const plain = q.doses.filter((d) => d.per === undefined && massLike(d));
  if (plain.length > 0) {
    const unit = plain[0]!.unit;
    const value = Math.max(...plain.filter((d) => d.unit === unit).map((d) => d.value));
    return { value, unit };
  }
  if (conc) return { value: conc.value, unit: conc.unit };
  return null;
}

/**
 * The billing unit of a code as a single dose (`"10 MG"` -> 10 mg, `"1 ML"` -> 1 ml,
 * `"100,000 UNITS"` -> 100000 units), from a CMS ASP dosage string or the dose at the end of a
 * HCPCS long description (`"Injection, dexamethasone sodium phosphate, 1 mg"`, `"..., per 10 mg"`).
 * @returns null for combinations (`"2MG/3MG"`), ranges and non-dose units (`PER VIAL`, cells).
 */
export function parseBillingUnit(text: string): { value: number; unit: DoseUnit } | null {
  const s = text.normalize('NFKC').toLowerCase().trim();
  const whole = new RegExp(String.raw`^(?:per\s+)?${NUM}\s*${UNIT}$`).exec(s);
  const tail = whole ?? new RegExp(String.raw`(?:,|\bper|\bup to)\s*${NUM}\s*${UNIT}\)?$`).exec(s);
  if (!tail) {
    // "Injection, burosumab-twza 1 mg": the only dose stated.
    const doses = parseQuantities(s).doses.filter((d) => d.per === undefined);
    return doses.length === 1 ? { value: doses[0]!.value, unit: doses[0]!.unit } : null;
  }
  const unit = canonicalUnit(tail[2]!);
  return unit ? { value: toNumber(tail[1]!) * unit[1], unit: unit[0] } : null;
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
