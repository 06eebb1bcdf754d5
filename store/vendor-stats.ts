/**
 * Per-vendor, per-code statistics kept incrementally: `vendor_code_counts` (how many stored lines
 * of a vendor billed each HCPCS code). Every write of invoice lines (the scoring write, the
 * history import) adds its lines in the same transaction, so reading the vendor's history is one
 * indexed lookup whatever the size of the history.
 */
import type { InvoiceLine } from '../core/invoice.js';
import type { SqlExecutor } from './sql.js';

/** The lines of one vendor's invoice written together (all of one tenant). */
export interface VendorLines {
  vendorId: string;
  lines: readonly Pick<InvoiceLine, 'code'>[];
}

/** Upper-case HCPCS code of a line, or null for lines without one (the only lines counted). */
export function hcpcsCode(line: Pick<InvoiceLine, 'code'>): string | null {
  return line.code?.system === 'HCPCS' && line.code.value ? line.code.value.toUpperCase() : null;
}

/**
 * Adds the HCPCS lines of `invoices` to the tenant's `vendor_code_counts` in one statement (an
 * upsert per vendor and code, in key order so concurrent writers lock rows in the same order).
 * Call inside the transaction that writes the lines.
 */
export async function addVendorCodeCounts(
  tx: SqlExecutor,
  tenantId: string,
  invoices: readonly VendorLines[],
): Promise<void> {
  const counts = new Map<string, { vendorId: string; code: string; n: number }>();
  for (const inv of invoices)
    for (const line of inv.lines) {
      const code = hcpcsCode(line);
      if (code === null) continue;
      const key = `${inv.vendorId}\u0001${code}`;
      const hit = counts.get(key);
      if (hit) hit.n++;
      else counts.set(key, { vendorId: inv.vendorId, code, n: 1 });
    }
  if (counts.size === 0) return;
  const rows = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  await tx.query(
    `INSERT INTO vendor_code_counts (tenant_id, vendor_id, code, lines)
     SELECT $1, v, c, n FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(v, c, n)
     ON CONFLICT (tenant_id, vendor_id, code) DO UPDATE SET lines = vendor_code_counts.lines + EXCLUDED.lines`,
    [tenantId, rows.map((r) => r.vendorId), rows.map((r) => r.code), rows.map((r) => String(r.n))],
  );
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
