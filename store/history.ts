/**
 * History import: a tenant's past invoices stored for duplicate search and the vendor's history
 * without being scored (`invoices.indexed_as = 'history'`, no decision). One chunk is one
 * transaction: invoices and lines each in one binary COPY on PostgreSQL (store/copy-binary.ts;
 * one multi-row INSERT of column arrays each on PGlite), so a chunk is two writes whatever its
 * size (the COPY rows may come encoded from an import's worker thread, {@link encodeHistoryRows});
 * then the vendor statistics and one audit entry (`history.imported`). Idempotent per (tenant,
 * invoice id): an invoice already stored with the same content is skipped, so
 * re-running an import continues where it stopped.
 */
import { fingerprintMatches } from '../core/fingerprint.js';
import { setImmediate } from 'node:timers/promises';
import { TriageError } from '../core/errors.js';
import { sha256Hex } from '../core/canonical.js';
import { appendAudit } from './audit.js';
import type { SqlDatabase, SqlExecutor } from './sql.js';
import { vectorArrayValue, vectorTransportOf, type VectorTransport } from './sql.js';
import { addVendorLineStats } from './vendor-stats.js';
import { buildImportIndexes, suspendImportIndexes, type BuildIndexOptions } from './embedding-index.js';
import {
  encodeInvoiceCopy,
  encodeLineCopy,
  INVOICE_COLUMNS,
  keysOf,
  LINE_COLUMNS,
  lineInvoiceKeysOf,
  linesWithKeys,
  type HistoryRecord,
} from './history-rows.js';

export {
  encodeHistoryRows,
  encodeInvoiceCopy,
  encodeLineCopy,
  historyId,
  type EncodedHistoryRows,
  type HistoryRecord,
} from './history-rows.js';

/** Outcome of one chunk. */
export interface HistoryChunkResult {
  /** Invoices written by this chunk. */
  imported: number;
  /** Invoices already stored with the same content (earlier run, or sent twice). */
  skipped: number;
}

/**
 * Runs inside a chunk's transaction after its rows are written, told the chunk's outcome (an
 * asynchronous import records its progress there, so that it commits with the rows); throwing
 * rolls the chunk back.
 */
export type ChunkCommitHook = (tx: SqlExecutor, out: HistoryChunkResult) => Promise<void>;

/** History import operations of the store. */
export interface HistoryStore {
  /**
   * True when chunks are written with binary COPY (PostgreSQL), so records may come with their
   * rows encoded ahead ({@link HistoryRecord.rows}); false on PGlite (records need `keys`).
   */
  readonly copyRows: boolean;
  /**
   * Payload fingerprints of the tenant's stored invoices among `invoiceIds` (scored or history),
   * by invoice id: lets an importer skip the work for invoices a previous run stored.
   */
  stored(tenantId: string, invoiceIds: readonly string[]): Promise<Map<string, string>>;
  /**
   * Writes one chunk in one transaction (all or nothing).
   * @throws TriageError `TRIAGE_INVOICE_CONFLICT` naming the record (its `location`) when its
   *   invoice id is stored with other content, or appears twice in the chunk with other content.
   */
  importChunk(
    tenantId: string,
    records: readonly HistoryRecord[],
    actorKeyId: string | null,
    within?: ChunkCommitHook,
  ): Promise<HistoryChunkResult>;
  /**
   * Drops the HNSW index of invoice embeddings and the read-only btree indexes of `invoices` and
   * `invoice_lines` before a large import (store/embedding-index.ts `suspendImportIndexes`); the
   * candidate search stays correct, slower, until {@link HistoryStore.buildIndex} (or the next
   * start-up, which builds any declared index that is missing).
   * @returns the names dropped.
   */
  suspendIndex(): Promise<string[]>;
  /**
   * Builds those indexes where absent, each in one pass (a table's btree indexes first, two tables
   * at once); writers to the tables
   * wait meanwhile.
   */
  buildIndex(opts?: BuildIndexOptions): Promise<{ built: string[]; seconds: number }>;
  /**
   * Vacuums and analyzes the tables the candidate search reads ({@link SEARCHED_TABLES}) after a
   * bulk import, as autovacuum would later: sets their visibility map and hint bits, so the
   * vendor and exact-key blocks are index-only scans that fetch no heap page, and gives the
   * planner statistics for the tenant's new size. Not in a transaction; other writers go on.
   * @returns wall seconds.
   */
  settle(): Promise<{ seconds: number }>;
}

/**
 * The tables the candidate search (store/candidates.ts) reads. After a bulk COPY their
 * visibility map is empty until a VACUUM: at 1M imported invoices each vendor-block scan of the
 * covering indexes then fetched all its 300 rows from the heap (1,316 buffers per search instead
 * of 124; BENCHMARKS.md "Flat cost at 1M, idle (round 6)").
 */
export const SEARCHED_TABLES = ['invoices', 'invoice_line_keys'] as const;

/** The error for scoring an invoice id that was imported as history (it has no decision to replay). */
export function historyConflict(invoiceId: string): TriageError {
  return new TriageError(
    'TRIAGE_INVOICE_CONFLICT',
    `invoice_id ${JSON.stringify(invoiceId)} was imported as history (indexed for duplicate search, not scored); send a new invoice under a new invoice_id`,
    [{ path: '/invoice_id', message: 'already imported as history' }],
  );
}

function recordConflict(r: HistoryRecord, why: string): TriageError {
  return new TriageError(
    'TRIAGE_INVOICE_CONFLICT',
    `${r.location}: invoice_id ${JSON.stringify(r.invoice.invoice_id)} ${why}; nothing of this chunk was written`,
    [{ path: r.location, message: why }],
  );
}

/**
 * Payload fingerprint (or NULL) per invoice id `$2` of tenant `$1`: one probe of the unique key
 * per id ({@link storedFingerprints}).
 */
export const STORED_FINGERPRINTS = `SELECT u.id AS invoice_id,
    (SELECT i.payload_sha256 FROM invoices i WHERE i.tenant_id = $1 AND i.invoice_id = u.id) AS payload_sha256
  FROM unnest($2::text[]) AS u(id)`;

async function storedFingerprints(
  db: SqlExecutor,
  tenantId: string,
  invoiceIds: readonly string[],
): Promise<Map<string, string>> {
  if (invoiceIds.length === 0) return new Map();
  // One probe of the unique key (tenant_id, invoice_id) per id, as a correlated subquery: the
  // planner cannot turn it into a join, so the plan does not depend on statistics. An import
  // fills the table faster than autovacuum analyzes it; without statistics the planner took the
  // tenant for a few hundred rows and read all of it per chunk, as `invoice_id = ANY($2)`
  // through a (tenant_id, ...) index or as a hash join of `unnest($2)` with a bitmap scan of the
  // tenant (1,224 ms per 500-id lookup at 41k invoices, 31 ms this way; the import quadratic).
  const rows = await db.query<{ invoice_id: string; payload_sha256: string | null }>(
    STORED_FINGERPRINTS,
    [tenantId, invoiceIds],
    { name: 'history_stored' },
  );
  const stored = new Map<string, string>();
  for (const r of rows) if (r.payload_sha256 !== null) stored.set(r.invoice_id, r.payload_sha256);
  return stored;
}

/**
 * How a chunk's rows travel: `copy` (PostgreSQL) as binary `COPY` of both tables
 * ({@link copyInvoices}, {@link copyLines}); `insert` (PGlite, which has no COPY from a client) as
 * multi-row INSERTs of column arrays, the embeddings one `vector[]` ({@link VectorTransport}).
 */
type RowTransport = 'copy' | 'insert';

/**
 * Writes the chunk's invoices with one binary COPY (no ON CONFLICT: an id stored by a
 * concurrent writer since the chunk's read fails the COPY with a unique violation, and
 * {@link createHistoryStore} runs the chunk again).
 */
async function copyInvoices(
  tx: SqlExecutor & Required<Pick<SqlExecutor, 'copyFrom'>>,
  tenantId: string,
  rows: readonly { pk: string; r: HistoryRecord }[],
): Promise<void> {
  await tx.copyFrom(
    `COPY invoices (${INVOICE_COLUMNS}) FROM STDIN (FORMAT binary)`,
    encodeInvoiceCopy(tenantId, rows),
  );
}

/**
 * `work_mem` of a chunk's lines COPY: the statement trigger of `invoice_lines` (migration 098)
 * holds the COPY's rows in a transition table of up to `work_mem`, written to a temporary file
 * past it. A chunk of 500 ten-line invoices is about 4 MB of lines (the 128-dimension embedding
 * and migration 110's copied keys), past the server's default 4 MB: every chunk spilled.
 */
const COPY_LINES_WORK_MEM = '32MB';

/** Writes the lines of the chunk's invoices with one binary COPY. */
async function copyLines(
  tx: SqlExecutor & Required<Pick<SqlExecutor, 'copyFrom'>>,
  tenantId: string,
  rows: readonly { pk: string; r: HistoryRecord }[],
): Promise<void> {
  const data = encodeLineCopy(tenantId, rows);
  if (!data) return;
  await tx.exec(`SET LOCAL work_mem = '${COPY_LINES_WORK_MEM}'`);
  await tx.copyFrom(`COPY invoice_lines (${LINE_COLUMNS}) FROM STDIN (FORMAT binary)`, data);
}

async function insertInvoices(
  tx: SqlExecutor,
  tenantId: string,
  rows: readonly { pk: string; r: HistoryRecord }[],
  vectors: VectorTransport,
): Promise<Set<string>> {
  const col = <T>(f: (r: HistoryRecord) => T): T[] => rows.map(({ r }) => f(r));
  const inserted = await tx.query<{ invoice_id: string }>(
    `INSERT INTO invoices (pk, tenant_id, invoice_id, payload, payload_sha256, vendor_id, vendor_name, vendor_key,
       vendor_tax_id, vendor_npi, invoice_number, invoice_number_normalised, invoice_number_canonical,
       invoice_date, due_date, currency, total_cents, document_type, po_number, facility_id,
       service_period_start, service_period_end, embedding, indexed_as)
     SELECT pk, $1, invoice_id, payload::jsonb, sha, vendor_id, vendor_name, vendor_key, tax_id, npi, num, num_norm,
       num_canon, inv_date::date, due::date, currency, total, doc_type, po, facility, sp_start::date, sp_end::date,
       emb, 'history'
       FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
         $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::bigint[],
         $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::vector[])
         AS u(pk, invoice_id, payload, sha, vendor_id, vendor_name, vendor_key, tax_id, npi, num, num_norm, num_canon,
              inv_date, due, currency, total, doc_type, po, facility, sp_start, sp_end, emb)
     ON CONFLICT (tenant_id, invoice_id) DO NOTHING RETURNING invoice_id`,
    [
      tenantId,
      rows.map((x) => x.pk),
      col((r) => r.invoice.invoice_id),
      col((r) => JSON.stringify(r.invoice)),
      col((r) => r.payloadSha256),
      col((r) => r.invoice.vendor.id),
      col((r) => r.invoice.vendor.name),
      col((r) => keysOf(r).vendorKey),
      col((r) => r.invoice.vendor.tax_id ?? null),
      col((r) => r.invoice.vendor.npi ?? null),
      col((r) => r.invoice.invoice_number),
      col((r) => keysOf(r).invoiceNumberNormalised),
      col((r) => keysOf(r).invoiceNumberCanonical),
      col((r) => r.invoice.invoice_date),
      col((r) => r.invoice.due_date ?? null),
      col((r) => r.invoice.currency),
      col((r) => String(r.invoice.total_cents)),
      col((r) => r.invoice.document_type),
      col((r) => r.invoice.po_number ?? null),
      col((r) => r.invoice.facility_id ?? null),
      col((r) => r.invoice.service_period?.start ?? null),
      col((r) => r.invoice.service_period?.end ?? null),
      vectorArrayValue(
        vectors,
        rows.map(({ r }) => keysOf(r).embedding),
      ),
    ],
    { name: 'history_invoices' },
  );
  return new Set(inserted.map((x) => x.invoice_id));
}

async function insertHistoryLines(
  tx: SqlExecutor,
  rows: readonly { pk: string; r: HistoryRecord }[],
  vectors: VectorTransport,
): Promise<void> {
  const pks: string[] = [];
  const nums: number[] = [];
  const descs: string[] = [];
  const systems: (string | null)[] = [];
  const codes: (string | null)[] = [];
  const mods: string[] = [];
  const qtys: string[] = [];
  const prices: string[] = [];
  const amounts: string[] = [];
  const dates: (string | null)[] = [];
  const matchKeys: string[] = [];
  const embs: ArrayLike<number>[] = [];
  const deliveries: (string | null)[] = [];
  for (const { pk, line, k } of linesWithKeys(rows)) {
    pks.push(pk);
    nums.push(line.line_number);
    descs.push(line.description);
    systems.push(line.code?.system ?? null);
    codes.push(line.code?.value ?? null);
    mods.push(JSON.stringify(line.modifiers ?? []));
    qtys.push(String(line.quantity));
    prices.push(String(line.unit_price_cents));
    amounts.push(String(line.amount_cents));
    dates.push(line.service_date ?? null);
    matchKeys.push(k.matchKey);
    embs.push(k.embedding);
    deliveries.push(line.delivery_reference ?? null);
  }
  if (pks.length === 0) return;
  await tx.query(
    `INSERT INTO invoice_lines (${LINE_COLUMNS})
     SELECT u.pk, ${lineInvoiceKeysOf('i')}, num, descr, sys, code,
       ARRAY(SELECT jsonb_array_elements_text(mods::jsonb)), qty, price, amount, sdate::date, mkey, emb, dref
       FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[],
         $8::bigint[], $9::bigint[], $10::text[], $11::text[], $12::vector[], $13::text[])
         AS u(pk, num, descr, sys, code, mods, qty, price, amount, sdate, mkey, emb, dref)
       JOIN invoices i ON i.pk = u.pk`,
    [
      pks,
      nums,
      descs,
      systems,
      codes,
      mods,
      qtys,
      prices,
      amounts,
      dates,
      matchKeys,
      vectorArrayValue(vectors, embs),
      deliveries,
    ],
    { name: 'history_lines' },
  );
}

/**
 * Invoices per INSERT statement of a chunk on the embedded engine (with their lines in the next
 * statement), a turn of the event loop between statements.
 */
export const TEXT_STATEMENT_INVOICES = 10;

/**
 * Writes the chunk's new invoices and their lines; with COPY every row of `fresh` is written
 * (or the COPY fails), with INSERT those another writer stored meanwhile are left out.
 * @returns the rows written.
 * @throws TriageError `TRIAGE_INVOICE_CONFLICT` (INSERT path) for an id a concurrent writer
 *   stored with other content.
 */
async function writeRows(
  tx: SqlExecutor,
  tenantId: string,
  fresh: readonly { pk: string; r: HistoryRecord }[],
  transport: RowTransport,
  vectors: VectorTransport,
): Promise<{ pk: string; r: HistoryRecord }[]> {
  if (fresh.length === 0) return [];
  const { copyFrom } = tx;
  if (transport === 'copy' && copyFrom) {
    const copier = { ...tx, copyFrom };
    await copyInvoices(copier, tenantId, fresh);
    await copyLines(copier, tenantId, fresh);
    return [...fresh];
  }
  const written: { pk: string; r: HistoryRecord }[] = [];
  for (let from = 0; from < fresh.length; from += TEXT_STATEMENT_INVOICES) {
    // A statement of the embedded engine runs on this thread: a turn of the event loop between
    // them lets other requests through (the chunk stays one transaction).
    if (from > 0) await setImmediate();
    const part = fresh.slice(from, from + TEXT_STATEMENT_INVOICES);
    const inserted = await insertInvoices(tx, tenantId, part, vectors);
    const done = part.filter((x) => inserted.has(x.r.invoice.invoice_id));
    if (done.length < part.length) {
      // Stored by a concurrent writer since the chunk's read: same content is a skip.
      const now = await storedFingerprints(
        tx,
        tenantId,
        part.filter((x) => !inserted.has(x.r.invoice.invoice_id)).map((x) => x.r.invoice.invoice_id),
      );
      for (const x of part)
        if (!inserted.has(x.r.invoice.invoice_id) && !matchesStored(now, x.r))
          throw recordConflict(x.r, 'is already stored with different content');
    }
    await setImmediate();
    await insertHistoryLines(tx, done, vectors);
    written.push(...done);
  }
  return written;
}

/** Times a chunk is written again after a concurrent writer stored one of its ids (COPY path). */
const CHUNK_ATTEMPTS = 3;

/** Whether the fingerprint stored under a record's id (in `stored`) names the record's invoice. */
const matchesStored = (stored: ReadonlyMap<string, string>, r: HistoryRecord): boolean => {
  const sha = stored.get(r.invoice.invoice_id);
  return sha !== undefined && fingerprintMatches(sha, r.invoice, r.payloadSha256);
};

const isUniqueViolation = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === '23505';

/** The history store over an opened, migrated database; `newId` makes invoice primary keys. */
export function createHistoryStore(db: SqlDatabase, newId: () => string): HistoryStore {
  const transport: RowTransport = db.engine === 'postgres' ? 'copy' : 'insert';
  const importOnce = async (
    tenantId: string,
    records: readonly HistoryRecord[],
    actorKeyId: string | null,
    within: ChunkCommitHook | undefined,
  ): Promise<HistoryChunkResult> => {
    // The INSERT path's embeddings in pgvector's binary form (the OID read before the transaction).
    const vectors: VectorTransport = transport === 'copy' ? 'text' : await vectorTransportOf(db);
    return db.transaction(
      async (tx) => {
        // First occurrence of each id; a repeat with other content is a conflict.
        const unique = new Map<string, HistoryRecord>();
        for (const r of records) {
          const seen = unique.get(r.invoice.invoice_id);
          if (!seen) unique.set(r.invoice.invoice_id, r);
          else if (seen.payloadSha256 !== r.payloadSha256)
            throw recordConflict(r, `repeats ${seen.location} with different content`);
        }
        const before = await storedFingerprints(tx, tenantId, [...unique.keys()]);
        const fresh: { pk: string; r: HistoryRecord }[] = [];
        for (const r of unique.values()) {
          const sha = before.get(r.invoice.invoice_id);
          if (sha === undefined) fresh.push({ pk: r.rows?.pk ?? newId(), r });
          else if (!fingerprintMatches(sha, r.invoice, r.payloadSha256))
            throw recordConflict(r, 'is already stored with different content');
        }
        const written = await writeRows(tx, tenantId, fresh, transport, vectors);
        await addVendorLineStats(
          tx,
          tenantId,
          written.map(({ r }) => ({ vendorId: r.invoice.vendor.id, lines: r.invoice.lines, baseline: true })),
        );
        if (written.length > 0) {
          const ids = written.map(({ r }) => r.invoice.invoice_id);
          const idsSha256 = sha256Hex(ids.join('\n'));
          await appendAudit(tx, {
            tenantId,
            actorKeyId,
            kind: 'history.imported',
            subjectId: `history:${idsSha256.slice(0, 16)}`,
            payload: {
              invoices: ids.length,
              invoice_ids_sha256: idsSha256,
              first_invoice_id: ids[0],
              last_invoice_id: ids.at(-1),
            },
          });
        }
        const out = { imported: written.length, skipped: records.length - written.length };
        await within?.(tx, out);
        return out;
      },
      // A re-run writes again whatever a server crash lost of the last commits.
      { asyncCommit: true },
    );
  };
  return {
    copyRows: transport === 'copy',
    stored: (tenantId, ids) => storedFingerprints(db, tenantId, ids),
    suspendIndex: () => suspendImportIndexes(db),
    buildIndex: (opts) => buildImportIndexes(db, opts),
    async settle() {
      const t = performance.now();
      await db.exec(`VACUUM (ANALYZE) ${SEARCHED_TABLES.join(', ')}`);
      return { seconds: (performance.now() - t) / 1000 };
    },
    async importChunk(tenantId, records, actorKeyId, within) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await importOnce(tenantId, records, actorKeyId, within);
        } catch (e) {
          // COPY has no ON CONFLICT: an id a concurrent writer stored after the chunk's read
          // rolls the chunk back; the next attempt reads it as stored (a skip or a conflict).
          if (transport !== 'copy' || !isUniqueViolation(e) || attempt >= CHUNK_ATTEMPTS) throw e;
        }
      }
    },
  };
}
