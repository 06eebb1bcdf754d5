/**
 * The triage repository: one interface over both engines. Everything a scoring request
 * writes (invoice, lines, decision) is written in one transaction, keyed by
 * (tenant, client invoice id) so that a re-sent invoice returns the stored decision.
 */
import { randomUUID } from 'node:crypto';
import { type DecisionWithExplanation } from '../core/decision.js';
import { vectorTransportOf, type SqlDatabase, type SqlExecutor, type VectorTransport } from './sql.js';
import {
  auditTenants,
  linkAllAudit,
  listAudit,
  pendingAuditTenants,
  verifyAudit,
  type AuditVerification,
} from './audit.js';
import { createEventStore } from './events.js';
import { createKeyStore } from './keys.js';
import { createPolicyStore } from './policies.js';
import { createVendorStore } from './vendors.js';
import { createErpStore } from './erp.js';
import { readProcurementContext, readProcurementFirstMany, recordInvoiced } from './erp-context.js';
import { createReviewStore } from './reviews.js';
import { listWorklist } from './worklist.js';
import { lockKey } from './locks.js';
import { createHistoryStore, historyId } from './history.js';
import { createHistoryImportStore } from './history-imports.js';
import { findStored, insertScored, insertScoredMany } from './scoring-write.js';
import { unpackResponse, type StoredResponse } from './stored-response.js';
import { searchMany } from './chunk-search.js';

export { conflict } from './scoring-write.js';
import { createClaimStore } from './claims.js';
import { createConsoleStore } from './console.js';
import { listDecisionFacts } from './kpis.js';
import {
  findEarlierLines,
  findEarlierLinesMany,
  LINE_BLOCK_CHUNK_LINES,
  lineBlockPlan,
  type LineRebillQuery,
} from './line-rebills.js';
import { readScoringInputsMany } from './scoring-reads.js';
import {
  DEFAULT_EXACT_MAX_ROWS,
  DEFAULT_VENDOR_WINDOW_DAYS,
  DEFAULT_VENDOR_RECENT_LIMIT,
  findCandidates,
  findInvoicesById,
  hasIterativeScan,
  type CandidateQuery,
} from './candidates.js';

export type * from './candidates.js';
export type { MemberSearch, GroupMember, MergedSearch } from './chunk-search.js';
export type { ScoredRow } from './scoring-write.js';
export type { ScoringInputs, ScoringInputsQuery } from './scoring-reads.js';

export type {
  InvoiceIndexKeys,
  RepositoryOptions,
  SaveResult,
  DecisionExtras,
  ScoringTx,
  ChunkTx,
  AuditStore,
  TriageRepository,
} from './repository-types.js';
import type { RepositoryOptions, TriageRepository } from './repository-types.js';

/** Builds the repository over an opened, migrated database. */
export function createRepository(db: SqlDatabase, search: RepositoryOptions = {}): TriageRepository {
  const newId = search.newId ?? randomUUID;
  let iterative: Promise<boolean> | undefined;
  const searchOpts = {
    exactSearchMaxRows: search.exactSearchMaxRows ?? DEFAULT_EXACT_MAX_ROWS,
    vendorWindowDays: search.vendorWindowDays ?? DEFAULT_VENDOR_WINDOW_DAYS,
    vendorRecentLimit: search.vendorRecentLimit ?? DEFAULT_VENDOR_RECENT_LIMIT,
    iterative: (ex: SqlExecutor) => (iterative ??= hasIterativeScan(ex)),
  };
  // One linker per tenant in this process: a link requested while one runs runs once after it.
  const linking = new Map<string, Promise<unknown>>();
  const again = new Set<string>();
  const scheduleLink = (tenantId: string): void => {
    if (linking.has(tenantId)) {
      again.add(tenantId);
      return;
    }
    const run: Promise<unknown> = linkAllAudit(db, tenantId)
      // A failed link leaves the rows in the outbox; the next append, read or link takes them.
      .catch(() => undefined)
      .finally(() => {
        linking.delete(tenantId);
        if (again.delete(tenantId)) scheduleLink(tenantId);
      });
    linking.set(tenantId, run);
  };
  const linkAfterCommit = search.linkAfterCommit ?? true;
  /**
   * The candidate search and line block of one transaction: the search remembers the tenant's
   * invoice count it read (or `searched` is told it, by the grouped search), and the line block
   * takes its plan from that count (`lineBlockPlan`, store/line-rebills.ts).
   */
  const countedReads = (tx: SqlExecutor, tenantId: string, transport: VectorTransport) => {
    let tenantRows: number | null = null;
    const plan = () => lineBlockPlan(tenantRows);
    return {
      plan,
      searched: (n: number) => {
        tenantRows = n;
      },
      reads: {
        findDuplicateCandidates: async (q: Omit<CandidateQuery, 'tenantId'>) => {
          const r = await findCandidates(tx, { ...q, tenantId }, searchOpts);
          tenantRows = r.search.tenantRowsCounted;
          return r;
        },
        findEarlierLines: (q: Omit<LineRebillQuery, 'tenantId'>) =>
          findEarlierLines(tx, { ...q, tenantId }, transport, plan()),
      },
    };
  };
  const withScoringLock: TriageRepository['withScoringLock'] = async (tenantId, lockKeys, fn, opts = {}) => {
    let audited = false;
    // Embeddings travel in pgvector's binary form (the type's OID read once, before any transaction).
    const transport = await vectorTransportOf(db);
    const out = await db.transaction(
      async (tx) => {
        const counted = countedReads(tx, tenantId, transport);
        return fn({
          findByInvoiceId: (invoiceId) => findStored(tx, tenantId, invoiceId),
          ...counted.reads,
          findInvoicesById: (e, ids) => findInvoicesById(tx, tenantId, e, ids),
          procurementContext: (q) => readProcurementContext(tx, { ...q, tenantId }),
          recordPoBilling: (x, allocations) => recordInvoiced(tx, { ...x, tenantId }, allocations),
          insert: async (invoice, hash, keys, decision, extras) => {
            const saved = await insertScored(
              newId,
              tx,
              tenantId,
              invoice,
              hash,
              keys,
              decision,
              extras,
              transport,
            );
            audited ||= saved.created;
            return saved;
          },
        });
      },
      {
        lockKeys: lockKeys.map((k) => lockKey('scoring', tenantId, k)),
        oltp: true,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    );
    if (audited && linkAfterCommit) scheduleLink(tenantId);
    return out;
  };
  const withChunkLock: TriageRepository['withChunkLock'] = async (tenantId, lockKeys, fn, opts = {}) => {
    let audited = false;
    const transport = await vectorTransportOf(db);
    const out = await db.transaction(
      async (tx) => {
        const counted = countedReads(tx, tenantId, transport);
        return fn({
          sql: tx,
          ...counted.reads,
          findInvoicesById: (e, ids) => findInvoicesById(tx, tenantId, e, ids),
          procurementContext: (q) => readProcurementContext(tx, { ...q, tenantId }),
          recordPoBilling: (x, allocations) => recordInvoiced(tx, { ...x, tenantId }, allocations),
          searchMany: async (queries) => {
            const found = await searchMany(tx, tenantId, queries, searchOpts, transport);
            if (found.length > 0) counted.searched(found[0]!.tenantRows);
            return found;
          },
          searchOptions: async () => ({
            exactSearchMaxRows: searchOpts.exactSearchMaxRows,
            iterative: await searchOpts.iterative(tx),
          }),
          newPk: newId,
          findEarlierLinesMany: (queries) =>
            findEarlierLinesMany(tx, tenantId, queries, LINE_BLOCK_CHUNK_LINES, transport, counted.plan()),
          procurementFirstMany: (queries) => readProcurementFirstMany(tx, tenantId, queries),
          insertMany: async (rows) => {
            await insertScoredMany(tx, tenantId, rows, transport);
            audited ||= rows.length > 0;
          },
        });
      },
      {
        lockKeys: lockKeys.map((k) => lockKey('scoring', tenantId, k)),
        oltp: true,
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
    );
    if (audited && linkAfterCommit) scheduleLink(tenantId);
    return out;
  };
  const linkThen = async <T>(tenantId: string, read: () => Promise<T>): Promise<T> => {
    await linkAllAudit(db, tenantId);
    return read();
  };

  return {
    engine: db.engine,

    async ping(opts = {}) {
      if (opts.ifIdle && db.busy()) return 'busy';
      await db.query('SELECT 1');
      return 'ok';
    },

    findByInvoiceId: (tenantId, invoiceId) => findStored(db, tenantId, invoiceId),

    async getDecision(tenantId, decisionId) {
      if (!/^[0-9a-f-]{36}$/i.test(decisionId)) return null;
      const rows = await db.query<{ response: StoredResponse }>(
        'SELECT response FROM decisions WHERE id = $1 AND tenant_id = $2',
        [decisionId, tenantId],
      );
      const r = rows[0];
      return r ? unpackResponse(r.response) : null;
    },

    async getDecisionRecord(tenantId, decisionId) {
      if (!/^[0-9a-f-]{36}$/i.test(decisionId)) return null;
      const rows = await db.query<{
        response: StoredResponse;
        explanation: DecisionWithExplanation['explanation'] | null;
        scored_by_key_id: string | null;
      }>('SELECT response, explanation, scored_by_key_id FROM decisions WHERE id = $1 AND tenant_id = $2', [
        decisionId,
        tenantId,
      ]);
      const r = rows[0];
      if (!r) return null;
      const completed = r.explanation ? await search.completeExplanation?.(r.explanation) : null;
      // Through jsonb once more, so a completed explanation reads back exactly as one stored whole.
      const explanation = completed
        ? (
            await db.query<{ e: DecisionWithExplanation['explanation'] }>('SELECT $1::jsonb AS e', [
              JSON.stringify(completed),
            ])
          )[0]!.e
        : r.explanation;
      return {
        decision: { ...unpackResponse(r.response), ...(explanation ? { explanation } : {}) },
        scoredByKeyId: r.scored_by_key_id,
      };
    },

    findDuplicateCandidates: (q) => db.transaction((tx) => findCandidates(tx, q, searchOpts)),

    withScoringLock,
    withChunkLock,

    saveDecision: (tenantId, invoice, hash, keys, decision, extras) =>
      withScoringLock(tenantId, [], (tx) => tx.insert(invoice, hash, keys, decision, extras)),

    worklist: (q) => listWorklist(db, q),
    keys: createKeyStore(db),
    policies: createPolicyStore(db),
    async configVersions(tenantId, vendorId) {
      const rows = await db.query<{ policy: number | null; vendor: number | null }>(
        `SELECT (SELECT max(version) FROM policies WHERE tenant_id = $1) AS policy,
                (SELECT version FROM vendors WHERE tenant_id = $1 AND vendor_id = $2) AS vendor`,
        [tenantId, vendorId],
        { name: 'config_versions' },
      );
      const r = rows[0];
      return {
        policy: r?.policy ?? 1,
        vendor: r?.vendor === null || r?.vendor === undefined ? null : Number(r.vendor),
      };
    },
    scoringInputsMany: (tenantId, queries, withCodeCounts) =>
      readScoringInputsMany(db, tenantId, queries, withCodeCounts),
    vendors: createVendorStore(db),
    history: createHistoryStore(db, search.newId ?? historyId),
    historyImports: createHistoryImportStore(db),
    erp: createErpStore(db),
    reviews: createReviewStore(db),
    events: createEventStore(db),
    // Reads link the committed outbox rows first, so they see every committed decision.
    audit: {
      verify: (tenantId) => linkThen(tenantId, () => verifyAudit(db, tenantId)),
      async verifyAll() {
        for (const t of await pendingAuditTenants(db)) await linkAllAudit(db, t);
        const out: AuditVerification[] = [];
        for (const t of await auditTenants(db)) out.push(await verifyAudit(db, t));
        return out;
      },
      list: (tenantId, opts) => linkThen(tenantId, () => listAudit(db, tenantId, opts)),
      async link(tenantId) {
        let n = 0;
        for (const t of tenantId ? [tenantId] : await pendingAuditTenants(db)) n += await linkAllAudit(db, t);
        return n;
      },
    },
    claims: createClaimStore(db),
    decisionFacts: (q) => listDecisionFacts(db, q),
    console: createConsoleStore(db),
    transaction: (fn) => db.transaction(fn),

    async close() {
      while (linking.size > 0) await Promise.all(linking.values());
      await db.close();
    },
  };
}
