/**
 * Vendor-name normalisation for blocking and comparison, with the original kept beside the
 * normalised key. Legal forms (Inc, LLC, L.L.C., Ltd, Sdn Bhd, GmbH, S.A., PLC...) are dropped,
 * common abbreviations expanded (Intl, Mfg, Svcs, Med...), and a name is split into its
 * distinctive part and its generic business words ("Enterprise", "Solutions", "Medical
 * Supply"), so that two firms sharing only a business word never compare as the same vendor.
 */
import { ownValue } from '../core/own.js';
import { LRUCache } from 'lru-cache';
import { jaroWinkler } from './strings.js';

/**
 * Legal-form suffixes, as token sequences after punctuation removal, mapped to one canonical
 * label. Dotted forms arrive joined (`L.L.C.` -> `llc`, `S.A.` -> `sa`).
 */
const LEGAL_FORMS: readonly (readonly [string, string])[] = [
  ['sdn bhd', 'sdn bhd'],
  ['sdn berhad', 'sdn bhd'],
  ['sendirian berhad', 'sdn bhd'],
  ['bhd', 'bhd'],
  ['berhad', 'bhd'],
  ['sdn', 'sdn bhd'],
  ['pte ltd', 'pte ltd'],
  ['pty ltd', 'pty ltd'],
  ['pvt ltd', 'pvt ltd'],
  ['private limited', 'pvt ltd'],
  ['co ltd', 'co ltd'],
  ['incorporated', 'inc'],
  ['inc', 'inc'],
  ['l l c', 'llc'],
  ['llc', 'llc'],
  ['limited', 'ltd'],
  ['ltd', 'ltd'],
  ['corporation', 'corp'],
  ['corp', 'corp'],
  ['company', 'co'],
  ['co', 'co'],
  ['plc', 'plc'],
  ['gmbh', 'gmbh'],
  ['mbh', 'gmbh'],
  ['ag', 'ag'],
  ['kg', 'kg'],
  ['sa', 'sa'],
  ['sas', 'sas'],
  ['sarl', 'sarl'],
  ['srl', 'srl'],
  ['spa', 'spa'],
  ['bv', 'bv'],
  ['nv', 'nv'],
  ['ab', 'ab'],
  ['oy', 'oy'],
  ['pte', 'pte'],
  ['pty', 'pty'],
  ['lp', 'lp'],
  ['llp', 'llp'],
  ['lllp', 'lllp'],
  ['pc', 'pc'],
  ['pllc', 'pllc'],
  ['pa', 'pa'],
  ['dba', 'dba'],
];

/** Word abbreviations on vendor names, expanded so that "Intl Med Svcs" meets "International Medical Services". */
export const VENDOR_ABBREVIATIONS: Readonly<Record<string, string>> = {
  intl: 'international',
  internat: 'international',
  natl: 'national',
  mfg: 'manufacturing',
  mfr: 'manufacturer',
  mfrs: 'manufacturers',
  svc: 'services',
  svcs: 'services',
  srvcs: 'services',
  serv: 'services',
  med: 'medical',
  medl: 'medical',
  hosp: 'hospital',
  hlth: 'health',
  hc: 'healthcare',
  assoc: 'associates',
  assocs: 'associates',
  assn: 'association',
  bros: 'brothers',
  ctr: 'center',
  cntr: 'center',
  centre: 'center',
  dept: 'department',
  dist: 'distribution',
  distr: 'distribution',
  distrib: 'distribution',
  eqpt: 'equipment',
  equip: 'equipment',
  grp: 'group',
  hldgs: 'holdings',
  inds: 'industries',
  ind: 'industries',
  labs: 'laboratories',
  lab: 'laboratory',
  mgmt: 'management',
  mgt: 'management',
  mktg: 'marketing',
  pharm: 'pharmacy',
  phcy: 'pharmacy',
  prods: 'products',
  prod: 'products',
  sply: 'supply',
  supp: 'supply',
  sys: 'systems',
  techs: 'technologies',
  tech: 'technology',
  univ: 'university',
  ent: 'enterprise',
  enterprises: 'enterprise',
  solution: 'solutions',
  supplies: 'supply',
  service: 'services',
};

/**
 * Generic business words: a shared one says nothing about being the same firm ("ABC
 * Enterprise" vs "XYZ Enterprise"). Compared after abbreviation expansion.
 */
export const GENERIC_BUSINESS_WORDS: ReadonlySet<string> = new Set([
  'and',
  'the',
  'of',
  'enterprise',
  'solutions',
  'services',
  'supply',
  'medical',
  'health',
  'healthcare',
  'care',
  'home',
  'trading',
  'traders',
  'group',
  'holdings',
  'international',
  'national',
  'global',
  'industries',
  'systems',
  'technology',
  'technologies',
  'associates',
  'partners',
  'products',
  'distribution',
  'distributors',
  'consulting',
  'management',
  'resources',
  'equipment',
  'hardware',
  'store',
  'stores',
  'shop',
  'mart',
  'supermarket',
  'restaurant',
  'cafe',
  'bakery',
  'marketing',
  'center',
  'pharmacy',
  'laboratory',
  'laboratories',
  'clinic',
  'hospital',
  'surgical',
  'diagnostics',
  'imaging',
  'orthopedic',
  'orthopedics',
  'respiratory',
  'oxygen',
  'rehab',
  'rehabilitation',
  'pharma',
  'pharmaceuticals',
  'biomedical',
  'dme',
  'usa',
  'america',
  'american',
  'north',
  'south',
  'east',
  'west',
  'company',
  'manufacturing',
  'logistics',
  'network',
]);

/** The forms of a vendor name used for blocking and comparison. */
export interface VendorNameForms {
  /** The name exactly as given. */
  original: string;
  /**
   * Blocking key: diacritics folded (NFKD, marks dropped), NFKC, lower case, `&`/`+` -> `and`, dotted initials joined (`D.I.Y.` -> `diy`),
   * parenthesised parts and punctuation removed, abbreviations expanded, leading `the` and
   * trailing legal forms dropped, spaces collapsed.
   */
  normalised: string;
  /** Canonical labels of the legal forms dropped, in reading order (e.g. `['co', 'ltd']`). */
  legalForms: string[];
  /** Words of `normalised`. */
  tokens: string[];
  /**
   * `normalised` without the {@link GENERIC_BUSINESS_WORDS}; equal to `normalised` when the name
   * is made of generic words only ("Medical Supply Co").
   */
  distinctive: string;
}

/** Splits off the trailing legal forms of a token list. */
function stripLegalForms(tokens: string[]): { kept: string[]; forms: string[] } {
  const kept = [...tokens];
  const forms: string[] = [];
  for (let changed = true; changed && kept.length > 1;) {
    changed = false;
    for (const [form, label] of LEGAL_FORMS) {
      const parts = form.split(' ');
      if (parts.length >= kept.length) continue;
      const tail = kept.slice(kept.length - parts.length);
      if (tail.join(' ') === form) {
        kept.length -= parts.length;
        forms.unshift(label);
        changed = true;
        break;
      }
    }
  }
  return { kept, forms };
}

/**
 * Normalises a vendor name into its comparison forms; see {@link VendorNameForms}.
 * @example normaliseVendor('MR. D.I.Y. (M) SDN BHD') -> { normalised: 'mr diy', legalForms: ['sdn bhd'], ... }
 * @example normaliseVendor('Acme Intl Med Svcs, L.L.C.').normalised === 'acme international medical services'
 */
export function normaliseVendor(name: string): VendorNameForms {
  // NFKD then drop combining marks: "Müller" and "MULLER" meet as "muller".
  let s = name.normalize('NFKD').replace(/\p{M}/gu, '').normalize('NFKC').toLowerCase();
  s = s.replace(/\([^)]*\)/g, ' ');
  s = s.replace(/[&+]/g, ' and ');
  s = s.replace(/\bint'l\b/g, 'intl');
  // Join dotted initials ("d.i.y." -> "diy", "l.l.c." -> "llc") before punctuation becomes spaces.
  s = s.replace(/\b([a-z0-9])\.(?=[a-z0-9]\.)/g, '$1').replace(/\b([a-z0-9])\.(?=\s|$|,)/g, '$1');
  s = s
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const raw = s.length > 0 ? s.split(' ') : [];
  const { kept, forms } = stripLegalForms(raw);
  // Own keys only: a word such as "constructor" is no abbreviation of the table's prototype.
  const expanded = kept.map((t) => ownValue(VENDOR_ABBREVIATIONS, t) ?? t);
  if (expanded.length > 1 && expanded[0] === 'the') expanded.shift();
  const tokens = expanded.length > 0 ? expanded : raw;
  const normalised = tokens.join(' ');
  const distinct = tokens.filter((t) => !GENERIC_BUSINESS_WORDS.has(t));
  return {
    original: name,
    normalised,
    legalForms: forms,
    tokens,
    distinctive: distinct.length > 0 ? distinct.join(' ') : normalised,
  };
}

/** Keys of recently seen vendor names: a tenant bills from a few hundred names again and again. */
const vendorKeys = new LRUCache<string, string>({ max: 4_096 });

/**
 * Canonical vendor key (the `normalised` form of {@link normaliseVendor}), memoised per name.
 * @example normaliseVendorName('MR. D.I.Y. (M) SDN BHD') === 'mr diy'
 */
export function normaliseVendorName(name: string): string {
  let key = vendorKeys.get(name);
  if (key === undefined) {
    key = normaliseVendor(name).normalised;
    vendorKeys.set(name, key);
  }
  return key;
}

/** Similarities of two vendor names, each in [0, 1]. */
export interface VendorNameSimilarity {
  /** Jaro-Winkler of the normalised keys. */
  jaroWinkler: number;
  /** Jaro-Winkler of the distinctive parts: low for "ABC Enterprise" vs "XYZ Enterprise". */
  distinctiveJaroWinkler: number;
  /** Jaccard of the token sets; null when both are empty. */
  tokenJaccard: number;
  /** min(jaroWinkler, distinctiveJaroWinkler): the score to threshold. */
  score: number;
}

/** Compares two normalised vendor forms (see {@link normaliseVendor}). */
export function compareVendorNames(a: VendorNameForms, b: VendorNameForms): VendorNameSimilarity {
  const jw = jaroWinkler(a.normalised, b.normalised);
  const djw = jaroWinkler(a.distinctive, b.distinctive);
  const sa = new Set(a.tokens);
  let inter = 0;
  const sb = new Set(b.tokens);
  for (const t of sa) if (sb.has(t)) inter++;
  const union = sa.size + sb.size - inter;
  return {
    jaroWinkler: jw,
    distinctiveJaroWinkler: djw,
    tokenJaccard: union === 0 ? 0 : inter / union,
    score: Math.min(jw, djw),
  };
}

/**
 * Whether two vendor names denote the same firm on name evidence alone: equal keys, or a
 * {@link VendorNameSimilarity.score} of at least `threshold` (default 0.92). Shared generic words
 * never suffice: "Acme Solutions" and "Apex Solutions" do not match.
 */
export function vendorNamesMatch(a: string, b: string, threshold = 0.92): boolean {
  const fa = normaliseVendor(a);
  const fb = normaliseVendor(b);
  return fa.normalised === fb.normalised || compareVendorNames(fa, fb).score >= threshold;
}
