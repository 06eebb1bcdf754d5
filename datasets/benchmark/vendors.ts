/**
 * The benchmark's vendors: identity (name, name variants, a second vendor-master id for some,
 * EIN, NPI with a valid check digit), service-line profile with its approved HCPCS categories,
 * catalogue priced from the CMS fee schedules, payment terms, invoice-number format and
 * description style. Written to the dataset's `vendors.json`.
 */
import type { ReferenceData } from '../../core/reference.js';
import { Rng, addDays, cumulative, makeNpi } from '../synth.js';
import { drawDescriptionStyle, itemDescription, type DescriptionStyle } from './phrasing.js';
import { codePool, drawCatalogue, PROFILES, type PoolItem, type ServiceLine } from './profiles.js';
import type { BenchmarkSplit } from './types.js';

/** Invoice-number formats vendors use. `{P}` prefix, `{n}` counter. */
export const NUMBER_FORMATS = [
  'P-n', // KHM-104522
  'Pn7', // SHI0410037
  'yymm-n4', // 2503-0117 (counter per month)
  'P-yyyy-n5', // TCL-2025-00872 (counter per year)
  'n', // 9104513
  'n6-P', // 004417-LAB
] as const;
export type NumberFormat = (typeof NUMBER_FORMATS)[number];

/** Formats whose numbers carry no date, so a vendor can reissue a number years later. */
export function numberFormatReusable(f: NumberFormat): boolean {
  return f === 'P-n' || f === 'Pn7' || f === 'n' || f === 'n6-P';
}

/** Payment terms, e.g. 2/10 net 30. */
export interface PaymentTerms {
  net_days: number;
  /** Early-payment discount in percent (0 when none). */
  discount_pct: number;
  discount_days: number;
}

/** A catalogue item: a pool item with the vendor's item-master description, list price and popularity. */
export interface CatalogueEntry extends PoolItem {
  description: string;
  /**
   * The vendor's list price per unit in the first year of its window, integer cents: CMS fee x
   * vendor markup x 0.97-1.03. Raised by `annual_price_increase` each later calendar year.
   */
  price_cents: number;
  /** Relative popularity (Zipf-like): some items appear on most invoices. */
  weight: number;
}

/** A vendor as written to `vendors.json`. */
export interface BenchmarkVendor {
  id: string;
  split: BenchmarkSplit;
  service_line: ServiceLine;
  name: string;
  /** How the same vendor's name is keyed elsewhere (re-keyed and vendor-variant duplicates). */
  name_variants: string[];
  /** Further vendor-master ids of the same vendor (duplicate master records), often empty. */
  alt_ids: string[];
  tax_id: string;
  npi: string | null;
  approved_categories: { section: string; betos: string; label: string }[];
  /** First and last day the vendor invoices (its split's window). */
  active_from: string;
  active_to: string;
  /** Relative invoice volume. */
  volume: number;
  /** The vendor's price level relative to the CMS fee (list price = fee x markup x 0.97-1.03). */
  price_markup: number;
  /** Yearly list-price increase applied every January after the first year of the window (0-4%). */
  annual_price_increase: number;
  terms: PaymentTerms;
  invoice_number: { format: NumberFormat; prefix: string; start: number; max_step: number };
  credit_memo_number: 'CM-<invoice number>' | 'CR<n>';
  description_style: DescriptionStyle;
  facilities: string[];
  catalogue: CatalogueEntry[];
}

/** The hospital system's facilities (the invoices' `facility_id`). */
export const FACILITIES = [
  'FAC-MAIN-01',
  'FAC-NORTH-02',
  'FAC-SOUTH-03',
  'FAC-EAST-04',
  'FAC-WEST-05',
  'FAC-CANCER-06',
  'FAC-REHAB-07',
  'FAC-HOMEHLTH-08',
  'FAC-SNF-09',
  'FAC-CHILD-10',
  'FAC-ASC-11',
  'FAC-BEHAV-12',
] as const;

const NAME_HEADS = [
  'Keystone',
  'Bluewater',
  'Tri-County',
  'Summit',
  'Meridian',
  'Lakeside',
  'Crescent',
  'ClearView',
  'Northstar',
  'Riverbend',
  'Pinnacle',
  'Harbor',
  'Evergreen',
  'Granite State',
  'Cedar Valley',
  'Prairie',
  'Liberty',
  'Heritage',
  'Sunrise',
  'Coastal',
  'Allegheny',
  'Blue Ridge',
  'Cornerstone',
  'Frontier',
  'Heartland',
  'Ironwood',
  'Juniper',
  'Magnolia',
  'Redwood',
  'Silver Lake',
  'Stonebridge',
  'Trinity',
  'Westfield',
  'Oakmont',
  'Maple Grove',
  'Brookside',
  'Clearwater',
  'Pioneer',
  'Horizon',
  'Beacon',
  'Capital',
  'Mid-Atlantic',
  'Great Lakes',
  'Pacific',
  'Tidewater',
  'Canyon',
  'Sierra',
  'St. Joseph',
  'Bay Area',
  'Twin Rivers',
];
const NAME_MIDDLES = [
  '',
  '',
  '',
  'Regional',
  'Community',
  'United',
  'American',
  'Premier',
  'Advanced',
  'Integrated',
];
const LEGAL = ['Inc.', 'LLC', 'Co.', 'Corp.', 'P.C.', 'L.P.', 'Ltd.', 'Inc', ''];

/** Word abbreviations used in name variants. */
const NAME_ABBREVIATIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bServices\b/, 'Svcs'],
  [/\bMedical\b/, 'Med'],
  [/\bLaborator(y|ies)\b/, 'Lab'],
  [/\bEquipment\b/, 'Equip'],
  [/\bPharmacy\b/, 'Pharm'],
  [/\bAssociates\b/, 'Assoc'],
  [/\bSupply\b/, 'Sup'],
  [/\bEmergency\b/, 'Emerg'],
  [/\bNutrition\b/, 'Nutr'],
  [/\bCommunity\b/, 'Comm'],
  [/\bRegional\b/, 'Reg'],
  [/\bSaint\b|\bSt\.\s/, 'St '],
];

/**
 * Keyed variants of a vendor name, all different from it: upper case without punctuation,
 * abbreviated words, another legal suffix, `&` <-> `and`, hyphens as spaces.
 */
export function nameVariants(name: string, rng: Rng): string[] {
  const out = new Set<string>();
  out.add(name.toUpperCase().replace(/[.,]/g, '').replace(/\s+/g, ' ').trim());
  const abbreviated = NAME_ABBREVIATIONS.reduce((s, [re, rep]) => s.replace(re, rep), name);
  out.add(abbreviated);
  const bare = name.replace(/,?\s+(Inc\.?|LLC|Co\.|Corp\.|P\.C\.|L\.P\.|Ltd\.)$/, '');
  out.add(
    bare === name
      ? `${name} ${rng.pick(['Inc', 'LLC'])}`
      : `${bare} ${rng.pick(['Incorporated', 'L.L.C.', ''])}`.trim(),
  );
  out.add(name.includes('&') ? name.replace(/&/g, 'and') : name.replace(/-/g, ' '));
  out.delete(name);
  return [...out].filter((v) => v.length > 0).slice(0, 3);
}

/** A unique vendor name for a profile. */
function vendorName(service: ServiceLine, rng: Rng, taken: Set<string>): string {
  const nouns = PROFILES[service].nouns;
  for (let attempt = 0; attempt < 200; attempt++) {
    const middle = rng.pick(NAME_MIDDLES);
    const core = [rng.pick(NAME_HEADS), middle, rng.pick(nouns)].filter(Boolean).join(' ');
    const legal = rng.pick(LEGAL);
    const key = core.toLowerCase();
    if (taken.has(key)) continue;
    taken.add(key);
    return legal === '' ? core : legal.startsWith('Inc') ? `${core}, ${legal}` : `${core} ${legal}`;
  }
  // Name space exhausted (very large sets): number the name.
  const core = `${rng.pick(NAME_HEADS)} ${rng.pick(nouns)} ${taken.size + 1}`;
  taken.add(core.toLowerCase());
  return core;
}

/** Letters of a name usable as an invoice-number prefix: `Tri-County Reference Laboratory` -> `TRL`. */
function initials(name: string): string {
  const letters = name
    .replace(/[^A-Za-z\s-]/g, '')
    .split(/[\s-]+/)
    .filter((w) => w.length > 0 && !/^(Inc|LLC|Co|Corp|PC|LP|Ltd|and)$/i.test(w))
    .map((w) => w.charAt(0).toUpperCase())
    .join('');
  return letters.slice(0, 4) || 'INV';
}

function drawTerms(rng: Rng): PaymentTerms {
  const pick = rng.int(0, 19);
  if (pick < 10) return { net_days: 30, discount_pct: 0, discount_days: 0 };
  if (pick < 14) return { net_days: 45, discount_pct: 0, discount_days: 0 };
  if (pick < 17) return { net_days: 60, discount_pct: 0, discount_days: 0 };
  if (pick < 19) return { net_days: 30, discount_pct: 2, discount_days: 10 };
  return { net_days: 45, discount_pct: 1, discount_days: 15 };
}

/**
 * The vendor master entry the benchmark registers for a vendor (every id and alternate id):
 * the BETOS codes of its approved categories, and the HCPCS section letter of a category without
 * a BETOS code. The service checks a billed code against exactly this (core/vendor.ts
 * `codeApproved`), so it is also what decides whether a code billed from another service line
 * is outside the vendor's categories in the benchmark's labels.
 */
export function vendorMasterApprovals(v: Pick<BenchmarkVendor, 'approved_categories'>): {
  approved_betos: string[];
  approved_hcpcs_prefixes: string[];
} {
  return {
    approved_betos: [...new Set(v.approved_categories.map((c) => c.betos).filter((b) => b !== ''))],
    approved_hcpcs_prefixes: [
      ...new Set(v.approved_categories.filter((c) => c.betos === '').map((c) => c.section.slice(0, 1))),
    ],
  };
}

/** Lines may date from up to this many days before the window (services billed in arrears). */
export const CATALOGUE_LEAD_DAYS = 62;

/** The date codes must be valid on to enter the catalogues of a window starting `activeFrom`. */
export function catalogueAsOf(activeFrom: string): string {
  return addDays(activeFrom, -CATALOGUE_LEAD_DAYS);
}

/** Options of {@link createVendors}. */
export interface VendorOptions {
  split: BenchmarkSplit;
  count: number;
  activeFrom: string;
  activeTo: string;
  /** First numeric part of the vendor ids of this split (ids are unique across splits). */
  idBase: number;
}

/**
 * Creates the vendors of one split: the first two of each service line in turn (so every
 * split has every profile twice, and a same-profile peer for every vendor), the rest drawn by the profiles' vendor shares; volumes log-normal.
 * Catalogues are drawn from the codes available {@link CATALOGUE_LEAD_DAYS} days before
 * `activeFrom` (services billed early in the window may date from before it).
 */
export function createVendors(
  ref: ReferenceData,
  opts: VendorOptions,
  rng: Rng,
  takenNames: Set<string>,
  betosLabels: ReadonlyMap<string, string>,
): BenchmarkVendor[] {
  const services = Object.keys(PROFILES) as ServiceLine[];
  const shares = cumulative(services.map((s) => PROFILES[s].vendorShare));
  const vendors: BenchmarkVendor[] = [];
  for (let i = 0; i < opts.count; i++) {
    const service = (
      i < 2 * services.length ? services[i % services.length] : services[rng.weightedIndex(shares)]
    ) as ServiceLine;
    const profile = PROFILES[service];
    const name = vendorName(service, rng, takenNames);
    const id = `V-${String(opts.idBase + i * 7 + rng.int(0, 6)).padStart(6, '0')}`;
    const altIds = rng.chance(0.3)
      ? [`V-${String(opts.idBase + 500_000 + i * 7 + rng.int(0, 6)).padStart(6, '0')}`]
      : [];
    const style = drawDescriptionStyle(rng);
    const pool = codePool(ref, profile, catalogueAsOf(opts.activeFrom));
    const items = drawCatalogue(pool, profile, rng);
    const markup = Math.round(rng.between(0.88, 1.22) * 1000) / 1000;
    const catalogue: CatalogueEntry[] = items.map((item, rank) => {
      const code = ref.hcpcs.get(item.code);
      if (!code) throw new Error(`catalogue code ${item.code} missing from HCPCS`);
      return {
        ...item,
        description: itemDescription(code, style, rng),
        price_cents: Math.max(1, Math.round(item.feeCents * markup * rng.between(0.97, 1.03))),
        weight: 1 / (rank + 1) ** 0.8,
      };
    });
    const format = rng.pick(NUMBER_FORMATS);
    const facilityCount = rng.int(1, 3);
    vendors.push({
      id,
      split: opts.split,
      service_line: service,
      name,
      name_variants: nameVariants(name, rng),
      alt_ids: altIds,
      tax_id: `${rng.int(10, 98)}-${rng.digits(7)}`,
      npi: profile.hasNpi ? makeNpi(rng) : null,
      approved_categories: profile.categories.map((c) => ({ ...c, label: betosLabels.get(c.betos) ?? '' })),
      price_markup: markup,
      annual_price_increase: rng.pick([0, 0.02, 0.025, 0.03, 0.04]),
      active_from: opts.activeFrom,
      active_to: opts.activeTo,
      volume: Math.round(Math.exp(rng.between(-1, 1) * 0.9) * 1000) / 1000,
      terms: drawTerms(rng),
      invoice_number: {
        format,
        prefix: initials(name),
        start: format === 'n' ? rng.int(1_000_000, 9_000_000) : rng.int(1_000, 400_000),
        max_step: rng.pick([1, 3, 12, 40]),
      },
      credit_memo_number: rng.chance(0.5) ? 'CM-<invoice number>' : 'CR<n>',
      description_style: style,
      facilities: rng.shuffle(FACILITIES).slice(0, facilityCount),
      catalogue,
    });
  }
  return vendors;
}

/** Pads a counter to `width` digits. */
function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * Mutable numbering state of a vendor while invoices are generated: invoice and credit-memo
 * counters (per month / per year for date-based formats).
 */
export class VendorNumbering {
  private counter: number;
  private creditCounter: number;
  private readonly periodCounters = new Map<string, number>();
  constructor(
    private readonly v: BenchmarkVendor,
    private readonly rng: Rng,
  ) {
    this.counter = v.invoice_number.start;
    this.creditCounter = rng.int(100, 9_000);
  }

  /** The next invoice number on `date` (`YYYY-MM-DD`). */
  next(date: string): string {
    const { format, prefix, max_step } = this.v.invoice_number;
    const step = this.rng.int(1, max_step);
    if (format === 'yymm-n4' || format === 'P-yyyy-n5') {
      const period = format === 'yymm-n4' ? date.slice(0, 7) : date.slice(0, 4);
      const n = (this.periodCounters.get(period) ?? this.rng.int(1, 40)) + step;
      this.periodCounters.set(period, n);
      return format === 'yymm-n4'
        ? `${date.slice(2, 4)}${date.slice(5, 7)}-${pad(n, 4)}`
        : `${prefix}-${date.slice(0, 4)}-${pad(n, 5)}`;
    }
    this.counter += step;
    const n = this.counter;
    if (format === 'P-n') return `${prefix}-${n}`;
    if (format === 'Pn7') return `${prefix}${pad(n, 7)}`;
    if (format === 'n') return String(n);
    return `${pad(n % 1_000_000, 6)}-${prefix}`;
  }

  /** The number of a credit memo reversing `invoiceNumber`. */
  credit(invoiceNumber: string): string {
    if (this.v.credit_memo_number === 'CM-<invoice number>') return `CM-${invoiceNumber}`.slice(0, 64);
    this.creditCounter += this.rng.int(1, 5);
    return `CR${pad(this.creditCounter, 6)}`;
  }
}
