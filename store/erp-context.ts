/**
 * The scoring side of the ERP data (store/erp.ts loads it): the procurement context of one
 * invoice, read inside its scoring transaction, and the quantities it billed against PO lines,
 * written in the same transaction so that the next invoice against the line sees them (unless
 * the ERP rejects it: a rejected invoice's billing no longer counts).
 */
import type {
  Contract,
  GoodsReceipt,
  InvoicedSoFar,
  ProcurementContext,
  ProcurementLookup,
  PurchaseOrder,
} from '../core/erp.js';
import type { SqlExecutor } from './sql.js';

/** What is read to choose the PO: the cited number and the invoice's vendor. */
export interface ProcurementQuery {
  tenantId: string;
  invoiceId: string;
  vendorId: string;
  poNumber: string | undefined;
}

/** Open POs of a vendor offered to the matcher when the invoice cites none (most recent first). */
export const MAX_PO_CANDIDATES = 20;

/**
 * The ERP data to match one invoice against (see core/erp.ts `ProcurementContext`,
 * `ProcurementLookup`). A cited PO the tenant does not have is `po_unknown` when the tenant has
 * any PO loaded (saying whether the invoice's vendor has some), nothing to match otherwise. An invoice citing no
 * PO gets its vendor's one open PO, or up to {@link MAX_PO_CANDIDATES} open ones to choose from
 * (`po_choice`, newest order date first). One or two indexed queries when there is nothing to
 * match; four when there is.
 */
export async function readProcurementContext(
  tx: SqlExecutor,
  q: ProcurementQuery,
): Promise<ProcurementLookup> {
  let po: PurchaseOrder | undefined;
  let chosenBy: ProcurementContext['chosenBy'] = 'cited';
  if (q.poNumber !== undefined) {
    const rows = await tx.query<{ record: PurchaseOrder }>(
      'SELECT record FROM erp_purchase_orders WHERE tenant_id = $1 AND po_number = $2',
      [q.tenantId, q.poNumber],
    );
    po = rows[0]?.record;
    if (!po) {
      const [has] = await tx.query<{ tenant: boolean; vendor: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM erp_purchase_orders WHERE tenant_id = $1) AS tenant,
                EXISTS (SELECT 1 FROM erp_purchase_orders WHERE tenant_id = $1 AND vendor_id = $2) AS vendor`,
        [q.tenantId, q.vendorId],
      );
      return has?.tenant
        ? { kind: 'po_unknown', poNumber: q.poNumber, vendorHasPos: has.vendor }
        : { kind: 'none' };
    }
  } else {
    const rows = await tx.query<{ record: PurchaseOrder }>(
      `SELECT record FROM erp_purchase_orders WHERE tenant_id = $1 AND vendor_id = $2 AND status = 'open'
        ORDER BY order_date DESC, po_number LIMIT $3`,
      [q.tenantId, q.vendorId, MAX_PO_CANDIDATES],
    );
    if (rows.length === 0) return { kind: 'none' };
    if (rows.length > 1) return { kind: 'po_choice', candidates: rows.map((r) => r.record) };
    po = rows[0]!.record;
    chosenBy = 'only_open_po';
  }
  // One after another: a transaction is one connection.
  const receipts = await tx.query<{ record: GoodsReceipt }>(
    'SELECT record FROM erp_receipts WHERE tenant_id = $1 AND po_number = $2',
    [q.tenantId, po.po_number],
  );
  const invoiced = await tx.query<{
    po_line_number: number;
    base: number;
    cents: string | number;
    invoice_id: string;
  }>(
    // Invoices the ERP rejected do not count as billed.
    `SELECT b.po_line_number, b.base_quantity AS base, b.amount_cents AS cents, b.invoice_id
         FROM erp_po_invoiced b JOIN decisions d ON d.id = b.decision_id
        WHERE b.tenant_id = $1 AND b.po_number = $2 AND b.invoice_id <> $3
          AND d.erp_status IS DISTINCT FROM 'rejected'
        ORDER BY b.created_at, b.invoice_id`,
    [q.tenantId, po.po_number, q.invoiceId],
  );
  const contracts = await tx.query<{ record: Contract }>(
    'SELECT record FROM erp_contracts WHERE tenant_id = $1 AND vendor_id = $2',
    [q.tenantId, q.vendorId],
  );
  const byLine = new Map<number, InvoicedSoFar>();
  for (const r of invoiced) {
    const cur = byLine.get(r.po_line_number) ?? { baseQuantity: 0, amountCents: 0, invoiceIds: [] };
    cur.baseQuantity += Number(r.base);
    cur.amountCents += Number(r.cents);
    cur.invoiceIds.push(r.invoice_id);
    byLine.set(r.po_line_number, cur);
  }
  return {
    kind: 'context',
    context: {
      po,
      chosenBy,
      receipts: receipts.map((r) => r.record).sort((a, b) => a.receipt_id.localeCompare(b.receipt_id)),
      invoiced: byLine,
      contracts: contracts.map((r) => r.record).sort((a, b) => a.contract_id.localeCompare(b.contract_id)),
    },
  };
}

/** One PO line's share of an invoice: base units (each) and cents billed against it. */
export interface PoAllocation {
  poLineNumber: number;
  baseQuantity: number;
  amountCents: number;
}

/** Records what a scored invoice billed against the lines of a PO (inside the scoring transaction). */
export async function recordInvoiced(
  tx: SqlExecutor,
  x: { tenantId: string; invoiceId: string; poNumber: string; decisionId: string; createdAt: string },
  allocations: readonly PoAllocation[],
): Promise<void> {
  if (allocations.length === 0) return;
  // One statement for every line of the invoice.
  await tx.query(
    `INSERT INTO erp_po_invoiced (tenant_id, invoice_id, po_number, po_line_number, base_quantity, amount_cents,
       decision_id, created_at)
     SELECT $1, $2, $3, l.n, sum(l.q), sum(l.c), $4, $5
       FROM unnest($6::int[], $7::float8[], $8::bigint[]) AS l(n, q, c) GROUP BY l.n`,
    [
      x.tenantId,
      x.invoiceId,
      x.poNumber,
      x.decisionId,
      x.createdAt,
      allocations.map((a) => a.poLineNumber),
      allocations.map((a) => a.baseQuantity),
      allocations.map((a) => a.amountCents),
    ],
  );
}

const FIRST_MANY_SQL = `
SELECT q.ord::int AS ord,
  CASE WHEN q.po_number IS NULL THEN
    (SELECT json_agg(x.record ORDER BY x.order_date DESC, x.po_number) FROM (
       SELECT record, order_date, po_number FROM erp_purchase_orders
        WHERE tenant_id = $1 AND vendor_id = q.vendor_id AND status = 'open'
        ORDER BY order_date DESC, po_number LIMIT $4) x)
  ELSE (SELECT json_agg(record) FROM erp_purchase_orders WHERE tenant_id = $1 AND po_number = q.po_number)
  END AS pos,
  EXISTS (SELECT 1 FROM erp_purchase_orders WHERE tenant_id = $1) AS tenant_has,
  EXISTS (SELECT 1 FROM erp_purchase_orders WHERE tenant_id = $1 AND vendor_id = q.vendor_id) AS vendor_has
FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS q(vendor_id, po_number, ord)
ORDER BY q.ord`;

/**
 * The first read of {@link readProcurementContext} for several invoices of one tenant in one
 * statement: per query, the lookup when that read settles it (`none`, `po_unknown`,
 * `po_choice`), or null when the PO's receipts, billing and contracts are needed (then
 * {@link readProcurementContext} gives the whole lookup).
 * @returns one entry per query, in order.
 */
export async function readProcurementFirstMany(
  tx: SqlExecutor,
  tenantId: string,
  queries: readonly Omit<ProcurementQuery, 'tenantId'>[],
): Promise<(ProcurementLookup | null)[]> {
  if (queries.length === 0) return [];
  const rows = await tx.query<{
    pos: PurchaseOrder[] | null;
    tenant_has: boolean;
    vendor_has: boolean;
  }>(
    FIRST_MANY_SQL,
    [tenantId, queries.map((q) => q.vendorId), queries.map((q) => q.poNumber ?? null), MAX_PO_CANDIDATES],
    { name: 'procurement_first_many' },
  );
  return rows.map((r, j): ProcurementLookup | null => {
    const pos = r.pos ?? [];
    const poNumber = queries[j]!.poNumber;
    if (poNumber !== undefined) {
      if (pos.length > 0) return null;
      return r.tenant_has ? { kind: 'po_unknown', poNumber, vendorHasPos: r.vendor_has } : { kind: 'none' };
    }
    if (pos.length === 0) return { kind: 'none' };
    return pos.length > 1 ? { kind: 'po_choice', candidates: pos } : null;
  });
}
