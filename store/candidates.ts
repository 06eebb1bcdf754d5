/**
 * Duplicate-candidate search: the blocking spec of core/blocking.ts rendered to SQL. Earlier
 * invoices of a tenant close to a new one by embedding (pgvector kNN, exact up to a row count
 * and by HNSW beyond it), within the same vendor near the invoice date, or sharing an exact
 * blocking key (vendor + canonical invoice number; vendor + total + date; a credit memo's
 * negated total).
 */
import { BLOCKING_SPEC, exactKeysSql, vendorWindowSql, type BlockingKeys } from '../core/blocking.js';
import type { DecisionKind } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import type { SqlExecutor } from './sql.js';
import { toVectorLiteral } from './sql.js';

/** An earlier invoice returned as a duplicate candidate. Money in cents, dates `YYYY-MM-DD`. */
export interface CandidateInvoice {
  invoiceId: string;
  decisionId: string;
  decision: DecisionKind;
  vendorId: string;
  vendorName: string;
  vendorKey: string;
  vendorTaxId: string | null;
  vendorNpi: string | null;
  invoiceNumber: string;
  invoiceNumberNormalised: string;
  invoiceNumberCanonical: string;
  invoiceDate: string;
  totalCents: number;
  currency: string;
  documentType: Invoice['document_type'];
  poNumber: string | null;
  servicePeriodStart: string | null;
  servicePeriodEnd: string | null;
  lineMatchKeys: string[];
  /** Cosine distance of the invoice embeddings (0 = identical direction). */
  embeddingDistance: number;
  /** How the candidate was found: tenant-wide kNN, exact kNN among the vendor's invoices, exact key. */
  sources: CandidateSource[];
  /** auto_approved, reviewed_not_exception (a reviewer called its exception a false positive), or null. */
  approval: 'auto_approved' | 'reviewed_not_exception' | null;
  /** Cents credited against this invoice by credit memos that reverse it (>= 0). */
  reversedCents: number;
  /** Client ids of the credit memos reversing it, oldest first. */
  reversedBy: string[];
}

/** How a candidate was found. */
export type CandidateSource = 'knn' | 'vendor_knn' | 'exact_key';

/**
 * How the tenant-wide nearest-neighbour search ran (recall guard for filtered HNSW):
 * `exact` when the tenant holds at most `exactSearchMaxRows` invoices (a sequential scan of the
 * tenant is cheap and exact); else `hnsw_iterative` (pgvector >= 0.8 iterative index scan in
 * strict order, which keeps scanning until k rows pass the tenant filter) or `hnsw`; and
 * `hnsw_then_exact` when the index scan still returned fewer than k rows of a tenant that
 * has more, and the search was redone exactly.
 */
export interface CandidateSearch {
  method: 'exact' | 'hnsw' | 'hnsw_iterative' | 'hnsw_then_exact';
  k: number;
  /** Tenant invoices counted (capped at exactSearchMaxRows + 1). */
  tenantRowsCounted: number;
  knnFound: number;
  vendorKnnFound: number;
  exactKeyFound: number;
}

/** Candidates and how they were searched. */
export interface CandidateResult {
  candidates: CandidateInvoice[];
  search: CandidateSearch;
}

/** Tuning of the candidate search. */
export interface CandidateSearchOptions {
  /** Tenants with at most this many invoices are searched exactly; default 20 000. */
  exactSearchMaxRows?: number;
  /** The vendor-scoped exact kNN looks at invoices dated within this many days; default 400. */
  vendorWindowDays?: number;
}

/**
 * Query of {@link TriageRepository.findDuplicateCandidates}: the new invoice's blocking keys
 * (credit memos also block on the negated total) and its tenant.
 */
export interface CandidateQuery extends BlockingKeys {
  tenantId: string;
  /** Nearest neighbours to fetch by embedding. */
  k: number;
}

type Row = Record<string, unknown>;

const CANDIDATE_COLUMNS = `
  i.pk, i.invoice_id, d.id AS decision_id, d.decision, i.vendor_id, i.vendor_name, i.vendor_key,
  i.vendor_tax_id, i.vendor_npi, i.invoice_number, i.invoice_number_normalised, i.invoice_number_canonical,
  i.invoice_date::text AS invoice_date, i.total_cents::text AS total_cents, i.currency, i.document_type,
  i.po_number, i.service_period_start::text AS service_period_start,
  i.service_period_end::text AS service_period_end,
  (i.embedding <=> $1::vector) AS distance,
  ARRAY(SELECT l.match_key FROM invoice_lines l WHERE l.invoice_pk = i.pk ORDER BY l.line_number) AS line_keys,
  CASE WHEN d.decision = 'AUTO_APPROVE' THEN 'auto_approved'
       WHEN EXISTS (SELECT 1 FROM reviews r WHERE r.decision_id = d.id AND r.outcome = 'false_positive'
                    AND r.task <> 'other' AND r.closes_item) THEN 'reviewed_not_exception'
  END AS approval,
  (SELECT COALESCE(sum(-c.total_cents), 0)::text FROM invoices c WHERE c.reverses_invoice_pk = i.pk) AS reversed_cents,
  ARRAY(SELECT c.invoice_id FROM invoices c WHERE c.reverses_invoice_pk = i.pk ORDER BY c.created_at) AS reversed_by`;

function toCandidate(r: Row, source: CandidateSource): CandidateInvoice {
  return {
    invoiceId: String(r.invoice_id),
    decisionId: String(r.decision_id),
    decision: r.decision as DecisionKind,
    vendorId: String(r.vendor_id),
    vendorName: String(r.vendor_name),
    vendorKey: String(r.vendor_key),
    vendorTaxId: (r.vendor_tax_id as string | null) ?? null,
    vendorNpi: (r.vendor_npi as string | null) ?? null,
    invoiceNumber: String(r.invoice_number),
    invoiceNumberNormalised: String(r.invoice_number_normalised),
    invoiceNumberCanonical: String(r.invoice_number_canonical),
    invoiceDate: String(r.invoice_date),
    totalCents: Number(r.total_cents),
    currency: String(r.currency).trim(),
    documentType: r.document_type as Invoice['document_type'],
    poNumber: (r.po_number as string | null) ?? null,
    servicePeriodStart: (r.service_period_start as string | null) ?? null,
    servicePeriodEnd: (r.service_period_end as string | null) ?? null,
    lineMatchKeys: (r.line_keys as string[] | null) ?? [],
    embeddingDistance: Number(r.distance),
    sources: [source],
    approval: (r.approval as CandidateInvoice['approval']) ?? null,
    reversedCents: Number(r.reversed_cents ?? 0),
    reversedBy: (r.reversed_by as string[] | null) ?? [],
  };
}

/** Default of {@link CandidateSearchOptions.exactSearchMaxRows}: the spec's crossover. */
export const DEFAULT_EXACT_MAX_ROWS = BLOCKING_SPEC.exactSearchMaxRows;
/** Default of {@link CandidateSearchOptions.vendorWindowDays}: the spec's window. */
export const DEFAULT_VENDOR_WINDOW_DAYS = BLOCKING_SPEC.vendorWindowDays;

/** Placeholders of the exact-key query below. */
const EXACT_PARAMS = {
  invoiceNumberCanonical: '$3',
  vendorKey: '$4',
  vendorId: '$5',
  totalCents: '$6',
  invoiceDate: '$7',
  documentType: '$8',
} as const;

/** pgvector >= 0.8 has iterative index scans (`hnsw.iterative_scan`); cached per database. */
export async function hasIterativeScan(db: SqlExecutor): Promise<boolean> {
  const rows = await db.query<{ v: string }>(
    `SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`,
  );
  const [major, minor] = (rows[0]?.v ?? '0.0').split('.').map(Number);
  return (major ?? 0) > 0 || (minor ?? 0) >= 8;
}

export async function findCandidates(
  db: SqlExecutor,
  q: CandidateQuery,
  opts: Required<CandidateSearchOptions> & { iterative: (db: SqlExecutor) => Promise<boolean> },
): Promise<CandidateResult> {
  const vec = toVectorLiteral(q.embedding);
  const from = `FROM invoices i JOIN decisions d ON d.invoice_pk = i.pk`;
  // Recall guard: count the tenant's invoices up to the exact-search limit.
  const counted = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM invoices WHERE tenant_id = $1 LIMIT $2) s`,
    [q.tenantId, opts.exactSearchMaxRows + 1],
  );
  const tenantRows = counted[0]!.n;
  // "+ 0" keeps the planner off the HNSW index: an exact scan of the tenant's rows.
  const exactKnn = () =>
    db.query(
      `SELECT ${CANDIDATE_COLUMNS} ${from} WHERE i.tenant_id = $2 ORDER BY (i.embedding <=> $1::vector) + 0, i.pk LIMIT $3`,
      [vec, q.tenantId, q.k],
    );
  let method: CandidateSearch['method'];
  let knn: Row[];
  if (tenantRows <= opts.exactSearchMaxRows) {
    method = 'exact';
    knn = await exactKnn();
  } else {
    // Asked on this executor: on PGlite a query on the database from inside a transaction waits forever.
    const iterative = await opts.iterative(db);
    // SET LOCAL lasts until the end of the (scoring) transaction.
    await db.query(`SELECT set_config('hnsw.ef_search', $1, true)`, [String(Math.max(40, q.k * 4))]);
    if (iterative) await db.query(`SELECT set_config('hnsw.iterative_scan', 'strict_order', true)`);
    method = iterative ? 'hnsw_iterative' : 'hnsw';
    knn = await db.query(
      `SELECT ${CANDIDATE_COLUMNS} ${from} WHERE i.tenant_id = $2 ORDER BY i.embedding <=> $1::vector LIMIT $3`,
      [vec, q.tenantId, q.k],
    );
    if (knn.length < q.k) {
      method = 'hnsw_then_exact';
      knn = await exactKnn();
    }
  }
  // Exact kNN among the same vendor's invoices (by id or normalised name) near the invoice date:
  // duplicates nearly always come from the same vendor, whatever the tenant-wide neighbours are.
  const vendorKnn = await db.query(
    `SELECT ${CANDIDATE_COLUMNS} ${from}
     WHERE i.tenant_id = $2 AND ${vendorWindowSql({ vendorId: '$4', vendorKey: '$5', invoiceDate: '$6' }, '$7')}
     ORDER BY (i.embedding <=> $1::vector) + 0, i.pk LIMIT $3`,
    [vec, q.tenantId, q.k, q.vendorId, q.vendorKey, q.invoiceDate, opts.vendorWindowDays],
  );
  const exact = await db.query(
    `SELECT ${CANDIDATE_COLUMNS} ${from}
     WHERE i.tenant_id = $2 AND ${exactKeysSql(BLOCKING_SPEC, EXACT_PARAMS)}
     ORDER BY i.created_at DESC, i.pk DESC LIMIT $9`,
    [
      vec,
      q.tenantId,
      q.invoiceNumberCanonical,
      q.vendorKey,
      q.vendorId,
      q.totalCents,
      q.invoiceDate,
      q.documentType ?? 'invoice',
      BLOCKING_SPEC.exactLimit,
    ],
  );
  const byId = new Map<string, CandidateInvoice>();
  const add = (rows: Row[], source: CandidateSource): void => {
    for (const r of rows) {
      const seen = byId.get(String(r.invoice_id));
      if (!seen) byId.set(String(r.invoice_id), toCandidate(r, source));
      else if (!seen.sources.includes(source)) seen.sources.push(source);
    }
  };
  add(knn, 'knn');
  add(vendorKnn, 'vendor_knn');
  add(exact, 'exact_key');
  return {
    candidates: [...byId.values()],
    search: {
      method,
      k: q.k,
      tenantRowsCounted: tenantRows,
      knnFound: knn.length,
      vendorKnnFound: vendorKnn.length,
      exactKeyFound: exact.length,
    },
  };
}
