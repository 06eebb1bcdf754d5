/**
 * The reads scoring makes before its transaction (stages 2-4: the policy and vendor-profile
 * versions, the vendor's code counts and its baselines of the invoice's codes) for several
 * invoices of one tenant in one statement, as batch chunks read them per group. Each member's
 * result equals what `configVersions`, `readVendorCodeCounts` and `readVendorBaselines`
 * (store/vendor-stats.ts) return for it alone.
 */
import type { VendorCodeBaseline } from '../features/baselines.js';
import type { SqlExecutor } from './sql.js';
import { baselinesOfBins, type VendorBinRow } from './vendor-stats.js';

/** One invoice's side of {@link readScoringInputsMany}. */
export interface ScoringInputsQuery {
  vendorId: string;
  /** Upper-case HCPCS codes of the invoice's lines (repeats allowed). */
  codes: readonly string[];
}

/** What {@link readScoringInputsMany} returns per invoice. */
export interface ScoringInputs {
  /** The tenant's latest policy version (1 when none is stored) and the vendor profile's (null: none). */
  versions: { policy: number; vendor: number | null };
  /** Code -> stored lines of the vendor billing it; empty when not asked for. */
  codeCounts: Map<string, number>;
  /** The vendor's baselines of the invoice's codes; codes without observations are absent. */
  baselines: Map<string, VendorCodeBaseline>;
}

const MANY_SQL = `
SELECT q.ord::int AS ord,
  (SELECT max(version) FROM policies WHERE tenant_id = $1) AS policy,
  (SELECT v.version FROM vendors v WHERE v.tenant_id = $1 AND v.vendor_id = q.vendor_id) AS vendor,
  CASE WHEN $2::boolean THEN
    (SELECT json_agg(json_build_array(c.code, c.lines)) FROM vendor_code_counts c
      WHERE c.tenant_id = $1 AND c.vendor_id = q.vendor_id) END AS counts,
  (SELECT json_agg(json_build_array(b.code, b.metric, b.bin, b.n)) FROM vendor_code_bins b
    WHERE b.tenant_id = $1 AND b.vendor_id = q.vendor_id
      AND b.code = ANY (ARRAY(SELECT json_array_elements_text(q.codes::json)))) AS bins
FROM unnest($3::text[], $4::text[]) WITH ORDINALITY AS q(vendor_id, codes, ord)
ORDER BY q.ord`;

/**
 * Reads the scoring inputs of several invoices of one tenant in one statement.
 * @param withCodeCounts whether the code counts are read (the coding scorer uses them).
 * @returns one entry per query, in order.
 */
export async function readScoringInputsMany(
  db: SqlExecutor,
  tenantId: string,
  queries: readonly ScoringInputsQuery[],
  withCodeCounts: boolean,
): Promise<ScoringInputs[]> {
  if (queries.length === 0) return [];
  const rows = await db.query<{
    policy: number | null;
    vendor: number | string | null;
    counts: [string, number][] | null;
    bins: [string, string, number, number][] | null;
  }>(
    MANY_SQL,
    [
      tenantId,
      withCodeCounts,
      queries.map((q) => q.vendorId),
      queries.map((q) => JSON.stringify([...new Set(q.codes)])),
    ],
    { name: 'scoring_inputs_many' },
  );
  return rows.map((r) => ({
    versions: { policy: r.policy ?? 1, vendor: r.vendor === null ? null : Number(r.vendor) },
    codeCounts: new Map((r.counts ?? []).map(([code, n]) => [code, Number(n)])),
    baselines: baselinesOfBins(
      (r.bins ?? []).map(([code, metric, bin, n]): VendorBinRow => ({ code, metric, bin, n })),
    ),
  }));
}
