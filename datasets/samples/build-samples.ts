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
 * `--shared` defaults to {@link sharedDatasetsDir}. The output is deterministic: the only
 * randomness is the mulberry32 generator of `datasets/synth.ts` with a fixed seed. The SROIE
 * conversion itself lives in `datasets/sroie.ts`.
 */
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Invoice, InvoiceLine } from '../../core/invoice.js';
import type { FeeScheduleEntry, FeeScheduleSource, HcpcsCode, ReferenceData } from '../../core/reference.js';
import { validateInvoice } from '../../core/validate.js';
import { loadReferenceData, packageRoot } from '../reference.js';
import { sharedDatasetsDir } from '../shared.js';
import { convertSroie, readSroie, type SroieStats } from '../sroie.js';
import {
  Rng,
  abbreviate,
  addDays,
  canonicalInvoice,
  iso,
  makeNpi,
  monthEnd,
  monthStart,
  pickInOrder,
  reorder,
  sumLines,
  truncateWords,
} from '../synth.js';

/** Seed of the sample builder; change it and every synthetic invoice changes. */
export const SAMPLE_SEED = 20250117;

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
// Output
// ---------------------------------------------------------------------------------------------

/** Markers of the generated counts block in `datasets/samples/README.md`. */
export const STATS_BEGIN = '<!-- samples-stats:begin (generated by build-samples.ts; do not edit) -->';
export const STATS_END = '<!-- samples-stats:end -->';

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
  let shared = sharedDatasetsDir() ?? resolve(root, '..', 'shared', 'datasets');
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
