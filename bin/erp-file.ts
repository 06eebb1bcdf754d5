/**
 * ERP files for `npm run cli -- erp load FILE --tenant T` (core/erp.ts records):
 *
 * - `.json`: one load, `{ purchase_orders, receipts, contracts }` as `POST /v1/erp/load` takes it;
 * - `.jsonl`: one record a line with `"type": "purchase_order" | "receipt" | "contract"`;
 * - `.csv`: flat rows with `record_type` `po_line` or `receipt`; PO line rows carry the PO header
 *   (`po_number, vendor_id, facility_id, status, order_date, version`) and the line
 *   (`line_number, description, supplier_part, manufacturer_part, ndc, gtin, buyer_item, hcpcs,
 *   uom, pack_qty, quantity, unit_price_cents, contract_id`); rows of one PO are grouped.
 *   Receipt rows: `receipt_id, po_number, po_line_number, quantity, uom, pack_qty,
 *   received_date, version`. Contracts are JSON or JSONL only (their items are nested).
 *
 * @throws TriageError `TRIAGE_FILE_INVALID` naming the line and field of the first problems.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import { Compile } from 'typebox/compile';
import { ErpLoad, type PurchaseOrder } from '../core/erp.js';
import { TriageError, type FieldError } from '../core/errors.js';
import { toFieldErrors, type SchemaErrorLike } from '../core/validate.js';

const check = Compile(ErpLoad);
const KINDS = { purchase_order: 'purchase_orders', receipt: 'receipts', contract: 'contracts' } as const;

const invalid = (path: string, errors: FieldError[]) =>
  new TriageError(
    'TRIAGE_FILE_INVALID',
    `${path}: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
    errors,
  );

function fromJsonl(text: string, path: string): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let rec: unknown;
    try {
      rec = JSON.parse(line) as unknown;
    } catch {
      throw invalid(path, [{ path: `line ${i + 1}`, message: 'is not JSON' }]);
    }
    if (typeof rec !== 'object' || rec === null || Array.isArray(rec))
      throw invalid(path, [{ path: `line ${i + 1}`, message: 'must be a JSON object with a type' }]);
    const { type, ...body } = rec as Record<string, unknown>;
    const kind = KINDS[type as keyof typeof KINDS];
    if (!kind)
      throw invalid(path, [
        { path: `line ${i + 1}/type`, message: 'must be purchase_order, receipt or contract' },
      ]);
    (out[kind] ??= []).push(body);
  });
  return out;
}

const num = (v: string | undefined): number | undefined =>
  v === undefined || v === '' ? undefined : Number(v);
const str = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);
const defined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function fromCsv(text: string, path: string): Record<string, unknown[]> {
  const rows = parse(text, { columns: true, skip_empty_lines: true, bom: true }) as Record<string, string>[];
  const pos = new Map<string, PurchaseOrder>();
  const receipts: unknown[] = [];
  rows.forEach((r, i) => {
    if (r.record_type === 'receipt')
      receipts.push(
        defined({
          receipt_id: str(r.receipt_id),
          po_number: str(r.po_number),
          po_line_number: num(r.po_line_number),
          quantity: num(r.quantity),
          uom: str(r.uom),
          pack_qty: num(r.pack_qty),
          received_date: str(r.received_date),
          version: num(r.version),
        }),
      );
    else if (r.record_type === 'po_line') {
      const key = r.po_number ?? '';
      const po =
        pos.get(key) ??
        (defined({
          po_number: str(r.po_number),
          vendor_id: str(r.vendor_id),
          facility_id: str(r.facility_id),
          status: str(r.status),
          order_date: str(r.order_date),
          version: num(r.version),
          lines: [],
        }) as unknown as PurchaseOrder);
      pos.set(key, po);
      const ids = defined({
        buyer_item: str(r.buyer_item),
        supplier_part: str(r.supplier_part),
        manufacturer_part: str(r.manufacturer_part),
        ndc: str(r.ndc),
        gtin: str(r.gtin),
        hcpcs: str(r.hcpcs),
      });
      po.lines.push(
        defined({
          line_number: num(r.line_number),
          description: str(r.description),
          ...(Object.keys(ids).length > 0 ? { identifiers: ids } : {}),
          uom: str(r.uom),
          pack_qty: num(r.pack_qty),
          quantity: num(r.quantity),
          unit_price_cents: num(r.unit_price_cents),
          contract_id: str(r.contract_id),
        }) as unknown as PurchaseOrder['lines'][number],
      );
    } else throw invalid(path, [{ path: `row ${i + 2}/record_type`, message: 'must be po_line or receipt' }]);
  });
  return {
    ...(pos.size > 0 ? { purchase_orders: [...pos.values()] } : {}),
    ...(receipts.length > 0 ? { receipts } : {}),
  };
}

/** Reads and validates an ERP file (see the module doc). */
export function readErpFile(path: string): ErpLoad {
  const text = readFileSync(path, 'utf8');
  const ext = extname(path).toLowerCase();
  let value: unknown;
  if (ext === '.jsonl' || ext === '.ndjson') value = fromJsonl(text, path);
  else if (ext === '.csv') value = fromCsv(text, path);
  else
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      throw invalid(path, [{ path: '', message: 'is not JSON' }]);
    }
  if (!check.Check(value))
    throw invalid(path, toFieldErrors([...check.Errors(value)] as SchemaErrorLike[]).slice(0, 20));
  return value;
}
