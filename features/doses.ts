/**
 * Doses, volumes, strengths and pack counts parsed out of a line description into canonical
 * units (`"dexamethasone 4 mg/ml, 25/bx"` -> dose 4 mg per 1 ml, pack of 25 per box), and the
 * billing unit of a HCPCS descriptor. Part of the text pipeline of `features/text.ts`, which
 * re-exports it.
 */
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
