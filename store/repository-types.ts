/**
 * The triage repository's contract: the transactions scoring runs in ({@link ScoringTx},
 * {@link ChunkTx}) and the stores of every other area ({@link TriageRepository});
 * store/repository.ts implements it over both engines.
 */
import type { DecisionResponse, DecisionWithExplanation } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import type { SqlExecutor } from './sql.js';
import type { AuditListOptions, AuditRow, AuditVerification } from './audit.js';
import type { EventStore } from './events.js';
import type { KeyStore } from './keys.js';
import type { PolicyStore } from './policies.js';
import type { VendorStore } from './vendors.js';
import type { ErpStore } from './erp.js';
import type { PoAllocation, ProcurementQuery, recordInvoiced } from './erp-context.js';
import type { ProcurementLookup } from '../core/erp.js';
import type { ReviewStore } from './reviews.js';
import type { WorklistPage, WorklistQuery } from './worklist.js';
import type { HistoryStore } from './history.js';
import type { HistoryImportStore } from './history-imports.js';
import type { ScoredRow } from './scoring-write.js';
import type { MemberSearch } from './chunk-search.js';
import type { ClaimStore } from './claims.js';
import type { ConsoleStore } from './console.js';
import type { DecisionFact, FactQuery } from './kpis.js';
import type { EarlierLine, LineRebillQuery } from './line-rebills.js';
import type { ScoringInputs, ScoringInputsQuery } from './scoring-reads.js';
import type {
  CandidateInvoice,
  CandidateQuery,
  CandidateResult,
  CandidateSearchOptions,
  StoredDecision,
} from './candidates.js';
import type { SqlDatabase } from './sql.js';

/** Blocking keys and vectors the store indexes with an invoice (computed by `features/`). */
export interface InvoiceIndexKeys {
  vendorKey: string;
  invoiceNumberNormalised: string;
  invoiceNumberCanonical: string;
  /** Invoice embedding, unit length, 128 dims. */
  embedding: ArrayLike<number>;
  lines: { lineNumber: number; matchKey: string; embedding: ArrayLike<number> }[];
}

/** Options of {@link createRepository}. */
export interface RepositoryOptions extends CandidateSearchOptions {
  /**
   * Primary keys of stored invoices; default `randomUUID` for scored invoices and UUIDv7 (time
   * ordered, store/history.ts) for history imports (golden runs pass a sequence, used for both).
   */
  newId?: () => string;
  /**
   * Link a scored decision's audit outbox row onto the chain right after its transaction
   * commits (coalesced per tenant, off the answer's path); default true. False leaves linking
   * to the next append, read or {@link AuditStore.link} (the fault tests use it as a crash
   * between commit and linking).
   */
  linkAfterCommit?: boolean;
  /**
   * Completes a stored explanation whose parts are computed when read (deferred line
   * explanations, inference/stages/explanation.ts): the served explanation, or null when
   * nothing is deferred. Absent: explanations are served as stored.
   */
  completeExplanation?: (stored: unknown) => Promise<unknown>;
}

/** Result of {@link TriageRepository.saveDecision}. */
export interface SaveResult {
  decision: DecisionResponse;
  /** False when the invoice id was already stored (idempotent replay): `decision` is the stored one. */
  created: boolean;
}

/** What the store keeps beside the decision response (all optional; defaults in brackets). */
export interface DecisionExtras {
  /** API key id that scored it [null]. */
  scoredByKeyId?: string | null;
  /** Priority components, cents and dates, for the worklist's as-of priority [zeros]. */
  priority?: {
    expectedLossCents: number;
    discountCents: number;
    discountDeadline: string | null;
    receivedDate: string | null;
    slaCentsPerDay: number;
  };
  /** The explanation served by GET /v1/decisions/:id [none]. */
  explanation?: unknown;
  /** Client id of the invoice a credit memo reverses [none]. */
  reversesInvoiceId?: string | null;
  /** Audit payload of `decision.created` [a summary of the decision]. */
  auditPayload?: Record<string, unknown>;
  /** The audit-sample draw of an AUTO_APPROVE decision; a sampled one is queued in `audit_samples` [none]. */
  auditSample?: { sampled: boolean; rate: number; draw: number; seed_sha256: string };
}

/**
 * What a scoring request may do inside its transaction: read, search candidates and write,
 * all under the scoring locks taken by {@link TriageRepository.withScoringLock}.
 */
export interface ScoringTx {
  /** The decision stored for a client invoice id, or null. */
  findByInvoiceId(invoiceId: string): Promise<StoredDecision | null>;
  /**
   * Earlier invoices close to the query by embedding (kNN), within the vendor, or sharing an
   * exact key; with `replayInvoiceId`, also the decision stored under that id, in one statement.
   */
  findDuplicateCandidates(q: Omit<CandidateQuery, 'tenantId'>): Promise<CandidateResult>;
  /** Earlier lines of the vendor billed again (same line key, quantity and service date), see store/line-rebills.ts. */
  findEarlierLines(q: Omit<LineRebillQuery, 'tenantId'>): Promise<EarlierLine[]>;
  /** Stored invoices by client id as candidates of an invoice with this embedding (store/candidates.ts `findInvoicesById`). */
  findInvoicesById(embedding: ArrayLike<number>, invoiceIds: readonly string[]): Promise<CandidateInvoice[]>;
  /**
   * Writes invoice, lines and decision and appends `decision.created` to the audit log. When
   * the (tenant, invoice id) is already stored, nothing is written and the stored decision is
   * returned with `created: false`.
   * @throws TriageError `TRIAGE_INVOICE_CONFLICT` when that id was stored with a different payload.
   */
  insert(
    invoice: Invoice,
    payloadSha256: string,
    keys: InvoiceIndexKeys,
    decision: DecisionResponse,
    extras?: DecisionExtras,
  ): Promise<SaveResult>;
  /** The ERP data to match the invoice against (store/erp-context.ts). */
  procurementContext(q: Omit<ProcurementQuery, 'tenantId'>): Promise<ProcurementLookup>;
  /** Records what a scored invoice billed against PO lines (store/erp-context.ts). */
  recordPoBilling(
    x: Omit<Parameters<typeof recordInvoiced>[1], 'tenantId'>,
    allocations: readonly PoAllocation[],
  ): Promise<void>;
}

/**
 * The transaction of a group of a batch chunk ({@link TriageRepository.withChunkLock}): the reads
 * of {@link ScoringTx}, the group's candidate search in one statement, and one write for all.
 */
export interface ChunkTx extends Omit<ScoringTx, 'insert' | 'findByInvoiceId'> {
  /** Stored candidates of every member, member `j` counting the `j` ahead of it (store/chunk-search.ts). */
  searchMany(queries: readonly Omit<CandidateQuery, 'tenantId'>[]): Promise<MemberSearch[]>;
  /** The search tuning in effect (for store/chunk-search.ts mergeGroup) and whether pgvector scans HNSW iteratively. */
  searchOptions(): Promise<{ exactSearchMaxRows: number; iterative: boolean }>;
  /** Primary key for a member's invoice row (the repository's id source). */
  newPk(): string;
  /** Writes the group's scored invoices (store/scoring-write.ts {@link insertScoredMany}). */
  insertMany(rows: readonly ScoredRow[]): Promise<void>;
  /** {@link ScoringTx.findEarlierLines} of every member in one statement (store/line-rebills.ts). */
  findEarlierLinesMany(queries: readonly Omit<LineRebillQuery, 'tenantId'>[]): Promise<EarlierLine[][]>;
  /**
   * The first ERP read of every member in one statement: the lookup when it settles it, else null
   * (store/erp-context.ts `readProcurementFirstMany`).
   */
  procurementFirstMany(
    queries: readonly Omit<ProcurementQuery, 'tenantId'>[],
  ): Promise<(ProcurementLookup | null)[]>;
  /** The transaction itself, for writes of other areas committed with the group (batch item states). */
  readonly sql: SqlExecutor;
}

/** Audit-log operations. */
export interface AuditStore {
  /** Verifies one tenant's chain (see store/audit.ts). */
  verify(tenantId: string): Promise<AuditVerification>;
  /** Verifies every tenant's chain. */
  verifyAll(): Promise<AuditVerification[]>;
  /** A page of one tenant's rows after `afterSeq`. */
  list(tenantId: string, opts?: AuditListOptions): Promise<AuditRow[]>;
  /** Links the committed outbox rows of one tenant, or of every tenant; returns how many. */
  link(tenantId?: string): Promise<number>;
}

/** Repository operations of the service. */
export interface TriageRepository {
  readonly engine: SqlDatabase['engine'];
  /**
   * Cheap round trip; rejects when the database is unreachable. With `ifIdle`, answers `busy`
   * at once, without a statement, when one would wait behind other work of this process (the
   * embedded engine running a scoring transaction, {@link SqlDatabase.busy}).
   * @returns `ok` after the round trip, or `busy`.
   */
  ping(opts?: { ifIdle?: boolean }): Promise<'ok' | 'busy'>;
  /** The decision stored for a client invoice id, or null. */
  findByInvoiceId(tenantId: string, invoiceId: string): Promise<StoredDecision | null>;
  /** A decision by its id, or null (also null when it belongs to another tenant). */
  getDecision(tenantId: string, decisionId: string): Promise<DecisionResponse | null>;
  /**
   * A decision with its explanation and who scored it, or null (also for another tenant's id).
   */
  getDecisionRecord(
    tenantId: string,
    decisionId: string,
  ): Promise<{ decision: DecisionWithExplanation; scoredByKeyId: string | null } | null>;
  /** Earlier invoices close to the query by embedding (kNN), within the vendor, or sharing an exact key. */
  findDuplicateCandidates(q: CandidateQuery): Promise<CandidateResult>;
  /**
   * Runs `fn` in one transaction holding an advisory lock per key (e.g. the vendor key and
   * vendor id), so that two submissions of the same vendor's invoice are scored one after
   * the other: the second sees the first as a duplicate candidate. Everything `fn` writes is
   * committed together or not at all. When `opts.signal` aborts, the transaction rolls back at
   * its next statement (or before its commit) and rejects with the signal's reason.
   */
  withScoringLock<T>(
    tenantId: string,
    lockKeys: readonly string[],
    fn: (tx: ScoringTx) => Promise<T>,
    opts?: { signal?: AbortSignal },
  ): Promise<T>;
  /**
   * {@link withScoringLock} for a group of a batch chunk: one transaction holding the locks of
   * every member's keys (sorted, so no deadlock with single scores), committed all or nothing;
   * `opts.signal` as for {@link withScoringLock}.
   */
  withChunkLock<T>(
    tenantId: string,
    lockKeys: readonly string[],
    fn: (tx: ChunkTx) => Promise<T>,
    opts?: { signal?: AbortSignal },
  ): Promise<T>;
  /** {@link ScoringTx.insert} in a transaction of its own (no candidate search). */
  saveDecision(
    tenantId: string,
    invoice: Invoice,
    payloadSha256: string,
    keys: InvoiceIndexKeys,
    decision: DecisionResponse,
    extras?: DecisionExtras,
  ): Promise<SaveResult>;
  /** Open exceptions by priority (see store/worklist.ts). */
  worklist(q: WorklistQuery): Promise<WorklistPage>;
  keys: KeyStore;
  policies: PolicyStore;
  vendors: VendorStore;
  /**
   * The versions of what scoring reads before its transaction, in one statement: the tenant's
   * latest policy version (1 when none is stored) and the vendor profile's version (null when
   * none is registered). Callers cache the documents by these versions, so a change made
   * through any process is seen by the next score everywhere.
   */
  configVersions(tenantId: string, vendorId: string): Promise<{ policy: number; vendor: number | null }>;
  /**
   * `configVersions`, the vendor's code counts (when `withCodeCounts`, else empty) and baselines
   * of several invoices in one statement (store/scoring-reads.ts), as batch groups read them.
   */
  scoringInputsMany(
    tenantId: string,
    queries: readonly ScoringInputsQuery[],
    withCodeCounts: boolean,
  ): Promise<ScoringInputs[]>;
  /** History import: past invoices indexed without scoring (store/history.ts). */
  history: HistoryStore;
  /** Asynchronous history imports: staged records and their progress (store/history-imports.ts). */
  historyImports: HistoryImportStore;
  /** ERP reference data and status callbacks (store/erp.ts). */
  erp: ErpStore;
  reviews: ReviewStore;
  audit: AuditStore;
  /** Event feed, webhook subscriptions and deliveries (see store/events.ts). */
  events: EventStore;
  /** Claims on worklist items (store/claims.ts). */
  claims: ClaimStore;
  /** One fact row per decision, the input of the dashboard's KPIs (store/kpis.ts). */
  decisionFacts(q: FactQuery): Promise<DecisionFact[]>;
  /** Invoice and history reads of the review console (store/console.ts). */
  console: ConsoleStore;
  /**
   * Runs `fn` in one transaction, for writes of other areas that must be audited together
   * with their change (call `appendAudit(tx, entry)` from store/audit.ts inside `fn`).
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
