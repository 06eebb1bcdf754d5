/**
 * The rows of an imported history record: its primary key ({@link historyId}), the record shape
 * ({@link HistoryRecord}) and the binary COPY encoding of its `invoices` and `invoice_lines`
 * rows, shared by the writing thread (store/history.ts) and an import's worker threads
 * ({@link encodeHistoryRows}), so both write the same bytes.
 */
import type { Invoice } from '../core/invoice.js';
import { TriageError } from '../core/errors.js';
import type { InvoiceIndexKeys } from './repository.js';
import { v7 as uuidv7 } from 'uuid';
import { CopyBinaryWriter } from './copy-binary.js';

/**
 * Primary key of an imported invoice: a UUIDv7 (RFC 9562, time ordered), so a backfill appends
 * at the right edge of the primary-key indexes of `invoices` and `invoice_lines` (and the
 * foreign-key check of each line finds its invoice in a recently used page) instead of touching
 * a random leaf per row (random leaves stop fitting in shared buffers as the indexes grow).
 */
export const historyId = (): string => uuidv7();

/**
 * A record's rows in binary COPY form, encoded ahead of the write ({@link encodeHistoryRows}, in
 * a worker thread of the import), so the writing thread only streams bytes to PostgreSQL.
 */
export interface EncodedHistoryRows {
  /** Primary key the rows carry (a {@link historyId}). */
  pk: string;
  /** The `invoices` row (its field count and fields, as {@link encodeInvoiceCopy} writes it). */
  invoice: Uint8Array;
  /** The `invoice_lines` rows in line order (as {@link encodeLineCopy} writes them). */
  lines: Uint8Array;
}

/** One validated past invoice with what the store indexes it by. */
export interface HistoryRecord {
  /** Where the record came from, named in errors: `/3` (API array index), `line 12` (file). */
  location: string;
  invoice: Invoice;
  /** Idempotency fingerprint (sha256 hex of the canonical invoice, as scoring computes it). */
  payloadSha256: string;
  /** Index keys; absent when `rows` carries them already encoded. */
  keys?: InvoiceIndexKeys;
  /**
   * The rows encoded ahead ({@link encodeHistoryRows}); written as they are by a store whose
   * `HistoryStore.copyRows` (store/history.ts) is true (a store writing text needs `keys`).
   */
  rows?: EncodedHistoryRows;
}

/**
 * Columns of `invoices` a history row fills, in the order the binary COPY writes them
 * (`copyInvoices` in store/history.ts).
 */
export const INVOICE_COLUMNS = `pk, tenant_id, invoice_id, payload, payload_sha256, vendor_id, vendor_name, vendor_key,
  vendor_tax_id, vendor_npi, invoice_number, invoice_number_normalised, invoice_number_canonical, invoice_date,
  due_date, currency, total_cents, document_type, po_number, facility_id, service_period_start,
  service_period_end, embedding, indexed_as`;
const INVOICE_FIELDS = 24;

/**
 * The columns of `invoice_lines` that copy its invoice's: tenant, vendor key, vendor id, invoice
 * date and client invoice id (migration 110), which the line block's indexes read, and document
 * type, total in cents and service period start (migration 113), which the line block's `amount`
 * pass reads of each candidate line instead of its invoice row (store/line-block-sql.ts). Every
 * writer of lines fills them from the invoice row it writes.
 */
export const LINE_INVOICE_KEYS =
  'tenant_id, vendor_key, vendor_id, invoice_date, invoice_id, document_type, total_cents, service_period_start';

/** {@link LINE_INVOICE_KEYS} read from the invoice row of alias `alias` (`inv.tenant_id, ...`), in the same order. */
export function lineInvoiceKeysOf(alias: string): string {
  return LINE_INVOICE_KEYS.replace(/(\w+)/g, `${alias}.$1`);
}

/**
 * Columns of `invoice_lines` a history row fills, in the order the binary COPY writes them
 * (`copyLines` in store/history.ts). `delivery_reference` is the line's printed delivery
 * reference as given (migration 113), null when it prints none.
 */
export const LINE_COLUMNS = `invoice_pk, ${LINE_INVOICE_KEYS}, line_number, description, code_system, code,
  modifiers, quantity, unit_price_cents, amount_cents, service_date, match_key, embedding, delivery_reference`;
const LINE_FIELDS = 21;

/**
 * The record's index keys.
 * @throws TriageError `TRIAGE_INTERNAL` when it has none (its rows were encoded for COPY, and the
 *   store writes text).
 */
export function keysOf(r: HistoryRecord): InvoiceIndexKeys {
  if (!r.keys)
    throw new TriageError('TRIAGE_INTERNAL', `${r.location}: no index keys (rows encoded for COPY)`);
  return r.keys;
}

/** Writes the `invoices` row of one record in binary COPY form. */
function writeInvoiceRow(w: CopyBinaryWriter, tenantId: string, pk: string, r: HistoryRecord): void {
  const inv = r.invoice;
  const keys = keysOf(r);
  w.row(INVOICE_FIELDS)
    .uuid(pk)
    .text(tenantId)
    .text(inv.invoice_id)
    .jsonb(JSON.stringify(inv))
    .text(r.payloadSha256)
    .text(inv.vendor.id)
    .text(inv.vendor.name)
    .text(keys.vendorKey)
    .text(inv.vendor.tax_id)
    .text(inv.vendor.npi)
    .text(inv.invoice_number)
    .text(keys.invoiceNumberNormalised)
    .text(keys.invoiceNumberCanonical)
    .date(inv.invoice_date)
    .date(inv.due_date)
    .text(inv.currency)
    .int8(inv.total_cents)
    .text(inv.document_type)
    .text(inv.po_number)
    .text(inv.facility_id)
    .date(inv.service_period?.start)
    .date(inv.service_period?.end)
    .vector(keys.embedding)
    .text('history');
}

/**
 * The binary COPY data of the chunk's `invoices` rows (rows encoded ahead are appended as they
 * are, the others encoded here).
 */
export function encodeInvoiceCopy(
  tenantId: string,
  rows: readonly { pk: string; r: HistoryRecord }[],
): Buffer {
  const w = new CopyBinaryWriter(rows.length * 3072);
  for (const { pk, r } of rows) {
    if (r.rows) w.raw(r.rows.invoice);
    else writeInvoiceRow(w, tenantId, pk, r);
  }
  return w.finish();
}

/**
 * Every line of the chunk's invoices, in order, with its invoice's key and the line's index keys.
 * @throws TriageError `TRIAGE_INTERNAL` when a line has no features (a bug in preparing the record).
 */
export function* linesWithKeys(rows: readonly { pk: string; r: HistoryRecord }[]): Generator<{
  pk: string;
  r: HistoryRecord;
  line: HistoryRecord['invoice']['lines'][number];
  k: InvoiceIndexKeys['lines'][number];
}> {
  for (const { pk, r } of rows) {
    const byNumber = new Map(keysOf(r).lines.map((l) => [l.lineNumber, l]));
    for (const line of r.invoice.lines) {
      const k = byNumber.get(line.line_number);
      if (!k)
        throw new TriageError('TRIAGE_INTERNAL', `${r.location}: no features for line ${line.line_number}`);
      yield { pk, r, line, k };
    }
  }
}

/** Writes the `invoice_lines` rows of the given records in binary COPY form; returns how many. */
function writeLineRows(
  w: CopyBinaryWriter,
  tenantId: string,
  rows: readonly { pk: string; r: HistoryRecord }[],
): number {
  let n = 0;
  let headOf: HistoryRecord | null = null;
  let head: Uint8Array = new Uint8Array(0);
  for (const { pk, r, line, k } of linesWithKeys(rows)) {
    // The invoice's key and its columns copied on each line: the same bytes for all its lines.
    if (headOf !== r) {
      const h = new CopyBinaryWriter(256);
      const from = h.offset;
      h.uuid(pk)
        .text(tenantId)
        .text(keysOf(r).vendorKey)
        .text(r.invoice.vendor.id)
        .date(r.invoice.invoice_date)
        .text(r.invoice.invoice_id)
        .text(r.invoice.document_type)
        .int8(r.invoice.total_cents)
        .date(r.invoice.service_period?.start);
      headOf = r;
      head = h.rowsSince(from);
    }
    w.row(LINE_FIELDS)
      .raw(head)
      .int4(line.line_number)
      .text(line.description)
      .text(line.code?.system)
      .text(line.code?.value)
      .textArray(line.modifiers ?? [])
      .numeric(line.quantity)
      .int8(line.unit_price_cents)
      .int8(line.amount_cents)
      .date(line.service_date)
      .text(k.matchKey)
      .vector(k.embedding)
      .text(line.delivery_reference);
    n++;
  }
  return n;
}

/**
 * The binary COPY data of the chunk's `invoice_lines` rows (rows encoded ahead appended as they
 * are, the others encoded here), or null when there are none.
 */
export function encodeLineCopy(
  tenantId: string,
  rows: readonly { pk: string; r: HistoryRecord }[],
): Buffer | null {
  const w = new CopyBinaryWriter(rows.length * 8192);
  let bytes = 0;
  for (const x of rows) {
    if (x.r.rows) {
      w.raw(x.r.rows.lines);
      bytes += x.r.rows.lines.length;
    } else bytes += writeLineRows(w, tenantId, [x]);
  }
  return bytes > 0 ? w.finish() : null;
}

/**
 * Encodes records' rows for binary COPY ahead of the write (in a worker thread of the import),
 * each under a new {@link historyId}: the same bytes {@link encodeInvoiceCopy} and
 * {@link encodeLineCopy} write in the writing thread (test/history-workers.test.ts). All rows
 * of the call share two ArrayBuffers (`buffers`, one for each table), to be transferred.
 * @throws TriageError `TRIAGE_INTERNAL` when a record has no index keys or a line no features.
 */
export function encodeHistoryRows(
  tenantId: string,
  records: readonly HistoryRecord[],
): { rows: EncodedHistoryRows[]; buffers: ArrayBuffer[] } {
  const invoices = new CopyBinaryWriter(records.length * 3072);
  const lines = new CopyBinaryWriter(records.length * 8192);
  const start = { invoices: invoices.offset, lines: lines.offset };
  const at: { pk: string; invoice: number; lines: number }[] = [];
  for (const r of records) {
    const pk = historyId();
    writeInvoiceRow(invoices, tenantId, pk, r);
    writeLineRows(lines, tenantId, [{ pk, r }]);
    at.push({ pk, invoice: invoices.offset, lines: lines.offset });
  }
  const inv = invoices.rowsSince(start.invoices);
  const lin = lines.rowsSince(start.lines);
  let prev = { invoice: start.invoices, lines: start.lines };
  const rows = at.map((a) => {
    const row = {
      pk: a.pk,
      invoice: inv.subarray(prev.invoice - start.invoices, a.invoice - start.invoices),
      lines: lin.subarray(prev.lines - start.lines, a.lines - start.lines),
    };
    prev = a;
    return row;
  });
  return { rows, buffers: [inv.buffer as ArrayBuffer, lin.buffer as ArrayBuffer] };
}
