/**
 * Service-line profiles of the benchmark's vendors and the code pools they bill from.
 *
 * A profile's approved code set is a list of real HCPCS Level II categories: a section (the
 * code's first letter, CMS's alphanumeric sections: A transport/supplies, E DME, J drugs...)
 * crossed with a BETOS category of the HCPCS 2025-01 file (`betos_code`). A code belongs to a
 * profile when both its first letter and its BETOS category are listed. Prices come from the
 * CMS 2025 fee schedules in `datasets/reference` (DMEPOS/PEN median state fee, PFS national
 * non-facility amount, CLFS national rate, ASP payment limit per billing unit). Where CMS
 * publishes no national fee that we ship (ambulance; portable x-ray transport), the profile
 * states an assumed list price instead, marked `LIST` wherever it is used.
 */
import type { FeeScheduleSource, HcpcsCode, ReferenceData } from '../../core/reference.js';
import type { Rng } from '../synth.js';

/** The service lines a vendor can have. */
export const SERVICE_LINES = [
  'dme_supplier',
  'medical_supplies',
  'infusion_pharmacy',
  'clinical_lab',
  'physician_group',
  'radiology',
  'ambulance',
  'orthotics_prosthetics',
  'enteral_nutrition',
] as const;
export type ServiceLine = (typeof SERVICE_LINES)[number];

/** An approved category: HCPCS section (first letter) x BETOS category. */
export interface CodeCategory {
  section: string;
  betos: string;
}

/** How a line's date of service relates to the invoice. */
export type ServiceDating =
  /** Monthly rental or supply: the invoice carries a service period; lines date from its start. */
  | 'period'
  /** Goods: the line's date is the shipment date, 0-10 days before the invoice. */
  | 'shipment'
  /** Services: the line's date is the date of service, 1-30 days before the invoice. */
  | 'service';

/** An assumed list price for a code without a shipped national fee (cents per unit). */
export interface ListPrice {
  cents: number;
  /** Plausible quantity range per line. */
  qty: readonly [number, number];
}

/** A service-line profile. */
export interface ServiceLineProfile {
  id: ServiceLine;
  label: string;
  categories: readonly CodeCategory[];
  /** Fee schedules the vendor's prices are anchored to, in order of preference. */
  sources: readonly FeeScheduleSource[];
  /** Pricing modifiers tried in order when a code has several fee entries (DMEPOS NU/RR...). */
  modifiers: readonly string[];
  /** Codes priced from an assumed list price (no national fee shipped). */
  listPrices?: Readonly<Record<string, ListPrice>>;
  /** Lines per invoice, inclusive range; the count is drawn with a decreasing tail. */
  lines: readonly [number, number];
  /** Catalogue size per vendor, inclusive range (capped by the pool size). */
  catalogue: readonly [number, number];
  dating: ServiceDating;
  /** Sells goods that can ship in several partial shipments against one PO. */
  goods: boolean;
  /** Share of vendors with this profile (relative weight). */
  vendorShare: number;
  /** Share of invoices that carry the hospital's PO number. */
  poRate: number;
  /** Providers with an NPI (type 2, organisation). */
  hasNpi: boolean;
  /** Nouns used in vendor names. */
  nouns: readonly string[];
}

const cats = (section: string, betos: readonly string[]): CodeCategory[] =>
  betos.map((b) => ({ section, betos: b }));

/**
 * The nine service-line profiles. Categories were chosen from the HCPCS 2025-01 BETOS
 * distribution of each section (see `datasets/benchmark/README.md`).
 */
export const PROFILES: Readonly<Record<ServiceLine, ServiceLineProfile>> = {
  dme_supplier: {
    id: 'dme_supplier',
    label: 'Durable medical equipment supplier (rentals and purchases)',
    categories: [
      ...cats('E', ['D1B', 'D1C', 'D1D', 'D1E']),
      ...cats('K', ['D1D', 'D1E']),
      ...cats('A', ['D1C']),
    ],
    sources: ['DMEPOS'],
    modifiers: ['RR', 'NU', ''],
    lines: [1, 4],
    catalogue: [12, 40],
    dating: 'period',
    goods: true,
    vendorShare: 18,
    poRate: 0.8,
    hasNpi: true,
    nouns: [
      'Home Medical Equipment',
      'Medical Equipment',
      'HME Services',
      'Respiratory Services',
      'Home Health Equipment',
    ],
  },
  medical_supplies: {
    id: 'medical_supplies',
    label: 'Medical-surgical supplies distributor',
    categories: [...cats('A', ['D1A', 'O1L', 'D1F'])],
    sources: ['DMEPOS'],
    modifiers: ['', 'NU'],
    lines: [2, 12],
    catalogue: [20, 60],
    dating: 'shipment',
    goods: true,
    vendorShare: 15,
    poRate: 0.85,
    hasNpi: false,
    nouns: [
      'Medical-Surgical Supply',
      'Surgical Supply',
      'Medical Supply',
      'Wound Care Supply',
      'Healthcare Products',
    ],
  },
  infusion_pharmacy: {
    id: 'infusion_pharmacy',
    label: 'Drug / home infusion pharmacy (Part B drugs in CMS billing units)',
    categories: [...cats('J', ['O1D', 'O1E', 'D1G']), ...cats('Q', ['O1E', 'O1D'])],
    sources: ['ASP'],
    modifiers: [''],
    lines: [1, 5],
    catalogue: [15, 45],
    dating: 'shipment',
    goods: true,
    vendorShare: 14,
    poRate: 0.6,
    hasNpi: true,
    nouns: [
      'Home Infusion Pharmacy',
      'Specialty Pharmacy',
      'Infusion Services',
      'Oncology Pharmacy',
      'Pharmacy Services',
    ],
  },
  clinical_lab: {
    id: 'clinical_lab',
    label: 'Clinical reference laboratory',
    categories: [
      ...cats('G', ['T1H', 'T1D', 'T1G', 'T2D', 'P5E']),
      ...cats('P', ['T1H', 'T1G']),
      ...cats('Q', ['T1H']),
      ...cats('U', ['T1H']),
    ],
    sources: ['CLFS', 'PFS'],
    modifiers: [''],
    lines: [1, 8],
    catalogue: [10, 30],
    dating: 'service',
    goods: false,
    vendorShare: 12,
    poRate: 0.3,
    hasNpi: true,
    nouns: [
      'Reference Laboratory',
      'Clinical Labs',
      'Pathology Associates',
      'Diagnostic Laboratories',
      'Medical Laboratory',
    ],
  },
  physician_group: {
    id: 'physician_group',
    label: 'Physician group (purchased professional services)',
    categories: cats('G', ['M1A', 'M1B', 'M4A', 'M5D', 'M6', 'Y1', 'T2C', 'P6C', 'P8C', 'P8D', 'P5A']),
    sources: ['PFS'],
    modifiers: [''],
    lines: [1, 4],
    catalogue: [10, 30],
    dating: 'service',
    goods: false,
    vendorShare: 11,
    poRate: 0.2,
    hasNpi: true,
    nouns: [
      'Medical Group',
      'Physicians Group',
      'Primary Care Associates',
      'Health Partners',
      'Clinic Associates',
    ],
  },
  radiology: {
    id: 'radiology',
    label: 'Mobile imaging / radiology services (Level II imaging, contrast, portable x-ray)',
    categories: [
      ...cats('A', ['I1E', 'I2D']),
      ...cats('Q', ['I1F']),
      ...cats('G', ['I1C', 'I2B', 'I2D', 'I4A', 'I4B', 'I3F']),
      ...cats('R', ['I1F']),
    ],
    sources: ['PFS', 'ASP'],
    modifiers: ['', 'TC', '26'],
    // Portable x-ray transport is carrier priced: no national amount exists.
    listPrices: {
      R0070: { cents: 18_500, qty: [1, 1] },
      R0075: { cents: 9_500, qty: [1, 1] },
      R0076: { cents: 4_200, qty: [1, 1] },
    },
    lines: [1, 3],
    catalogue: [6, 15],
    dating: 'service',
    goods: false,
    vendorShare: 8,
    poRate: 0.4,
    hasNpi: true,
    nouns: [
      'Mobile Imaging',
      'Imaging Associates',
      'Radiology Services',
      'Portable X-Ray',
      'Diagnostic Imaging',
    ],
  },
  ambulance: {
    id: 'ambulance',
    label: 'Ground ambulance (interfacility transports)',
    categories: cats('A', ['O1A']),
    sources: [],
    modifiers: [''],
    // No ambulance fee schedule is shipped (datasets/reference/README.md, Caveats): assumed
    // list prices of a regional ground ambulance service, not CMS amounts.
    listPrices: {
      A0425: { cents: 1_150, qty: [3, 45] },
      A0426: { cents: 52_000, qty: [1, 1] },
      A0427: { cents: 78_000, qty: [1, 1] },
      A0428: { cents: 41_000, qty: [1, 1] },
      A0429: { cents: 64_000, qty: [1, 1] },
      A0433: { cents: 112_000, qty: [1, 1] },
      A0434: { cents: 135_000, qty: [1, 1] },
      A0422: { cents: 5_500, qty: [1, 1] },
      A0424: { cents: 14_000, qty: [1, 1] },
      A0420: { cents: 7_500, qty: [1, 4] },
      A0382: { cents: 2_800, qty: [1, 1] },
      A0398: { cents: 4_500, qty: [1, 1] },
    },
    lines: [2, 4],
    catalogue: [6, 12],
    dating: 'service',
    goods: false,
    vendorShare: 7,
    poRate: 0.15,
    hasNpi: true,
    nouns: ['Ambulance Service', 'EMS', 'Emergency Medical Services', 'Medical Transport', 'Rescue Squad'],
  },
  orthotics_prosthetics: {
    id: 'orthotics_prosthetics',
    label: 'Orthotics & prosthetics',
    categories: cats('L', ['D1F']),
    sources: ['DMEPOS'],
    modifiers: ['', 'NU'],
    lines: [1, 3],
    catalogue: [15, 40],
    dating: 'shipment',
    goods: true,
    vendorShare: 8,
    poRate: 0.7,
    hasNpi: true,
    nouns: [
      'Orthotics & Prosthetics',
      'Prosthetic Center',
      'Orthopedic Appliance',
      'O&P Labs',
      'Limb & Brace',
    ],
  },
  enteral_nutrition: {
    id: 'enteral_nutrition',
    label: 'Enteral nutrition supplier (monthly supply)',
    categories: [...cats('B', ['O1C'])],
    sources: ['DMEPEN', 'DMEPOS'],
    modifiers: ['', 'NU', 'RR'],
    lines: [2, 4],
    catalogue: [8, 20],
    dating: 'period',
    goods: true,
    vendorShare: 7,
    poRate: 0.75,
    hasNpi: true,
    nouns: [
      'Enteral Services',
      'Nutrition Services',
      'Home Nutrition',
      'Enteral Supply',
      'Clinical Nutrition',
    ],
  },
};

/** `section:betos`, the key of a category. */
export function categoryKey(c: CodeCategory): string {
  return `${c.section}:${c.betos}`;
}

/** The category key of a HCPCS code (first letter + BETOS). */
export function categoryKeyOfCode(code: HcpcsCode): string {
  return `${code.code.charAt(0)}:${code.betos}`;
}

/** A code a vendor can bill, with the reference price it is anchored to. */
export interface PoolItem {
  code: string;
  /** Pricing modifier of the fee entry (DMEPOS `NU`/`RR`, PFS `TC`/`26`), or empty. */
  modifier: string;
  /** Reference amount per billing unit, integer cents. */
  feeCents: number;
  /** `LIST` when the price is an assumed list price (no shipped national fee). */
  feeSource: FeeScheduleSource | 'LIST';
  /** ASP billing unit as CMS prints it (`10 MG`), else null. */
  billingUnit: string | null;
  /** Plausible quantity per line, inclusive range (drugs: billing units). */
  qty: readonly [number, number];
}

/** Descriptions of codes that are catch-alls, never stocked as catalogue items. */
const CATCH_ALL = /\b(noc|not otherwise|nos|miscellaneous|unlisted|unspecified|not elsewhere)\b/i;

/** A CMS billing unit parsed: `10 MG` -> 10 MG; `0.5 ML` -> 0.5 ML; `PER VIAL` -> null. */
export function parseCmsBillingUnit(unit: string | null): { size: number; measure: string } | null {
  if (!unit) return null;
  const m = /^([\d.,]+)\s*([A-Za-z][A-Za-z ]*)$/.exec(unit.trim());
  if (!m) return null;
  const size = Number((m[1] ?? '').replace(/,/g, ''));
  const measure = (m[2] ?? '').trim().toUpperCase();
  return Number.isFinite(size) && size > 0 ? { size, measure } : null;
}

/**
 * Plausible quantities per line from the code and its unit price: monthly rentals 1, per-day
 * supplies a month of days, per-100-calorie formulas a month of feeding, drugs the billing
 * units of a dose worth USD 40-4,000, other items by price (cheap items in boxes).
 */
export function plausibleQuantity(code: HcpcsCode, modifier: string, feeCents: number): [number, number] {
  const long = code.longDescription.toLowerCase();
  if (modifier === 'RR') return [1, 1];
  if (/\bper day\b/.test(long)) return [28, 31];
  if (/100 calories/.test(long)) return [150, 620];
  if (code.code.startsWith('J') || (code.code.startsWith('Q') && code.betos.startsWith('O1'))) {
    const mid = Math.max(1, Math.min(300, Math.round(60_000 / Math.max(1, feeCents))));
    return [Math.max(1, Math.round(mid / 4)), Math.max(1, mid * 2)];
  }
  if (feeCents >= 15_000) return [1, 1];
  if (feeCents >= 4_000) return [1, 2];
  if (feeCents >= 1_000) return [1, 4];
  if (feeCents >= 200) return [2, 12];
  return [10, 100];
}

/** Cache of pools per (profile, cutoff date). */
const poolCache = new WeakMap<ReferenceData, Map<string, PoolItem[]>>();

/**
 * Every code a vendor of `profile` may stock on `asOf`: in the profile's categories, active in
 * HCPCS 2025-01 (no termination date), added on or before `asOf`, not a catch-all code, and
 * priced by one of the profile's fee schedules (or by its list prices). Sorted by code.
 */
export function codePool(ref: ReferenceData, profile: ServiceLineProfile, asOf: string): PoolItem[] {
  let byKey = poolCache.get(ref);
  if (!byKey) {
    byKey = new Map();
    poolCache.set(ref, byKey);
  }
  const key = `${profile.id}@${asOf}`;
  const hit = byKey.get(key);
  if (hit) return hit;
  const allowed = new Set(profile.categories.map(categoryKey));
  const out: PoolItem[] = [];
  for (const code of ref.hcpcs.values()) {
    if (!allowed.has(categoryKeyOfCode(code)) || code.terminationDate !== null) continue;
    if (code.addedDate !== null && code.addedDate > asOf) continue;
    if (CATCH_ALL.test(code.longDescription)) continue;
    const list = profile.listPrices?.[code.code];
    if (list) {
      out.push({
        code: code.code,
        modifier: '',
        feeCents: list.cents,
        feeSource: 'LIST',
        billingUnit: null,
        qty: list.qty,
      });
      continue;
    }
    const fees = ref.fees.get(code.code) ?? [];
    let chosen = null;
    for (const source of profile.sources) {
      for (const modifier of profile.modifiers) {
        chosen = fees.find((f) => f.source === source && f.modifier === modifier) ?? null;
        if (chosen) break;
      }
      if (chosen) break;
    }
    if (!chosen) continue;
    // A few ASP limits are fractions of a cent per unit (0.5 MG of a cheap generic): skip them.
    if (chosen.amountCents < 5) continue;
    out.push({
      code: code.code,
      modifier: chosen.modifier,
      feeCents: chosen.amountCents,
      feeSource: chosen.source,
      billingUnit: chosen.billingUnit,
      qty: plausibleQuantity(code, chosen.modifier, chosen.amountCents),
    });
  }
  out.sort((a, b) => a.code.localeCompare(b.code) || a.modifier.localeCompare(b.modifier));
  if (out.length === 0) throw new Error(`profile ${profile.id} has no priced codes as of ${asOf}`);
  byKey.set(key, out);
  return out;
}

/** Draws a vendor catalogue: a random subset of the pool (size from the profile's range). */
export function drawCatalogue(pool: readonly PoolItem[], profile: ServiceLineProfile, rng: Rng): PoolItem[] {
  const [lo, hi] = profile.catalogue;
  const n = Math.min(pool.length, rng.int(lo, hi));
  const picked = rng.shuffle(pool).slice(0, n);
  // Ambulance services always bill a transport level and the mileage.
  if (profile.id === 'ambulance') {
    for (const must of ['A0425', 'A0428', 'A0429']) {
      const item = pool.find((p) => p.code === must);
      if (item && !picked.includes(item)) picked.push(item);
    }
  }
  return picked;
}
