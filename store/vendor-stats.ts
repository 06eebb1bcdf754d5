/**
 * Per-vendor, per-code statistics kept incrementally by every write of invoice lines (the
 * scoring write, the history import), in the same transaction and one statement:
 *
 * - `vendor_code_counts`: how many stored lines of a vendor billed each HCPCS code (every line);
 * - `vendor_code_bins`: log-binned histograms of quantity and unit price per vendor and code
 *   (features/baselines.ts), from the lines that count as the vendor's normal billing: imported
 *   history, and invoices the service auto-approved.
 *
 * Reading a vendor's history is then one primary-key range read, whatever its length.
 */
import type { InvoiceLine } from '../core/invoice.js';
import { baselineBin, baselineOfBins, hcpcsCode, type VendorCodeBaseline } from '../features/baselines.js';
import type { SqlExecutor } from './sql.js';

/** The lines of one invoice of a vendor, and whether they feed the vendor's baselines. */
export interface VendorLines {
  vendorId: string;
  lines: readonly Pick<InvoiceLine, 'code' | 'quantity' | 'unit_price_cents'>[];
  /** True for lines that show the vendor's normal billing (history, auto-approved, reviewed). */
  baseline: boolean;
  /** False for lines already counted in `vendor_code_counts` (default true). */
  count?: boolean;
}

const byKey = <T>(m: Map<string, T>): T[] =>
  [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);

/**
 * Adds the HCPCS lines of `invoices` to the tenant's code counts and baseline histograms in one
 * statement (upserts in key order, so concurrent writers lock rows in the same order). Call
 * inside the transaction that writes the lines.
 */
export async function addVendorLineStats(
  tx: SqlExecutor,
  tenantId: string,
  invoices: readonly VendorLines[],
): Promise<void> {
  const counts = new Map<string, { vendorId: string; code: string; n: number }>();
  const bins = new Map<string, { vendorId: string; code: string; metric: string; bin: number; n: number }>();
  const addBin = (vendorId: string, code: string, metric: string, value: number): void => {
    const bin = baselineBin(value);
    if (bin === null) return;
    const key = `${vendorId}\u0001${code}\u0001${metric}\u0001${bin}`;
    const hit = bins.get(key);
    if (hit) hit.n++;
    else bins.set(key, { vendorId, code, metric, bin, n: 1 });
  };
  for (const inv of invoices)
    for (const line of inv.lines) {
      const code = hcpcsCode(line);
      if (code === null) continue;
      const key = `${inv.vendorId}\u0001${code}`;
      const hit = counts.get(key);
      if (inv.count === false) {
        // Already counted when the lines were stored.
      } else if (hit) hit.n++;
      else counts.set(key, { vendorId: inv.vendorId, code, n: 1 });
      if (inv.baseline) {
        addBin(inv.vendorId, code, 'quantity', line.quantity);
        addBin(inv.vendorId, code, 'unit_price', line.unit_price_cents);
      }
    }
  if (counts.size === 0 && bins.size === 0) return;
  const c = byKey(counts);
  const b = byKey(bins);
  await tx.query(
    `WITH counted AS (
       INSERT INTO vendor_code_counts (tenant_id, vendor_id, code, lines)
       SELECT $1, v, c, n FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(v, c, n)
       ON CONFLICT (tenant_id, vendor_id, code) DO UPDATE SET lines = vendor_code_counts.lines + EXCLUDED.lines
       RETURNING 1)
     INSERT INTO vendor_code_bins (tenant_id, vendor_id, code, metric, bin, n)
     SELECT $1, v, c, m, b, n FROM unnest($5::text[], $6::text[], $7::text[], $8::int[], $9::bigint[]) AS u(v, c, m, b, n)
     ON CONFLICT (tenant_id, vendor_id, code, metric, bin) DO UPDATE SET n = vendor_code_bins.n + EXCLUDED.n`,
    [
      tenantId,
      c.map((r) => r.vendorId),
      c.map((r) => r.code),
      c.map((r) => String(r.n)),
      b.map((r) => r.vendorId),
      b.map((r) => r.code),
      b.map((r) => r.metric),
      b.map((r) => r.bin),
      b.map((r) => String(r.n)),
    ],
    { name: 'vendor_line_stats' },
  );
}

/**
 * Adds the lines of a stored invoice to its vendor's baselines (not to the code counts, which
 * hold them already): for an invoice a reviewer closed as a coding false positive while no line's
 * exception stands (store/reviews.ts), whose lines are then the vendor's normal billing. Call inside the review's transaction, once per invoice.
 */
export async function addReviewedLines(tx: SqlExecutor, tenantId: string, invoicePk: string): Promise<void> {
  const rows = await tx.query<{
    vendor_id: string;
    code_system: string | null;
    code: string | null;
    quantity: string | number;
    unit_price_cents: string | number;
  }>(
    `SELECT i.vendor_id, l.code_system, l.code, l.quantity, l.unit_price_cents
       FROM invoices i JOIN invoice_lines l ON l.invoice_pk = i.pk WHERE i.pk = $1 ORDER BY l.line_number`,
    [invoicePk],
  );
  if (rows.length === 0) return;
  const lines = rows.map((r) => ({
    code: r.code_system && r.code ? { system: r.code_system as 'HCPCS', value: r.code } : undefined,
    quantity: Number(r.quantity),
    unit_price_cents: Number(r.unit_price_cents),
  }));
  await addVendorLineStats(tx, tenantId, [
    { vendorId: rows[0]!.vendor_id, lines, baseline: true, count: false },
  ]);
}

/**
 * The vendor's billing history: upper-case HCPCS code -> number of stored lines of the tenant's
 * invoices of `vendorId` that billed it (scored and imported history). Empty for a new vendor.
 */
export async function readVendorCodeCounts(
  db: SqlExecutor,
  tenantId: string,
  vendorId: string,
): Promise<Map<string, number>> {
  const rows = await db.query<{ code: string; lines: string | number }>(
    'SELECT code, lines FROM vendor_code_counts WHERE tenant_id = $1 AND vendor_id = $2',
    [tenantId, vendorId],
  );
  return new Map(rows.map((r) => [r.code, Number(r.lines)]));
}

/**
 * The vendor's quantity and unit-price baselines of `codes` (upper-case HCPCS), from its
 * histograms; codes without observations are absent.
 */
export async function readVendorBaselines(
  db: SqlExecutor,
  tenantId: string,
  vendorId: string,
  codes: readonly string[],
): Promise<Map<string, VendorCodeBaseline>> {
  if (codes.length === 0) return new Map();
  const rows = await db.query<VendorBinRow>(
    `SELECT code, metric, bin, n FROM vendor_code_bins
      WHERE tenant_id = $1 AND vendor_id = $2 AND code = ANY($3::text[])`,
    [tenantId, vendorId, [...new Set(codes)]],
  );
  return baselinesOfBins(rows);
}

/** A stored histogram bin of a vendor's code (`vendor_code_bins`). */
export type VendorBinRow = {
  code: string;
  /** `quantity` or `unit_price`. */
  metric: string;
  bin: number;
  n: string | number;
};

/** The baselines of the codes of histogram bins (in the order the codes first appear). */
export function baselinesOfBins(rows: readonly VendorBinRow[]): Map<string, VendorCodeBaseline> {
  const hist = new Map<string, { quantity: Map<number, number>; unit_price: Map<number, number> }>();
  for (const r of rows) {
    let h = hist.get(r.code);
    if (!h) hist.set(r.code, (h = { quantity: new Map(), unit_price: new Map() }));
    (r.metric === 'quantity' ? h.quantity : h.unit_price).set(Number(r.bin), Number(r.n));
  }
  return new Map(
    [...hist.entries()].map(([code, h]) => [
      code,
      { quantity: baselineOfBins(h.quantity), unitPrice: baselineOfBins(h.unit_price) },
    ]),
  );
}
