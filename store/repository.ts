/**
 * The triage repository: one interface over both engines. Everything a scoring request
 * writes (invoice, lines, decision) is written in one transaction, keyed by
 * (tenant, client invoice id) so that a re-sent invoice returns the stored decision.
 */
import { randomUUID } from 'node:crypto';
import type { DecisionKind, DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { TriageError } from '../core/errors.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';
import { toVectorLiteral } from './sql.js';

/** Blocking keys and vectors the store indexes with an invoice (computed by `features/`). */
export interface InvoiceIndexKeys {
  vendorKey: string;
  invoiceNumberNormalised: string;
  invoiceNumberCanonical: string;
  /** Invoice embedding, unit length, 128 dims. */
  embedding: ArrayLike<number>;
  lines: { lineNumber: number; matchKey: string; embedding: ArrayLike<number> }[];
}

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
  /** How the candidate was found. */
  sources: ('knn' | 'exact_key')[];
}

/** Query of {@link TriageRepository.findDuplicateCandidates}. */
export interface CandidateQuery {
  tenantId: string;
  embedding: ArrayLike<number>;
  /** Nearest neighbours to fetch by embedding. */
  k: number;
  vendorKey: string;
  vendorId: string;
  invoiceNumberCanonical: string;
  totalCents: number;
  invoiceDate: string;
}

/** Result of {@link TriageRepository.saveDecision}. */
export interface SaveResult {
  decision: DecisionResponse;
  /** False when the invoice id was already stored (idempotent replay): `decision` is the stored one. */
  created: boolean;
}

/** A stored decision with the hash of the payload it was made for. */
export interface StoredDecision {
  payloadSha256: string;
  decision: DecisionResponse;
}

/**
 * What a scoring request may do inside its transaction: read, search candidates and write,
 * all under the scoring locks taken by {@link TriageRepository.withScoringLock}.
 */
export interface ScoringTx {
  /** The decision stored for a client invoice id, or null. */
  findByInvoiceId(invoiceId: string): Promise<StoredDecision | null>;
  /** Earlier invoices close to the query by embedding (kNN) or sharing an exact blocking key. */
  findDuplicateCandidates(q: Omit<CandidateQuery, 'tenantId'>): Promise<CandidateInvoice[]>;
  /**
   * Writes invoice, lines and decision. When the (tenant, invoice id) is already stored,
   * nothing is written and the stored decision is returned with `created: false`.
   * @throws TriageError `TRIAGE_INVOICE_CONFLICT` when that id was stored with a different payload.
   */
  insert(
    invoice: Invoice,
    payloadSha256: string,
    keys: InvoiceIndexKeys,
    decision: DecisionResponse,
  ): Promise<SaveResult>;
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
  /** Earlier invoices close to the query by embedding (kNN) or sharing an exact blocking key. */
  findDuplicateCandidates(q: CandidateQuery): Promise<CandidateInvoice[]>;
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
  ): Promise<SaveResult>;
  close(): Promise<void>;
}

type Row = Record<string, unknown>;

const CANDIDATE_COLUMNS = `
  i.pk, i.invoice_id, d.id AS decision_id, d.decision, i.vendor_id, i.vendor_name, i.vendor_key,
  i.vendor_tax_id, i.vendor_npi, i.invoice_number, i.invoice_number_normalised, i.invoice_number_canonical,
  i.invoice_date::text AS invoice_date, i.total_cents::text AS total_cents, i.currency, i.document_type,
  i.po_number, i.service_period_start::text AS service_period_start,
  i.service_period_end::text AS service_period_end,
  (i.embedding <=> $1::vector) AS distance,
  ARRAY(SELECT l.match_key FROM invoice_lines l WHERE l.invoice_pk = i.pk ORDER BY l.line_number) AS line_keys`;

function toCandidate(r: Row, source: 'knn' | 'exact_key'): CandidateInvoice {
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
  };
}

async function findCandidates(db: SqlExecutor, q: CandidateQuery): Promise<CandidateInvoice[]> {
  const vec = toVectorLiteral(q.embedding);
  const knn = await db.query(
    `SELECT ${CANDIDATE_COLUMNS} FROM invoices i JOIN decisions d ON d.invoice_pk = i.pk
     WHERE i.tenant_id = $2 ORDER BY i.embedding <=> $1::vector LIMIT $3`,
    [vec, q.tenantId, q.k],
  );
  const exact = await db.query(
    `SELECT ${CANDIDATE_COLUMNS} FROM invoices i JOIN decisions d ON d.invoice_pk = i.pk
     WHERE i.tenant_id = $2 AND (
       (i.invoice_number_canonical = $3 AND (i.vendor_key = $4 OR i.vendor_id = $5))
       OR (i.vendor_key = $4 AND i.total_cents = $6 AND i.invoice_date = $7::date))
     LIMIT 50`,
    [vec, q.tenantId, q.invoiceNumberCanonical, q.vendorKey, q.vendorId, q.totalCents, q.invoiceDate],
  );
  const byId = new Map<string, CandidateInvoice>();
  for (const r of knn) byId.set(String(r.invoice_id), toCandidate(r, 'knn'));
  for (const r of exact) {
    const seen = byId.get(String(r.invoice_id));
    if (seen) seen.sources.push('exact_key');
    else byId.set(String(r.invoice_id), toCandidate(r, 'exact_key'));
  }
  return [...byId.values()];
}

async function insertScored(
  tx: SqlExecutor,
  tenantId: string,
  invoice: Invoice,
  payloadSha256: string,
  keys: InvoiceIndexKeys,
  decision: DecisionResponse,
): Promise<SaveResult> {
  const pk = randomUUID();
  const inserted = await tx.query(
    `INSERT INTO invoices (pk, tenant_id, invoice_id, payload, payload_sha256, vendor_id, vendor_name, vendor_key,
       vendor_tax_id, vendor_npi, invoice_number, invoice_number_normalised, invoice_number_canonical,
       invoice_date, due_date, currency, total_cents, document_type, po_number, facility_id,
       service_period_start, service_period_end, embedding)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23::vector)
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
  await tx.query(
    `INSERT INTO decisions (id, tenant_id, invoice_pk, decision, queue, priority, coding_mismatch_score,
       duplicate_score, reason_codes, response, model_versions, feature_schema_version, policy_version, created_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`,
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
    ],
  );
  return { decision, created: true };
}

/** Builds the repository over an opened, migrated database. */
export function createRepository(db: SqlDatabase): TriageRepository {
  const withScoringLock: TriageRepository['withScoringLock'] = (tenantId, lockKeys, fn) =>
    db.transaction(async (tx) => {
      // Sorted, distinct keys: every transaction takes its locks in the same order (no deadlock).
      for (const key of [...new Set(lockKeys.map((k) => `${tenantId}\u0001${k}`))].sort()) {
        await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
      }
      return fn({
        findByInvoiceId: (invoiceId) => findStored(tx, tenantId, invoiceId),
        findDuplicateCandidates: (q) => findCandidates(tx, { ...q, tenantId }),
        insert: (invoice, hash, keys, decision) => insertScored(tx, tenantId, invoice, hash, keys, decision),
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

    findDuplicateCandidates: (q) => findCandidates(db, q),

    withScoringLock,

    saveDecision: (tenantId, invoice, hash, keys, decision) =>
      withScoringLock(tenantId, [], (tx) => tx.insert(invoice, hash, keys, decision)),

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
