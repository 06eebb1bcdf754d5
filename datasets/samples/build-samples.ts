/**
 * Builds the committed sample files in `datasets/samples/`:
 *
 * - `hcpcs_invoices.jsonl` + `hcpcs_invoices.labels.jsonl`: synthetic healthcare supplier
 *   invoices priced from the CMS 2025 fee schedules, with a handful of labelled exceptions.
 * - `sroie_invoices.jsonl`: the 626 SROIE train receipts converted to the invoice schema.
 * - `sroie_same_company_date_total_groups.csv`: copied unchanged (ground truth for tests).
 * - the counts block of `README.md` (between the `samples-stats` markers).
 *
 * Run: `npx tsx datasets/samples/build-samples.ts [--shared <dir>] [--out <dir>]`.
 * `--shared` defaults to `<package root>/../shared/datasets`. The output is deterministic: the
 * only randomness is an inline mulberry32 generator with a fixed seed.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  Invoice as InvoiceSchema,
  InvoiceLine as InvoiceLineSchema,
  Vendor as VendorSchema,
  type Invoice,
  type InvoiceLine,
} from '../../core/invoice.js';
import type { FeeScheduleEntry, FeeScheduleSource, HcpcsCode, ReferenceData } from '../../core/reference.js';
import { validateInvoice } from '../../core/validate.js';
import { npiCheckDigit } from '../../features/npi.js';
import { loadReferenceData, packageRoot, parseDecimalToCents } from '../reference.js';

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

/** Seed of the sample builder; change it and every synthetic invoice changes. */
export const SAMPLE_SEED = 20250117;

/** mulberry32: a tiny 32-bit PRNG. Returns a function yielding floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Helpers over a PRNG. */
class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const a = out[i] as T;
      out[i] = out[j] as T;
      out[j] = a;
    }
    return out;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
}

// ---------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------

/**
 * Invoice number for a receipt that prints none: `NONUM-` + 10 hex of sha256(SROIE key).
 * The SROIE key itself is not printed on the receipt, and near-consecutive keys would fake a
 * near-identical invoice number between unrelated receipts; the hash carries no such signal.
 */
export function unnumberedReceiptNumber(key: string): string {
  return `NONUM-${createHash('sha256').update(key).digest('hex').slice(0, 10).toUpperCase()}`;
}

function makeNpi(rng: Rng): string {
  const base = `1${rng.digits(8)}`;
  return `${base}${npiCheckDigit(base)}`;
}

/** `YYYY-MM-DD` of a UTC date. */
function iso(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return iso(d);
}

function monthStart(year: number, month: number): string {
  return iso(new Date(Date.UTC(year, month - 1, 1)));
}

function monthEnd(year: number, month: number): string {
  return iso(new Date(Date.UTC(year, month, 0)));
}

function truncateWords(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return (space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:(-]+$/, '');
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Sum of line amounts, in cents. */
function sumLines(lines: readonly InvoiceLine[]): number {
  return lines.reduce((s, l) => s + l.amount_cents, 0);
}

// ---------------------------------------------------------------------------------------------
// Part A: synthetic HCPCS supplier invoices
// ---------------------------------------------------------------------------------------------

/** A code a vendor sells, with the fee entry its price is anchored to. */
interface CatalogueItem {
  code: HcpcsCode;
  fee: FeeScheduleEntry;
  /** Plausible quantities per line. */
  qty: readonly number[];
}

/** A code the vendor always stocks: `[code, modifier, quantities]`. */
type Anchor = readonly [code: string, modifier: string, qty: readonly number[]];

interface VendorSpec {
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
const VENDORS: readonly VendorSpec[] = [
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
const FACILITIES = ['FAC-NORTH-01', 'FAC-EAST-02', 'FAC-SOUTH-03', 'FAC-HOME-HEALTH'] as const;

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

function isActive(code: HcpcsCode): boolean {
  return code.terminationDate === null;
}

/** The fee entry a vendor prices a code at: preferred modifier, vendor sources in order. */
function feeFor(ref: ReferenceData, code: string, modifier: string, sources: readonly FeeScheduleSource[]) {
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
function buildCatalogue(ref: ReferenceData, vendor: VendorSpec, rng: Rng): CatalogueItem[] {
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

/** Abbreviations suppliers' billing systems apply to CMS descriptions. */
const ABBREVIATIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bwithout\b/gi, 'w/o'],
  [/\bwith\b/gi, 'w/'],
  [/\bcontinuous\b/gi, 'cont'],
  [/\bpositive airway pressure\b/gi, 'PAP'],
  [/\bpressure\b/gi, 'press'],
  [/\bdevice\b/gi, 'dev'],
  [/\bwheelchair\b/gi, 'W/C'],
  [/\boxygen\b/gi, 'O2'],
  [/\binjection\b/gi, 'inj'],
  [/\bprefabricated\b/gi, 'prefab'],
  [/\badjustable\b/gi, 'adj'],
  [/\bdisposable\b/gi, 'disp'],
  [/\bincludes\b/gi, 'incl'],
  [/\bsquare\b/gi, 'sq'],
  [/\borthosis\b/gi, 'orth'],
  [/\bnon-impregnated\b/gi, 'non-impreg'],
  [/\bsterile\b/gi, 'ster'],
  [/\beach\b/gi, 'ea'],
  [/(?<=\w)\s+per\s+/gi, '/'],
  [/\bsolution\b/gi, 'soln'],
  [/\bhospital\b/gi, 'hosp'],
  [/\bportable\b/gi, 'port'],
];

function abbreviate(text: string): string {
  return ABBREVIATIONS.reduce((s, [re, rep]) => s.replace(re, rep), text).replace(/\s+\/\s+/g, '/');
}

/** "Oxygen concentrator, single delivery port, ..." → "Single delivery port oxygen concentrator, ...". */
function reorder(text: string): string {
  const parts = text.split(', ');
  const [first, second, ...rest] = parts;
  if (first === undefined || second === undefined || first.split(' ').length > 3) return text;
  return capitalise([`${second} ${first.toLowerCase()}`, ...rest].join(', '));
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
function priceNear(fee: FeeScheduleEntry, rng: Rng): number {
  const factor = 0.85 + rng.float() * 0.3;
  return Math.max(1, Math.round(fee.amountCents * factor));
}

function makeLine(item: CatalogueItem, lineNumber: number, serviceDate: string, rng: Rng): InvoiceLine {
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
function repriceLine(line: InvoiceLine, unitPriceCents: number): void {
  line.unit_price_cents = unitPriceCents;
  line.amount_cents = Math.round(line.quantity * unitPriceCents);
}

/** One labelled exception of the HCPCS sample set. */
export interface SampleLabel {
  invoice_id: string;
  kind:
    | 'description_mismatch'
    | 'terminated_code'
    | 'price_outlier'
    | 'exact_duplicate'
    | 'rekeyed_duplicate'
    | 'hard_negative';
  line_number?: number;
  duplicate_of?: string;
  /** For a hard negative: the invoice it resembles but does not duplicate. */
  similar_to?: string;
  note: string;
}

interface Vendor {
  spec: VendorSpec;
  npi?: string;
  taxId: string;
  catalogue: CatalogueItem[];
}

interface Draft {
  invoice: Invoice;
  /** Sort key: the day the invoice reached AP. */
  received: string;
}

function vendorBlock(v: Vendor, name = v.spec.name): Invoice['vendor'] {
  const out: Invoice['vendor'] = { id: v.spec.id, name, tax_id: v.taxId };
  if (v.npi) out.npi = v.npi;
  return out;
}

/** Invoice dates of a vendor's base invoices: spread over 2025, month by month for rentals. */
function invoiceDates(spec: VendorSpec, rng: Rng): string[] {
  const months = rng.shuffle([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]).slice(0, spec.invoices);
  months.sort((a, b) => a - b);
  return months.map((m) =>
    iso(new Date(Date.UTC(2025, m - 1, spec.rental ? rng.int(1, 5) : rng.int(2, 27)))),
  );
}

function buildBaseInvoice(v: Vendor, seq: number, date: string, rng: Rng): Invoice {
  const [minLines, maxLines] = v.spec.lines;
  const items = rng.shuffle(v.catalogue).slice(0, rng.int(minLines, maxLines));
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  const period = v.spec.rental ? { start: monthStart(year, month), end: monthEnd(year, month) } : undefined;
  const lines = items.map((item, i) => {
    const serviceDate = period ? period.start : addDays(date, -rng.int(1, 20));
    return makeLine(item, i + 1, serviceDate < '2025-01-01' ? '2025-01-02' : serviceDate, rng);
  });
  const invoice: Invoice = {
    invoice_id: 'pending',
    vendor: vendorBlock(v),
    invoice_number: v.spec.invoiceNumber(seq, date, rng),
    invoice_date: date,
    due_date: addDays(date, v.spec.termsDays),
    currency: 'USD',
    total_cents: sumLines(lines),
    document_type: 'invoice',
    lines,
  };
  if (rng.chance(0.75)) invoice.po_number = `PO-4500${rng.digits(6)}`;
  if (rng.chance(0.6)) invoice.facility_id = rng.pick(FACILITIES);
  if (period) invoice.service_period = period;
  return invoice;
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function retotal(invoice: Invoice): void {
  invoice.total_cents = sumLines(invoice.lines);
}

/** The base invoices of one vendor, in date order (exceptions are seeded on them by index). */
function draftsOf(drafts: readonly Draft[], vendorId: string): Draft[] {
  return drafts.filter((d) => d.invoice.vendor.id === vendorId);
}

function nth<T>(items: readonly T[], i: number): T {
  const item = items.at(i);
  if (item === undefined) throw new Error(`no item at ${i}`);
  return item;
}

/** An exception seeded on a draft, with its label (ids are filled in once arrival order is known). */
interface Seeded {
  draft: Draft;
  label: Omit<SampleLabel, 'invoice_id' | 'duplicate_of' | 'similar_to'> & {
    of?: Draft;
    relation?: 'dup' | 'similar';
  };
}

function seedDescriptionMismatch(ref: ReferenceData, drafts: Draft[], rng: Rng): Seeded[] {
  const out: Seeded[] = [];
  // 1. Oxygen concentrator text billed under the standard wheelchair code K0001 (DME supplier).
  const dme = nth(draftsOf(drafts, 'V-100421'), 2);
  const k0001 = feeFor(ref, 'K0001', 'RR', ['DMEPOS']);
  if (!k0001) throw new Error('K0001 RR fee missing');
  const line1: InvoiceLine = {
    line_number: dme.invoice.lines.length + 1,
    description: 'Oxygen concentrator, single delivery port, 5 LPM - monthly rental',
    code: { system: 'HCPCS', value: 'K0001' },
    modifiers: ['RR'],
    quantity: 1,
    unit_price_cents: priceNear(k0001, rng),
    amount_cents: 0,
    service_date: dme.invoice.service_period?.start ?? dme.invoice.invoice_date,
  };
  repriceLine(line1, line1.unit_price_cents);
  dme.invoice.lines.push(line1);
  retotal(dme.invoice);
  out.push({
    draft: dme,
    label: {
      kind: 'description_mismatch',
      line_number: line1.line_number,
      note: 'Description is an oxygen concentrator (E1390) but the line is billed as K0001 (standard wheelchair).',
    },
  });
  // 2. PSA screening text billed as a definitive drug test (lab).
  const lab = nth(draftsOf(drafts, 'V-200133'), 3);
  const target = lab.invoice.lines.find((l) => l.code?.value !== 'G0480') ?? nth(lab.invoice.lines, 0);
  const g0480 = feeFor(ref, 'G0480', '', ['CLFS']);
  if (!g0480) throw new Error('G0480 fee missing');
  target.code = { system: 'HCPCS', value: 'G0480' };
  delete target.modifiers;
  target.description = 'PSA screening, prostate specific antigen (total)';
  repriceLine(target, priceNear(g0480, rng));
  retotal(lab.invoice);
  out.push({
    draft: lab,
    label: {
      kind: 'description_mismatch',
      line_number: target.line_number,
      note: 'Description is a PSA screening (G0103) but the line is billed as G0480 (definitive drug test, 1-7 classes).',
    },
  });
  return out;
}

function seedTerminatedCodes(ref: ReferenceData, drafts: Draft[]): Seeded[] {
  const out: Seeded[] = [];
  const cases = [
    {
      vendor: 'V-300912',
      index: 1,
      code: 'J0135',
      quantity: 2,
      // No 2025 price exists for a discontinued code: a plausible list price, set by hand.
      unit: 95_000,
      description: 'Adalimumab 20 mg injection (Humira) - prefilled syringe',
    },
    {
      vendor: 'V-100421',
      index: 4,
      code: 'E2300',
      quantity: 1,
      unit: 285_000,
      description: 'Wheelchair accessory, power seat elevation system',
    },
  ];
  for (const c of cases) {
    const draft = nth(draftsOf(drafts, c.vendor), c.index);
    const code = ref.hcpcs.get(c.code);
    if (!code?.terminationDate || code.terminationDate >= draft.invoice.invoice_date) {
      throw new Error(`${c.code} is not terminated before ${draft.invoice.invoice_date}`);
    }
    const line: InvoiceLine = {
      line_number: draft.invoice.lines.length + 1,
      description: c.description,
      code: { system: 'HCPCS', value: c.code },
      quantity: c.quantity,
      unit_price_cents: c.unit,
      amount_cents: c.quantity * c.unit,
      service_date: nth(draft.invoice.lines, 0).service_date ?? draft.invoice.invoice_date,
    };
    draft.invoice.lines.push(line);
    retotal(draft.invoice);
    out.push({
      draft,
      label: {
        kind: 'terminated_code',
        line_number: line.line_number,
        note: `${c.code} (${code.shortDescription}) was terminated on ${code.terminationDate}; billed on ${draft.invoice.invoice_date}. Unit price set by hand (no 2025 fee).`,
      },
    });
  }
  return out;
}

function seedPriceOutliers(ref: ReferenceData, drafts: Draft[], rng: Rng): Seeded[] {
  const out: Seeded[] = [];
  for (const [vendorId, index] of [
    ['V-500214', 2],
    ['V-400077', 4],
  ] as const) {
    const draft = nth(draftsOf(drafts, vendorId), index);
    const line = [...draft.invoice.lines].sort((a, b) => b.unit_price_cents - a.unit_price_cents)[0];
    if (!line) throw new Error('outlier invoice has no line');
    const code = line.code?.value ?? '';
    const fee = feeFor(ref, code, line.modifiers?.[0] ?? '', ['DMEPOS']);
    if (!fee) throw new Error(`no fee for outlier line ${code}`);
    const factor = 4.8 + rng.float() * 0.4;
    repriceLine(line, Math.round(fee.amountCents * factor));
    retotal(draft.invoice);
    out.push({
      draft,
      label: {
        kind: 'price_outlier',
        line_number: line.line_number,
        note: `${code} unit price ${line.unit_price_cents} cents is ${factor.toFixed(2)}x the ${fee.source} reference ${fee.amountCents} cents.`,
      },
    });
  }
  return out;
}

/** `INV-1008` → `INV-10O8`: the last 0 (or 1) of the number swapped for the letter O (or l). */
export function ocrConfuse(invoiceNumber: string): string {
  const swaps: ReadonlyArray<readonly [string, string]> = [
    ['0', 'O'],
    ['1', 'l'],
    ['5', 'S'],
    ['8', 'B'],
  ];
  for (const [digit, letter] of swaps) {
    const i = invoiceNumber.lastIndexOf(digit);
    // Keep the first character: a leading O looks like a different prefix, not noise.
    if (i > 0) return invoiceNumber.slice(0, i) + letter + invoiceNumber.slice(i + 1);
  }
  return `${invoiceNumber}-1`;
}

/** Fields in which a re-keyed duplicate differs from its original. */
export const REKEYED_FIELDS = ['invoice_id', 'invoice_number', 'vendor.name'] as const;

function seedDuplicates(drafts: Draft[]): { extra: Draft[]; seeded: Seeded[] } {
  const extra: Draft[] = [];
  const seeded: Seeded[] = [];
  // Exact resubmission: the same document, sent again 3 weeks later under a new client id.
  const exactOf = [...draftsOf(drafts, 'V-700150')].sort(
    (a, b) => b.invoice.total_cents - a.invoice.total_cents,
  )[0];
  if (!exactOf) throw new Error('no diabetic supply invoice');
  const exact = { invoice: clone(exactOf.invoice), received: addDays(exactOf.received, 21) };
  extra.push(exact);
  seeded.push({
    draft: exact,
    label: {
      kind: 'exact_duplicate',
      of: exactOf,
      relation: 'dup',
      note: 'Exact resubmission of the original (all fields equal except invoice_id), received 21 days later.',
    },
  });
  // Re-keyed resubmissions: invoice number with an OCR confusion, vendor name keyed differently.
  for (const [vendorId, index] of [
    ['V-100421', 5],
    ['V-200133', 1],
  ] as const) {
    const of = nth(draftsOf(drafts, vendorId), index);
    const spec = VENDORS.find((v) => v.id === vendorId);
    if (!spec) throw new Error(vendorId);
    const copy = clone(of.invoice);
    copy.invoice_number = ocrConfuse(of.invoice.invoice_number);
    copy.vendor.name = spec.nameVariant;
    const draft = { invoice: copy, received: addDays(of.received, 35) };
    extra.push(draft);
    seeded.push({
      draft,
      label: {
        kind: 'rekeyed_duplicate',
        of,
        relation: 'dup',
        note: `Re-keyed resubmission: invoice_number "${copy.invoice_number}" (OCR confusion of "${of.invoice.invoice_number}"), vendor name "${copy.vendor.name}"; every other field equal.`,
      },
    });
  }
  return { extra, seeded };
}

/** Next month's rental invoice: same lines and amount, new period and number. Not a duplicate. */
function seedHardNegatives(
  drafts: Draft[],
  vendors: readonly Vendor[],
  rng: Rng,
): { extra: Draft[]; seeded: Seeded[] } {
  const extra: Draft[] = [];
  const seeded: Seeded[] = [];
  for (const [vendorId, index, nextSeq, rentals] of [
    ['V-100421', 0, 90, ['E0601', 'E0562']],
    ['V-100587', 1, 90, ['E1390', 'E0431']],
  ] as const) {
    const of = nth(draftsOf(drafts, vendorId), index);
    const vendor = vendors.find((v) => v.spec.id === vendorId);
    const period = of.invoice.service_period;
    if (!vendor || !period) throw new Error(`hard negative needs a rental invoice of ${vendorId}`);
    const spec = vendor.spec;
    // The recurring invoice bills the same monthly rentals every month.
    of.invoice.lines = rentals.map((code, i) => {
      const item = vendor.catalogue.find((c) => c.code.code === code && c.fee.modifier === 'RR');
      if (!item) throw new Error(`${vendorId} does not rent ${code}`);
      return makeLine(item, i + 1, period.start, rng);
    });
    retotal(of.invoice);
    const start = addDays(period.end, 1);
    const year = Number(start.slice(0, 4));
    const month = Number(start.slice(5, 7));
    const copy = clone(of.invoice);
    copy.service_period = { start, end: monthEnd(year, month) };
    copy.invoice_date = addDays(of.invoice.invoice_date, Number(period.end.slice(8, 10)));
    copy.due_date = addDays(copy.invoice_date, spec.termsDays);
    copy.invoice_number = spec.invoiceNumber(nextSeq, copy.invoice_date, new Rng(nextSeq));
    for (const line of copy.lines) line.service_date = start;
    const draft = { invoice: copy, received: copy.invoice_date };
    extra.push(draft);
    seeded.push({
      draft,
      label: {
        kind: 'hard_negative',
        of,
        relation: 'similar',
        note: `Next month's recurring rental: same vendor, lines and total as the similar invoice, but service period ${start}..${copy.service_period.end} and a new invoice number. Not a duplicate.`,
      },
    });
  }
  return { extra, seeded };
}

/** Synthetic HCPCS invoices with their labels. */
export interface HcpcsSamples {
  invoices: Invoice[];
  labels: SampleLabel[];
}

/**
 * Builds the synthetic healthcare supplier invoices: vendors × base invoices priced within
 * ±15% of the CMS reference amount, then the seeded exceptions, then ids in arrival order.
 */
export function buildHcpcsSamples(ref: ReferenceData, seed = SAMPLE_SEED): HcpcsSamples {
  const rng = new Rng(seed);
  const vendors: Vendor[] = VENDORS.map((spec) => {
    const vendor: Vendor = {
      spec,
      taxId: `${rng.int(20, 94)}-${rng.digits(7)}`,
      catalogue: buildCatalogue(ref, spec, rng),
    };
    if (spec.hasNpi) vendor.npi = makeNpi(rng);
    return vendor;
  });
  const drafts: Draft[] = [];
  for (const v of vendors) {
    invoiceDates(v.spec, rng).forEach((date, i) => {
      drafts.push({ invoice: buildBaseInvoice(v, i + 1, date, rng), received: addDays(date, rng.int(1, 6)) });
    });
  }
  const seeded = [
    ...seedDescriptionMismatch(ref, drafts, rng),
    ...seedTerminatedCodes(ref, drafts),
    ...seedPriceOutliers(ref, drafts, rng),
  ];
  const dups = seedDuplicates(drafts);
  const negatives = seedHardNegatives(drafts, vendors, rng);
  const all = [...drafts, ...dups.extra, ...negatives.extra];
  all.sort(
    (a, b) =>
      a.received.localeCompare(b.received) || a.invoice.invoice_date.localeCompare(b.invoice.invoice_date),
  );
  all.forEach((d, i) => {
    d.invoice.invoice_id = `hc-2025-${String(i + 1).padStart(4, '0')}`;
  });
  const labels = [...seeded, ...dups.seeded, ...negatives.seeded].map(({ draft, label }) => {
    const { of, relation, ...rest } = label;
    const out: SampleLabel = { invoice_id: draft.invoice.invoice_id, ...rest };
    if (of && relation === 'dup') out.duplicate_of = of.invoice.invoice_id;
    if (of && relation === 'similar') out.similar_to = of.invoice.invoice_id;
    return out;
  });
  labels.sort(
    (a, b) => a.invoice_id.localeCompare(b.invoice_id) || (a.line_number ?? 0) - (b.line_number ?? 0),
  );
  return { invoices: all.map((d) => d.invoice), labels };
}

// ---------------------------------------------------------------------------------------------
// Part B: SROIE receipts → invoice schema
// ---------------------------------------------------------------------------------------------

/** One record of `sroie_train.jsonl`. */
export interface SroieReceipt {
  key: string;
  split: string;
  entities: { company: string; date: string; address: string; total: string };
  ocr_lines: string[];
}

const MONTHS: Readonly<Record<string, number>> = {
  JAN: 1,
  FEB: 2,
  MAR: 3,
  APR: 4,
  MAY: 5,
  JUN: 6,
  JUL: 7,
  AUG: 8,
  SEP: 9,
  OCT: 10,
  NOV: 11,
  DEC: 12,
};

function isoIfValid(year: number, month: number, day: number): string | null {
  if (year < 2000 || year > 2030 || month < 1 || month > 12 || day < 1) return null;
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCMonth() !== month - 1) return null;
  return iso(d);
}

function fullYear(y: string): number {
  return y.length === 2 ? 2000 + Number(y) : Number(y);
}

function monthNumber(name: string): number {
  return MONTHS[name.slice(0, 3).toUpperCase()] ?? 0;
}

/**
 * Parses a SROIE date as printed, day first (Malaysian receipts): `dd/mm/yyyy`, `dd-mm-yy`,
 * `dd.mm.yy`, `02 APR 2018`, `14/JUN/2017`, `05-JAN-2017`, `OCT 3, 2016`, `yyyy-mm-dd`,
 * `yyyy/mm/dd`, `yyyymmdd`, `ddmmyyyy`; surrounding parentheses are ignored. A numeric date
 * whose day-first reading is impossible is read month first (`12/28/2017`).
 * @returns `YYYY-MM-DD`, or null when no format fits or the date does not exist.
 */
export function parseReceiptDate(text: string): string | null {
  const s = text
    .trim()
    .replace(/^\((.*)\)$/, '$1')
    .trim();
  let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$/.exec(s);
  if (m) {
    const year = fullYear(m[3] ?? '');
    // Day first; month first only when the day-first reading is impossible (12/28/2017).
    return isoIfValid(year, Number(m[2]), Number(m[1])) ?? isoIfValid(year, Number(m[1]), Number(m[2]));
  }
  m = /^(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})$/.exec(s);
  if (m) return isoIfValid(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})[\s/.-]*([A-Za-z]{3,9})[\s/.,-]*(\d{4}|\d{2})$/.exec(s);
  if (m) return isoIfValid(fullYear(m[3] ?? ''), monthNumber(m[2] ?? ''), Number(m[1]));
  m = /^([A-Za-z]{3,9})[\s.]+(\d{1,2}),?\s+(\d{4})$/.exec(s);
  if (m) return isoIfValid(Number(m[3]), monthNumber(m[1] ?? ''), Number(m[2]));
  m = /^(\d{8})$/.exec(s);
  if (m) {
    const d = m[1] ?? '';
    const ymd = isoIfValid(Number(d.slice(0, 4)), Number(d.slice(4, 6)), Number(d.slice(6, 8)));
    return ymd ?? isoIfValid(Number(d.slice(4, 8)), Number(d.slice(2, 4)), Number(d.slice(0, 2)));
  }
  return null;
}

/**
 * Parses a printed money amount (`31.00`, `RM 13.30`, `RM21.85`, `$8.20`, `1,234.50`, `-1.73`)
 * into integer cents. @returns null when it is not an amount.
 */
export function parseMoneyToCents(text: string): number | null {
  const s = text
    .trim()
    .replace(/^(RM|MYR|\$)\s*/i, '')
    .replace(/,(?=\d{3}(\D|$))/g, '')
    .replace(/\s+/g, '');
  if (!/^-?\d*\.?\d+$/.test(s)) return null;
  return parseDecimalToCents(s);
}

/**
 * Vendor id of a SROIE company: upper case, `&` → `AND`, dots and apostrophes dropped
 * (`D.I.Y.` → `DIY`), every other run of non-alphanumerics collapsed into one `-`.
 */
export function vendorSlug(company: string): string {
  const slug = company
    .toUpperCase()
    .replace(/&/g, ' AND ')
    .replace(/[.'’`]/g, '')
    .replace(/[^A-Z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return (slug || 'UNKNOWN').slice(0, 64).replace(/-+$/, '');
}

/**
 * Invoice-number labels, best first. The value follows on the same line (after `:`/`#`/`.`) or on
 * the next non-punctuation line.
 */
export const INVOICE_NUMBER_LABELS: ReadonlyArray<{ name: string; re: RegExp }> = [
  {
    name: 'INVOICE NO',
    re: /\b(?:CASH\s+|TAX\s+)?INV(?:OICE|OLCE|0ICE)?[\s.-]*(?:NO\b\.?|NUMBER|#)(?:\s*\/\s*DATE)?|\bTAXINV\s*:/i,
  },
  { name: 'BILL NO', re: /\b(?:CASH\s+)?BILL\s*(?:NO\b\.?|#)|\bC\.?B\s*#/i },
  { name: 'CASH BILL', re: /\bCASH\s+BILL\s*:/i },
  { name: 'RECEIPT NO', re: /\b(?:RECEIPT|RCPT)(?:\s*\/\s*TRX)?\s*(?:NO\b\.?|#|:)/i },
  { name: 'DOC NO', re: /\bDOC(?:UMENT)?[\s.]*(?:NO\b\.?|#)/i },
  { name: 'TRANS NO', re: /\b(?:TRANS(?:ACTION)?|TRX|TXN)[\s.]*(?:NO\b\.?|#)/i },
  { name: 'SALES NO', re: /\b(?:CASH\s+)?(?:SALES|SLIP)[\s.]*(?:NO\b\.?|#)/i },
  { name: 'CHECK NO', re: /\b(?:CHECK|CHK)\s*(?:NO\b\.?|#)/i },
  { name: 'ORDER NO', re: /\bORDER\s*(?:NO\b\.?|#)/i },
];

/** A plausible invoice number: 3-40 characters, at least 2 digits, not a date, time or amount. */
function cleanInvoiceNumber(raw: string): string | null {
  const token = raw
    .replace(/^[\s:#.-]+/, '')
    .replace(/-\s+(?=\d)/, '-') // "V042- 520388"
    .replace(/\(\d{1,2}\/\d{1,2}\/\d{2,4}\)$/, '')
    .split(/\s+/)[0];
  if (!token) return null;
  const value = token.replace(/[.,:;]+$/, '');
  if (value.length < 3 || value.length > 40) return null;
  if (!/^[A-Z0-9][A-Z0-9\-/_.#]*$/i.test(value)) return null;
  if ((value.match(/\d/g) ?? []).length < 2) return null;
  if (/^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$/.test(value) || /^\d{1,2}:\d{2}/.test(value)) return null;
  if (/^-?\d+\.\d{2}$/.test(value)) return null;
  return value.toUpperCase();
}

/** A line that is only a label (`DATE :`, `CASHIER:`), as in a block of labels printed before their values. */
const LABEL_ONLY = /^[A-Z][A-Z .()/]*:\s*$/i;

/**
 * The value of a label printed alone on its line: the next line, skipping a lone `:`, up to two
 * lines of text without digits, and a block of further labels (`INV NO: | DATE : | CS-SA-0130363`,
 * where the first value after the block belongs to the first label).
 */
function valueAfterLabel(lines: readonly string[], from: number): string | null {
  let i = from;
  while (i < lines.length && LABEL_ONLY.test(lines[i] ?? '')) i++;
  for (let tries = 0; i < lines.length && tries < 3; i++, tries++) {
    const c = lines[i] ?? '';
    if (/^[\s:#.]*$/.test(c)) continue;
    const value = cleanInvoiceNumber(c);
    if (value) return value;
    if (/\d/.test(c)) return null;
  }
  return null;
}

/**
 * Extracts the printed invoice/receipt number from OCR lines: the first line matching the best
 * label of {@link INVOICE_NUMBER_LABELS}, value on the same line or the next one or two lines.
 * @returns the number and the label that found it, or null.
 */
export function extractInvoiceNumber(lines: readonly string[]): { value: string; label: string } | null {
  for (const { name, re } of INVOICE_NUMBER_LABELS) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const m = re.exec(line);
      if (!m) continue;
      const rest = line.slice(m.index + m[0].length);
      const value = /^[\s:#.]*$/.test(rest) ? valueAfterLabel(lines, i + 1) : cleanInvoiceNumber(rest);
      if (value) return { value, label: name };
    }
  }
  return null;
}

// --- line items -------------------------------------------------------------------------------

/** A number printed on a receipt. */
interface Num {
  value: number;
  /** Cents when the number is a plausible money amount (≤ 4 decimals). */
  cents: number | null;
  decimals: number;
  /** Printed as a quantity (`X2`, `2X`, `2 PC`). */
  qty: boolean;
}

/** A receipt line between the item header and the totals. */
type Tok =
  | { kind: 'desc'; text: string; at: Num | null; lead: Num | null; trail: Num[] }
  | { kind: 'num'; nums: Num[]; pair: readonly [Num, Num] | null };

function num(text: string, qty = false): Num | null {
  const t = text
    .replace(/^(RM|\$)/i, '')
    .replace(/(?<=\d)(?:SR|ZR|Z|S)$/i, '')
    .replace(/,(?=\d{3}\b)/g, '');
  if (!/^-?\d*\.?\d+$/.test(t)) return null;
  const decimals = t.includes('.') ? t.length - t.indexOf('.') - 1 : 0;
  const cents = decimals <= 4 ? parseDecimalToCents(t) : null;
  return { value: Number(t), cents, decimals, qty };
}

const TAX_CODE = /^(?:\[?(?:SR|ZR|Z|S|E|T|D|N|ZRL|OS|EX)\]?|\*+|\.S|X|EA|PC|PCS|UNIT|-UNIT|CS|RM|\(RM\)|:)$/i;
const HEADER_WORDS = new Set([
  'ITEM',
  'ITEMS',
  'DESCRIPTION',
  'DESC',
  'CODE/DESC',
  'CODE',
  'QTY',
  'QUANTITY',
  'PRICE',
  'U/P',
  'U.P',
  'U.PRICE',
  'UNIT',
  'S/PRICE',
  'U/PRICE',
  'AMOUNT',
  'AMT',
  'AMT(RM)',
  'AMOUNT(RM)',
  'TOTAL',
  'TAX',
  'RM',
  '(RM)',
  'DISC',
  'DISC%',
  'PRODUCT',
  'NAME',
  'IOU',
  'D',
  'EV',
  'VALUE',
  'PARTICULARS',
  'NO',
  'NO.',
  '@',
  'S.PRICE',
  'U.P.',
  'GST',
  'CODE&DESC',
  'ITEM/DESC',
  'STK',
  'SST',
  'ISS',
  'EXC',
  'SALE',
  'RTN',
  'UOM',
  'SIZE',
]);
const STRONG_HEADER = /^(ITEMS?|DESCRIPTION|DESC|CODE\/DESC|QTY|QUANTITY|PRODUCT|PARTICULARS)$/;
const END_MARKER =
  /\bTOTAL\b|SUB-?\s?TOTAL|\bITEMS?\s*COUNT|\bNO\.? OF ITEMS?|\bITEM\(?S?\)?\s*:|\bQTY\(?S?\)?\s*:|\bROUNDING\b|\bROUND(?:ING)?\s*ADJ|\bCASH\s*:|\bCHANGE\b|^GST\b(?!\s*(?:ID|REG|NO\b|NUMBER|#))|^SERVICE\s+(?:CHARGE|TAX)|\bAMOUNT\s+DUE|\bNET\s+AMOUNT|\bPAYABLE\b/i;
/** Header lines of a receipt without an item header: the items start after the last of them. */
const META_LINE = new RegExp(
  [
    /^(?:DATE|TIME|CASHIER|TERMINAL|TABLE|SERVER|SALESPERSON|MEMBER|SLIP|DOC|TRANS|POS|PAX|ORDER|SERVED|OPERATOR|STAFF)\b/
      .source,
    /\b(?:INVOICE|RECEIPT|BILL|COUNTER|CASHIER|TEL|FAX|HRS|HOURS)\b|\bGST\s*(?:ID|REG)/.source,
    /\b(?:0?[1-9]|[12]\d|3[01])[/-](?:0?[1-9]|1[0-2])[/-](?:\d{4}|\d{2})\b/.source,
  ].join('|'),
  'i',
);
/** Subtotals printed between groups of items (Gardenia: `TOTAL 0% SUPPLIES:`): skipped, not an end. */
const GROUP_SUBTOTAL = /^TOTAL\s+\d+%\s+SUPPLIES\s*:?$/i;

function isHeaderLine(line: string): boolean {
  const words = line.trim().toUpperCase().split(/\s+/).filter(Boolean);
  return words.length > 0 && words.every((w) => HEADER_WORDS.has(w));
}

/** Index range [start, end) of the item block: after the item header, before the first total. */
function itemRegion(lines: readonly string[]): { start: number; end: number; header: boolean } | null {
  let start = -1;
  let header = false;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim().toUpperCase();
    if (isHeaderLine(line) && line.split(/\s+/).some((w) => STRONG_HEADER.test(w))) {
      let j = i + 1;
      while (j < lines.length && (isHeaderLine(lines[j] ?? '') || TAX_CODE.test((lines[j] ?? '').trim())))
        j++;
      start = j;
      header = true;
      break;
    }
  }
  const firstEnd = (from: number): number => {
    for (let i = from; i < lines.length; i++) {
      const line = lines[i] ?? '';
      if (END_MARKER.test(line) && !GROUP_SUBTOTAL.test(line.trim())) return i;
    }
    return -1;
  };
  if (start < 0) {
    const end = firstEnd(0);
    if (end < 0) return null;
    for (let i = end - 1; i >= 0; i--) {
      if (META_LINE.test(lines[i] ?? '')) {
        start = i + 1;
        break;
      }
    }
    if (start < 0) return null;
  }
  // A lone ":" or a value printed right after a metadata label is not an item.
  const end = firstEnd(start);
  if (end < 0 || end <= start) return null;
  return { start, end, header };
}

/** Splits a receipt line into a numeric token, a description, or nothing (noise). */
function tokenize(line: string): Tok | null {
  const s = line.trim();
  if (s === '' || TAX_CODE.test(s) || GROUP_SUBTOTAL.test(s)) return null;
  // "1 * 55.90", "3 X 2.9000", "1.40*1", "10.99*1.306", "@3 X RM 2.50"
  let m =
    /^@?\s*(RM|\$)?\s*(-?\d{1,6}(?:\.\d+)?)\s*[*xX@]\s*(RM|\$)?\s*(-?\d{1,6}(?:\.\d+)?)(?:\s+\S{1,4})?$/.exec(
      s,
    );
  if (m) {
    const a = num(m[2] ?? '');
    const b = num(m[4] ?? '');
    if (a && b) return { kind: 'num', nums: [], pair: [a, b] };
  }
  // "X1", "1X", "2 PC", "1 PCS", "1X 000007996511" (quantity then article number)
  m = /^(?:[xX]\s*(\d+)|(\d+)\s*(?:[xX]|PCS?|UNITS?|EA))(?:\s+\d{6,})?$/i.exec(s);
  if (m) {
    const q = num(m[1] ?? m[2] ?? '', true);
    if (q) return { kind: 'num', nums: [q], pair: null };
  }
  // Plain numbers, possibly with a currency prefix and a trailing tax code: "36.00 SR", "$7.10".
  const parts = s.split(/\s+/).filter((p) => !TAX_CODE.test(p));
  const nums = parts.map((p) => num(p));
  if (parts.length > 0 && nums.every((n) => n !== null)) {
    const kept = (nums as Num[]).filter((n) => !(n.decimals === 0 && Math.abs(n.value) >= 1_000_000));
    return kept.length > 0 ? { kind: 'num', nums: kept, pair: null } : null; // barcodes dropped
  }
  // Item codes and shelf locations ("GA06-07 - 6/24") are not descriptions, nor are labels
  // ("AMT PAID EXCL. GST :RM") and stray header words.
  const text = s.replace(/^\[?(?:SR|ZR)\]?\s*:\s*/i, '').replace(/^[\s:.\-*]+/, '');
  if (!/[A-Za-z]{3}/.test(text) || /[:=]/.test(text) || /^(?:RM|\$)\s*\d/i.test(text) || isHeaderLine(text)) {
    return null;
  }
  return describeToken(text);
}

/** A description line, with an `@ price`, a leading quantity and trailing amounts pulled out. */
function describeToken(s: string): Tok {
  let text = s;
  let at: Num | null = null;
  let lead: Num | null = null;
  const trail: Num[] = [];
  const atM = /@\s*(?:RM|\$)?\s*(\d+\.\d{2,4})\s*$/.exec(text);
  if (atM) {
    at = num(atM[1] ?? '');
    text = text.slice(0, atM.index).trim();
  } else {
    const tailM = /\s(-?\d+\.\d{2})(?:\s+(?:SR|ZR|Z|S))?$/.exec(text);
    if (tailM) {
      const n = num(tailM[1] ?? '');
      if (n) trail.push(n);
      text = text.slice(0, tailM.index).trim();
    }
  }
  const leadM = /^(\d{1,2})\s*[xX]?\s+(?=[A-Za-z])/.exec(text);
  if (leadM) {
    lead = num(leadM[1] ?? '', true);
    text = text.slice(leadM[0].length).trim();
  }
  return { kind: 'desc', text: cleanDescription(text), at, lead, trail };
}

/** Drops tax-code prefixes and long item codes: "SR I00100000035- 1 MEAT" → "1 MEAT". */
function cleanDescription(text: string): string {
  return text
    .replace(/^(?:\[?(?:SR|ZR)\]?\s+)/i, '')
    .replace(/^[A-Z]?\d{6,}\s*-?\s*/i, '')
    .replace(/^[\s\-*]+|[\s@*]+$/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** An extracted item. */
interface Item {
  quantity: number;
  unitCents: number;
  amountCents: number;
  strong: boolean;
}

function itemFrom(q: Num, p: Num, a: Num, strong: boolean): Item | null {
  if (p.cents === null || a.cents === null || a.cents === 0 || q.value === 0) return null;
  if (Math.abs(q.value) > 10_000 || q.decimals > 3) return null;
  // Exact for whole quantities at cent prices; 1 cent of rounding for weights and 3-4 decimal prices.
  const exact = Number.isInteger(q.value) && p.decimals <= 2;
  if (Math.abs(Math.round(q.value * p.value * 100) - a.cents) > (exact ? 0 : 1)) return null;
  return { quantity: q.value, unitCents: p.cents, amountCents: a.cents, strong };
}

/** Orders a printed pair as (quantity, price): the integer or the 3-decimal weight is the quantity. */
function orderPair([x, y]: readonly [Num, Num]): [Num, Num] {
  if (x.decimals === 0 && y.decimals > 0) return [x, y];
  if (y.decimals === 0 && x.decimals > 0) return [y, x];
  if (x.decimals === 2 && y.decimals !== 2) return [y, x];
  return [x, y];
}

/**
 * Finds quantity × unit price = amount among the numbers of one item record.
 * Strong: the three values are all printed; weak: a lone amount, read as quantity 1.
 */
function matchItem(desc: Extract<Tok, { kind: 'desc' }>, toks: readonly Tok[]): Item | null {
  const item = matchNumbers(desc, toks);
  // A discount line is only an item when it takes money off.
  if (item && /\bDISC(?:OUNT)?\b/i.test(desc.text) && item.amountCents > 0) return null;
  return item;
}

function matchNumbers(desc: Extract<Tok, { kind: 'desc' }>, toks: readonly Tok[]): Item | null {
  const plain: Num[] = [];
  const pairs: (readonly [Num, Num])[] = [];
  for (const t of toks) {
    if (t.kind !== 'num') continue;
    plain.push(...t.nums);
    if (t.pair) pairs.push(t.pair);
  }
  plain.push(...desc.trail);
  const amounts = plain.filter((n) => n.cents !== null && n.cents !== 0 && n.decimals >= 2).reverse();
  const qtys = [...(desc.lead ? [desc.lead] : []), ...plain.filter((n) => n.decimals === 0 || n.qty)];
  for (const a of amounts) {
    for (const pair of pairs) {
      const [q, p] = orderPair(pair);
      const hit = itemFrom(q, p, a, true);
      if (hit) return hit;
    }
    if (desc.at) {
      for (const q of qtys) {
        const hit = itemFrom(q, desc.at, a, true);
        if (hit) return hit;
      }
      const one = itemFrom({ value: 1, cents: 100, decimals: 0, qty: true }, desc.at, a, true);
      if (one) return one;
    }
    for (const q of qtys) {
      for (const p of plain) {
        if (p === a || p === q || p.decimals === 0) continue;
        const hit = itemFrom(q, p, a, true);
        if (hit) return hit;
      }
      if (q.qty && a.cents !== null && a.cents % q.value === 0 && Number.isInteger(q.value)) {
        return { quantity: q.value, unitCents: a.cents / q.value, amountCents: a.cents, strong: true };
      }
    }
  }
  // A pair alone: "1 * 55.90" with no separate amount printed.
  if (amounts.length === 0 && pairs.length === 1) {
    const [q, p] = orderPair(pairs[0] as readonly [Num, Num]);
    if (p.cents && Number.isFinite(q.value) && q.decimals <= 3 && q.value !== 0) {
      return {
        quantity: q.value,
        unitCents: p.cents,
        amountCents: Math.round(q.value * p.cents),
        strong: true,
      };
    }
  }
  const money = amounts.filter((n) => n.decimals === 2);
  const others = plain.filter((n) => !money.includes(n) && !(n.decimals === 0 && n.value === 1));
  if (money.length === 1 && others.length === 0 && pairs.length === 0) {
    const a = money[0] as Num;
    return { quantity: 1, unitCents: a.cents ?? 0, amountCents: a.cents ?? 0, strong: false };
  }
  return null;
}

/** An extracted receipt line, before numbering. */
export interface ExtractedItem {
  description: string;
  quantity: number;
  unitCents: number;
  amountCents: number;
}

/**
 * Assigns the numbers around the descriptions of the item block to items, maximising the
 * number of consistent items (dynamic programming over how each run of numbers between two
 * descriptions splits into the tail of one item and the head of the next).
 */
export function extractItems(lines: readonly string[]): { items: ExtractedItem[]; firstText: string | null } {
  const region = itemRegion(lines);
  if (!region) return { items: [], firstText: null };
  const toks = lines
    .slice(region.start, region.end)
    .map(tokenize)
    .filter((t): t is Tok => t !== null);
  const descs: Extract<Tok, { kind: 'desc' }>[] = [];
  const gaps: Tok[][] = [[]];
  for (const t of toks) {
    const prev = descs[descs.length - 1];
    if (t.kind === 'desc' && prev && isContinuation(prev, t, gaps[gaps.length - 1] ?? [])) {
      prev.text = `${prev.text} ${t.text}`;
      prev.at ??= t.at;
      prev.trail.push(...t.trail);
    } else if (t.kind === 'desc') {
      descs.push(t);
      gaps.push([]);
    } else {
      (gaps[gaps.length - 1] as Tok[]).push(t);
    }
  }
  // For the fallback line: the first text that looks like an item name, not a stray word ("CASH").
  const firstText = descs.find((d) => (d.text.match(/[A-Za-z]/g) ?? []).length >= 5)?.text ?? null;
  if (descs.length === 0) return { items: [], firstText };
  return { items: assignItems(descs, gaps), firstText };
}

/** A description line continuing the previous one: `(10ROLL/PKT)`, or after an open parenthesis. */
function isContinuation(
  prev: Extract<Tok, { kind: 'desc' }>,
  next: Extract<Tok, { kind: 'desc' }>,
  between: Tok[],
) {
  if (between.length > 0 || prev.trail.length > 0 || prev.at) return false;
  const open = (prev.text.match(/\(/g) ?? []).length > (prev.text.match(/\)/g) ?? []).length;
  return open || next.text.startsWith('(');
}

const SCORE = (item: Item | null): number => (item === null ? 0 : item.strong ? 2 : 1);

function assignItems(descs: Extract<Tok, { kind: 'desc' }>[], gaps: Tok[][]): ExtractedItem[] {
  const k = descs.length;
  // best[i] maps "split point of gap i" → best score of items 1..i and the choices made.
  type State = { score: number; items: (Item | null)[] };
  let best = new Map<number, State>();
  const g0 = gaps[0] ?? [];
  for (let c = 0; c <= g0.length; c++) best.set(c, { score: 0, items: [] });
  for (let i = 1; i <= k; i++) {
    const prevGap = gaps[i - 1] ?? [];
    const gap = gaps[i] ?? [];
    const desc = descs[i - 1] as Extract<Tok, { kind: 'desc' }>;
    const next = new Map<number, State>();
    for (let c = gap.length; c >= 0; c--) {
      let chosen: State | null = null;
      for (const [cp, state] of best) {
        const item = matchItem(desc, [...prevGap.slice(cp), ...gap.slice(0, c)]);
        const score = state.score + SCORE(item);
        if (!chosen || score > chosen.score) chosen = { score, items: [...state.items, item] };
      }
      if (chosen) next.set(c, chosen);
    }
    best = next;
  }
  let final: State | null = null;
  for (const state of best.values()) if (!final || state.score > final.score) final = state;
  const out: ExtractedItem[] = [];
  (final?.items ?? []).forEach((item, i) => {
    const text = descs[i]?.text ?? '';
    if (item && /[A-Za-z]{2}/.test(text)) {
      out.push({
        description: text,
        quantity: item.quantity,
        unitCents: item.unitCents,
        amountCents: item.amountCents,
      });
    }
  });
  return out;
}

/** How the lines of a converted receipt were obtained. */
export type LineSource = 'items_reconciled' | 'items_partial' | 'fallback';

/** Conversion result of one receipt. */
export type SroieConversion =
  | {
      ok: true;
      invoice: Invoice;
      invoiceNumberLabel: string | null;
      lineSource: LineSource;
      totalFromOcr: boolean;
    }
  | { ok: false; key: string; reason: 'date_unparsed' | 'total_unparsed' };

/** Finds a total printed next to a TOTAL label (used when `entities.total` is blank). */
function totalFromOcr(lines: readonly string[]): number | null {
  const labels = [/\bNETT?\s+TOTAL\b/i, /\bGRAND\s+TOTAL\b/i, /\bTOTAL\s+AMOUNT\b/i, /^TOTAL\b/i];
  for (const re of labels) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const m = re.exec(line);
      if (!m) continue;
      for (const c of [line.slice(m.index + m[0].length).replace(/^[\s:]+/, ''), lines[i + 1] ?? '']) {
        const cents = parseMoneyToCents(c);
        if (cents !== null) return cents;
      }
    }
  }
  return null;
}

/**
 * Accepts extracted items when their sum is the total (±5 sen rounding) or within the range
 * taxes, service charges and unextracted discounts explain (total between 0.9× and 1.2× the sum).
 */
function reconcile(items: readonly ExtractedItem[], totalCents: number): LineSource {
  if (items.length === 0 || totalCents <= 0) return 'fallback';
  const sum = items.reduce((s, i) => s + i.amountCents, 0);
  if (Math.abs(sum - totalCents) <= 5) return 'items_reconciled';
  if (sum > 0 && totalCents >= sum * 0.9 && totalCents <= sum * 1.2) return 'items_partial';
  return 'fallback';
}

/**
 * Converts one SROIE receipt into an {@link Invoice} (currency MYR, document type invoice).
 * @returns the invoice with how it was derived, or why the receipt was skipped.
 */
export function convertReceipt(r: SroieReceipt): SroieConversion {
  const date = parseReceiptDate(r.entities.date);
  if (!date) return { ok: false, key: r.key, reason: 'date_unparsed' };
  let total = parseMoneyToCents(r.entities.total);
  const fromOcr = total === null;
  if (total === null) total = totalFromOcr(r.ocr_lines);
  if (total === null) return { ok: false, key: r.key, reason: 'total_unparsed' };
  const number = extractInvoiceNumber(r.ocr_lines);
  const { items, firstText } = extractItems(r.ocr_lines);
  const lineSource = reconcile(items, total);
  const lines: InvoiceLine[] =
    lineSource === 'fallback'
      ? [
          {
            line_number: 1,
            description: (firstText ?? 'Receipt total').slice(0, 200),
            quantity: 1,
            unit_price_cents: total,
            amount_cents: total,
          },
        ]
      : items.map((it, i) => ({
          line_number: i + 1,
          description: it.description.slice(0, 200),
          quantity: it.quantity,
          unit_price_cents: it.unitCents,
          amount_cents: it.amountCents,
        }));
  const invoice: Invoice = {
    invoice_id: `sroie-${r.key}`,
    vendor: { id: vendorSlug(r.entities.company), name: r.entities.company.trim().slice(0, 200) },
    invoice_number: (number?.value ?? unnumberedReceiptNumber(r.key)).slice(0, 64),
    invoice_date: date,
    currency: 'MYR',
    total_cents: total,
    document_type: 'invoice',
    lines,
  };
  return { ok: true, invoice, invoiceNumberLabel: number?.label ?? null, lineSource, totalFromOcr: fromOcr };
}

/** Counts of a SROIE conversion run. */
export interface SroieStats {
  receipts: number;
  converted: number;
  skipped: number;
  skippedKeys: string[];
  invoiceNumberExtracted: number;
  invoiceNumberFallback: number;
  byLabel: Record<string, number>;
  itemsReconciled: number;
  itemsPartial: number;
  fallbackLine: number;
  lines: number;
  totalFromOcr: number;
}

/** Converts every receipt, validating each invoice. */
export function convertSroie(receipts: readonly SroieReceipt[]): { invoices: Invoice[]; stats: SroieStats } {
  const invoices: Invoice[] = [];
  const stats: SroieStats = {
    receipts: receipts.length,
    converted: 0,
    skipped: 0,
    skippedKeys: [],
    invoiceNumberExtracted: 0,
    invoiceNumberFallback: 0,
    byLabel: {},
    itemsReconciled: 0,
    itemsPartial: 0,
    fallbackLine: 0,
    lines: 0,
    totalFromOcr: 0,
  };
  for (const r of receipts) {
    const c = convertReceipt(r);
    if (!c.ok) {
      stats.skipped++;
      stats.skippedKeys.push(`${c.key} (${c.reason})`);
      continue;
    }
    invoices.push(validateInvoice(c.invoice, `/${c.invoice.invoice_id}`));
    stats.converted++;
    stats.lines += c.invoice.lines.length;
    if (c.totalFromOcr) stats.totalFromOcr++;
    if (c.invoiceNumberLabel) {
      stats.invoiceNumberExtracted++;
      stats.byLabel[c.invoiceNumberLabel] = (stats.byLabel[c.invoiceNumberLabel] ?? 0) + 1;
    } else {
      stats.invoiceNumberFallback++;
    }
    if (c.lineSource === 'items_reconciled') stats.itemsReconciled++;
    else if (c.lineSource === 'items_partial') stats.itemsPartial++;
    else stats.fallbackLine++;
  }
  return { invoices, stats };
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

/** Markers of the generated counts block in `datasets/samples/README.md`. */
export const STATS_BEGIN = '<!-- samples-stats:begin (generated by build-samples.ts; do not edit) -->';
export const STATS_END = '<!-- samples-stats:end -->';

// Key order of the output = property order of the TypeBox schemas (one source of truth).
const INVOICE_KEYS = Object.keys(InvoiceSchema.properties);
const VENDOR_KEYS = Object.keys(VendorSchema.properties);
const LINE_KEYS = Object.keys(InvoiceLineSchema.properties);

function pickInOrder(value: object, keys: readonly string[]): Record<string, unknown> {
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (source[k] !== undefined) out[k] = source[k];
  return out;
}

/** The invoice with its keys in schema order (stable, readable JSONL diffs). */
export function canonicalInvoice(inv: Invoice): Record<string, unknown> {
  const out = pickInOrder(inv, INVOICE_KEYS);
  out.vendor = pickInOrder(inv.vendor, VENDOR_KEYS);
  out.lines = inv.lines.map((l) => pickInOrder(l, LINE_KEYS));
  return out;
}

function toJsonl(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** Keys of the receipts listed in the SROIE duplicate-group ground truth (column 2 of the CSV). */
export function groupKeys(csvText: string): string[] {
  return csvText
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.split(',')[1] ?? '');
}

function statsBlock(
  hcpcs: HcpcsSamples,
  sroie: { invoices: Invoice[]; stats: SroieStats },
  groups: readonly string[],
): string {
  const ids = new Set(sroie.invoices.map((i) => i.invoice_id));
  const groupsPresent = groups.filter((k) => ids.has(`sroie-${k}`)).length;
  const kinds = new Map<string, number>();
  for (const l of hcpcs.labels) kinds.set(l.kind, (kinds.get(l.kind) ?? 0) + 1);
  const s = sroie.stats;
  const rows: [string, string | number][] = [
    ['hcpcs_invoices', hcpcs.invoices.length],
    ['hcpcs_vendors', new Set(hcpcs.invoices.map((i) => i.vendor.id)).size],
    ['hcpcs_lines', hcpcs.invoices.reduce((n, i) => n + i.lines.length, 0)],
    ['hcpcs_labels', hcpcs.labels.length],
    ...[...kinds.entries()].sort().map(([k, v]): [string, number] => [`label_${k}`, v]),
    ['sroie_receipts', s.receipts],
    ['sroie_invoices', s.converted],
    ['sroie_skipped', s.skipped],
    ['sroie_lines', s.lines],
    ['sroie_invoice_number_extracted', s.invoiceNumberExtracted],
    ['sroie_invoice_number_key_fallback', s.invoiceNumberFallback],
    ['sroie_items_reconciled', s.itemsReconciled],
    ['sroie_items_partial', s.itemsPartial],
    ['sroie_single_fallback_line', s.fallbackLine],
    [
      'sroie_negative_lines',
      sroie.invoices.reduce((n, i) => n + i.lines.filter((l) => l.amount_cents < 0).length, 0),
    ],
    ['sroie_total_from_ocr', s.totalFromOcr],
    ['sroie_group_receipts', groups.length],
    ['sroie_group_receipts_present', groupsPresent],
  ];
  const labelRows = Object.entries(s.byLabel)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return [
    STATS_BEGIN,
    '',
    ...markdownTable(['count', 'value'], rows),
    '',
    `Invoice numbers by label: ${labelRows}.`,
    `Skipped receipts: ${s.skippedKeys.length === 0 ? 'none' : s.skippedKeys.join(', ')}.`,
    '',
    STATS_END,
  ].join('\n');
}

/** A markdown table padded the way prettier formats it, so `prettier --check` stays clean. */
function markdownTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string[] {
  const cells = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 3)).join(' | ')} |`;
  const [head, ...body] = cells;
  return [line(head ?? []), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

/** Replaces the counts block of the README (or appends one). */
function updateReadme(path: string, block: string): void {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '# Samples\n';
  const begin = text.indexOf(STATS_BEGIN);
  const end = text.indexOf(STATS_END);
  const next =
    begin >= 0 && end > begin
      ? text.slice(0, begin) + block + text.slice(end + STATS_END.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}

function parseArgs(argv: readonly string[]): { shared: string; out: string } {
  const root = packageRoot();
  let shared = resolve(root, '..', 'shared', 'datasets');
  let out = join(root, 'datasets', 'samples');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if ((arg === '--shared' || arg === '--out') && value !== undefined) {
      if (arg === '--shared') shared = resolve(value);
      else out = resolve(value);
      i++;
    } else {
      throw new Error(
        `usage: build-samples.ts [--shared <datasets dir>] [--out <dir>] (bad argument ${arg})`,
      );
    }
  }
  return { shared, out };
}

/** Reads the SROIE train split from the shared datasets directory. */
export function readSroie(shared: string): SroieReceipt[] {
  const file = join(shared, 'invoices', 'sroie', 'sroie_train.jsonl');
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SroieReceipt);
}

function main(): void {
  const { shared, out } = parseArgs(process.argv.slice(2));
  const ref = loadReferenceData();
  const hcpcs = buildHcpcsSamples(ref);
  hcpcs.invoices.forEach((inv) => validateInvoice(inv, `/${inv.invoice_id}`));
  const sroie = convertSroie(readSroie(shared));
  writeFileSync(join(out, 'hcpcs_invoices.jsonl'), toJsonl(hcpcs.invoices.map(canonicalInvoice)));
  writeFileSync(
    join(out, 'hcpcs_invoices.labels.jsonl'),
    toJsonl(
      hcpcs.labels.map((l) =>
        pickInOrder(l, ['invoice_id', 'kind', 'line_number', 'duplicate_of', 'similar_to', 'note']),
      ),
    ),
  );
  writeFileSync(join(out, 'sroie_invoices.jsonl'), toJsonl(sroie.invoices.map(canonicalInvoice)));
  const groups = 'sroie_same_company_date_total_groups.csv';
  // The shared copy is read-only; keep ours writable so the next build can overwrite it.
  if (existsSync(join(out, groups))) chmodSync(join(out, groups), 0o644);
  copyFileSync(join(shared, 'invoices', 'sroie', groups), join(out, groups));
  chmodSync(join(out, groups), 0o644);
  const keys = groupKeys(readFileSync(join(out, groups), 'utf8'));
  updateReadme(join(out, 'README.md'), statsBlock(hcpcs, sroie, keys));
  const s = sroie.stats;
  console.log(
    `hcpcs: ${hcpcs.invoices.length} invoices, ${hcpcs.labels.length} labels; ` +
      `sroie: ${s.converted}/${s.receipts} converted, ${s.skipped} skipped, ` +
      `${s.invoiceNumberExtracted} numbers extracted, ${s.itemsReconciled}+${s.itemsPartial} with items`,
  );
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) main();
