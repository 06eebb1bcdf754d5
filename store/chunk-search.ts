/**
 * Candidate search for a group of invoices scored together (batch chunks): the single-invoice
 * statement of store/candidates.ts ({@link searchSql}, the blocking spec of core/blocking.ts)
 * run once per invoice inside one statement (`unnest ... CROSS JOIN LATERAL`), and the merge
 * that makes an invoice see the invoices ahead of it in its group, which are scored but not yet
 * written, exactly as the single-invoice search would once they were stored.
 *
 * Only the tenant-wide kNN block can reach another member of a group: the group's members share
 * no vendor key, vendor id, PO number or invoice id (`inference/chunk-scoring.ts` cuts the group
 * before an invoice that would), and the vendor kNN, the exact keys, line rebills and vendor
 * statistics are all scoped to the vendor. The tenant's invoice count seen by member `j` is the
 * stored count plus `j`, as if the members before it were stored.
 */
import { BLOCKING_SPEC } from '../core/blocking.js';
import {
  searchSql,
  toCandidate,
  type CandidateInvoice,
  type CandidateQuery,
  type CandidateResult,
  type CandidateSearch,
  type CandidateSource,
  type SearchRowHead,
  type StoredDecision,
} from './candidates.js';
import { vectorArrayValue, type SqlExecutor, type VectorTransport } from './sql.js';
import { unpackResponse } from './stored-response.js';

const BLOCK_SOURCES: readonly CandidateSource[] = ['knn', 'vendor_knn', 'exact_key'];
/** Rank offset of a block in {@link searchSql}'s `pos` (block b, rank r: b * 100000 + r). */
const BLOCK = 100_000;

/** A stored candidate of one group member, with its rank in every block that found it. */
export interface RankedCandidate {
  pk: string;
  candidate: CandidateInvoice;
  /** `block * 100000 + rank` (rank 1-based) per block that found it, ascending. */
  ranks: number[];
}

/** The stored side of one member's search, before the merge with the members ahead of it. */
export interface MemberSearch {
  /** Tenant invoices indexed plus the members ahead of this one (uncapped). */
  tenantRows: number;
  knnFound: number;
  vendorKnnFound: number;
  exactKeyFound: number;
  /** The decision stored under the member's invoice id, or null. */
  stored: StoredDecision | null;
  /** True when the invoice id is stored at all (also when imported as history, without a decision). */
  taken: boolean;
  candidates: RankedCandidate[];
  /** Cosine distance (pgvector `<=>`, as it compares stored rows) to each member ahead of this one. */
  distances: number[];
}

/**
 * The single search over the tenant's rows the statement read once ({@link MANY_SQL}'s
 * `tenant_embeddings`), its placeholders substituted: per-invoice ones by columns of `q`, shared
 * ones renumbered.
 */
function lateralSearchSql(): string {
  const shared: Record<string, string> = {
    '2': '$1',
    '3': '$2',
    '10': '$3',
    '11': '$4',
    '13': '$5',
    '15': '$15',
  };
  return searchSql('tenant_embeddings').replace(/\$(\d+)/g, (_, n: string) => shared[n] ?? `q.c${n}`);
}

/**
 * Every member's search in one statement. The exact kNN of each member (a tenant at most
 * `exactSearchMaxRows` large) reads the tenant's keys and embeddings from `tenant_embeddings`,
 * read from `invoices` once for the whole group and kept in memory (about 0.55 KB a row), instead
 * of one pass over the tenant's wide rows per member; the same rows, so the same neighbours in the
 * same order. PostgreSQL reads it only when a member's search is exact (a CTE nothing reads is not
 * run).
 */
const MANY_SQL = `
WITH tenant_embeddings AS MATERIALIZED (
  SELECT t.tenant_id, t.pk, t.embedding FROM invoices t WHERE t.tenant_id = $1)
SELECT q.ord::int AS ord, s.*,
  EXISTS (SELECT 1 FROM invoices t WHERE t.tenant_id = $1 AND t.invoice_id = q.c12) AS taken,
  ARRAY(SELECT q.c1 <=> e.v FROM unnest($6::vector[]) WITH ORDINALITY AS e(v, ord)
        WHERE e.ord < q.ord ORDER BY e.ord) AS distances
FROM unnest($6::vector[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::date[], $12::text[],
            $13::text[], $14::int[])
     WITH ORDINALITY AS q(c1, c4, c5, c6, c7, c8, c9, c12, c14, ord)
CROSS JOIN LATERAL (${lateralSearchSql()}) s
ORDER BY q.ord`;

/**
 * The statement {@link searchMany} runs for `queries` (one tenant, one k): its text, parameters
 * and prepared-statement name (also for EXPLAIN in tests and benches); the invoice embeddings
 * (parameter 6, a `vector[]`) in `transport`.
 */
export function searchManyStatement(
  tenantId: string,
  queries: readonly Omit<CandidateQuery, 'tenantId'>[],
  opts: { exactSearchMaxRows: number; vendorWindowDays: number; vendorRecentLimit: number },
  transport: VectorTransport = 'text',
): { text: string; values: unknown[]; name: string } {
  return {
    text: MANY_SQL,
    values: [
      tenantId,
      queries[0]?.k ?? BLOCKING_SPEC.k,
      opts.vendorWindowDays,
      opts.exactSearchMaxRows,
      BLOCKING_SPEC.exactLimit,
      vectorArrayValue(
        transport,
        queries.map((q) => q.embedding),
      ),
      queries.map((q) => q.vendorKey),
      queries.map((q) => q.vendorId),
      queries.map((q) => q.invoiceNumberCanonical),
      queries.map((q) => String(q.totalCents)),
      queries.map((q) => q.invoiceDate),
      queries.map((q) => q.documentType ?? 'invoice'),
      queries.map((q) => q.replayInvoiceId ?? null),
      queries.map((_, j) => j),
      opts.vendorRecentLimit,
    ],
    name: 'search_many',
  };
}

/**
 * Searches the stored candidates of every query in one statement; query `j` counts the
 * queries ahead of it as stored invoices (tenant count + j).
 * @param queries the group's members in scoring order (one tenant, one k).
 * @param transport how the embeddings travel (the same rows either way).
 * @returns one {@link MemberSearch} per query, in order.
 */
export async function searchMany(
  db: SqlExecutor,
  tenantId: string,
  queries: readonly Omit<CandidateQuery, 'tenantId'>[],
  opts: { exactSearchMaxRows: number; vendorWindowDays: number; vendorRecentLimit: number },
  transport: VectorTransport = 'text',
): Promise<MemberSearch[]> {
  if (queries.length === 0) return [];
  const { text, values, name } = searchManyStatement(tenantId, queries, opts, transport);
  const rows = await db.query<
    SearchRowHead & {
      taken: boolean;
      distances: number[] | null;
      candidates: (Record<string, unknown> & { ranks: number[]; pk: string })[] | null;
    }
  >(text, values, { name });
  return rows.map((r) => ({
    tenantRows: r.tenant_rows,
    knnFound: r.knn_found,
    vendorKnnFound: r.vendor_knn_found,
    exactKeyFound: r.exact_key_found,
    stored: r.stored
      ? { payloadSha256: r.stored.payload_sha256, decision: unpackResponse(r.stored.response) }
      : null,
    taken: r.taken,
    distances: (r.distances ?? []).map(Number),
    candidates: (r.candidates ?? []).map((c) => ({
      pk: String(c.pk),
      candidate: toCandidate(c),
      ranks: c.ranks.map(Number),
    })),
  }));
}

/** A member ahead in the group, as a candidate of the ones after it. */
export interface GroupMember {
  /** Primary key the member's invoice row will be written with. */
  pk: string;
  /** The member's index in the group (queries of {@link searchMany}, in order). */
  position: number;
  /** The member as a candidate (`embeddingDistance` and `sources` are set by the merge). */
  candidate: CandidateInvoice;
  /** Client id of the invoice this member (a credit memo) reverses, or null. */
  reversesInvoiceId: string | null;
  /** The member's total, cents (a credit memo's is negative). */
  totalCents: number;
}

/**
 * Result of {@link mergeGroup}: the candidates, or the need of a search of its own once the
 * members ahead are stored (the recall guard's exact redo, or a count on the other side of the
 * exact-search crossover than the statement assumed).
 */
export type MergedSearch = { result: CandidateResult } | { needsOwnSearch: true };

/**
 * The candidates of member `j` as the single-invoice search would return them had the members
 * ahead of it (`ahead`, in order) been stored: they join the tenant-wide kNN block by
 * (distance, pk), the ranks and order of the blocks are recomputed, and stored candidates
 * reversed by a credit memo ahead carry that reversal.
 * `position` is the member's index in the group (the statement counted that many ahead).
 * @returns `needsOwnSearch` when the index scan returned fewer than k rows of a tenant that has
 *   more (the single search then redoes the kNN exactly), or when members answered from the store
 *   moved the tenant count across the exact-search crossover: the caller then scores that member
 *   first in a later group, through the single search.
 */
export function mergeGroup(
  m: MemberSearch,
  position: number,
  ahead: readonly GroupMember[],
  k: number,
  exactSearchMaxRows: number,
  iterative: boolean,
): MergedSearch {
  const knn: { key: string; dist: number; pk: string }[] = [];
  for (const c of m.candidates)
    if (c.ranks[0]! < BLOCK) knn.push({ key: c.pk, dist: c.candidate.embeddingDistance, pk: c.pk });
  for (const a of ahead) knn.push({ key: a.pk, dist: m.distances[a.position]!, pk: a.pk });
  knn.sort((x, y) => x.dist - y.dist || (x.pk < y.pk ? -1 : x.pk > y.pk ? 1 : 0));
  const top = knn.slice(0, k);
  const knnRank = new Map(top.map((x, i) => [x.key, i + 1]));

  const entries: { candidate: CandidateInvoice; ranks: number[] }[] = [];
  for (const c of m.candidates) {
    const r = knnRank.get(c.pk);
    const ranks = [...(r === undefined ? [] : [r]), ...c.ranks.filter((x) => x >= BLOCK)];
    if (ranks.length > 0) entries.push({ candidate: { ...c.candidate }, ranks });
  }
  for (const a of ahead) {
    const r = knnRank.get(a.pk);
    if (r !== undefined)
      entries.push({
        candidate: { ...a.candidate, embeddingDistance: m.distances[a.position]! },
        ranks: [r],
      });
  }
  for (const a of ahead) {
    if (!a.reversesInvoiceId) continue;
    for (const x of entries)
      if (x.candidate.invoiceId === a.reversesInvoiceId) {
        x.candidate.reversedCents += -a.totalCents;
        x.candidate.reversedBy = [...x.candidate.reversedBy, a.candidate.invoiceId];
      }
  }
  entries.sort((x, y) => x.ranks[0]! - y.ranks[0]!);

  // The statement counted every member ahead; those answered from the store are not written.
  const tenantRows = m.tenantRows - (position - ahead.length);
  if (tenantRows > exactSearchMaxRows !== m.tenantRows > exactSearchMaxRows) return { needsOwnSearch: true };
  let method: CandidateSearch['method'] = 'exact';
  if (tenantRows > exactSearchMaxRows) {
    method = iterative ? 'hnsw_iterative' : 'hnsw';
    if (top.length < k && tenantRows > top.length) return { needsOwnSearch: true };
  }
  return {
    result: {
      candidates: entries.map((x) => ({
        ...x.candidate,
        sources: x.ranks.map((r) => BLOCK_SOURCES[Math.floor(r / BLOCK)]!),
      })),
      search: {
        method,
        k,
        tenantRowsCounted: Math.min(tenantRows, exactSearchMaxRows + 1),
        knnFound: top.length,
        vendorKnnFound: m.vendorKnnFound,
        exactKeyFound: m.exactKeyFound,
      },
      stored: m.stored,
    },
  };
}
