/**
 * The triage repository: one interface over both engines. Everything a scoring request
 * writes (invoice, lines, decision) is written in one transaction, keyed by
 * (tenant, client invoice id) so that a re-sent invoice returns the stored decision.
 */
import { randomUUID } from 'node:crypto';
import {
  decisionAuditPayload,
  type DecisionResponse,
  type DecisionWithExplanation,
} from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { TriageError } from '../core/errors.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';
import { toVectorLiteral } from './sql.js';
import {
  appendAudit,
  auditTenants,
  listAudit,
  verifyAudit,
  type AuditListOptions,
  type AuditRow,
  type AuditVerification,
} from './audit.js';
import { appendEvents, createEventStore, decisionCreatedEvent, type EventStore } from './events.js';
import { createKeyStore, type KeyStore } from './keys.js';
import { createPolicyStore, type PolicyStore } from './policies.js';
import { createVendorStore, type VendorStore } from './vendors.js';
import { createReviewStore, type ReviewStore } from './reviews.js';
import { listWorklist, type WorklistPage, type WorklistQuery } from './worklist.js';
import { lockForTransaction, lockKey } from './locks.js';
import { insertAuditSample } from './monitoring.js';
import { createClaimStore, type ClaimStore } from './claims.js';
import { createConsoleStore, type ConsoleStore } from './console.js';
import { listDecisionFacts, type DecisionFact, type FactQuery } from './kpis.js';
import {
  DEFAULT_EXACT_MAX_ROWS,
  DEFAULT_VENDOR_WINDOW_DAYS,
  findCandidates,
  hasIterativeScan,
  type CandidateQuery,
  type CandidateResult,
  type CandidateSearchOptions,
  type StoredDecision,
} from './candidates.js';

export type * from './candidates.js';

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
  /** Primary keys of stored invoices; default `randomUUID` (golden runs pass a sequence). */
  newId?: () => string;
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
}

/** Audit-log operations. */
export interface AuditStore {
  /** Verifies one tenant's chain (see store/audit.ts). */
  verify(tenantId: string): Promise<AuditVerification>;
  /** Verifies every tenant's chain. */
  verifyAll(): Promise<AuditVerification[]>;
  /** A page of one tenant's rows after `afterSeq`. */
  list(tenantId: string, opts?: AuditListOptions): Promise<AuditRow[]>;
}

/** Repository operations of the service. */
export interface TriageRepository {
  readonly engine: SqlDatabase['engine'];
  /** Cheap round trip; rejects when the database is unreachable. */
  ping(): Promise<void>;
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
   * committed together or not at all.
   */
  withScoringLock<T>(
    tenantId: string,
    lockKeys: readonly string[],
    fn: (tx: ScoringTx) => Promise<T>,
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

async function insertScored(
  newId: () => string,
  tx: SqlExecutor,
  tenantId: string,
  invoice: Invoice,
  payloadSha256: string,
  keys: InvoiceIndexKeys,
  decision: DecisionResponse,
  extras: DecisionExtras = {},
): Promise<SaveResult> {
  const pk = newId();
  const inserted = await tx.query(
    `INSERT INTO invoices (pk, tenant_id, invoice_id, payload, payload_sha256, vendor_id, vendor_name, vendor_key,
       vendor_tax_id, vendor_npi, invoice_number, invoice_number_normalised, invoice_number_canonical,
       invoice_date, due_date, currency, total_cents, document_type, po_number, facility_id,
       service_period_start, service_period_end, embedding, reverses_invoice_pk)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23::vector,
       (SELECT r.pk FROM invoices r WHERE r.tenant_id = $2 AND r.invoice_id = $24))
     ON CONFLICT (tenant_id, invoice_id) DO NOTHING RETURNING pk`,
    [
      pk,
      tenantId,
      invoice.invoice_id,
      JSON.stringify(invoice),
      payloadSha256,
      invoice.vendor.id,
      invoice.vendor.name,
      keys.vendorKey,
      invoice.vendor.tax_id ?? null,
      invoice.vendor.npi ?? null,
      invoice.invoice_number,
      keys.invoiceNumberNormalised,
      keys.invoiceNumberCanonical,
      invoice.invoice_date,
      invoice.due_date ?? null,
      invoice.currency,
      String(invoice.total_cents),
      invoice.document_type,
      invoice.po_number ?? null,
      invoice.facility_id ?? null,
      invoice.service_period?.start ?? null,
      invoice.service_period?.end ?? null,
      toVectorLiteral(keys.embedding),
      extras.reversesInvoiceId ?? null,
    ],
  );
  if (inserted.length === 0) {
    // Another transaction stored this id first; read committed sees its row now.
    const stored = await findStored(tx, tenantId, invoice.invoice_id);
    if (!stored)
      throw new TriageError('TRIAGE_INTERNAL', 'invoice conflicted but no stored decision was found');
    if (stored.payloadSha256 !== payloadSha256) throw conflict(invoice.invoice_id);
    return { decision: stored.decision, created: false };
  }
  await insertLines(tx, pk, invoice, keys);
  const p = extras.priority;
  await tx.query(
    `INSERT INTO decisions (id, tenant_id, invoice_pk, decision, queue, priority, coding_mismatch_score,
       duplicate_score, reason_codes, response, model_versions, feature_schema_version, policy_version, created_at,
       scored_by_key_id, review_status, expected_loss_cents, discount_cents, discount_deadline, received_date,
       sla_cents_per_day, explanation)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22)`,
    [
      decision.decision_id,
      tenantId,
      pk,
      decision.decision,
      decision.queue ?? null,
      decision.priority.toFixed(2),
      decision.scores.coding_mismatch,
      decision.scores.duplicate,
      decision.reasons.map((r) => r.code),
      JSON.stringify(decision),
      JSON.stringify(decision.versions.models),
      decision.versions.feature_schema,
      decision.versions.policy,
      decision.created_at,
      extras.scoredByKeyId ?? null,
      decision.decision === 'AUTO_APPROVE' ? null : 'open',
      String(p?.expectedLossCents ?? Math.round(decision.priority * 100)),
      String(p?.discountCents ?? 0),
      p?.discountDeadline ?? null,
      p?.receivedDate ?? decision.created_at.slice(0, 10),
      String(p?.slaCentsPerDay ?? 0),
      extras.explanation === undefined ? null : JSON.stringify(extras.explanation),
    ],
  );
  const sample = extras.auditSample;
  if (sample?.sampled)
    await insertAuditSample(
      tx,
      tenantId,
      decision.decision_id,
      { rate: sample.rate, draw: sample.draw, seedSha256: sample.seed_sha256 },
      decision.created_at,
    );
  await appendAudit(tx, {
    tenantId,
    actorKeyId: extras.scoredByKeyId ?? null,
    kind: 'decision.created',
    subjectId: decision.decision_id,
    payload: extras.auditPayload ?? decisionAuditPayload(decision, payloadSha256),
  });
  await appendEvents(tx, [decisionCreatedEvent(tenantId, decision)]);
  return { decision, created: true };
}

/** Builds the repository over an opened, migrated database. */
export function createRepository(db: SqlDatabase, search: RepositoryOptions = {}): TriageRepository {
  const newId = search.newId ?? randomUUID;
  let iterative: Promise<boolean> | undefined;
  const searchOpts = {
    exactSearchMaxRows: search.exactSearchMaxRows ?? DEFAULT_EXACT_MAX_ROWS,
    vendorWindowDays: search.vendorWindowDays ?? DEFAULT_VENDOR_WINDOW_DAYS,
    iterative: (ex: SqlExecutor) => (iterative ??= hasIterativeScan(ex)),
  };
  const withScoringLock: TriageRepository['withScoringLock'] = (tenantId, lockKeys, fn) =>
    db.transaction(async (tx) => {
      await lockForTransaction(
        tx,
        lockKeys.map((k) => lockKey('scoring', tenantId, k)),
      );
      return fn({
        findByInvoiceId: (invoiceId) => findStored(tx, tenantId, invoiceId),
        findDuplicateCandidates: (q) => findCandidates(tx, { ...q, tenantId }, searchOpts),
        insert: (invoice, hash, keys, decision, extras) =>
          insertScored(newId, tx, tenantId, invoice, hash, keys, decision, extras),
      });
    });

  return {
    engine: db.engine,

    async ping() {
      await db.query('SELECT 1');
    },

    findByInvoiceId: (tenantId, invoiceId) => findStored(db, tenantId, invoiceId),

    async getDecision(tenantId, decisionId) {
      if (!/^[0-9a-f-]{36}$/i.test(decisionId)) return null;
      const rows = await db.query<{ response: DecisionResponse }>(
        'SELECT response FROM decisions WHERE id = $1 AND tenant_id = $2',
        [decisionId, tenantId],
      );
      return rows[0]?.response ?? null;
    },

    async getDecisionRecord(tenantId, decisionId) {
      if (!/^[0-9a-f-]{36}$/i.test(decisionId)) return null;
      const rows = await db.query<{
        response: DecisionResponse;
        explanation: DecisionWithExplanation['explanation'] | null;
        scored_by_key_id: string | null;
      }>('SELECT response, explanation, scored_by_key_id FROM decisions WHERE id = $1 AND tenant_id = $2', [
        decisionId,
        tenantId,
      ]);
      const r = rows[0];
      if (!r) return null;
      return {
        decision: { ...r.response, ...(r.explanation ? { explanation: r.explanation } : {}) },
        scoredByKeyId: r.scored_by_key_id,
      };
    },

    findDuplicateCandidates: (q) => db.transaction((tx) => findCandidates(tx, q, searchOpts)),

    withScoringLock,

    saveDecision: (tenantId, invoice, hash, keys, decision, extras) =>
      withScoringLock(tenantId, [], (tx) => tx.insert(invoice, hash, keys, decision, extras)),

    worklist: (q) => listWorklist(db, q),
    keys: createKeyStore(db),
    policies: createPolicyStore(db),
    vendors: createVendorStore(db),
    reviews: createReviewStore(db),
    events: createEventStore(db),
    audit: {
      verify: (tenantId) => verifyAudit(db, tenantId),
      async verifyAll() {
        const out: AuditVerification[] = [];
        for (const t of await auditTenants(db)) out.push(await verifyAudit(db, t));
        return out;
      },
      list: (tenantId, opts) => listAudit(db, tenantId, opts),
    },
    claims: createClaimStore(db),
    decisionFacts: (q) => listDecisionFacts(db, q),
    console: createConsoleStore(db),
    transaction: (fn) => db.transaction(fn),

    close: () => db.close(),
  };
}

/** The error for an invoice id re-sent with a different payload. */
export function conflict(invoiceId: string): TriageError {
  return new TriageError(
    'TRIAGE_INVOICE_CONFLICT',
    `invoice_id ${JSON.stringify(invoiceId)} was already scored with different content; send changes under a new invoice_id`,
    [{ path: '/invoice_id', message: 'already used for a different invoice' }],
  );
}

async function findStored(
  db: SqlExecutor,
  tenantId: string,
  invoiceId: string,
): Promise<StoredDecision | null> {
  const rows = await db.query<{ payload_sha256: string; response: DecisionResponse }>(
    `SELECT i.payload_sha256, d.response FROM invoices i JOIN decisions d ON d.invoice_pk = i.pk
     WHERE i.tenant_id = $1 AND i.invoice_id = $2`,
    [tenantId, invoiceId],
  );
  const r = rows[0];
  return r ? { payloadSha256: r.payload_sha256, decision: r.response } : null;
}

async function insertLines(
  tx: SqlExecutor,
  pk: string,
  invoice: Invoice,
  keys: InvoiceIndexKeys,
): Promise<void> {
  const byNumber = new Map(keys.lines.map((l) => [l.lineNumber, l]));
  // One multi-row INSERT per chunk keeps round trips low on large invoices.
  const CHUNK = 200;
  for (let start = 0; start < invoice.lines.length; start += CHUNK) {
    const chunk = invoice.lines.slice(start, start + CHUNK);
    const params: unknown[] = [];
    const tuples = chunk.map((line) => {
      const k = byNumber.get(line.line_number);
      if (!k) throw new TriageError('TRIAGE_INTERNAL', `no features for line ${line.line_number}`);
      const base = params.length;
      params.push(
        pk,
        line.line_number,
        line.description,
        line.code?.system ?? null,
        line.code?.value ?? null,
        line.modifiers ?? [],
        String(line.quantity),
        String(line.unit_price_cents),
        String(line.amount_cents),
        line.service_date ?? null,
        k.matchKey,
        toVectorLiteral(k.embedding),
      );
      const ph = Array.from({ length: 12 }, (_, j) => `$${base + j + 1}`);
      ph[11] = `${ph[11]}::vector`;
      return `(${ph.join(',')})`;
    });
    await tx.query(
      `INSERT INTO invoice_lines (invoice_pk, line_number, description, code_system, code, modifiers, quantity,
         unit_price_cents, amount_cents, service_date, match_key, embedding) VALUES ${tuples.join(',')}`,
      params,
    );
  }
}
