/**
 * The sample vendors of the synthetic HCPCS invoices and what they bill: each vendor's
 * catalogue of codes priced from the shipped CMS 2025 fee schedules (DMEPOS, CLFS, ASP, PFS;
 * see `datasets/reference/`), line descriptions written from the codes' CMS descriptions, and
 * unit prices near the fee-schedule amount.
 */
import type { Invoice, InvoiceLine } from '../../core/invoice.js';
import type { FeeScheduleEntry, FeeScheduleSource, HcpcsCode, ReferenceData } from '../../core/reference.js';
import { Rng, abbreviate, reorder, truncateWords } from '../synth.js';

/** A code a vendor sells, with the fee entry its price is anchored to. */
export interface CatalogueItem {
  code: HcpcsCode;
  fee: FeeScheduleEntry;
  /** Plausible quantities per line. */
  qty: readonly number[];
}

/** A code the vendor always stocks: `[code, modifier, quantities]`. */
type Anchor = readonly [code: string, modifier: string, qty: readonly number[]];

/** One sample vendor: identity, what it sells, how many invoices it sends and how it numbers them. */
export interface VendorSpec {
  id: string;
  name: string;
  /** How the same vendor's name is keyed elsewhere (used by the re-keyed duplicate). */
  nameVariant: string;
  kind: string;
  hasNpi: boolean;
  sources: readonly FeeScheduleSource[];
  anchors: readonly Anchor[];
  /** Extra random codes picked from the reference table by first letter and BETOS prefix. */
  pool?: { letters: string; betos: readonly string[]; count: number };
  invoices: number;
  lines: readonly [number, number];
  /** Monthly rental billing: one invoice per month with a service period. */
  rental: boolean;
  termsDays: number;
  invoiceNumber: (seq: number, date: string, rng: Rng) => string;
}

const QTY_ONE = [1] as const;
/** The sample vendors. Ambulance suppliers are absent: no ambulance fee schedule is shipped. */
export const VENDORS: readonly VendorSpec[] = [
  {
    id: 'V-100421',
    name: 'Keystone Home Medical Equipment, LLC',
    nameVariant: 'KEYSTONE HOME MEDICAL EQUIPMENT LLC',
    kind: 'DME supplier',
    hasNpi: true,
    sources: ['DMEPOS'],
    anchors: [
      ['E0601', 'RR', QTY_ONE],
      ['E0260', 'RR', QTY_ONE],
      ['K0001', 'RR', QTY_ONE],
      ['E0143', 'NU', QTY_ONE],
      ['E0163', 'NU', QTY_ONE],
      ['E0562', 'RR', QTY_ONE],
      ['E0470', 'RR', QTY_ONE],
      ['A7030', 'NU', QTY_ONE],
      ['A7035', 'NU', QTY_ONE],
      ['A7037', 'NU', [1, 2]],
      ['A7038', 'NU', [2, 4, 6]],
    ],
    pool: { letters: 'EK', betos: ['D1E', 'D1D', 'D1B'], count: 3 },
    invoices: 8,
    lines: [1, 4],
    rental: true,
    termsDays: 30,
    invoiceNumber: (seq) => `INV-${1000 + seq}`,
  },
  {
    id: 'V-100587',
    name: 'Bluewater Respiratory Services Inc.',
    nameVariant: 'Bluewater Respiratory Svcs',
    kind: 'home oxygen / respiratory supplier',
    hasNpi: true,
    sources: ['DMEPOS'],
    anchors: [
      ['E1390', 'RR', QTY_ONE],
      ['E0431', 'RR', QTY_ONE],
      ['E0439', 'RR', QTY_ONE],
      ['E0441', '', QTY_ONE],
      ['A4615', '', [2, 4, 6]],
      ['A4616', '', [25, 50]],
      ['A7003', 'NU', [2, 4]],
      ['E0570', 'RR', QTY_ONE],
    ],
    invoices: 6,
    lines: [1, 3],
    rental: true,
    termsDays: 30,
    invoiceNumber: (seq, date) =>
      `BRS${date.slice(2, 4)}${date.slice(5, 7)}-${String(100 + seq).padStart(3, '0')}`,
  },
  {
    id: 'V-200133',
    name: 'Tri-County Reference Laboratory, Inc.',
    nameVariant: 'Tri County Reference Lab Inc',
    kind: 'clinical laboratory',
    hasNpi: true,
    sources: ['CLFS'],
    anchors: [
      ['G0480', '', [1, 2, 3, 4, 6]],
      ['G0481', '', [1, 2, 3]],
      ['G0483', '', [1, 2]],
      ['G0659', '', [1, 2, 4]],
      ['G0103', '', [2, 4, 6, 8]],
      ['G0306', '', [3, 6, 9, 12]],
      ['G0307', '', [2, 4, 8]],
      ['G0328', '', [1, 2, 3]],
      ['G0472', '', [1, 2, 3]],
      ['G0475', '', [1, 2]],
      ['G0499', '', [1, 2]],
      ['P9612', '', [1, 2, 3]],
    ],
    invoices: 6,
    lines: [2, 5],
    rental: false,
    termsDays: 45,
    invoiceNumber: (seq) => `TCL-25-${String(870 + seq).padStart(5, '0')}`,
  },
  {
    id: 'V-300912',
    name: 'Summit Home Infusion Pharmacy',
    nameVariant: 'Summit Home Infusion Pharm.',
    kind: 'infusion pharmacy',
    hasNpi: true,
    sources: ['ASP', 'DMEPOS'],
    anchors: [
      ['J1745', '', [30, 40, 50]],
      ['J0897', '', [60, 120]],
      ['J1100', '', [4, 8, 10]],
      ['J2405', '', [4, 8]],
      ['J7050', '', [1, 2, 4]],
      ['J1642', '', [10, 30, 50]],
      ['J0696', '', [4, 8]],
      ['J3370', '', [2, 3, 4]],
      ['J1569', '', [20, 40, 60]],
      ['J2543', '', [4, 8, 12]],
      ['E0776', 'RR', QTY_ONE],
    ],
    invoices: 7,
    lines: [2, 4],
    rental: false,
    termsDays: 30,
    invoiceNumber: (seq, _date, rng) => `SHI${String(410000 + seq * 37 + rng.int(0, 9))}`,
  },
  {
    id: 'V-400077',
    name: 'Meridian Medical-Surgical Supply Co.',
    nameVariant: 'Meridian Med Surg Supply',
    kind: 'medical-surgical supplies distributor',
    hasNpi: false,
    sources: ['DMEPOS'],
    anchors: [
      ['A6212', '', [10, 20, 30]],
      ['A6402', '', [50, 100, 200]],
      ['A6216', '', [100, 200, 400]],
      ['A4351', '', [30, 60, 90]],
      ['A4217', '', [6, 12, 24]],
      ['A6446', '', [12, 24]],
      ['A4357', '', [4, 10]],
      ['A4310', '', [5, 10]],
    ],
    pool: { letters: 'A', betos: ['D1A'], count: 4 },
    invoices: 6,
    lines: [2, 6],
    rental: false,
    termsDays: 30,
    invoiceNumber: (seq) => String(9104500 + seq * 13),
  },
  {
    id: 'V-500214',
    name: 'Lakeside Orthotics & Prosthetics, P.C.',
    nameVariant: 'Lakeside Orthotics and Prosthetics PC',
    kind: 'orthotics & prosthetics',
    hasNpi: true,
    sources: ['DMEPOS'],
    anchors: [
      ['L1833', '', QTY_ONE],
      ['L4361', '', QTY_ONE],
      ['L0650', '', QTY_ONE],
      ['L3916', '', QTY_ONE],
      ['L1902', '', QTY_ONE],
      ['L3000', '', [1, 2]],
      ['L1851', '', QTY_ONE],
    ],
    pool: { letters: 'L', betos: ['D1F'], count: 3 },
    invoices: 6,
    lines: [1, 3],
    rental: false,
    termsDays: 30,
    invoiceNumber: (seq) => `LOP-${String(2200 + seq * 3)}`,
  },
  {
    id: 'V-600388',
    name: 'NutriHome Enteral Services',
    nameVariant: 'Nutri-Home Enteral Svcs',
    kind: 'enteral nutrition supplier',
    hasNpi: true,
    sources: ['DMEPEN'],
    anchors: [
      ['B4035', '', [28, 30, 31]],
      ['B4150', '', [360, 450, 540]],
      ['B4154', '', [300, 450]],
      ['B4152', '', [300, 420]],
      ['B9002', 'RR', QTY_ONE],
      ['B4087', '', QTY_ONE],
    ],
    invoices: 6,
    lines: [2, 4],
    rental: true,
    termsDays: 30,
    invoiceNumber: (seq, date) => `NH-${date.slice(0, 4)}-${String(300 + seq).padStart(4, '0')}`,
  },
  {
    id: 'V-700150',
    name: 'Crescent Diabetic Supply, Inc.',
    nameVariant: 'Crescent Diabetic Supply',
    kind: 'diabetic supplies / CGM supplier',
    hasNpi: true,
    sources: ['DMEPOS'],
    anchors: [
      ['A4253', 'NU', [1, 2, 3, 4, 6]],
      ['A4259', '', [1, 2, 3]],
      ['E0607', 'NU', QTY_ONE],
      ['A4256', '', QTY_ONE],
      ['E2103', 'NU', QTY_ONE],
      ['A4239', '', QTY_ONE],
    ],
    invoices: 6,
    lines: [1, 3],
    rental: false,
    termsDays: 30,
    invoiceNumber: (seq) => `CDS${String(51200 + seq * 7)}`,
  },
  {
    id: 'V-800046',
    name: 'ClearView Optical Laboratory',
    nameVariant: 'Clear View Optical Lab',
    kind: 'optical laboratory',
    hasNpi: false,
    sources: ['DMEPOS'],
    anchors: [
      ['V2020', '', QTY_ONE],
      ['V2100', '', [1, 2]],
      ['V2200', '', [1, 2]],
      ['V2750', '', [1, 2]],
      ['V2784', '', [1, 2]],
      ['V2520', '', [1, 2]],
    ],
    invoices: 4,
    lines: [2, 4],
    rental: false,
    termsDays: 30,
    invoiceNumber: (seq) => `CV${String(604000 + seq * 11)}`,
  },
];

/** Client facilities the invoices are addressed to. */
export const FACILITIES = ['FAC-NORTH-01', 'FAC-EAST-02', 'FAC-SOUTH-03', 'FAC-HOME-HEALTH'] as const;

/** Quantities for a code picked at random: by unit price, so line amounts stay plausible. */
function quantitiesFor(fee: FeeScheduleEntry): readonly number[] {
  if (fee.modifier === 'RR') return QTY_ONE;
  const c = fee.amountCents;
  if (c >= 15_000) return QTY_ONE;
  if (c >= 4_000) return [1, 2];
  if (c >= 1_000) return [1, 2, 4];
  if (c >= 200) return [2, 5, 10, 12];
  return [20, 50, 100];
}

/** True when the code has no termination date in the HCPCS file. */
function isActive(code: HcpcsCode): boolean {
  return code.terminationDate === null;
}

/** The fee entry a vendor prices a code at: preferred modifier, vendor sources in order. */
export function feeFor(
  ref: ReferenceData,
  code: string,
  modifier: string,
  sources: readonly FeeScheduleSource[],
) {
  const entries = ref.fees.get(code) ?? [];
  for (const source of sources) {
    const hit = entries.find((e) => e.source === source && e.modifier === modifier);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * A vendor's catalogue: its anchor codes (each checked: present, active, priced) plus random
 * active, priced codes of its first letters / BETOS categories.
 */
export function buildCatalogue(ref: ReferenceData, vendor: VendorSpec, rng: Rng): CatalogueItem[] {
  const items: CatalogueItem[] = [];
  for (const [c, modifier, qty] of vendor.anchors) {
    const code = ref.hcpcs.get(c);
    const fee = feeFor(ref, c, modifier, vendor.sources);
    if (!code || !isActive(code) || !fee)
      throw new Error(`${vendor.name}: anchor ${c} ${modifier} not active/priced`);
    items.push({ code, fee, qty });
  }
  if (vendor.pool) {
    const { letters, betos, count } = vendor.pool;
    const taken = new Set(items.map((i) => i.code.code));
    const candidates = [...ref.hcpcs.values()].filter(
      (h) =>
        letters.includes(h.code.charAt(0)) &&
        betos.some((b) => h.betos.startsWith(b)) &&
        isActive(h) &&
        !taken.has(h.code) &&
        !/\b(noc|not otherwise|nos|miscellaneous|unlisted)\b/i.test(h.longDescription),
    );
    for (const code of rng.shuffle(candidates)) {
      if (items.length >= vendor.anchors.length + count) break;
      const entries = (ref.fees.get(code.code) ?? []).filter(
        (e) => vendor.sources.includes(e.source) && ['', 'NU', 'RR'].includes(e.modifier),
      );
      const fee = entries.find((e) => e.modifier === 'NU') ?? entries[0];
      if (fee) items.push({ code, fee, qty: quantitiesFor(fee) });
    }
  }
  return items;
}

/** A line description written from the code's CMS descriptions, with realistic variation. */
function describeCode(code: HcpcsCode, modifier: string, rng: Rng): string {
  const long = truncateWords(code.longDescription, 90);
  const variants = [
    () => code.shortDescription,
    () => code.shortDescription.toUpperCase(),
    () => long,
    () => abbreviate(long),
    () => reorder(long),
    () => truncateWords(abbreviate(reorder(code.longDescription)), 60),
  ];
  let text = rng.pick(variants)();
  if (modifier === 'RR' && rng.chance(0.7)) text += rng.pick([' - monthly rental', ' (rental)', ', rent/mo']);
  if (modifier === 'NU' && rng.chance(0.4)) text += rng.pick([' - new', ' (purchase)', ', NEW']);
  if (rng.chance(0.2)) text = `${rng.pick(['SKU', 'Item', 'Cat#'])} ${rng.digits(5)} ${text}`;
  return text.slice(0, 200);
}

/** Unit price within ±15% of the fee-schedule amount, in cents (at least 1). */
export function priceNear(fee: FeeScheduleEntry, rng: Rng): number {
  const factor = 0.85 + rng.float() * 0.3;
  return Math.max(1, Math.round(fee.amountCents * factor));
}

/** One line of a catalogue item: a quantity from its plausible set, a unit price near the fee, amount = quantity × unit price (cents). */
export function makeLine(
  item: CatalogueItem,
  lineNumber: number,
  serviceDate: string,
  rng: Rng,
): InvoiceLine {
  const quantity = rng.pick(item.qty);
  const unitPrice = priceNear(item.fee, rng);
  const line: InvoiceLine = {
    line_number: lineNumber,
    description: describeCode(item.code, item.fee.modifier, rng),
    code: { system: 'HCPCS', value: item.code.code },
    quantity,
    unit_price_cents: unitPrice,
    amount_cents: Math.round(quantity * unitPrice),
    service_date: serviceDate,
  };
  if (item.fee.modifier !== '') line.modifiers = [item.fee.modifier];
  return line;
}

/** Re-derives `amount_cents` of a line from its quantity and unit price. */
export function repriceLine(line: InvoiceLine, unitPriceCents: number): void {
  line.unit_price_cents = unitPriceCents;
  line.amount_cents = Math.round(line.quantity * unitPriceCents);
}

/** A vendor of one sample run: its spec, drawn identifiers and catalogue. */
export interface Vendor {
  spec: VendorSpec;
  npi?: string;
  taxId: string;
  catalogue: CatalogueItem[];
}

/** The vendor block of an invoice (`name` defaults to the spec's; a re-keyed copy passes a variant). */
export function vendorBlock(v: Vendor, name = v.spec.name): Invoice['vendor'] {
  const out: Invoice['vendor'] = { id: v.spec.id, name, tax_id: v.taxId };
  if (v.npi) out.npi = v.npi;
  return out;
}
