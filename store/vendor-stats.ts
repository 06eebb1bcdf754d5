/**
 * Per-vendor, per-code statistics kept incrementally by every write of invoice lines (the
 * scoring write, the history import), in the same transaction and one statement:
 *
 * - `vendor_code_counts`: how many stored lines of a vendor billed each HCPCS code (every line);
 * - `vendor_code_bins`: log-binned histograms of quantity and unit price per vendor and code
 *   (features/baselines.ts), from the lines that count as the vendor's normal billing: imported
 *   history, and the scored lines store/baseline-lines.ts lets in (per line, at scoring and
 *   after reviews).
 *
 * Reading a vendor's history is then one primary-key range read, whatever its length.
 */
import type { InvoiceLine } from '../core/invoice.js';
import { TriageError } from '../core/errors.js';
import { baselineBin, baselineOfBins, hcpcsCode, type VendorCodeBaseline } from '../features/baselines.js';
import type { SqlExecutor } from './sql.js';

/** A line as the statistics read it. */
export type VendorLine = Pick<InvoiceLine, 'line_number' | 'code' | 'quantity' | 'unit_price_cents'>;

/** The lines of one invoice of a vendor, and which of them feed the vendor's baselines. */
export interface VendorLines {
  vendorId: string;
  lines: readonly VendorLine[];
  /**
   * The lines that show the vendor's normal billing: all (`true`: history, reviewed), none, or
   * those whose line number is in the set (scored, store/baseline-lines.ts).
   */
  baseline: boolean | ReadonlySet<number>;
  /** False for lines already counted in `vendor_code_counts` (default true). */
  count?: boolean;
  /**
   * -1 takes the baseline lines out of the histograms (lines counted in them before, with
   * `count: false`); default 1 adds them.
   */
  sign?: 1 | -1;
}

const byKey = <T>(m: Map<string, T>): T[] =>
  [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);

const feeds = (inv: VendorLines, line: VendorLine): boolean =>
  typeof inv.baseline === 'boolean' ? inv.baseline : inv.baseline.has(line.line_number);

/**
 * Adds the HCPCS lines of `invoices` to the tenant's code counts and baseline histograms in one
 * statement (upserts in key order, so concurrent writers lock rows in the same order), and takes
 * out those with `sign: -1` in a second one (rows locked in key order first). Call inside the
 * transaction that writes or reviews the lines.
 * @throws TriageError `TRIAGE_INTERNAL` when a line taken out was not counted (its bin is missing;
 *   a bin that would go below zero fails the table's CHECK).
 */
export async function addVendorLineStats(
  tx: SqlExecutor,
  tenantId: string,
  invoices: readonly VendorLines[],
): Promise<void> {
  const counts = new Map<string, { vendorId: string; code: string; n: number }>();
  const bins = new Map<string, { vendorId: string; code: string; metric: string; bin: number; n: number }>();
  const addBin = (vendorId: string, code: string, metric: string, value: number, sign: number): void => {
    const bin = baselineBin(value);
    if (bin === null) return;
    const key = `${vendorId}\u0001${code}\u0001${metric}\u0001${bin}`;
    const hit = bins.get(key);
    if (hit) hit.n += sign;
    else bins.set(key, { vendorId, code, metric, bin, n: sign });
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
      if (feeds(inv, line)) {
        addBin(inv.vendorId, code, 'quantity', line.quantity, inv.sign ?? 1);
        addBin(inv.vendorId, code, 'unit_price', line.unit_price_cents, inv.sign ?? 1);
      }
    }
  const c = byKey(counts);
  const b = byKey(bins).filter((r) => r.n > 0);
  const taken = byKey(bins).filter((r) => r.n < 0);
  if (c.length > 0 || b.length > 0)
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
  if (taken.length > 0) await takeOutOfBins(tx, tenantId, taken);
}

/** Decrements histogram bins (`n` negative: the count to take off), rows locked in key order. */
async function takeOutOfBins(
  tx: SqlExecutor,
  tenantId: string,
  rows: readonly { vendorId: string; code: string; metric: string; bin: number; n: number }[],
): Promise<void> {
  const keys = `unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[]) AS u(v, c, m, b, n)`;
  const match = `x.tenant_id = $1 AND x.vendor_id = u.v AND x.code = u.c AND x.metric = u.m AND x.bin = u.b`;
  const params = [
    tenantId,
    rows.map((r) => r.vendorId),
    rows.map((r) => r.code),
    rows.map((r) => r.metric),
    rows.map((r) => r.bin),
    rows.map((r) => String(-r.n)),
  ];
  await tx.query(
    `SELECT 1 FROM vendor_code_bins x JOIN ${keys} ON ${match}
      ORDER BY x.vendor_id, x.code, x.metric, x.bin FOR UPDATE OF x`,
    params,
  );
  const updated = await tx.query(
    `UPDATE vendor_code_bins x SET n = x.n - u.n FROM ${keys} WHERE ${match} RETURNING 1`,
    params,
  );
  if (updated.length !== rows.length)
    throw new TriageError(
      'TRIAGE_INTERNAL',
      `${rows.length - updated.length} baseline bins to take lines out of are missing`,
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
