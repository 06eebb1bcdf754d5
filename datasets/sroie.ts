/**
 * SROIE receipts loader: reads the SROIE 2019 train split (626 scanned Malaysian receipts with
 * OCR lines, CC BY 4.0; `<shared datasets>/invoices/sroie/sroie_train.jsonl`, see its README)
 * and converts each receipt into an {@link Invoice} of the API schema: vendor, printed invoice
 * number, day-first date, total in integer cents and the item lines recovered from the OCR.
 * The conversion rules and their known limits are documented in `datasets/samples/README.md`.
 *
 * Used by the samples builder (`datasets/samples/sroie_invoices.jsonl`) and by anyone who needs
 * real retail receipts in the invoice schema (duplicate-detection smoke tests, parser tests).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { validateInvoice } from '../core/validate.js';
import {
  extractInvoiceNumber,
  parseMoneyToCents,
  parseReceiptDate,
  unnumberedReceiptNumber,
  vendorSlug,
} from './sroie-fields.js';
import { extractItems, type ExtractedItem } from './sroie-items.js';

/** One record of `sroie_train.jsonl`. */
export interface SroieReceipt {
  key: string;
  split: string;
  entities: { company: string; date: string; address: string; total: string };
  ocr_lines: string[];
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

/** Path of the SROIE train split inside a shared datasets directory. */
export function sroieTrainFile(sharedDatasets: string): string {
  return join(sharedDatasets, 'invoices', 'sroie', 'sroie_train.jsonl');
}

/**
 * Reads the SROIE train split (one JSON receipt per line) from the shared datasets directory
 * (see {@link sharedDatasetsDir}).
 * @throws Error when the file is missing or a line is not JSON.
 */
export function readSroie(shared: string): SroieReceipt[] {
  const file = sroieTrainFile(shared);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SroieReceipt);
}

/**
 * The SROIE train receipts as invoices, straight from the shared datasets folder: reads
 * `<shared>/invoices/sroie/sroie_train.jsonl` and converts it ({@link convertSroie}).
 * @param shared the shared datasets directory (see `sharedDatasetsDir()` in datasets/shared.ts).
 * @returns the invoices (validated, `invoice_id` = `sroie-<key>`) and the conversion counts.
 * @throws Error when the file is missing or not JSON Lines.
 */
export function loadSroieInvoices(shared: string): { invoices: Invoice[]; stats: SroieStats } {
  return convertSroie(readSroie(shared));
}
