/**
 * Duplicate-candidate search: the blocking spec of core/blocking.ts rendered to SQL. Earlier
 * invoices of a tenant close to a new one by embedding (pgvector kNN, exact up to a row count
 * and by HNSW beyond it), within the same vendor near the invoice date, or sharing an exact
 * blocking key (vendor + canonical invoice number; vendor + total + date; a credit memo's
 * negated total).
 */
import {
  BLOCKING_SPEC,
  exactKeyRulesSql,
  vendorRecentOrderSql,
  vendorRecentSideSql,
  vendorWindowSql,
  type BlockingKeys,
  type VendorRecentSide,
} from '../core/blocking.js';
import type { DecisionKind, DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { tasksWithFindings } from '../core/review-tasks.js';
import { releasedByReviews, type SettlementReview } from './settlement.js';
import type { SqlExecutor } from './sql.js';
import { toVectorLiteral } from './sql.js';
import { unpackResponse, type StoredResponse } from './stored-response.js';

/** An earlier invoice returned as a duplicate candidate. Money in cents, dates `YYYY-MM-DD`. */
export interface CandidateInvoice {
  invoiceId: string;
  /** The earlier invoice's decision; null for an invoice imported as history (never scored). */
  decisionId: string | null;
  decision: DecisionKind | null;
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
  /**
   * auto_approved, reviewed_not_exception (its reviews released it: a reviewer called its exception
   * a false positive and no line's exception stands, store/settlement.ts), history (imported as the
   * tenant's past, processed outside the service), or null.
   */
  approval: 'auto_approved' | 'reviewed_not_exception' | 'history' | null;
  /** Cents credited against this invoice by credit memos that reverse it (>= 0). */
  reversedCents: number;
  /** Client ids of the credit memos reversing it, oldest first. */
  reversedBy: string[];
}

/** How a candidate was found. */
export type CandidateSource = 'knn' | 'vendor_knn' | 'exact_key';

/**
 * How the tenant-wide nearest-neighbour search ran (recall guard for filtered HNSW):
 * `exact` when the tenant holds at most `exactSearchMaxRows` invoices (by the counter of
 * `tenant_invoice_counts`, summed over its stripes; a scan of the tenant is then cheaper than the index); else `hnsw_iterative` (pgvector >= 0.8 iterative index scan in
 * strict order, which keeps scanning until k rows pass the tenant filter) or `hnsw`; and
 * `hnsw_then_exact` when the index scan still returned fewer than k rows of a tenant that
 * has more, and the search was redone exactly.
 */
export interface CandidateSearch {
  method: 'exact' | 'hnsw' | 'hnsw_iterative' | 'hnsw_then_exact';
  k: number;
  /** Tenant invoices indexed, from the tenant counter (capped at exactSearchMaxRows + 1). */
  tenantRowsCounted: number;
  knnFound: number;
  vendorKnnFound: number;
  exactKeyFound: number;
}

/** Candidates and how they were searched. */
export interface CandidateResult {
  candidates: CandidateInvoice[];
  search: CandidateSearch;
  /** The stored decision of `CandidateQuery.replayInvoiceId`, or null (absent when not asked). */
  stored?: StoredDecision | null;
}

/** A stored decision with the hash of the payload it was made for. */
export interface StoredDecision {
  payloadSha256: string;
  decision: DecisionResponse;
}

/** Tuning of the candidate search. */
export interface CandidateSearchOptions {
  /**
   * Tenants with at most this many invoices are searched exactly; default the blocking spec's
   * crossover. At most 9,999: the tenant counter stops counting past 10,000 (migrations 060, 109).
   */
  exactSearchMaxRows?: number;
  /** The vendor-scoped exact kNN looks at invoices dated within this many days; default 400. */
  vendorWindowDays?: number;
  /** ... and at most this many of them, the nearest in date; default the blocking spec's. */
  vendorRecentLimit?: number;
}

/**
 * Query of {@link TriageRepository.findDuplicateCandidates}: the new invoice's blocking keys
 * (credit memos also block on the negated total) and its tenant.
 */
export interface CandidateQuery extends BlockingKeys {
  tenantId: string;
  /** Nearest neighbours to fetch by embedding. */
  k: number;
  /** Also return the decision stored under this client invoice id (the replay check), in the same statement. */
  replayInvoiceId?: string;
}

type Row = Record<string, unknown>;

export const CANDIDATE_COLUMNS = `
  i.pk, i.invoice_id, d.id AS decision_id, d.decision, i.vendor_id, i.vendor_name, i.vendor_key,
  i.vendor_tax_id, i.vendor_npi, i.invoice_number, i.invoice_number_normalised, i.invoice_number_canonical,
  i.invoice_date::text AS invoice_date, i.total_cents::text AS total_cents, i.currency, i.document_type,
  i.po_number, i.service_period_start::text AS service_period_start,
  i.service_period_end::text AS service_period_end,
  (i.embedding <=> $1::vector) AS distance,
  COALESCE((SELECT k.match_keys FROM invoice_line_keys k WHERE k.invoice_pk = i.pk), '{}') AS line_keys,
  CASE WHEN i.indexed_as = 'history' THEN 'history'
       WHEN d.decision = 'AUTO_APPROVE' THEN 'auto_approved'
  END AS approval,
  CASE WHEN i.indexed_as <> 'history' AND d.decision <> 'AUTO_APPROVE' AND EXISTS (
         SELECT 1 FROM reviews r WHERE r.decision_id = d.id AND r.outcome = 'false_positive' AND r.closes_item)
    THEN json_build_object('reason_codes', d.reason_codes, 'reviews',
      (SELECT json_agg(json_build_object('id', r.id::text, 'outcome', r.outcome, 'line_number', r.line_number,
                                         'closes_item', r.closes_item, 'task', r.task) ORDER BY r.created_at, r.id)
       FROM reviews r WHERE r.decision_id = d.id))
  END AS settling_reviews,
  (SELECT COALESCE(sum(-c.total_cents), 0)::text FROM invoices c WHERE c.reverses_invoice_pk = i.pk) AS reversed_cents,
  ARRAY(SELECT c.invoice_id FROM invoices c WHERE c.reverses_invoice_pk = i.pk ORDER BY c.created_at) AS reversed_by`;

/**
 * A candidate row's approval: `history` and `auto_approved` from the row; `reviewed_not_exception`
 * when the reviews of its decision (`settling_reviews` with its reason codes, read only when
 * one is a closing `false_positive`) leave it released, as the review path settles it ({@link releasedByReviews}:
 * a false positive held back by a line's standing exception does not approve it).
 */
function approvalOf(r: Row): CandidateInvoice['approval'] {
  const approval = (r.approval as CandidateInvoice['approval']) ?? null;
  if (approval !== null || r.settling_reviews == null) return approval;
  const settling = (
    typeof r.settling_reviews === 'string' ? JSON.parse(r.settling_reviews) : r.settling_reviews
  ) as { reason_codes: string[]; reviews: SettlementReview[] };
  return releasedByReviews(settling.reviews, tasksWithFindings(settling.reason_codes))
    ? 'reviewed_not_exception'
    : null;
}

/** A candidate row of {@link SEARCH_SQL} (snake_case columns) as a {@link CandidateInvoice} without sources. */
export function toCandidate(r: Row): CandidateInvoice {
  return {
    invoiceId: String(r.invoice_id),
    decisionId: r.decision_id == null ? null : String(r.decision_id),
    decision: (r.decision as DecisionKind | null) ?? null,
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
    sources: [],
    approval: approvalOf(r),
    reversedCents: Number(r.reversed_cents ?? 0),
    reversedBy: (r.reversed_by as string[] | null) ?? [],
  };
}

/**
 * Stored invoices of a tenant by client id, as candidates of the invoice with the given
 * embedding (for `embeddingDistance`) and with no block in `sources`: the earlier invoices
 * another search named (the line block, store/line-rebills.ts). Ids not stored are left out.
 * @returns the candidates in client-id order.
 */
export async function findInvoicesById(
  db: SqlExecutor,
  tenantId: string,
  embedding: ArrayLike<number>,
  invoiceIds: readonly string[],
): Promise<CandidateInvoice[]> {
  if (invoiceIds.length === 0) return [];
  const rows = await db.query<Row>(
    `SELECT ${CANDIDATE_COLUMNS} FROM invoices i LEFT JOIN decisions d ON d.invoice_pk = i.pk
      WHERE i.tenant_id = $2 AND i.invoice_id = ANY($3::text[]) ORDER BY i.invoice_id COLLATE "C"`,
    [toVectorLiteral(embedding), tenantId, [...invoiceIds]],
    { name: 'invoices_by_id' },
  );
  return rows.map(toCandidate);
}

/** Default of {@link CandidateSearchOptions.exactSearchMaxRows}: the spec's crossover. */
export const DEFAULT_EXACT_MAX_ROWS = BLOCKING_SPEC.exactSearchMaxRows;
/** Default of {@link CandidateSearchOptions.vendorWindowDays}: the spec's window. */
export const DEFAULT_VENDOR_WINDOW_DAYS = BLOCKING_SPEC.vendorWindowDays;
/** Default of {@link CandidateSearchOptions.vendorRecentLimit}: the spec's bound. */
export const DEFAULT_VENDOR_RECENT_LIMIT = BLOCKING_SPEC.vendorRecentLimit;

/** pgvector >= 0.8 has iterative index scans (`hnsw.iterative_scan`); cached per database. */
export async function hasIterativeScan(db: SqlExecutor): Promise<boolean> {
  const rows = await db.query<{ v: string }>(
    `SELECT extversion AS v FROM pg_extension WHERE extname = 'vector'`,
  );
  const [major, minor] = (rows[0]?.v ?? '0.0').split('.').map(Number);
  return (major ?? 0) > 0 || (minor ?? 0) >= 8;
}

/** Placeholders of the statement below: $1 vector, $2 tenant, $3 k, $4-$9 the new invoice's keys. */
const P = {
  vendorKey: '$4',
  vendorId: '$5',
  invoiceNumberCanonical: '$6',
  totalCents: '$7',
  invoiceDate: '$8',
  documentType: '$9',
} as const;

/**
 * The tenant-wide exact kNN: the $3 rows of tenant $2 in `from` (aliased `i`: columns tenant_id,
 * pk, embedding) nearest to $1 by (cosine distance, pk), among those passing `gate`. The distance
 * is computed once per row, and `+ 0` makes the sort key one the HNSW index cannot order by, so
 * the planner reads every row (exact) rather than the index (approximate); it leaves the value as
 * it is (a cosine distance is never -0).
 * @param from `invoices`, or a relation holding the tenant's rows of it (store/chunk-search.ts).
 */
export function exactKnnSql(from: string, gate = 'true'): string {
  return `SELECT i.pk, (i.embedding <=> $1::vector) + 0 AS dist FROM ${from} i
   WHERE i.tenant_id = $2 AND ${gate}
   ORDER BY dist, i.pk LIMIT $3`;
}

/** The tenant-wide exact kNN over `invoices` ({@link exactKnnSql}): the recall guard's redo. */
export const EXACT_KNN = exactKnnSql('invoices');

/**
 * The vendor's invoices (by its key, or by its id) on one side of the new invoice's date within
 * the window, the $15 first by the spec's tie rule (core/blocking.ts compareVendorRecent), `bound`
 * an SQL condition more on their rows. Each is one index-only scan of the (tenant, vendor, date,
 * pk) index of its vendor match in that order, stopping after $15 rows whatever the vendor's
 * history. Only the key's index carries the embedding (migration 100), so only the key's scans
 * give a distance; the id's give null.
 */
const VENDOR_RECENT_BRANCH = (vendor: 'key' | 'id', side: VendorRecentSide, bound = 'true'): string => {
  const s = vendorRecentSideSql(side, P.invoiceDate);
  const dist = vendor === 'key' ? 'i.embedding <=> $1::vector' : 'NULL::float8';
  return `
  (SELECT i.pk, i.invoice_date, ${dist} AS dist FROM invoices i
   WHERE i.tenant_id = $2 AND ${vendorWindowSql(P, '$10', 'i', vendor)} AND ${s.where} AND ${bound}
   ORDER BY ${s.orderBy} LIMIT $15)`;
};

/**
 * The vendor block: the top k by distance of the vendor's $15 invoices dated nearest (core/blocking.ts
 * vendorRecentPool), by key or by id. First the vendor id's invoices nearest the new invoice's
 * date on each side (`vid`: both sides of the narrow id index, at most $15 each, unsorted) and the
 * day distance `d` of the $15-th nearest of them (`vd`: one integer sort key; the window when
 * there are fewer): every invoice of the whole pool is at most `d` days from the new invoice's
 * date, since adding the key's invoices only moves the $15-th closer. So the key's scans, which
 * read the wide index with the embeddings, read only the dates within `d` of it (on a vendor
 * billing evenly on both sides about half of their $15 rows each). The pool is then cut by the
 * tie rule from the key's rows and the id's rows within `d`: a set holding every pool member
 * (an id invoice of the pool ranks among the id's $15 first, all within `d`) and nothing outside
 * the vendor's window, so the cut is the pool whatever ties at `d` it also holds. An invoice both
 * find keeps the key scan's distance; one found by its vendor id alone reads its embedding from
 * its row (one heap page, only for those).
 */
const VENDOR_KNN = `
  WITH vid AS MATERIALIZED (
    SELECT w.pk, w.invoice_date, abs(w.invoice_date - ${P.invoiceDate}::date) AS dd
    FROM (${VENDOR_RECENT_BRANCH('id', 'before')} UNION ALL ${VENDOR_RECENT_BRANCH('id', 'after')}) w),
  vd AS MATERIALIZED (
    SELECT COALESCE((SELECT v.dd FROM vid v ORDER BY v.dd OFFSET greatest($15 - 1, 0) LIMIT 1), $10::int) AS d)
  SELECT pk, COALESCE(dist, (SELECT r.embedding <=> $1::vector FROM invoices r WHERE r.pk = v.pk)) AS dist FROM (
    SELECT u.pk, min(u.dist) AS dist FROM (${VENDOR_RECENT_BRANCH('key', 'before', `i.invoice_date >= ${P.invoiceDate}::date - (SELECT d FROM vd)`)}
      UNION ALL ${VENDOR_RECENT_BRANCH('key', 'after', `i.invoice_date <= ${P.invoiceDate}::date + (SELECT d FROM vd)`)}
      UNION ALL (SELECT pk, invoice_date, NULL::float8 FROM vid WHERE dd <= (SELECT d FROM vd))) u
    GROUP BY u.pk, u.invoice_date
    ORDER BY ${vendorRecentOrderSql(P.invoiceDate, 'u')} LIMIT $15) v
  ORDER BY 2, pk LIMIT $3`;

/**
 * The whole search in one statement: the tenant's indexed-invoice count (the sum of its stripes
 * in `tenant_invoice_counts`, at most 16 rows: store/migrations/060 and 109) plus $14 (invoices written ahead of this one but not yet stored: store/chunk-search.ts),
 * the stored decision of a re-sent invoice id ($12, replay check), then the top k of each block
 * chosen from `invoices` alone, and only those rows joined to decisions (LEFT: invoices imported
 * as history have none and are candidates all the same), lines, reviews and credit memos. The exact and the HNSW kNN branches are gated by the count (one-time filters),
 * so only one of them runs.
 * @param exactFrom what the exact kNN branch reads the tenant's rows from ({@link exactKnnSql}).
 */
export function searchSql(exactFrom = 'invoices'): string {
  return `
WITH n AS MATERIALIZED (
  SELECT COALESCE((SELECT sum(invoices)::bigint FROM tenant_invoice_counts WHERE tenant_id = $2), 0) + $14::int AS n),
knn AS (
  (${exactKnnSql(exactFrom, '(SELECT n FROM n) <= $11')})
  UNION ALL
  (SELECT i.pk, i.embedding <=> $1::vector FROM invoices i
   WHERE i.tenant_id = $2 AND (SELECT n FROM n) > $11
   ORDER BY i.embedding <=> $1::vector LIMIT $3)),
vknn AS (${VENDOR_KNN}),
ex AS (
  SELECT pk, created_at FROM (${exactKeyRulesSql(BLOCKING_SPEC, P)
    .map(
      (rule) => `
    (SELECT i.pk, i.created_at FROM invoices i WHERE i.tenant_id = $2 AND ${rule}
     ORDER BY i.created_at DESC, i.pk DESC LIMIT $13)`,
    )
    .join(' UNION ')}) e
  ORDER BY created_at DESC, pk DESC LIMIT $13),
hits AS (
  SELECT pk, 0 AS b, row_number() OVER (ORDER BY dist, pk) AS r FROM knn
  UNION ALL SELECT pk, 1, row_number() OVER (ORDER BY dist, pk) FROM vknn
  UNION ALL SELECT pk, 2, row_number() OVER (ORDER BY created_at DESC, pk DESC) FROM ex),
agg AS (SELECT pk, array_agg(b ORDER BY b) AS blocks, array_agg(b * 100000 + r ORDER BY b) AS ranks,
  min(b * 100000 + r) AS pos FROM hits GROUP BY pk)
SELECT (SELECT n FROM n)::int AS tenant_rows,
  (SELECT count(*) FROM knn)::int AS knn_found,
  (SELECT count(*) FROM vknn)::int AS vendor_knn_found,
  (SELECT count(*) FROM ex)::int AS exact_key_found,
  (SELECT json_build_object('payload_sha256', i.payload_sha256, 'response', d.response)
     FROM invoices i JOIN decisions d ON d.invoice_pk = i.pk
     WHERE i.tenant_id = $2 AND i.invoice_id = $12::text) AS stored,
  (SELECT json_agg(c ORDER BY c.pos) FROM (
     SELECT agg.blocks, agg.ranks, agg.pos, ${CANDIDATE_COLUMNS}
     FROM agg JOIN invoices i ON i.pk = agg.pk LEFT JOIN decisions d ON d.invoice_pk = i.pk) c) AS candidates`;
}

/** The single-invoice search ({@link searchSql} with the exact kNN over `invoices`). */
export const SEARCH_SQL = searchSql();

/** The document types a search statement is rendered for (the credit-memo rule applies to one). */
const DOCUMENT_TYPES: readonly NonNullable<CandidateQuery['documentType']>[] = [
  'invoice',
  'credit_memo',
  'debit_memo',
];

/**
 * The candidate search statement of `q`, its parameters and its prepared-statement name (what
 * {@link findCandidates} runs first; also for EXPLAIN in bench/store-scale.ts).
 *
 * What is the same for every invoice of a deployment (k, the blocking spec's bounds, the
 * search options; no invoices ahead) and the document type are written into the text as
 * literals, one statement per combination: PostgreSQL then plans the credit-memo rule only for
 * credit memos, and the generic plan of the statement knows its row limits, so the plan cache
 * keeps one plan instead of planning every execution again (a custom plan is 1.3 ms of
 * PostgreSQL CPU at 100k invoices; BENCHMARKS.md "Flat search at 1M"). The invoice's own keys
 * stay parameters.
 * @throws Error when a number to inline is not a non-negative safe integer, or the document type
 *   is unknown.
 */
export function candidateSearchStatement(
  q: CandidateQuery,
  opts: Required<CandidateSearchOptions>,
): { text: string; values: unknown[]; name: string } {
  const documentType = q.documentType ?? 'invoice';
  if (!DOCUMENT_TYPES.includes(documentType)) throw new Error(`unknown document type: ${documentType}`);
  const numbers = {
    3: q.k,
    10: opts.vendorWindowDays,
    11: opts.exactSearchMaxRows,
    13: BLOCKING_SPEC.exactLimit,
    14: 0,
    15: opts.vendorRecentLimit,
  };
  for (const v of Object.values(numbers))
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`search option not a count: ${v}`);
  const inlined: Record<string, string> = { 9: `'${documentType}'` };
  for (const [n, v] of Object.entries(numbers)) inlined[n] = String(v);
  // Every placeholder of SEARCH_SQL by number; the ones left are renumbered in order.
  const all: unknown[] = [
    toVectorLiteral(q.embedding),
    q.tenantId,
    null,
    q.vendorKey,
    q.vendorId,
    q.invoiceNumberCanonical,
    q.totalCents,
    q.invoiceDate,
    null,
    null,
    null,
    q.replayInvoiceId ?? null,
  ];
  const renumbered = new Map<string, string>();
  const values: unknown[] = [];
  all.forEach((v, i) => {
    if (String(i + 1) in inlined) return;
    values.push(v);
    renumbered.set(String(i + 1), `$${values.length}`);
  });
  return {
    text: SEARCH_SQL.replace(/\$(\d+)/g, (_, n: string) => inlined[n] ?? renumbered.get(n)!),
    values,
    name: `candidate_search_${documentType}_${Object.values(numbers).join('_')}`,
  };
}

const BLOCK_SOURCES: readonly CandidateSource[] = ['knn', 'vendor_knn', 'exact_key'];

/**
 * The columns every candidate search statement returns besides its candidates: the tenant's
 * row count, how many rows each block found, and the decision already stored for the payload
 * (the replay check), or null.
 */
export type SearchRowHead = {
  tenant_rows: number;
  knn_found: number;
  vendor_knn_found: number;
  exact_key_found: number;
  stored: { payload_sha256: string; response: StoredResponse } | null;
};

/**
 * Searches the duplicate candidates of `q` (and, when `q.replayInvoiceId` is set, the stored
 * decision of that id) in one statement; a second statement only when HNSW returned fewer than
 * k rows of a tenant that has more (the search is then redone exactly).
 */
export async function findCandidates(
  db: SqlExecutor,
  q: CandidateQuery,
  opts: Required<CandidateSearchOptions> & { iterative: (db: SqlExecutor) => Promise<boolean> },
): Promise<CandidateResult> {
  const { text, values, name } = candidateSearchStatement(q, opts);
  const vec = values[0] as string;
  const rows = await db.query<SearchRowHead & { candidates: (Row & { blocks: number[] })[] | null }>(
    text,
    values,
    { name },
  );
  const r = rows[0]!;
  const byId = new Map<string, CandidateInvoice>();
  for (const c of r.candidates ?? [])
    byId.set(String(c.invoice_id), { ...toCandidate(c), sources: c.blocks.map((b) => BLOCK_SOURCES[b]!) });
  let method: CandidateSearch['method'] = 'exact';
  let knnFound = r.knn_found;
  if (r.tenant_rows > opts.exactSearchMaxRows) {
    // Asked on this executor: on PGlite a query on the database from inside a transaction waits forever.
    method = (await opts.iterative(db)) ? 'hnsw_iterative' : 'hnsw';
    if (knnFound < q.k && r.tenant_rows > knnFound) {
      method = 'hnsw_then_exact';
      const exact = await db.query(
        `SELECT ${CANDIDATE_COLUMNS} FROM (${EXACT_KNN}) e JOIN invoices i ON i.pk = e.pk
         LEFT JOIN decisions d ON d.invoice_pk = i.pk ORDER BY e.dist, e.pk`,
        [vec, q.tenantId, q.k],
      );
      knnFound = exact.length;
      // The exact neighbours replace the index's, ahead of the other blocks.
      const rest = [...byId.values()].filter((c) => !(c.sources.length === 1 && c.sources[0] === 'knn'));
      byId.clear();
      for (const e of exact) byId.set(String(e.invoice_id), { ...toCandidate(e), sources: ['knn'] });
      for (const c of rest) {
        const seen = byId.get(c.invoiceId);
        const others = c.sources.filter((s) => s !== 'knn');
        if (seen) seen.sources.push(...others);
        else byId.set(c.invoiceId, { ...c, sources: others });
      }
    }
  }
  return {
    candidates: [...byId.values()],
    search: {
      method,
      k: q.k,
      tenantRowsCounted: Math.min(r.tenant_rows, opts.exactSearchMaxRows + 1),
      knnFound,
      vendorKnnFound: r.vendor_knn_found,
      exactKeyFound: r.exact_key_found,
    },
    stored: r.stored
      ? { payloadSha256: r.stored.payload_sha256, decision: unpackResponse(r.stored.response) }
      : null,
  };
}
