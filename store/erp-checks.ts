/**
 * Checks of an ERP load (core/erp.ts) before anything is written: what the records say by
 * themselves ({@link checkErpLoad}, also run by the CLI's file reader so it can name file rows),
 * the references they make to stored records ({@link referenceErrors}), receipts whose unit does
 * not convert to their PO line's ({@link receiptUnitErrors}), the stored receipts a new PO
 * version would leave without a known conversion ({@link storedReceiptUnitErrors}) and those it
 * would leave without their line ({@link orphanedReceipts}).
 */
import { TriageError, type ErrorCode, type FieldError } from '../core/errors.js';
import {
  packOf,
  type ErpLoad,
  type GoodsReceipt,
  type ItemIdentifiers,
  type PoLine,
  type PurchaseOrder,
} from '../core/erp.js';
import { MAX_ABS_CENTS, MIN_ABS_QUANTITY } from '../core/invoice.js';
import { displayTextErrors, dateRangeError, latestPastDay } from '../core/validate.js';
import { fixedCountOf, isCountUnit } from '../core/units.js';
import { parseUom } from '../matching/uom.js';
import type { SqlExecutor } from './sql.js';

/**
 * The checks of a load that need no stored data, in the order they are reported: money, units,
 * dates, text and quantities (400 `TRIAGE_INPUT_INVALID`: blank text (a PO line's or contract item's
 * description or identifier, a contract's tier); an empty `identifiers` object `{}` (leave it out on a PO line); a non-zero quantity below `MIN_ABS_QUANTITY`; a date outside core/validate.ts `DATE_RANGE`; a PO line whose quantity x unit price exceeds
 * {@link MAX_ABS_CENTS}, the invoices' money limit; a unit of measure outside the unit table
 * of core/units.ts), then quantities and pack sizes contradicting their unit (422
 * `TRIAGE_ERP_UNIT_INVALID`: a `pack_qty` other than a fixed-count unit's count, `DZ` with 10, on
 * a PO line, receipt or contract item; a fractional quantity of a count or pack unit on a PO line
 * or receipt, 0.5 `EA`, at `.../quantity`), then a PO with two lines of one number (422
 * `TRIAGE_ERP_LINE_NUMBER_REPEATED`), then a contract ending before it starts (422
 * `TRIAGE_ERP_CONTRACT_DATES_INVALID`), then a goods receipt dated after `today` plus one day
 * (422 `TRIAGE_ERP_RECEIPT_DATE_FUTURE`, core/validate.ts `latestPastDay`: it would count as
 * received before the goods arrived). A receipt dated before its PO's order date is accepted
 * (confirming orders: the PO is written after the goods came). Paths are JSON pointers into
 * the load.
 * @param today the day of the load (`YYYY-MM-DD`, UTC, the service's clock).
 * @throws TriageError of the first kind found, listing every problem of that kind.
 */
export function checkErpLoad(load: ErpLoad, today: string): void {
  const money: FieldError[] = [];
  const repeated: FieldError[] = [];
  const dates: FieldError[] = [];
  const future: FieldError[] = [];
  const units: FieldError[] = [];
  const latest = latestPastDay(today);
  const unit = (r: { uom: string; pack_qty?: number | undefined }, at: string, what: string) => {
    if (!parseUom(r.uom)?.known)
      money.push({
        path: `${at}/uom`,
        message: `${what}: unit of measure ${r.uom} is not in the unit table (EA, BX, CS, PK, ...)`,
      });
    const fixed = fixedCountOf(r.uom);
    if (fixed !== null && r.pack_qty !== undefined && r.pack_qty !== fixed)
      units.push({
        path: `${at}/pack_qty`,
        message: `${what}: pack_qty ${r.pack_qty} contradicts unit ${r.uom}, which holds ${fixed} each; send pack_qty ${fixed} or none`,
      });
  };
  const whole = (r: { uom: string; quantity: number }, at: string, what: string) => {
    if (isCountUnit(r.uom) && !Number.isInteger(r.quantity))
      units.push({
        path: `${at}/quantity`,
        message: `${what}: quantity ${r.quantity} is not a whole number of ${r.uom}; send a whole count, or the quantity in each`,
      });
  };
  const date = (path: string, d: string) => {
    const e = dateRangeError(path, d);
    if (e) money.push(e);
  };
  // Text the matcher compares (descriptions, item identifiers, tiers) says something: no blank
  // text and no reordering control, as on invoices; a quantity is 0 or at least MIN_ABS_QUANTITY, as on invoice lines.
  const text = (path: string, t: string | undefined) => money.push(...displayTextErrors(path, t));
  // An identifiers object names at least one identifier: `{}` is refused like a blank one (a
  // contract item is found by its identifiers only, so an empty set would never price a line).
  const identifiers = (path: string, ids: ItemIdentifiers | undefined) => {
    if (ids !== undefined && Object.keys(ids).length === 0)
      money.push({ path, message: 'must name at least one identifier (buyer_item, supplier_part, ...)' });
    for (const [k, v] of Object.entries(ids ?? {})) text(`${path}/${k}`, v);
  };
  const quantity = (path: string, q: number, what: string) => {
    if (q !== 0 && Math.abs(q) < MIN_ABS_QUANTITY)
      money.push({ path, message: `${what}: quantity must be 0 or at least ${MIN_ABS_QUANTITY}` });
  };
  (load.purchase_orders ?? []).forEach((po, i) => {
    date(`/purchase_orders/${i}/order_date`, po.order_date);
    const seen = new Map<number, number>();
    po.lines.forEach((l, j) => {
      const at = `/purchase_orders/${i}/lines/${j}`;
      if (l.quantity * l.unit_price_cents > MAX_ABS_CENTS)
        money.push({
          path: `${at}/unit_price_cents`,
          message: `PO ${po.po_number} line ${l.line_number}: quantity x unit price must be at most ${MAX_ABS_CENTS} cents`,
        });
      unit(l, at, `PO ${po.po_number} line ${l.line_number}`);
      whole(l, at, `PO ${po.po_number} line ${l.line_number}`);
      text(`${at}/description`, l.description);
      identifiers(`${at}/identifiers`, l.identifiers);
      quantity(`${at}/quantity`, l.quantity, `PO ${po.po_number} line ${l.line_number}`);
      const first = seen.get(l.line_number);
      if (first !== undefined)
        repeated.push({
          path: `${at}/line_number`,
          message: `PO ${po.po_number}: line ${l.line_number} appears twice (first at /purchase_orders/${i}/lines/${first})`,
        });
      else seen.set(l.line_number, j);
    });
  });
  (load.receipts ?? []).forEach((r, i) => {
    unit(r, `/receipts/${i}`, `receipt ${r.receipt_id}`);
    whole(r, `/receipts/${i}`, `receipt ${r.receipt_id}`);
    quantity(`/receipts/${i}/quantity`, r.quantity, `receipt ${r.receipt_id}`);
    date(`/receipts/${i}/received_date`, r.received_date);
    if (r.received_date > latest)
      future.push({
        path: `/receipts/${i}/received_date`,
        message: `receipt ${r.receipt_id}: received_date ${r.received_date} is after ${latest} (the day of the load plus one day); load a receipt once the goods have arrived`,
      });
  });
  (load.contracts ?? []).forEach((c, i) => {
    date(`/contracts/${i}/effective_date`, c.effective_date);
    date(`/contracts/${i}/end_date`, c.end_date);
    text(`/contracts/${i}/tier`, c.tier);
    c.items.forEach((it, j) => {
      unit(it, `/contracts/${i}/items/${j}`, `contract ${c.contract_id} item ${j + 1}`);
      text(`/contracts/${i}/items/${j}/description`, it.description);
      identifiers(`/contracts/${i}/items/${j}/identifiers`, it.identifiers);
    });
    if (c.end_date < c.effective_date)
      dates.push({
        path: `/contracts/${i}/end_date`,
        message: `contract ${c.contract_id}: end_date ${c.end_date} is before effective_date ${c.effective_date}`,
      });
  });
  const kinds: [ErrorCode, FieldError[]][] = [
    ['TRIAGE_INPUT_INVALID', money],
    ['TRIAGE_ERP_UNIT_INVALID', units],
    ['TRIAGE_ERP_LINE_NUMBER_REPEATED', repeated],
    ['TRIAGE_ERP_CONTRACT_DATES_INVALID', dates],
    ['TRIAGE_ERP_RECEIPT_DATE_FUTURE', future],
  ];
  for (const [code, errors] of kinds)
    if (errors.length > 0)
      throw new TriageError(
        code,
        `${errors
          .slice(0, 3)
          .map((e) => `${e.path}: ${e.message}`)
          .join('; ')}${errors.length > 3 ? '; ...' : ''}; nothing was stored`,
        errors,
      );
}

async function knownVendors(tx: SqlExecutor, tenantId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await tx.query<{ vendor_id: string }>(
    'SELECT vendor_id FROM vendors WHERE tenant_id = $1 AND vendor_id = ANY($2::text[])',
    [tenantId, ids],
  );
  return new Set(rows.map((r) => r.vendor_id));
}

/** Field errors of references a load makes that nothing resolves (vendors, POs, PO lines). */
export async function referenceErrors(
  tx: SqlExecutor,
  tenantId: string,
  load: ErpLoad,
): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const pos = load.purchase_orders ?? [];
  const contracts = load.contracts ?? [];
  const vendors = await knownVendors(tx, tenantId, [
    ...new Set([...pos.map((p) => p.vendor_id), ...contracts.map((c) => c.vendor_id)]),
  ]);
  pos.forEach((po, i) => {
    if (!vendors.has(po.vendor_id))
      errors.push({
        path: `/purchase_orders/${i}/vendor_id`,
        message: `PO ${po.po_number}: vendor ${po.vendor_id} is unknown (no vendor profile; PUT /v1/vendors/${po.vendor_id} first)`,
      });
  });
  contracts.forEach((c, i) => {
    if (!vendors.has(c.vendor_id))
      errors.push({
        path: `/contracts/${i}/vendor_id`,
        message: `contract ${c.contract_id}: vendor ${c.vendor_id} is unknown (no vendor profile)`,
      });
  });
  const receipts = load.receipts ?? [];
  const standing = await standingPoLines(tx, tenantId, load);
  receipts.forEach((r, i) => {
    const lines = standing.get(r.po_number);
    if (!lines)
      errors.push({
        path: `/receipts/${i}/po_number`,
        message: `receipt ${r.receipt_id}: PO ${r.po_number} does not exist`,
      });
    else if (!lines.has(r.po_line_number))
      errors.push({
        path: `/receipts/${i}/po_line_number`,
        message: `receipt ${r.receipt_id}: PO ${r.po_number} has no line ${r.po_line_number}`,
      });
  });
  return errors;
}

/**
 * The lines of the POs a load's receipts refer to, by PO number and line number, as each PO will
 * stand after this load: the loaded version when it is newer than the stored one, else the
 * stored one (a stale version in the load is ignored, so its lines do not count).
 */
async function standingPoLines(
  tx: SqlExecutor,
  tenantId: string,
  load: ErpLoad,
): Promise<Map<string, Map<number, PoLine>>> {
  const receipts = load.receipts ?? [];
  if (receipts.length === 0) return new Map();
  const numbers = [...new Set(receipts.map((r) => r.po_number))];
  const rows = await tx.query<{ po_number: string; version: string | number; record: PurchaseOrder }>(
    'SELECT po_number, version, record FROM erp_purchase_orders WHERE tenant_id = $1 AND po_number = ANY($2::text[])',
    [tenantId, numbers],
  );
  const standing = new Map<string, PurchaseOrder>();
  for (const r of rows) standing.set(r.po_number, { ...r.record, version: Number(r.version) });
  for (const p of load.purchase_orders ?? []) {
    const stored = standing.get(p.po_number);
    if (!stored || p.version > stored.version) standing.set(p.po_number, p);
  }
  return new Map([...standing].map(([n, po]) => [n, new Map(po.lines.map((l) => [l.line_number, l]))]));
}

/** Whether the base units (each) in one `uom` are known without a pack quantity (a fixed-count unit: EA, DZ...). */
const convertsAlone = (uom: string): boolean => fixedCountOf(uom) !== null;

/**
 * Receipts of a load in another unit than their PO line (canonical codes of matching/uom.ts)
 * whose conversion is unknown: the matcher counts a receipt in base units (each) as quantity x
 * core/erp.ts `packOf` (a fixed-count unit's count, else `pack_qty`, else 1), so a side in a pack
 * unit needs its `pack_qty` (a CS receipt without it against an EA line would count one case as
 * one each); fixed-count units convert alone (1 DZ against an EA line is 12 each).
 * A receipt in the unit of its line converts one to one and needs none; a `pack_qty` it gives
 * must then be the line's (1 when the line has none). Receipts whose PO line
 * does not exist are left to {@link referenceErrors}.
 * @returns one field error per receipt: at `/receipts/<i>/pack_qty` when the receipt lacks it
 *   or gives another than its line of the same unit,
 *   at `/receipts/<i>/uom` when its PO line does.
 */
export async function receiptUnitErrors(
  tx: SqlExecutor,
  tenantId: string,
  load: ErpLoad,
): Promise<FieldError[]> {
  const standing = await standingPoLines(tx, tenantId, load);
  const errors: FieldError[] = [];
  (load.receipts ?? []).forEach((r, i) => {
    const line = standing.get(r.po_number)?.get(r.po_line_number);
    const problem = line ? unitProblem(r, line) : null;
    if (problem) errors.push({ path: `/receipts/${i}/${problem.field}`, message: problem.message });
  });
  return errors;
}

/** The receipt fields {@link unitProblem} reads. */
type ReceiptUnit = Pick<GoodsReceipt, 'receipt_id' | 'po_number' | 'po_line_number' | 'uom' | 'pack_qty'>;

/**
 * Why receipt `r` does not convert to its PO line `line` (the rule of {@link receiptUnitErrors}):
 * the receipt field to name (`pack_qty` or `uom`), the fact, and the message with its remedy;
 * null when it converts.
 */
function unitProblem(
  r: ReceiptUnit,
  line: PoLine,
): { field: 'pack_qty' | 'uom'; fact: string; message: string } | null {
  const mine = parseUom(r.uom)?.code;
  const theirs = parseUom(line.uom)?.code;
  if (mine === theirs) {
    // One unit of the line's: a pack_qty of its own other than the line's would count each
    // unit received as that many (1 BX of 10 received against a line of 10 BX without one).
    if (r.pack_qty === undefined || r.pack_qty === packOf(line)) return null;
    const fact = `receipt ${r.receipt_id} is in ${mine} like PO ${r.po_number} line ${r.po_line_number}, but with pack_qty ${r.pack_qty} against the line's ${packOf(line)}`;
    return { field: 'pack_qty', fact, message: `${fact}: send the line's pack_qty or none` };
  }
  const what = `receipt ${r.receipt_id} is in ${mine} against PO ${r.po_number} line ${r.po_line_number} in ${theirs}`;
  if (r.pack_qty === undefined && !convertsAlone(r.uom)) {
    const fact = `${what}: without pack_qty the each count of one ${mine} is unknown`;
    return { field: 'pack_qty', fact, message: `${fact}; send pack_qty or receive in ${theirs}` };
  }
  if (line.pack_qty === undefined && !convertsAlone(line.uom)) {
    const fact = `${what}, which has no pack_qty: the each count of one ${theirs} is unknown`;
    return { field: 'uom', fact, message: `${fact}; receive in ${theirs} or send the PO line with pack_qty` };
  }
  return null;
}

/** A stored goods receipt of a PO a load replaces: its id, version and record. */
export type StoredReceipt = {
  receipt_id: string;
  po_number: string;
  po_line_number: number;
  version: string | number;
  record: GoodsReceipt;
};

/**
 * The stored receipts of the POs a load writes a new version of (`written`), by receipt id; what
 * {@link storedReceiptUnitErrors} and {@link orphanedReceipts} check, read once.
 */
export async function storedReceiptsOf(
  tx: SqlExecutor,
  tenantId: string,
  written: readonly PurchaseOrder[],
): Promise<StoredReceipt[]> {
  if (written.length === 0) return [];
  return tx.query<StoredReceipt>(
    `SELECT receipt_id, po_number, po_line_number, version, record FROM erp_receipts
      WHERE tenant_id = $1 AND po_number = ANY($2::text[]) ORDER BY receipt_id`,
    [tenantId, written.map((p) => p.po_number)],
  );
}

/**
 * Stored receipts a load's new PO versions (`written`) would leave without a known conversion:
 * a kept line whose unit or pack quantity changes so that a receipt already stored against it no
 * longer converts by the rule of {@link receiptUnitErrors} (e.g. a BX line of pack 10 sent again
 * without its pack_qty: 10 EA received would count as 10 boxes). Receipts the load sends again
 * with a higher version are checked by {@link receiptUnitErrors} instead.
 * @returns one field error per such receipt, at `/purchase_orders/<i>/lines/<j>` (the new line).
 */
export function storedReceiptUnitErrors(
  stored: readonly StoredReceipt[],
  load: ErpLoad,
  written: readonly PurchaseOrder[],
): FieldError[] {
  const resent = new Map((load.receipts ?? []).map((r) => [r.receipt_id, r.version]));
  const index = new Map((load.purchase_orders ?? []).map((p, i) => [p.po_number, i]));
  const errors: FieldError[] = [];
  for (const po of written)
    for (const { version, record: r } of stored) {
      if (r.po_number !== po.po_number || (resent.get(r.receipt_id) ?? 0) > Number(version)) continue;
      const j = po.lines.findIndex((l) => l.line_number === r.po_line_number);
      const problem = j < 0 ? null : unitProblem(r, po.lines[j]!);
      if (problem)
        errors.push({
          path: `/purchase_orders/${index.get(po.po_number)}/lines/${j}`,
          message: `PO ${po.po_number} version ${po.version} changes line ${r.po_line_number} so that stored ${problem.fact}; keep the line's unit and pack_qty or send the receipt again with a higher version`,
        });
    }
  return errors;
}

/**
 * Receipts a load would leave pointing at a PO line that no longer exists: for each PO the load
 * writes (`written`, a newer version than the stored one), the stored receipts of that PO whose
 * line the new version drops, unless the load also sends a newer version of the receipt (which
 * `referenceErrors` has checked against the new lines). The rule is to refuse: the ERP either
 * keeps the line (e.g. with its received quantity) or moves its receipts in the same load.
 * @returns one field error per dropped line, at `/purchase_orders/<i>/lines`, naming the receipts.
 */
export function orphanedReceipts(
  stored: readonly StoredReceipt[],
  load: ErpLoad,
  written: readonly PurchaseOrder[],
): FieldError[] {
  const resent = new Map<string, GoodsReceipt>((load.receipts ?? []).map((r) => [r.receipt_id, r]));
  const index = new Map((load.purchase_orders ?? []).map((p, i) => [p.po_number, i]));
  const errors: FieldError[] = [];
  for (const po of written) {
    const lines = new Set(po.lines.map((l) => l.line_number));
    const dropped = new Map<number, string[]>();
    for (const r of stored) {
      if (r.po_number !== po.po_number || lines.has(Number(r.po_line_number))) continue;
      const newer = resent.get(r.receipt_id);
      if (newer && newer.version > Number(r.version)) continue;
      const n = Number(r.po_line_number);
      dropped.set(n, [...(dropped.get(n) ?? []), r.receipt_id]);
    }
    for (const [line, ids] of [...dropped].sort((a, b) => a[0] - b[0]))
      errors.push({
        path: `/purchase_orders/${index.get(po.po_number)}/lines`,
        message: `PO ${po.po_number} version ${po.version} drops line ${line}, which receipts ${ids.join(', ')} were received against; keep the line or send those receipts with a higher version against another line in the same load`,
      });
  }
  return errors;
}
