/**
 * Vendor master profiles per tenant (category and approved service categories). Each change
 * bumps the profile's version and is audited as `vendor.updated` in the same transaction.
 */
import type { VendorProfile, VendorProfileInput } from '../core/vendor.js';
import { appendAudit } from './audit.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';
import { lockForTransaction, lockKey } from './locks.js';
import { readVendorBaselines, readVendorCodeCounts } from './vendor-stats.js';
import type { VendorCodeBaseline } from '../features/baselines.js';

/** Vendor profile operations. */
export interface VendorStore {
  /** The tenant's profile of a vendor, or null. */
  get(tenantId: string, vendorId: string): Promise<VendorProfile | null>;
  /**
   * The vendor's billing history: upper-case HCPCS code -> number of lines of the tenant's stored
   * invoices of `vendorId` that billed it (all stored invoices, i.e. those scored before). Empty
   * map for a new vendor. One primary-key range read of `vendor_code_counts`, which every write
   * of lines keeps current (store/vendor-stats.ts).
   */
  codeCounts(tenantId: string, vendorId: string): Promise<Map<string, number>>;
  /**
   * The vendor's quantity and unit-price baselines for `codes` (upper-case HCPCS), learned from
   * its imported history and auto-approved invoices (store/vendor-stats.ts); codes without
   * observations are absent.
   */
  baselines(
    tenantId: string,
    vendorId: string,
    codes: readonly string[],
  ): Promise<Map<string, VendorCodeBaseline>>;
  /**
   * Creates or replaces a profile (version + 1) and audits the change.
   * @returns the stored profile and whether it was created.
   */
  put(
    tenantId: string,
    vendorId: string,
    input: VendorProfileInput,
    actorKeyId: string | null,
  ): Promise<{ profile: VendorProfile; created: boolean }>;
}

function toProfile(r: Record<string, unknown>): VendorProfile {
  return {
    vendor_id: String(r.vendor_id),
    name: (r.name as string | null) ?? null,
    category: (r.category as string | null) ?? null,
    approved_betos: (r.approved_betos as string[] | null) ?? [],
    approved_hcpcs_prefixes: (r.approved_hcpcs_prefixes as string[] | null) ?? [],
    version: Number(r.version),
    updated_at: r.updated_at instanceof Date ? r.updated_at.toISOString() : String(r.updated_at),
  };
}

/** Reads a profile with any executor (also inside a scoring transaction). */
export async function readVendorProfile(
  db: SqlExecutor,
  tenantId: string,
  vendorId: string,
): Promise<VendorProfile | null> {
  const rows = await db.query('SELECT * FROM vendors WHERE tenant_id = $1 AND vendor_id = $2', [
    tenantId,
    vendorId,
  ]);
  return rows[0] ? toProfile(rows[0]) : null;
}

/** The vendor store over an opened, migrated database. */
export function createVendorStore(db: SqlDatabase): VendorStore {
  return {
    codeCounts: (tenantId, vendorId) => readVendorCodeCounts(db, tenantId, vendorId),
    baselines: (tenantId, vendorId, codes) => readVendorBaselines(db, tenantId, vendorId, codes),
    get: (tenantId, vendorId) => readVendorProfile(db, tenantId, vendorId),
    put: (tenantId, vendorId, input, actor) =>
      db.transaction(async (tx) => {
        await lockForTransaction(tx, [lockKey('vendor', tenantId, vendorId)]);
        const prev = await tx.query<{ version: number }>(
          'SELECT version FROM vendors WHERE tenant_id = $1 AND vendor_id = $2',
          [tenantId, vendorId],
        );
        const version = (prev[0]?.version ?? 0) + 1;
        const rows = await tx.query(
          `INSERT INTO vendors (tenant_id, vendor_id, name, category, approved_betos, approved_hcpcs_prefixes,
             version, updated_at, updated_by)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)
           ON CONFLICT (tenant_id, vendor_id) DO UPDATE SET name = EXCLUDED.name, category = EXCLUDED.category,
             approved_betos = EXCLUDED.approved_betos, approved_hcpcs_prefixes = EXCLUDED.approved_hcpcs_prefixes,
             version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
           RETURNING *`,
          [
            tenantId,
            vendorId,
            input.name ?? null,
            input.category ?? null,
            [...input.approved_betos].sort(),
            [...input.approved_hcpcs_prefixes].sort(),
            version,
            new Date().toISOString(),
            actor,
          ],
        );
        const profile = toProfile(rows[0]!);
        await appendAudit(tx, {
          tenantId,
          actorKeyId: actor,
          kind: 'vendor.updated',
          subjectId: vendorId,
          payload: {
            vendor_id: vendorId,
            version,
            category: profile.category,
            approved_betos: profile.approved_betos,
            approved_hcpcs_prefixes: profile.approved_hcpcs_prefixes,
          },
        });
        return { profile, created: version === 1 };
      }),
  };
}
