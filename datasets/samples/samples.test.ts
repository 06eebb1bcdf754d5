import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Invoice } from '../../core/invoice.js';
import type { ReferenceData } from '../../core/reference.js';
import { validateInvoice } from '../../core/validate.js';
import { isValidNpi } from '../../features/npi.js';
import { loadReferenceData } from '../reference.js';
import { sharedDatasetsDir } from '../shared.js';
import { convertSroie, loadSroieInvoices, readSroie } from '../sroie.js';
import { extractInvoiceNumber, parseMoneyToCents, parseReceiptDate, vendorSlug } from '../sroie-fields.js';
import { extractItems } from '../sroie-items.js';
import { canonicalInvoice } from '../synth.js';
import { REKEYED_FIELDS, buildHcpcsSamples, ocrConfuse, type SampleLabel } from './hcpcs-samples.js';
import { STATS_BEGIN, STATS_END, groupKeys } from './readme-stats.js';

const dir = dirname(fileURLToPath(import.meta.url));

function readJsonl<T>(name: string): T[] {
  return readFileSync(join(dir, name), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** The generated counts table of the README, `name → value`. */
function readmeCounts(): Map<string, number> {
  const text = readFileSync(join(dir, 'README.md'), 'utf8');
  const block = text.slice(text.indexOf(STATS_BEGIN), text.indexOf(STATS_END));
  const counts = new Map<string, number>();
  for (const m of block.matchAll(/^\|\s*(\w+)\s*\|\s*(\d+)\s*\|$/gm)) counts.set(m[1] ?? '', Number(m[2]));
  return counts;
}

function count(name: string): number {
  const value = readmeCounts().get(name);
  if (value === undefined) throw new Error(`README counts lack ${name}`);
  return value;
}

function byId(invoices: readonly Invoice[]): Map<string, Invoice> {
  return new Map(invoices.map((i) => [i.invoice_id, i]));
}

function get<K, V>(map: ReadonlyMap<K, V>, key: K): V {
  const value = map.get(key);
  if (value === undefined) throw new Error(`missing ${String(key)}`);
  return value;
}

/** Deep copy without the given dotted paths (e.g. `vendor.name`). */
function without(inv: Invoice, paths: readonly string[]): unknown {
  const copy = JSON.parse(JSON.stringify(inv)) as Record<string, Record<string, unknown>>;
  for (const path of paths) {
    const [head, tail] = path.split('.') as [string, string | undefined];
    if (tail === undefined) delete copy[head];
    else delete copy[head]?.[tail];
  }
  return copy;
}

describe('hcpcs_invoices.jsonl', () => {
  const invoices = readJsonl<Invoice>('hcpcs_invoices.jsonl');
  const labels = readJsonl<SampleLabel>('hcpcs_invoices.labels.jsonl');
  const ids = byId(invoices);
  let ref: ReferenceData;
  beforeAll(() => {
    ref = loadReferenceData();
  });

  it('validates every invoice', () => {
    for (const inv of invoices) expect(() => validateInvoice(inv, `/${inv.invoice_id}`)).not.toThrow();
    expect(ids.size).toBe(invoices.length);
  });

  it('matches the counts in the README', () => {
    expect(invoices).toHaveLength(count('hcpcs_invoices'));
    expect(new Set(invoices.map((i) => i.vendor.id)).size).toBe(count('hcpcs_vendors'));
    expect(invoices.reduce((n, i) => n + i.lines.length, 0)).toBe(count('hcpcs_lines'));
    expect(labels).toHaveLength(count('hcpcs_labels'));
    const kinds = new Map<string, number>();
    for (const l of labels) kinds.set(l.kind, (kinds.get(l.kind) ?? 0) + 1);
    for (const [kind, n] of kinds) expect(n, kind).toBe(count(`label_${kind}`));
    expect(invoices.length).toBeGreaterThanOrEqual(55);
    expect(invoices.length).toBeLessThanOrEqual(65);
  });

  it('has consistent money, valid NPIs, USD and 2025 dates', () => {
    for (const inv of invoices) {
      expect(inv.currency).toBe('USD');
      expect(inv.invoice_date.startsWith('2025-')).toBe(true);
      expect(inv.total_cents).toBe(inv.lines.reduce((s, l) => s + l.amount_cents, 0));
      for (const line of inv.lines) {
        expect(line.amount_cents).toBe(Math.round(line.quantity * line.unit_price_cents));
        expect(line.code?.system).toBe('HCPCS');
      }
      if (inv.vendor.npi !== undefined) expect(isValidNpi(inv.vendor.npi), inv.vendor.npi).toBe(true);
    }
    expect(invoices.filter((i) => i.vendor.npi !== undefined).length).toBeGreaterThan(40);
  });

  it('prices every unlabelled line within ±15% of the reference fee of an active code', () => {
    const labelled = new Set<string>();
    for (const l of labels) {
      if (l.line_number === undefined) continue;
      labelled.add(`${l.invoice_id}#${l.line_number}`);
    }
    // Duplicates copy their original's lines, exceptions included.
    for (const l of labels) {
      if (!l.duplicate_of) continue;
      for (const key of [...labelled]) {
        if (key.startsWith(`${l.duplicate_of}#`)) labelled.add(key.replace(l.duplicate_of, l.invoice_id));
      }
    }
    let checked = 0;
    for (const inv of invoices) {
      for (const line of inv.lines) {
        if (labelled.has(`${inv.invoice_id}#${line.line_number}`)) continue;
        const code = line.code?.value ?? '';
        expect(ref.hcpcs.get(code)?.terminationDate, code).toBeNull();
        const modifier = line.modifiers?.[0] ?? '';
        const fees = (ref.fees.get(code) ?? []).filter((f) => f.modifier === modifier);
        const near = fees.some(
          (f) =>
            line.unit_price_cents >= Math.floor(f.amountCents * 0.85) &&
            line.unit_price_cents <= Math.ceil(f.amountCents * 1.15),
        );
        expect(near, `${inv.invoice_id} line ${line.line_number} ${code} ${modifier}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(140);
  });

  it('labels refer to existing invoices, lines and originals', () => {
    for (const l of labels) {
      const inv = get(ids, l.invoice_id);
      if (l.line_number !== undefined)
        expect(inv.lines.some((x) => x.line_number === l.line_number)).toBe(true);
      for (const other of [l.duplicate_of, l.similar_to]) {
        if (other === undefined) continue;
        expect(ids.has(other), other).toBe(true);
        // The original was received first.
        expect(invoices.findIndex((i) => i.invoice_id === other)).toBeLessThan(invoices.indexOf(inv));
      }
    }
    expect(new Set(labels.map((l) => l.kind))).toEqual(
      new Set([
        'description_mismatch',
        'terminated_code',
        'price_outlier',
        'exact_duplicate',
        'rekeyed_duplicate',
        'hard_negative',
      ]),
    );
  });

  it('seeds terminated codes billed after their termination date', () => {
    for (const l of labels.filter((x) => x.kind === 'terminated_code')) {
      const inv = get(ids, l.invoice_id);
      const line = inv.lines.find((x) => x.line_number === l.line_number);
      const term = ref.hcpcs.get(line?.code?.value ?? '')?.terminationDate;
      expect(term).toBeTruthy();
      expect((term ?? '') < inv.invoice_date).toBe(true);
    }
  });

  it('seeds price outliers at about 5x the reference', () => {
    for (const l of labels.filter((x) => x.kind === 'price_outlier')) {
      const line = get(ids, l.invoice_id).lines.find((x) => x.line_number === l.line_number);
      const fee = ref.fees
        .get(line?.code?.value ?? '')
        ?.find((f) => f.modifier === (line?.modifiers?.[0] ?? ''));
      const ratio = (line?.unit_price_cents ?? 0) / (fee?.amountCents ?? 1);
      expect(ratio).toBeGreaterThan(4.5);
      expect(ratio).toBeLessThan(5.5);
    }
  });

  it('seeds description mismatches: the text names another code', () => {
    const mismatches = labels.filter((x) => x.kind === 'description_mismatch');
    expect(mismatches).toHaveLength(2);
    const lines = mismatches.map((l) =>
      get(ids, l.invoice_id).lines.find((x) => x.line_number === l.line_number),
    );
    expect(lines.map((x) => x?.code?.value)).toEqual(expect.arrayContaining(['K0001', 'G0480']));
    expect(lines.find((x) => x?.code?.value === 'K0001')?.description).toMatch(/oxygen concentrator/i);
  });

  it('an exact duplicate equals its original except for invoice_id', () => {
    for (const l of labels.filter((x) => x.kind === 'exact_duplicate')) {
      const dup = get(ids, l.invoice_id);
      const orig = get(ids, l.duplicate_of ?? '');
      expect(without(dup, ['invoice_id'])).toEqual(without(orig, ['invoice_id']));
    }
  });

  it('a re-keyed duplicate differs from its original only in the documented fields', () => {
    expect(REKEYED_FIELDS).toEqual(['invoice_id', 'invoice_number', 'vendor.name']);
    const rekeyed = labels.filter((x) => x.kind === 'rekeyed_duplicate');
    expect(rekeyed.length).toBeGreaterThanOrEqual(1);
    for (const l of rekeyed) {
      const dup = get(ids, l.invoice_id);
      const orig = get(ids, l.duplicate_of ?? '');
      expect(without(dup, REKEYED_FIELDS)).toEqual(without(orig, REKEYED_FIELDS));
      expect(dup.invoice_number).not.toBe(orig.invoice_number);
      expect(dup.vendor.name).not.toBe(orig.vendor.name);
      expect(dup.invoice_number).toBe(ocrConfuse(orig.invoice_number));
      // Same length, one character changed (a digit keyed as a look-alike letter).
      const diffs = [...dup.invoice_number].filter((c, i) => c !== orig.invoice_number[i]);
      expect(diffs).toHaveLength(1);
    }
  });

  it('a hard negative has the same vendor and amounts but a new number and service period', () => {
    for (const l of labels.filter((x) => x.kind === 'hard_negative')) {
      const inv = get(ids, l.invoice_id);
      const other = get(ids, l.similar_to ?? '');
      expect(l.duplicate_of).toBeUndefined();
      expect(inv.vendor).toEqual(other.vendor);
      expect(inv.total_cents).toBe(other.total_cents);
      expect(inv.lines.map((x) => x.amount_cents)).toEqual(other.lines.map((x) => x.amount_cents));
      expect(inv.invoice_number).not.toBe(other.invoice_number);
      expect(inv.service_period?.start ?? '').toBeTruthy();
      expect((inv.service_period?.start ?? '') > (other.service_period?.end ?? '')).toBe(true);
    }
  });

  it('is reproduced exactly by the builder from the shipped reference data', () => {
    const rebuilt = buildHcpcsSamples(ref);
    expect(rebuilt.invoices.map(canonicalInvoice)).toEqual(invoices);
    expect(rebuilt.labels).toEqual(labels);
  });
});

describe('sroie_invoices.jsonl', () => {
  const invoices = readJsonl<Invoice>('sroie_invoices.jsonl');
  const ids = byId(invoices);
  const groups = readFileSync(join(dir, 'sroie_same_company_date_total_groups.csv'), 'utf8');

  it('validates every invoice', () => {
    for (const inv of invoices) expect(() => validateInvoice(inv, `/${inv.invoice_id}`)).not.toThrow();
    expect(ids.size).toBe(invoices.length);
  });

  it('matches the counts in the README', () => {
    expect(invoices).toHaveLength(count('sroie_invoices'));
    expect(count('sroie_invoices') + count('sroie_skipped')).toBe(count('sroie_receipts'));
    expect(count('sroie_receipts')).toBe(626);
    expect(invoices.reduce((n, i) => n + i.lines.length, 0)).toBe(count('sroie_lines'));
    const keyFallback = invoices.filter((i) => i.invoice_number.startsWith('NONUM-')).length;
    expect(keyFallback).toBe(count('sroie_invoice_number_key_fallback'));
    expect(invoices.length - keyFallback).toBe(count('sroie_invoice_number_extracted'));
    expect(
      count('sroie_items_reconciled') + count('sroie_items_partial') + count('sroie_single_fallback_line'),
    ).toBe(invoices.length);
    const negative = invoices.reduce((n, i) => n + i.lines.filter((l) => l.amount_cents < 0).length, 0);
    expect(negative).toBe(count('sroie_negative_lines'));
  });

  it('converts receipts as specified: MYR invoices, no codes, ids from the SROIE key', () => {
    for (const inv of invoices) {
      expect(inv.invoice_id).toMatch(/^sroie-X\d{11}$/);
      expect(inv.currency).toBe('MYR');
      expect(inv.document_type).toBe('invoice');
      expect(inv.vendor.id).toBe(vendorSlug(inv.vendor.name));
      for (const line of inv.lines) expect(line.code).toBeUndefined();
    }
    // At least the reconciled receipts have lines that add up to the total.
    const exact = invoices.filter(
      (i) => Math.abs(i.lines.reduce((s, l) => s + l.amount_cents, 0) - i.total_cents) <= 5,
    );
    expect(exact.length).toBeGreaterThanOrEqual(count('sroie_items_reconciled'));
  });

  it('contains the 16 duplicate-group receipts, equal within each group', () => {
    const rows = groups
      .split('\n')
      .slice(1)
      .filter((l) => l.trim() !== '')
      .map((l) => ({ group: l.split(',')[0] ?? '', key: l.split(',')[1] ?? '' }));
    expect(rows).toHaveLength(16);
    expect(groupKeys(groups)).toEqual(rows.map((r) => r.key));
    expect(count('sroie_group_receipts_present')).toBe(16);
    const byGroup = new Map<string, Invoice[]>();
    for (const r of rows) {
      const inv = get(ids, `sroie-${r.key}`);
      byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), inv]);
    }
    expect(byGroup.size).toBe(8);
    for (const [group, members] of byGroup) {
      const [first, ...rest] = members;
      for (const other of rest) {
        expect(other.vendor.id, group).toBe(first?.vendor.id);
        expect(other.invoice_date, group).toBe(first?.invoice_date);
        expect(other.total_cents, group).toBe(first?.total_cents);
      }
    }
  });

  const shared = sharedDatasetsDir() ?? '/nonexistent';
  it.skipIf(!existsSync(join(shared, 'invoices', 'sroie', 'sroie_train.jsonl')))(
    'is reproduced by the builder from the shared SROIE copy',
    () => {
      const { invoices: rebuilt } = loadSroieInvoices(shared);
      expect(convertSroie(readSroie(shared)).invoices).toHaveLength(rebuilt.length);
      expect(rebuilt.map(canonicalInvoice)).toEqual(invoices);
    },
  );
});

describe('SROIE conversion rules', () => {
  it('parses the printed date formats day first', () => {
    const cases: [string, string | null][] = [
      ['09/01/2019', '2019-01-09'],
      ['19-04-18', '2018-04-19'],
      ['22-04-2016', '2016-04-22'],
      ['4/02/2017', '2017-02-04'],
      ['11.02.18', '2018-02-11'],
      ['02 APR 2018', '2018-04-02'],
      ['14/JUN/2017', '2017-06-14'],
      ['05-JAN-2017', '2017-01-05'],
      ['OCT 3, 2016', '2016-10-03'],
      ['2016-07-31', '2016-07-31'],
      ['2018/02/22', '2018-02-22'],
      ['20180428', '2018-04-28'],
      ['25032018', '2018-03-25'],
      ['(06/12/2016)', '2016-12-06'],
      ['12/28/2017', '2017-12-28'], // impossible day first: month first
      ['31/02/2018', null],
      ['01/01/1999', null], // outside the receipts' years: OCR noise
      ['TODAY', null],
    ];
    for (const [text, expected] of cases) expect(parseReceiptDate(text), text).toBe(expected);
  });

  it('parses printed totals into cents', () => {
    expect(parseMoneyToCents('31.00')).toBe(3_100);
    expect(parseMoneyToCents('RM 13.30')).toBe(1_330);
    expect(parseMoneyToCents('RM21.85')).toBe(2_185);
    expect(parseMoneyToCents('$8.20')).toBe(820);
    expect(parseMoneyToCents('1,234.50')).toBe(123_450);
    expect(parseMoneyToCents('-1.73')).toBe(-173);
    expect(parseMoneyToCents('')).toBeNull();
    // Receipts print a decimal point: a comma groups thousands, a decimal comma is no amount.
    expect(parseMoneyToCents('1,234')).toBe(123_400);
    expect(parseMoneyToCents('12,50')).toBeNull();
    expect(parseMoneyToCents('TOTAL')).toBeNull();
  });

  it('slugs company names', () => {
    expect(vendorSlug('MR. D.I.Y. (M) SDN BHD')).toBe('MR-DIY-M-SDN-BHD');
    expect(vendorSlug("WATSON'S PERSONAL CARE STORES SDN BHD")).toBe('WATSONS-PERSONAL-CARE-STORES-SDN-BHD');
    expect(vendorSlug('S&Y STATIONERY')).toBe('S-AND-Y-STATIONERY');
  });

  it('finds labelled invoice numbers on the same or a following line', () => {
    expect(extractInvoiceNumber(['TAX INVOICE', 'INVOICE # : OR18040202170496'])?.value).toBe(
      'OR18040202170496',
    );
    expect(extractInvoiceNumber(['CASH BILL :', '01-143008', 'DATE', ':'])).toEqual({
      value: '01-143008',
      label: 'CASH BILL',
    });
    expect(extractInvoiceNumber(['DOC NO.', 'GOODS SOLD ARE NOT RETURNABLE', ': CS00012493'])?.value).toBe(
      'CS00012493',
    );
    expect(
      extractInvoiceNumber(['INV NO:', 'DATE :', 'TOTAL QTY:', 'CS-SA-0130363', '14/12/2017'])?.value,
    ).toBe('CS-SA-0130363');
    expect(extractInvoiceNumber(['INV NO/DATE:K074-001096(06/12/2016)'])?.value).toBe('K074-001096');
    expect(extractInvoiceNumber(['BILL#: V042- 520388'])?.value).toBe('V042-520388');
    expect(extractInvoiceNumber(['TAX INVOICE', 'DATE: 19/05/2018', 'GST REG NO: 000670224384'])).toBeNull();
  });

  it('extracts items whose quantity x price = amount, in both layouts', () => {
    const after = extractItems([
      'DATE: 09/01/2019',
      'DESCRIPTION',
      'QTY',
      'PRICE',
      'AMOUNT',
      'PLASTIC',
      '2',
      '15.50',
      '31.00',
      'TOTAL :',
      '31.00',
    ]);
    expect(after.items).toEqual([
      { description: 'PLASTIC', quantity: 2, unitCents: 1_550, amountCents: 3_100 },
    ]);
    const before = extractItems([
      'ITEM',
      'QTY',
      'S/PRICE',
      'AMOUNT',
      'TAX',
      '1720',
      '1',
      '3.18',
      '3.18',
      'SR',
      'SPONGE SCRUB W-PLASTIC HANDLE',
      '1604',
      '1',
      '10.07',
      '10.07',
      'SR',
      '4 1/2" PLASTERING TROWEL',
      'TOTAL QTY:',
    ]);
    expect(before.items.map((i) => [i.description, i.amountCents])).toEqual([
      ['SPONGE SCRUB W-PLASTIC HANDLE', 318],
      ['4 1/2" PLASTERING TROWEL', 1_007],
    ]);
  });
});
