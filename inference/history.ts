/**
 * History import: indexes a tenant's past invoices for duplicate search and the vendor's
 * history without scoring them (no decision). Records are validated as the scoring routes
 * validate, fingerprinted as scoring fingerprints (so re-sending the same invoice is a skip and
 * other content under a stored id a conflict), featurised for the index only (the invoice and
 * line embeddings and blocking keys of stage 1) and written a chunk per transaction
 * (store/history.ts). Used by `POST /v1/history` and `npm run cli -- import`.
 */
import { setImmediate } from 'node:timers/promises';
import { extractIndexFeatures } from '../features/invoice-features.js';
import { MAX_REPORTED_ERRORS, TriageError, isTriageError, type FieldError } from '../core/errors.js';
import { describeFieldErrors, validateInvoice } from '../core/validate.js';
import { parseJsonRecord } from '../api/body/json.js';
import {
  encodeHistoryRows,
  type EncodedHistoryRows,
  type HistoryRecord,
  type HistoryStore,
} from '../store/history.js';
import { indexKeysOf, payloadSha256 } from './stages/prepare.js';
import { Invoice } from '../core/invoice.js';
import type { InvoiceIndexKeys } from '../store/repository.js';
import type { SqlExecutor } from '../store/sql.js';
import {
  fieldErrorsOf,
  recordDetail,
  recordError,
  recordFieldError,
  recordName,
  type HistoryInput,
  type HistoryRecordError,
} from './history-records.js';

export type { HistoryInput, HistoryRecordError } from './history-records.js';
export { recordName } from './history-records.js';

/** Outcome of importing records. */
export interface HistoryImportResult {
  /** Records read. */
  records: number;
  /** Invoices written by this run. */
  imported: number;
  /** Invoices already stored with the same content (an earlier run, or repeated). */
  skipped: number;
  /** Records not imported (only when bad records are reported rather than refused). */
  invalid: HistoryRecordError[];
}

/** Invoices per transaction by default (one COPY of invoices and one of lines on PostgreSQL). */
export const DEFAULT_HISTORY_CHUNK = 500;

/**
 * What to do with a bad record: `refuse` throws a 4xx naming it before its chunk is written
 * (the API), `report` leaves it out of its chunk and lists it in the result (the CLI).
 */
export type BadRecordPolicy = 'refuse' | 'report';

/**
 * A validated record: its invoice, the invoice's payload fingerprint and, when it was prepared
 * ahead of the store's lookup ({@link prepareHistoryRecords}, in a worker thread), its index keys.
 */
export interface PreparedHistoryRecord {
  location: string;
  /** The record's file line, as {@link HistoryInput.line}. */
  line?: number;
  invoice: Invoice;
  /** sha256 hex of the canonical invoice ({@link payloadSha256}). */
  sha: string;
  keys?: InvoiceIndexKeys;
  /**
   * Its rows encoded for binary COPY (when prepared for a tenant of a store that writes COPY,
   * {@link prepareHistoryRecords}); `keys` is then left out.
   */
  rows?: EncodedHistoryRows;
}

/** Valid (prepared) and invalid records of a chunk. */
export interface PreparedHistoryChunk {
  valid: PreparedHistoryRecord[];
  invalid: HistoryRecordError[];
}

/**
 * Validates and featurises a chunk somewhere else (a worker thread, inference/history-workers.ts)
 * as {@link prepareHistoryRecords} does, with the same errors (and encodes its rows for binary
 * COPY when given `copyForTenant`).
 */
export type HistoryPreparer = (
  inputs: readonly HistoryInput[],
  onBadRecord: BadRecordPolicy,
  copyForTenant?: string,
) => Promise<PreparedHistoryChunk>;

/**
 * The input with its `text` parsed as strictly as a request body, against the invoice schema
 * (api/body/json.ts): a parse failure becomes `parseError`, a number written with a fraction in
 * an integer field `fieldErrors`.
 */
function parsed(input: HistoryInput): HistoryInput {
  if (input.text === undefined) return input;
  const at =
    input.line === undefined ? { location: input.location } : { location: input.location, line: input.line };
  return { ...at, ...parseJsonRecord(input.text, Invoice) };
}

/**
 * Records validated or featurised on the writer's thread between turns of the event loop: on
 * the embedded engine the import shares this thread with every other request (a 500-record
 * chunk validated and featurised in one go held it for about a second).
 */
export const HISTORY_RECORDS_PER_TURN = 25;

/**
 * The first record of each invoice id seen so far (its location and payload fingerprint), by
 * invoice id: shared by the calls validating one body chunk by chunk, so that an id repeated
 * with other content is refused across chunks too.
 */
export type FirstOccurrences = Map<string, { location: string; sha: string }>;

/**
 * The steps of {@link validateHistoryRecords}, one per record, filling `out`; throws (policy
 * `refuse`) after the last step when any record is bad.
 */
function* validationSteps(
  inputs: readonly HistoryInput[],
  onBadRecord: BadRecordPolicy,
  out: PreparedHistoryChunk,
  first: FirstOccurrences = new Map(),
): Generator<void, void> {
  const bad: { name: string; detail: string; errors: FieldError[] }[] = [];
  for (const raw of inputs) {
    const input = parsed(raw);
    try {
      if (input.parseError) throw new Error(input.parseError);
      if (input.fieldErrors)
        throw new TriageError(
          'TRIAGE_INPUT_INVALID',
          describeFieldErrors(input.fieldErrors),
          input.fieldErrors,
        );
      const invoice = validateInvoice(input.value);
      const sha = payloadSha256(invoice);
      const seen = first.get(invoice.invoice_id);
      if (seen && seen.sha !== sha)
        throw new TriageError('TRIAGE_INPUT_INVALID', 'invoice_id repeated with other content', [
          { path: '/invoice_id', message: `repeats ${seen.location} with different content` },
        ]);
      if (!seen) first.set(invoice.invoice_id, { location: input.location, sha });
      out.valid.push({
        ...(input.line === undefined ? {} : { line: input.line }),
        location: input.location,
        invoice,
        sha,
      });
    } catch (e) {
      if (onBadRecord === 'refuse')
        bad.push({
          name: recordName(input),
          detail: recordDetail(input, e),
          errors: fieldErrorsOf(input, e),
        });
      else out.invalid.push(recordError(input, e));
    }
    yield;
  }
  if (bad.length > 0) {
    const errors = bad.flatMap((b) => b.errors);
    const named = bad.slice(0, 10).map((b) => b.name);
    throw new TriageError(
      'TRIAGE_INPUT_INVALID',
      bad.length === 1
        ? bad[0]!.detail
        : `${bad.length} records invalid (${named.join(', ')}${bad.length > named.length ? ', ...' : ''})` +
            (errors.length > MAX_REPORTED_ERRORS
              ? `; the first ${MAX_REPORTED_ERRORS} of ${errors.length} field errors are listed`
              : ''),
      errors.slice(0, MAX_REPORTED_ERRORS),
    );
  }
}

/**
 * Validates records as the scoring routes do, and refuses an invoice id repeated among them with
 * other content (`/invoice_id` of the later record; the same content is left for the store to
 * skip). With policy `refuse`, every bad record is named in one error; with `report`, bad
 * records are returned in `invalid`. Runs to the end without yielding (a worker thread's use);
 * on the writer's thread use {@link validateHistoryRecordsYielding}.
 * @throws TriageError `TRIAGE_INPUT_INVALID` (policy `refuse`) naming every bad record (their field
 *   errors, at most {@link MAX_REPORTED_ERRORS}; the detail gives how many records and the first ones).
 */
export function validateHistoryRecords(
  inputs: readonly HistoryInput[],
  onBadRecord: BadRecordPolicy,
): PreparedHistoryChunk {
  const out: PreparedHistoryChunk = { valid: [], invalid: [] };
  for (const _ of validationSteps(inputs, onBadRecord, out));
  return out;
}

/**
 * {@link validateHistoryRecords} with a turn of the event loop every
 * {@link HISTORY_RECORDS_PER_TURN} records, so other requests are answered meanwhile. With
 * `first`, the ids of earlier calls count too (and this call's are added).
 * @throws TriageError as {@link validateHistoryRecords}.
 */
export async function validateHistoryRecordsYielding(
  inputs: readonly HistoryInput[],
  onBadRecord: BadRecordPolicy,
  first?: FirstOccurrences,
): Promise<PreparedHistoryChunk> {
  const out: PreparedHistoryChunk = { valid: [], invalid: [] };
  let n = 0;
  for (const _ of validationSteps(inputs, onBadRecord, out, first))
    if (++n % HISTORY_RECORDS_PER_TURN === 0) await setImmediate();
  return out;
}

/**
 * Validates a chunk ({@link validateHistoryRecords}) and featurises every valid record for the
 * index (the work a worker thread takes off the writer's thread; records found stored are then
 * skipped, their features unused). With `copyForTenant`, each record's rows are also encoded
 * for the binary COPY of that tenant (store/history.ts `encodeHistoryRows`, under new primary
 * keys) in place of its keys, so the writing thread only streams them.
 * @throws TriageError as {@link validateHistoryRecords}.
 */
export function prepareHistoryRecords(
  inputs: readonly HistoryInput[],
  onBadRecord: BadRecordPolicy,
  copyForTenant?: string,
): PreparedHistoryChunk {
  const out = validateHistoryRecords(inputs, onBadRecord);
  for (const v of out.valid) v.keys = indexKeysOf(extractIndexFeatures(v.invoice));
  if (copyForTenant !== undefined) {
    const { rows } = encodeHistoryRows(
      copyForTenant,
      out.valid.map((v) => ({
        location: v.location,
        invoice: v.invoice,
        payloadSha256: v.sha,
        keys: v.keys!,
      })),
    );
    out.valid.forEach((v, i) => {
      v.rows = rows[i]!;
      delete v.keys;
    });
  }
  return out;
}

/**
 * Told the outcome of a chunk inside the transaction that writes its invoices (an asynchronous
 * import records its progress there); not called when the chunk writes nothing (every record
 * already stored or bad). `skipped` and `invalid` include the records left out before the write.
 */
export type HistoryCommitHook = (
  tx: SqlExecutor,
  out: { imported: number; skipped: number; invalid: HistoryRecordError[] },
) => Promise<void>;

/**
 * Imports one chunk of records for a tenant: validates every record, skips those stored before
 * with the same content without featurising them (a re-run resumes cheaply), and writes the
 * rest in one transaction.
 * @throws TriageError `TRIAGE_INPUT_INVALID` (policy `refuse`) naming every bad record of the
 *   chunk ({@link validateHistoryRecords}), before anything of the chunk is written; `TRIAGE_INVOICE_CONFLICT` naming the record whose
 *   id is stored with other content (policy `refuse`; `report` lists it instead).
 */
export async function importHistoryChunk(
  store: HistoryStore,
  tenantId: string,
  inputs: readonly HistoryInput[],
  opts: {
    actorKeyId: string | null;
    onBadRecord: BadRecordPolicy;
    prepare?: HistoryPreparer;
    commit?: HistoryCommitHook;
  },
): Promise<HistoryImportResult> {
  const { valid, invalid } = opts.prepare
    ? await opts.prepare(inputs, opts.onBadRecord, store.copyRows ? tenantId : undefined)
    : await validateHistoryRecordsYielding(inputs, opts.onBadRecord);
  const stored = await store.stored(
    tenantId,
    valid.map((v) => v.invoice.invoice_id),
  );
  const records: HistoryRecord[] = [];
  let skipped = 0;
  let featurised = 0;
  for (const v of valid) {
    const sha = stored.get(v.invoice.invoice_id);
    if (sha === v.sha) {
      skipped++;
      continue;
    }
    if (sha !== undefined) {
      const err = {
        location: v.location,
        errors: [
          `/invoice_id ${JSON.stringify(v.invoice.invoice_id)} is already stored with different content`,
        ],
      };
      if (opts.onBadRecord === 'refuse')
        throw new TriageError('TRIAGE_INVOICE_CONFLICT', `${recordName(v)}: ${err.errors[0]!}`, [
          recordFieldError(v, '/invoice_id', 'is already stored with different content'),
        ]);
      invalid.push(err);
      continue;
    }
    if (!v.rows && !v.keys && ++featurised % HISTORY_RECORDS_PER_TURN === 0) await setImmediate();
    records.push({
      location: v.location,
      invoice: v.invoice,
      payloadSha256: v.sha,
      ...(v.rows ? { rows: v.rows } : { keys: v.keys ?? indexKeysOf(extractIndexFeatures(v.invoice)) }),
    });
  }
  let imported = 0;
  if (records.length > 0) {
    try {
      const { commit } = opts;
      const out = await store.importChunk(
        tenantId,
        records,
        opts.actorKeyId,
        commit &&
          ((tx, o) =>
            commit(tx, {
              imported: o.imported,
              skipped: skipped + o.skipped,
              invalid: inInputOrder(inputs, invalid),
            })),
      );
      imported = out.imported;
      skipped += out.skipped;
    } catch (e) {
      if (!isTriageError(e, 'TRIAGE_INVOICE_CONFLICT')) throw e;
      // A conflict found inside the transaction (a concurrent writer stored the id with other
      // content since the read above): the chunk was rolled back.
      const bad = e.errors[0]?.path ?? '';
      const conflicting = valid.find((v) => v.location === bad);
      if (!conflicting || !inputs.some((i) => i.location === bad)) throw e;
      // Refused: named as every other record error, with its file line (`/4 (line 6)`).
      if (opts.onBadRecord === 'refuse') {
        const why = e.errors[0]!.message;
        throw new TriageError(
          'TRIAGE_INVOICE_CONFLICT',
          `${recordName(conflicting)}: /invoice_id ${JSON.stringify(conflicting.invoice.invoice_id)} ${why}; nothing of this chunk was written`,
          [recordFieldError(conflicting, '/invoice_id', why)],
          { cause: e },
        );
      }
      // Reported: import the chunk again without that record, which is reported alone.
      const err = {
        location: bad,
        errors: [`/invoice_id ${e.errors[0]!.message}`],
      };
      const { commit } = opts;
      const rest = await importHistoryChunk(
        store,
        tenantId,
        inputs.filter((i) => i.location !== bad),
        commit ? { ...opts, commit: (tx, o) => commit(tx, { ...o, invalid: [err, ...o.invalid] }) } : opts,
      );
      return { ...rest, records: inputs.length, invalid: inInputOrder(inputs, [err, ...rest.invalid]) };
    }
  }
  return { records: inputs.length, imported, skipped, invalid: inInputOrder(inputs, invalid) };
}

/** The errors sorted as their records come in `inputs` (locations are unique within a chunk). */
function inInputOrder(
  inputs: readonly HistoryInput[],
  invalid: readonly HistoryRecordError[],
): HistoryRecordError[] {
  const at = new Map(inputs.map((x, i) => [x.location, i]));
  return invalid.toSorted((a, b) => (at.get(a.location) ?? 0) - (at.get(b.location) ?? 0));
}

/** Options of {@link importHistoryStream}. */
export interface HistoryStreamOptions {
  actorKeyId: string | null;
  onBadRecord: BadRecordPolicy;
  /** Invoices per transaction; default {@link DEFAULT_HISTORY_CHUNK}. */
  chunkSize?: number;
  /**
   * Chunks in flight at once (default 1). With 2, the next chunk is validated and featurised in
   * this process while PostgreSQL writes the previous one, on another connection. Chunks are
   * independent and idempotent, so their commit order does not matter for a re-run; with
   * policy `refuse` keep 1, so that "the records before the bad one are committed" holds.
   */
  parallel?: number;
  /** Told each chunk's outcome as it commits (progress). */
  onChunk?: (chunk: HistoryImportResult) => void;
  /**
   * Validates and featurises each chunk elsewhere (worker threads,
   * inference/history-workers.ts), so that this thread only writes; default: in this thread,
   * after the lookup (records stored before are then not featurised).
   */
  prepare?: HistoryPreparer;
}

/**
 * Imports a stream of records chunk by chunk ({@link importHistoryChunk}), keeping memory flat
 * (at most `parallel` chunks held).
 * @returns the summed outcome; `invalid` in the order of the source.
 * @throws RangeError when `chunkSize` or `parallel` is not a positive integer (nothing is read).
 * @throws the first chunk's error, after the chunks in flight have settled.
 */
export async function importHistoryStream(
  store: HistoryStore,
  tenantId: string,
  source: AsyncIterable<HistoryInput> | Iterable<HistoryInput>,
  opts: HistoryStreamOptions,
): Promise<HistoryImportResult> {
  const chunkSize = opts.chunkSize ?? DEFAULT_HISTORY_CHUNK;
  const parallel = opts.parallel ?? 1;
  // NaN or 0 would lift the in-flight bound (`size >= NaN` is never true) or chunk every record.
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1)
    throw new RangeError(`chunkSize must be a positive integer, got ${chunkSize}`);
  if (!Number.isSafeInteger(parallel) || parallel < 1)
    throw new RangeError(`parallel must be a positive integer, got ${parallel}`);
  const total: HistoryImportResult = { records: 0, imported: 0, skipped: 0, invalid: [] };
  // Each chunk's errors by chunk number: chunks in flight commit in any order, errors are
  // returned in the order of the source.
  const invalidByChunk = new Map<number, HistoryRecordError[]>();
  let chunks = 0;
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  const start = (chunk: HistoryInput[]): void => {
    const no = chunks++;
    const p: Promise<void> = importHistoryChunk(store, tenantId, chunk, opts)
      .then((out) => {
        total.records += out.records;
        total.imported += out.imported;
        total.skipped += out.skipped;
        if (out.invalid.length > 0) invalidByChunk.set(no, out.invalid);
        opts.onChunk?.(out);
      })
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  let chunk: HistoryInput[] = [];
  for await (const input of source) {
    chunk.push(input);
    if (chunk.length < chunkSize) continue;
    start(chunk);
    chunk = [];
    while (inFlight.size >= parallel) await Promise.race(inFlight);
    if (failure) break;
    // The embedded engine's statements settle as microtasks: without this turn, an import
    // whose records are all at hand would hold the event loop from its first chunk to its last.
    await setImmediate();
  }
  if (!failure && chunk.length > 0) start(chunk);
  await Promise.all(inFlight);
  if (failure) throw (failure as { error: unknown }).error;
  for (const no of [...invalidByChunk.keys()].sort((a, b) => a - b))
    total.invalid.push(...invalidByChunk.get(no)!);
  return total;
}
