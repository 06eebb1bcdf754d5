/**
 * ERP reference data per tenant (core/erp.ts): bulk loads of purchase orders, goods receipts
 * and contracts, all or nothing in one transaction and audited as `erp.loaded`; the status
 * callbacks (`erp.callback`), which set the decision's `erp_status` and close (posted, paid) or
 * reopen (rejected) its worklist item. The scoring-side reads are in store/erp-context.ts.
 */
import { canonicalSha256 } from '../core/canonical.js';
import {
  type Contract,
  type ErpCallback,
  type ErpCallbackResult,
  type ErpLoad,
  type ErpLoadCounts,
  type ErpLoadResult,
  type GoodsReceipt,
  type PurchaseOrder,
} from '../core/erp.js';
import { TriageError, type FieldError } from '../core/errors.js';
import { REASON_CODES, type DecisionResponse, type ReasonCode } from '../core/decision.js';
import { DUPLICATE_SCORE_CODES } from '../core/review-tasks.js';
import { appendAudit } from './audit.js';
import {
  checkErpLoad,
  orphanedReceipts,
  receiptUnitErrors,
  referenceErrors,
  storedReceiptsOf,
  storedReceiptUnitErrors,
} from './erp-checks.js';
import { endClaimOfClosedItem } from './claims.js';
import { erpStatusLabels, recordLabel } from './labels.js';
import { lockForTransaction, lockKey } from './locks.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';
import { unpackResponse, type StoredResponse } from './stored-response.js';

/** ERP reference-data operations. */
export interface ErpStore {
  /**
   * Upserts a bulk load for a tenant in one transaction (all records or none) and audits it.
   * A record whose stored version is higher is left alone (`stale`); the same version with the
   * same content is `unchanged`.
   * @param now the time of the load (default the system clock): a receipt dated after its day
   *   plus one day is refused.
   * @throws TriageError `TRIAGE_INPUT_INVALID` (400), `TRIAGE_ERP_UNIT_INVALID`,
   *   `TRIAGE_ERP_LINE_NUMBER_REPEATED`, `TRIAGE_ERP_CONTRACT_DATES_INVALID` or
   *   `TRIAGE_ERP_RECEIPT_DATE_FUTURE` (422): see
   *   store/erp-checks.ts `checkErpLoad`.
   * @throws TriageError `TRIAGE_ERP_REFERENCE_INVALID` (422) naming the record and field: a vendor
   *   without a profile, a receipt for a PO or PO line that does not exist.
   * @throws TriageError `TRIAGE_ERP_RECEIPT_UNIT_UNCONVERTIBLE` (422) naming the receipt's field:
   *   a receipt in another unit than its PO line without the pack quantity that converts it
   *   (store/erp-checks.ts `receiptUnitErrors`), or a new PO version changing a line so that a
   *   stored receipt no longer converts (`storedReceiptUnitErrors`), naming the PO line.
   * @throws TriageError `TRIAGE_ERP_RECEIPTS_ORPHANED` (409): a new PO version drops a line that
   *   stored receipts were received against (store/erp-checks.ts `orphanedReceipts`).
   * @throws TriageError `TRIAGE_ERP_VERSION_CONFLICT` (409): the same version stored (or sent twice) with other content.
   */
  load(tenantId: string, load: ErpLoad, actorKeyId: string | null, now?: Date): Promise<ErpLoadResult>;
  /**
   * Records an ERP status callback on the decision of `invoice_id` (idempotent by key) and audits it.
   * @throws TriageError `TRIAGE_DECISION_NOT_FOUND` when the tenant has no decision for the invoice.
   * @throws TriageError `TRIAGE_IDEMPOTENCY_CONFLICT` when the key was used for another callback.
   */
  callback(
    tenantId: string,
    cb: ErpCallback,
    actorKeyId: string | null,
    now: Date,
  ): Promise<ErpCallbackResult>;
}

const emptyCounts = (): ErpLoadCounts => ({ created: 0, updated: 0, unchanged: 0, stale: 0 });

interface Stored {
  version: number;
  sha: string;
}

type Kind = 'purchase_orders' | 'receipts' | 'contracts';
const TABLE: Record<Kind, { table: string; key: string }> = {
  purchase_orders: { table: 'erp_purchase_orders', key: 'po_number' },
  receipts: { table: 'erp_receipts', key: 'receipt_id' },
  contracts: { table: 'erp_contracts', key: 'contract_id' },
};

async function storedVersions(tx: SqlExecutor, tenantId: string, kind: Kind, ids: string[]) {
  const { table, key } = TABLE[kind];
  if (ids.length === 0) return new Map<string, Stored>();
  const rows = await tx.query<{ id: string; version: string | number; content_sha256: string }>(
    `SELECT ${key} AS id, version, content_sha256 FROM ${table} WHERE tenant_id = $1 AND ${key} = ANY($2::text[])`,
    [tenantId, ids],
  );
  return new Map(rows.map((r) => [r.id, { version: Number(r.version), sha: r.content_sha256 }]));
}

/** Plans the writes of one kind: which records to write, counting the rest; conflicts as field errors. */
function plan<T extends { version: number }>(
  kind: Kind,
  records: readonly T[],
  idOf: (r: T) => string,
  stored: Map<string, Stored>,
  conflicts: FieldError[],
): { writes: { rec: T; sha: string; created: boolean }[]; counts: ErpLoadCounts } {
  const counts = emptyCounts();
  const writes: { rec: T; sha: string; created: boolean }[] = [];
  const seen = new Map<string, Stored & { index: number }>();
  records.forEach((rec, i) => {
    const id = idOf(rec);
    const sha = canonicalSha256(rec);
    const twin = seen.get(id);
    if (twin) {
      if (twin.version === rec.version && twin.sha !== sha)
        conflicts.push({
          path: `/${kind}/${i}/version`,
          message: `${id} is sent twice with version ${rec.version} and different content (first at /${kind}/${twin.index})`,
        });
      else
        conflicts.push({
          path: `/${kind}/${i}`,
          message: `${id} is sent twice in one load (first at /${kind}/${twin.index})`,
        });
      return;
    }
    seen.set(id, { version: rec.version, sha, index: i });
    const prev = stored.get(id);
    if (!prev) {
      counts.created++;
      writes.push({ rec, sha, created: true });
    } else if (prev.version > rec.version) counts.stale++;
    else if (prev.version === rec.version) {
      if (prev.sha === sha) counts.unchanged++;
      else
        conflicts.push({
          path: `/${kind}/${i}/version`,
          message: `${id} version ${rec.version} is stored with different content; send a higher version`,
        });
    } else {
      counts.updated++;
      writes.push({ rec, sha, created: false });
    }
  });
  return { writes, counts };
}

async function writePo(tx: SqlExecutor, tenantId: string, po: PurchaseOrder, sha: string, now: string) {
  await tx.query(
    `INSERT INTO erp_purchase_orders (tenant_id, po_number, vendor_id, facility_id, status, order_date, version,
       content_sha256, record, updated_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
     ON CONFLICT (tenant_id, po_number) DO UPDATE SET vendor_id = EXCLUDED.vendor_id, facility_id = EXCLUDED.facility_id,
       status = EXCLUDED.status, order_date = EXCLUDED.order_date, version = EXCLUDED.version,
       content_sha256 = EXCLUDED.content_sha256, record = EXCLUDED.record, updated_at = EXCLUDED.updated_at`,
    [
      tenantId,
      po.po_number,
      po.vendor_id,
      po.facility_id ?? null,
      po.status,
      po.order_date,
      po.version,
      sha,
      po,
      now,
    ],
  );
}

async function writeReceipt(tx: SqlExecutor, tenantId: string, r: GoodsReceipt, sha: string, now: string) {
  await tx.query(
    `INSERT INTO erp_receipts (tenant_id, receipt_id, po_number, po_line_number, version, content_sha256, record, updated_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
     ON CONFLICT (tenant_id, receipt_id) DO UPDATE SET po_number = EXCLUDED.po_number,
       po_line_number = EXCLUDED.po_line_number, version = EXCLUDED.version,
       content_sha256 = EXCLUDED.content_sha256, record = EXCLUDED.record, updated_at = EXCLUDED.updated_at`,
    [tenantId, r.receipt_id, r.po_number, r.po_line_number, r.version, sha, r, now],
  );
}

async function writeContract(tx: SqlExecutor, tenantId: string, c: Contract, sha: string, now: string) {
  await tx.query(
    `INSERT INTO erp_contracts (tenant_id, contract_id, vendor_id, version, content_sha256, record, updated_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7)
     ON CONFLICT (tenant_id, contract_id) DO UPDATE SET vendor_id = EXCLUDED.vendor_id, version = EXCLUDED.version,
       content_sha256 = EXCLUDED.content_sha256, record = EXCLUDED.record, updated_at = EXCLUDED.updated_at`,
    [tenantId, c.contract_id, c.vendor_id, c.version, sha, c, now],
  );
}

/** Runs a bulk load inside `tx` (see {@link ErpStore.load}). */
export async function loadErp(
  tx: SqlExecutor,
  tenantId: string,
  load: ErpLoad,
  actorKeyId: string | null,
  now = new Date(),
): Promise<ErpLoadResult> {
  checkErpLoad(load, now.toISOString().slice(0, 10));
  await lockForTransaction(tx, [lockKey('erp', tenantId)]);
  const invalid = await referenceErrors(tx, tenantId, load);
  if (invalid.length > 0)
    throw new TriageError(
      'TRIAGE_ERP_REFERENCE_INVALID',
      `the load refers to records that do not exist: ${invalid.map((e) => e.path).join(', ')}; nothing was stored`,
      invalid,
    );
  const units = await receiptUnitErrors(tx, tenantId, load);
  if (units.length > 0)
    throw new TriageError(
      'TRIAGE_ERP_RECEIPT_UNIT_UNCONVERTIBLE',
      `${units.map((e) => `${e.path}: ${e.message}`).join('; ')}; nothing was stored`,
      units,
    );
  const pos = load.purchase_orders ?? [];
  const receipts = load.receipts ?? [];
  const contracts = load.contracts ?? [];
  const conflicts: FieldError[] = [];
  const planOf = async <T extends { version: number }>(
    kind: Kind,
    records: readonly T[],
    idOf: (r: T) => string,
  ) => plan(kind, records, idOf, await storedVersions(tx, tenantId, kind, records.map(idOf)), conflicts);
  const p = await planOf('purchase_orders', pos, (x) => x.po_number);
  const r = await planOf('receipts', receipts, (x) => x.receipt_id);
  const c = await planOf('contracts', contracts, (x) => x.contract_id);
  if (conflicts.length > 0)
    throw new TriageError(
      'TRIAGE_ERP_VERSION_CONFLICT',
      `conflicting versions: ${conflicts.map((e) => e.path).join(', ')}; nothing was stored`,
      conflicts,
    );
  const replaced = p.writes.filter((w) => !w.created).map((w) => w.rec);
  const stored = await storedReceiptsOf(tx, tenantId, replaced);
  const reconverted = storedReceiptUnitErrors(stored, load, replaced);
  if (reconverted.length > 0)
    throw new TriageError(
      'TRIAGE_ERP_RECEIPT_UNIT_UNCONVERTIBLE',
      `${reconverted.map((e) => `${e.path}: ${e.message}`).join('; ')}; nothing was stored`,
      reconverted,
    );
  const orphans = orphanedReceipts(stored, load, replaced);
  if (orphans.length > 0)
    throw new TriageError(
      'TRIAGE_ERP_RECEIPTS_ORPHANED',
      `${orphans.map((e) => e.message).join('; ')}; nothing was stored`,
      orphans,
    );
  const ts = now.toISOString();
  for (const w of p.writes) await writePo(tx, tenantId, w.rec, w.sha, ts);
  for (const w of r.writes) await writeReceipt(tx, tenantId, w.rec, w.sha, ts);
  for (const w of c.writes) await writeContract(tx, tenantId, w.rec, w.sha, ts);
  const written = p.writes.length + r.writes.length + c.writes.length;
  const result: ErpLoadResult = {
    purchase_orders: p.counts,
    receipts: r.counts,
    contracts: c.counts,
    audit_seq: null,
  };
  if (written === 0) return result;
  const row = await appendAudit(tx, {
    tenantId,
    actorKeyId,
    kind: 'erp.loaded',
    subjectId: `erp-load:${canonicalSha256(load).slice(0, 16)}`,
    payload: {
      purchase_orders: p.writes.map((w) => ({
        po_number: w.rec.po_number,
        version: w.rec.version,
        sha256: w.sha,
      })),
      receipts: r.writes.map((w) => ({
        receipt_id: w.rec.receipt_id,
        version: w.rec.version,
        sha256: w.sha,
      })),
      contracts: c.writes.map((w) => ({
        contract_id: w.rec.contract_id,
        version: w.rec.version,
        sha256: w.sha,
      })),
      counts: { purchase_orders: p.counts, receipts: r.counts, contracts: c.counts },
    },
  });
  return { ...result, audit_seq: row.seq };
}

/**
 * The rejection reason as store/labels.ts reads it: `duplicate` for a reason code of the
 * duplicate task (core/review-tasks.ts, `LINE_REBILLED` included), `coding` for a reason code of
 * the coding queue, else the ERP's code (no model label).
 */
function labelReason(code: string | undefined): string | null {
  if (code === undefined) return null;
  if (DUPLICATE_SCORE_CODES.has(code)) return 'duplicate';
  return REASON_CODES[code as ReasonCode]?.queue === 'coding' ? 'coding' : code;
}

/** Reason codes the decision raised (invoice level), for "a rejection confirms the flag". */
function raisedCodes(response: DecisionResponse): Set<string> {
  return new Set<string>(response.reasons.map((r) => r.code));
}

/** Runs a status callback inside `tx` (see {@link ErpStore.callback}). */
export async function erpCallback(
  tx: SqlExecutor,
  tenantId: string,
  cb: ErpCallback,
  actorKeyId: string | null,
  now: Date,
): Promise<ErpCallbackResult> {
  const sha = canonicalSha256(cb);
  // The invoice's lock orders its callbacks; the key's lets one idempotency key sent for two
  // invoices at once be read as used by the second (a 409) rather than inserted twice.
  await lockForTransaction(tx, [
    lockKey('erp-callback', tenantId, cb.invoice_id),
    lockKey('erp-callback-key', tenantId, cb.idempotency_key),
  ]);
  const prev = await tx.query<{ content_sha256: string }>(
    'SELECT content_sha256 FROM erp_callbacks WHERE tenant_id = $1 AND idempotency_key = $2',
    [tenantId, cb.idempotency_key],
  );
  const rows = await tx.query<{
    id: string;
    response: StoredResponse;
    review_status: string | null;
    erp_status: string | null;
  }>(
    `SELECT d.id::text AS id, d.response, d.review_status, d.erp_status
       FROM decisions d JOIN invoices i ON i.pk = d.invoice_pk
      WHERE d.tenant_id = $1 AND i.invoice_id = $2`,
    [tenantId, cb.invoice_id],
  );
  const d = rows[0] && { ...rows[0], response: unpackResponse(rows[0].response) };
  if (!d)
    throw new TriageError('TRIAGE_DECISION_NOT_FOUND', `no decision for invoice ${cb.invoice_id}`, [
      { path: '/invoice_id', message: 'no scored invoice with this id' },
    ]);
  const confirms =
    cb.status === 'rejected' ? (cb.reason_code ? raisedCodes(d.response).has(cb.reason_code) : false) : null;
  if (prev[0]) {
    if (prev[0].content_sha256 !== sha)
      throw new TriageError('TRIAGE_IDEMPOTENCY_CONFLICT', 'idempotency_key was used for another callback', [
        { path: '/idempotency_key', message: 'used before with a different body' },
      ]);
    return {
      decision_id: d.id,
      invoice_id: cb.invoice_id,
      erp_status: cb.status,
      review_status: (d.review_status as 'open' | 'closed' | null) ?? null,
      confirms_flag: confirms,
      replayed: true,
    };
  }
  // Paid is final: a later rejection would free the PO quantity the payment used.
  if (d.erp_status === 'paid' && cb.status !== 'paid')
    throw new TriageError(
      'TRIAGE_ERP_STATUS_CONFLICT',
      `invoice ${cb.invoice_id} was reported paid; its status cannot become ${cb.status} (record a credit memo instead)`,
      [{ path: '/status', message: 'the invoice was reported paid' }],
    );
  // Posted or paid: the ERP accepted the invoice, so an open exception is closed; rejected:
  // the item is (re)opened for the reviewers, an auto-approved invoice in the AP queue.
  const reviewStatus = cb.status === 'rejected' ? 'open' : d.review_status === null ? null : 'closed';
  await tx.query(
    `UPDATE decisions SET erp_status = $2, review_status = $3,
       queue = CASE WHEN $3 = 'open' THEN COALESCE(queue, 'ap') ELSE queue END,
       closed_at = CASE WHEN $3 = 'closed' AND review_status = 'open' THEN $4::timestamptz
                        WHEN $3 = 'open' THEN NULL ELSE closed_at END
     WHERE id = $1`,
    [d.id, cb.status, reviewStatus, now.toISOString()],
  );
  // Posted or paid: the closed item's claim ends with it (audited, store/claims.ts).
  if (reviewStatus === 'closed' && d.review_status === 'open')
    await endClaimOfClosedItem(tx, tenantId, d.id, actorKeyId, now);
  await tx.query(
    `INSERT INTO erp_callbacks (tenant_id, idempotency_key, invoice_id, decision_id, status, reason_code, reason_text,
       content_sha256, actor_key_id, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
    [
      tenantId,
      cb.idempotency_key,
      cb.invoice_id,
      d.id,
      cb.status,
      cb.reason_code ?? null,
      cb.reason_text ?? null,
      sha,
      actorKeyId,
      now.toISOString(),
    ],
  );
  // Labels for retraining, source erp (store/labels.ts decides which statuses say what).
  for (const l of erpStatusLabels(cb.status, d.response, labelReason(cb.reason_code)))
    await recordLabel(tx, {
      tenantId,
      decisionId: d.id,
      source: 'erp',
      task: l.task,
      label: l.label,
      event: cb.status,
      reference: cb.idempotency_key,
      idempotencyKey: `${cb.idempotency_key}:${l.task}`,
      actorKeyId,
      at: now,
    });
  await appendAudit(tx, {
    tenantId,
    actorKeyId,
    kind: 'erp.callback',
    subjectId: d.id,
    payload: {
      invoice_id: cb.invoice_id,
      status: cb.status,
      previous_status: d.erp_status,
      reason_code: cb.reason_code ?? null,
      confirms_flag: confirms,
      review_status: reviewStatus,
      callback_sha256: sha,
    },
  });
  return {
    decision_id: d.id,
    invoice_id: cb.invoice_id,
    erp_status: cb.status,
    review_status: reviewStatus as 'open' | 'closed' | null,
    confirms_flag: confirms,
    replayed: false,
  };
}

/** The ERP store over an opened, migrated database. */
export function createErpStore(db: SqlDatabase): ErpStore {
  return {
    load: (tenantId, load, actor, now) => db.transaction((tx) => loadErp(tx, tenantId, load, actor, now)),
    callback: (tenantId, cb, actor, now) => db.transaction((tx) => erpCallback(tx, tenantId, cb, actor, now)),
  };
}
