/**
 * History import: `POST /v1/history` (role admin) indexes the tenant's past invoices for
 * duplicate search and the vendor's history without scoring them (inference/history.ts).
 *
 * The body is a JSON array of invoices (`application/json`, up to 1 MiB: the array is parsed in
 * one piece on the event loop, about 50 ms a MiB, so a 64 MiB array would stall every other
 * request for seconds) or NDJSON (`application/x-ndjson`, one invoice per line, read as a
 * stream and parsed a line at a time, so memory stays flat and the loop free, up to 64 MiB). Records are written a chunk per transaction. A bad record is a 400 (a
 * conflicting invoice id a 409) naming it by index (`/12`, and the field inside: `/12/lines/0/
 * quantity`; an NDJSON record also by its file line) before its chunk is written; an invoice id
 * repeated with other content among the records sent is one of the bad records (`/12/invoice_id`): the chunks before it are committed and the detail
 * says how many records they held. Re-sending is safe (idempotent per invoice id: invoices
 * stored with the same content are skipped), so a client resumes by re-sending from the named
 * record, or everything.
 *
 * With `Prefer: respond-async` (and the route given a store of imports and a queue) the whole
 * body is validated first, chunk by chunk with the same 400s, then staged in one transaction
 * (store/history-imports.ts) and answered 202 with `Location: /v1/history/imports/{id}`; the
 * `import-history` job (jobs/history-import.ts) does the writing. `GET /v1/history/imports/:id`
 * reads its progress.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import Type, { type Static } from 'typebox';
import { isEncodingRefusal, parseJsonBody } from '../body/index.js';
import { TriageError, isTriageError } from '../../core/errors.js';
import { Invoice } from '../../core/invoice.js';
import {
  DEFAULT_HISTORY_CHUNK,
  importHistoryStream,
  recordName,
  validateHistoryRecordsYielding,
  type FirstOccurrences,
  type HistoryInput,
} from '../../inference/history.js';
import { enqueueHistoryImport } from '../../jobs/history-import.js';
import type { JobQueue } from '../../jobs/types.js';
import type {
  HistoryImportStatus,
  HistoryImportStore,
  StagedHistoryRecord,
} from '../../store/history-imports.js';
import { principalOf } from '../auth.js';
import { trackBodyProgress } from '../limits.js';
import { ClientClosedError, isClientClosed } from '../problem.js';
import type { ApiStore } from '../app.js';
import {
  errorCodeOf,
  problemResponses,
  PROTECTED,
  rewordErrors,
  WITH_BODY,
  type RoutePlugin,
} from './common.js';

/** Options of the history route. */
export interface HistoryRoutesOptions {
  store: Pick<ApiStore, 'history'>;
  /**
   * Asynchronous imports (`Prefer: respond-async`; `GET /v1/history/imports/{id}`): where
   * imports are staged and the queue their `import-history` jobs go to. Absent: the preference
   * is not applied and the status route is not registered.
   */
  async?: { imports: HistoryImportStore; jobs: JobQueue };
  /**
   * Invoices per transaction; default {@link DEFAULT_HISTORY_CHUNK} on PostgreSQL,
   * {@link EMBEDDED_HISTORY_CHUNK} on the embedded engine.
   */
  chunkSize?: number;
  /** Largest NDJSON body and largest NDJSON line, bytes; default 64 MiB and 1 MiB. */
  bodyLimitBytes?: number;
  lineLimitBytes?: number;
  /** Largest JSON-array body, bytes; default 1 MiB (larger imports are sent as NDJSON). */
  jsonBodyLimitBytes?: number;
}

/** The NDJSON media type of `POST /v1/history` bodies. */
export const NDJSON = 'application/x-ndjson';

/** A JSON body of `POST /v1/history`, validated record by record by the handler. */
const HistoryJsonBody = Type.Array(Invoice);

/**
 * Invoices per transaction of `POST /v1/history` on the embedded engine: about 1-2 s of writing
 * at 2 cores' load 10 (the HNSW insert of each invoice dominates), the longest a query of
 * another request (`/healthz`'s ping) waits for the database.
 */
export const EMBEDDED_HISTORY_CHUNK = 100;

/** An NDJSON body: the request stream, held privately so that body guards do not walk it. */
class NdjsonBody {
  readonly #stream: Readable;
  constructor(stream: Readable) {
    this.#stream = stream;
  }
  get stream(): Readable {
    return this.#stream;
  }
}

/**
 * True when a `Prefer` header (RFC 7240: comma-separated preferences, each a token with an
 * optional `=value` and `;parameters`, tokens case-insensitive) asks for `respond-async`.
 */
export function prefersRespondAsync(prefer: string | string[] | undefined): boolean {
  const values = prefer === undefined ? [] : Array.isArray(prefer) ? prefer : [prefer];
  return values.some((v) =>
    v.split(',').some((p) => (p.split(/[=;]/, 1)[0] ?? '').trim().toLowerCase() === 'respond-async'),
  );
}

const DateTime = Type.String({ format: 'date-time' });
/** Progress of an asynchronous history import. */
export const HistoryImportBody = Type.Object({
  import_id: Type.String({ format: 'uuid' }),
  state: Type.Union(
    [Type.Literal('queued'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')],
    {
      description:
        'queued: accepted, its job not started; running: being imported (also while a job waits to resume it); ' +
        'done: every record committed; failed: given up (see error).',
    },
  ),
  records: Type.Integer({ minimum: 1, description: 'Records accepted (staged before the 202).' }),
  processed: Type.Integer({
    minimum: 0,
    description: 'Records committed so far (imported, already stored or refused), in body order.',
  }),
  imported: Type.Integer({ minimum: 0, description: 'Invoices stored by this import.' }),
  skipped: Type.Integer({
    minimum: 0,
    description: 'Invoices already stored with the same content (an earlier import or score, or repeated).',
  }),
  refused: Type.Integer({
    minimum: 0,
    description: 'Records not imported: their invoice id was stored with other content after the 202.',
  }),
  refusals: Type.Array(
    Type.Object({
      record: Type.String({ description: '`/N`, the record index.' }),
      errors: Type.Array(Type.String()),
    }),
    { description: 'The first 100 refused records.' },
  ),
  created_at: DateTime,
  started_at: Type.Union([DateTime, Type.Null()]),
  finished_at: Type.Union([DateTime, Type.Null()]),
  error: Type.Optional(Type.Object({ code: Type.String(), detail: Type.String() })),
  links: Type.Object({ self: Type.String() }),
});

function importBody(s: HistoryImportStatus): Static<typeof HistoryImportBody> {
  return {
    import_id: s.id,
    state: s.state,
    records: s.recordsTotal,
    processed: s.nextIndex,
    imported: s.imported,
    skipped: s.skipped,
    refused: s.refused,
    refusals: s.refusals.map((r) => ({ record: r.location, errors: r.errors })),
    created_at: s.createdAt,
    started_at: s.startedAt,
    finished_at: s.finishedAt,
    ...(s.error ? { error: s.error } : {}),
    links: { self: `/v1/history/imports/${s.id}` },
  };
}

/**
 * Every record of the body validated and held for staging (the asynchronous form): read and
 * validated `chunkSize` records at a time, as the synchronous form validates a chunk, with an
 * invoice id repeated with other content refused across the whole body.
 * @returns the records (JSON text, in body order) and the sha256 of their payload fingerprints.
 * @throws TriageError `TRIAGE_INPUT_INVALID` naming the bad records of the first chunk holding
 *   any (nothing is staged), or the NDJSON reader's 413.
 */
async function validatedBody(
  source: AsyncIterable<HistoryInput> | Iterable<HistoryInput>,
  chunkSize: number,
): Promise<{ records: StagedHistoryRecord[]; sha256: string }> {
  const first: FirstOccurrences = new Map();
  const records: StagedHistoryRecord[] = [];
  const hash = createHash('sha256');
  let chunk: HistoryInput[] = [];
  const check = async (): Promise<void> => {
    const { valid } = await validateHistoryRecordsYielding(chunk, 'refuse', first);
    chunk.forEach((input, i) => {
      hash.update(`${valid[i]!.sha}\n`);
      records.push({
        index: records.length,
        ...(input.line === undefined ? {} : { line: input.line }),
        text: JSON.stringify(input.value),
      });
    });
    chunk = [];
  };
  for await (const input of source) {
    chunk.push(input);
    if (chunk.length >= chunkSize) await check();
  }
  if (chunk.length > 0) await check();
  return { records, sha256: hash.digest('hex') };
}

const HistoryResult = Type.Object({
  records: Type.Integer({ minimum: 0, description: 'Records read.' }),
  imported: Type.Integer({ minimum: 0, description: 'Invoices stored by this request.' }),
  skipped: Type.Integer({
    minimum: 0,
    description: 'Invoices already stored with the same content (an earlier request, or repeated).',
  }),
});

/**
 * The records of an NDJSON body, read line by line as the bytes arrive: record `/N` is the
 * N-th non-blank line (from 0) and carries its file line, which every error names next to it
 * (`/4 (line 6)`). A line longer than
 * `lineLimit` bytes, or a body longer than `bodyLimit`, is refused as soon as it is seen (413),
 * without buffering the rest; each line is parsed as strictly as a JSON body (api/body: UTF-8,
 * repeated keys, cents written as integers); a byte-order mark before the first line is skipped.
 * @throws TriageError `TRIAGE_PAYLOAD_TOO_LARGE` naming the record (line) or the body.
 */
async function* ndjsonRecords(
  stream: Readable,
  lineLimit: number,
  bodyLimit: number,
): AsyncGenerator<HistoryInput> {
  let index = 0;
  let lineNo = 0;
  let total = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const tooLong = (): TriageError => {
    const at = { location: `/${index}`, line: lineNo + 1 };
    return new TriageError('TRIAGE_PAYLOAD_TOO_LARGE', `${recordName(at)} is over ${lineLimit} bytes`, [
      { path: at.location, message: `line ${at.line}: is over ${lineLimit} bytes` },
    ]);
  };
  const record = (bytes: Buffer): HistoryInput | null => {
    lineNo++;
    const line =
      lineNo === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
    const text = line.toString('latin1');
    if (text.trim() === '') return null;
    const at = { location: `/${index++}`, line: lineNo };
    try {
      return { ...at, value: parseJsonBody(line, Invoice) };
    } catch (e) {
      if (isTriageError(e, 'TRIAGE_INPUT_INVALID')) return { ...at, value: null, fieldErrors: e.errors };
      const detail = e instanceof TriageError ? (e.errors[0]?.message ?? e.message) : 'is not valid JSON';
      return { ...at, value: null, parseError: detail };
    }
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > bodyLimit)
      throw new TriageError('TRIAGE_PAYLOAD_TOO_LARGE', `request body is over ${bodyLimit} bytes`, [
        { path: '/', message: `is over ${bodyLimit} bytes` },
      ]);
    let from = 0;
    for (let nl = chunk.indexOf(0x0a, from); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
      const piece = chunk.subarray(from, nl);
      if (pendingBytes + piece.length > lineLimit) throw tooLong();
      const bytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      pendingBytes = 0;
      from = nl + 1;
      const r = record(bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, -1) : bytes);
      if (r) yield r;
    }
    const rest = chunk.subarray(from);
    if (pendingBytes + rest.length > lineLimit) throw tooLong();
    if (rest.length > 0) {
      pending.push(rest);
      pendingBytes += rest.length;
    }
  }
  if (pendingBytes > 0) {
    const r = record(Buffer.concat(pending));
    if (r) yield r;
  }
}

/** Registers `POST /v1/history`. */
export const historyRoutes: RoutePlugin<HistoryRoutesOptions> = async (app, deps) => {
  const lineLimit = deps.lineLimitBytes ?? 1024 * 1024;
  const bodyLimit = deps.bodyLimitBytes ?? 64 * 1024 * 1024;
  const jsonLimit = deps.jsonBodyLimitBytes ?? 1024 * 1024;
  // NDJSON reaches the handler as the request stream (this plugin's routes only).
  app.addContentTypeParser(NDJSON, (_req, payload, done) => done(null, new NdjsonBody(payload)));

  const asyncImports = deps.async;
  app.post(
    '/v1/history',
    {
      config: { roles: ['admin'], bodyTextInRules: true, bodySchema: HistoryJsonBody },
      // Another media type (text/plain, or an intake document type refused by its parser); a
      // refused charset or content-encoding keeps its own 415, which names it.
      errorHandler: rewordErrors(
        (e) =>
          errorCodeOf(e) === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ||
          (isTriageError(e, 'TRIAGE_MEDIA_TYPE_UNSUPPORTED') && !isEncodingRefusal(e)),
        () =>
          new TriageError(
            'TRIAGE_MEDIA_TYPE_UNSUPPORTED',
            `send the body as application/json (an array of invoices, up to ${jsonLimit} bytes) or ${NDJSON} (one invoice per line, streamed, up to ${bodyLimit} bytes)`,
            [{ path: '/headers/content-type', message: `is neither application/json nor ${NDJSON}` }],
          ),
      ),
      // The JSON parser's limit; the NDJSON stream is bounded by ndjsonRecords (and by its declared length here).
      bodyLimit: jsonLimit,
      preParsing: async (req) => {
        const length = Number(req.headers['content-length']);
        const ndjson = req.headers['content-type']?.startsWith(NDJSON) === true;
        if (ndjson && length > bodyLimit)
          throw new TriageError(
            'TRIAGE_PAYLOAD_TOO_LARGE',
            `an NDJSON body is limited to ${bodyLimit} bytes`,
            [{ path: '/', message: `is over ${bodyLimit} bytes` }],
          );
        if (!ndjson && length > jsonLimit)
          throw new TriageError(
            'TRIAGE_PAYLOAD_TOO_LARGE',
            `a JSON array body is limited to ${jsonLimit} bytes; send a larger import as application/x-ndjson (one invoice per line, up to ${bodyLimit} bytes)`,
            [{ path: '/', message: `is over ${jsonLimit} bytes` }],
          );
      },
      schema: {
        operationId: 'importHistory',
        summary: 'Index past invoices for duplicate search and vendor baselines, without scoring them',
        description:
          'Body: a JSON array of invoices (application/json, up to 1 MiB) or one invoice per line ' +
          '(application/x-ndjson, streamed, up to 64 MiB; a line up to 1 MiB). Idempotent per invoice id; written a chunk per transaction. ' +
          'Bad records are a 400 naming every one by index (field errors, at most 100): a JSON array is ' +
          'validated whole, nothing written; an NDJSON stream names the bad records of the first chunk ' +
          'holding any, and the chunks before it are committed (the detail says how many records). A ' +
          'conflicting invoice id is a 409 naming it. Re-send from the named record, or everything.\n\n' +
          'With `Prefer: respond-async` (RFC 7240) the import runs as a job: the whole body is read and ' +
          'validated first (bad records are the same 400, naming the bad records of the first chunk holding any, ' +
          'and nothing is accepted), its records are staged in one transaction, and the answer is 202 with ' +
          '`Location: /v1/history/imports/{id}` and `Preference-Applied: respond-async`. The job imports the ' +
          'staged records chunk by chunk, resuming after a restart where it stopped; a record whose invoice id ' +
          'is stored with other content by then is refused and listed on the import. Idempotency-Key (optional, ' +
          '1-128 printable ASCII, scoped to the API key): the same key with the same records answers the same ' +
          'import (header idempotent-replayed: true); with other records it is a 409.',
        headers: Type.Object({
          'idempotency-key': Type.Optional(Type.String({ pattern: '^[\\x21-\\x7E]{1,128}$' })),
          prefer: Type.Optional(Type.String()),
        }),
        response: {
          200: HistoryResult,
          202: HistoryImportBody,
          ...problemResponses(PROTECTED, WITH_BODY, 409),
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      let source: AsyncIterable<HistoryInput> | Iterable<HistoryInput>;
      if (req.body instanceof NdjsonBody) source = ndjsonRecords(req.body.stream, lineLimit, bodyLimit);
      else if (Array.isArray(req.body)) {
        const records = (req.body as unknown[]).map((value, i) => ({ location: `/${i}`, value }));
        // A JSON array (at most 1 MiB) is validated whole first: every bad record is named, nothing written.
        await validateHistoryRecordsYielding(records, 'refuse');
        source = records;
      } else
        throw new TriageError(
          'TRIAGE_INPUT_INVALID',
          'the body must be a JSON array of invoices (or NDJSON)',
          [{ path: '/', message: 'must be an array' }],
        );
      // On the embedded engine a chunk's transaction holds the database (every other request's
      // queries wait for its commit): smaller chunks there.
      const chunkSize =
        deps.chunkSize ?? (deps.store.history.copyRows ? DEFAULT_HISTORY_CHUNK : EMBEDDED_HISTORY_CHUNK);
      if (asyncImports && prefersRespondAsync(req.headers.prefer)) {
        const body = await validatedBody(source, chunkSize);
        if (body.records.length === 0)
          throw new TriageError('TRIAGE_INPUT_INVALID', 'the body holds no record to import', [
            { path: '/', message: 'holds no record' },
          ]);
        const { import: imp, created } = await asyncImports.imports.create({
          tenantId: p.tenantId,
          submittedByKeyId: p.keyId,
          idempotencyKey: req.headers['idempotency-key'] ?? null,
          requestSha256: body.sha256,
          chunkSize,
          records: body.records,
        });
        try {
          await enqueueHistoryImport(asyncImports.jobs, p.tenantId, imp.id);
        } catch (e) {
          req.log.warn(
            { import_id: imp.id, err: { code: (e as { code?: string }).code } },
            'history import staged but not enqueued; the recovery sweep will enqueue it',
          );
        }
        req.log.info({ import_id: imp.id, records: imp.recordsTotal, created }, 'history import accepted');
        if (!created) void reply.header('idempotent-replayed', 'true');
        void reply
          .status(202)
          .header('location', `/v1/history/imports/${imp.id}`)
          .header('preference-applied', 'respond-async');
        return importBody(imp);
      }
      // Committed so far, for the message of a refused record or of a request timeout.
      const total = { records: 0, imported: 0, skipped: 0 };
      const committed = (): string =>
        `${total.records} records are committed (${total.imported} imported, ${total.skipped} already stored)`;
      const stopTracking = trackBodyProgress(
        req.raw.socket,
        () =>
          `${committed()}, and a chunk being written may commit too; re-send the whole body to resume ` +
          `(stored invoices are skipped), or send the rest from record /${total.records}`,
      );
      try {
        await importHistoryStream(deps.store.history, p.tenantId, source, {
          actorKeyId: p.keyId,
          onBadRecord: 'refuse',
          chunkSize,
          onChunk: (out) => {
            total.records += out.records;
            total.imported += out.imported;
            total.skipped += out.skipped;
          },
        });
      } catch (e) {
        // The client left mid-stream, or the request timeout closed the connection: the chunks
        // before are committed (re-sending is safe).
        const { timedOut } = stopTracking();
        if (isClientClosed(req.raw, e) || timedOut) throw new ClientClosedError(total, timedOut);
        if (!isTriageError(e) || e.status >= 500) throw e;
        throw new TriageError(
          e.code,
          `${e.message} (${total.records} records before this chunk are committed: ${total.imported} imported, ${total.skipped} already stored; re-send from the named record, or everything)`,
          e.errors,
          { cause: e },
        );
      }
      stopTracking();
      return { records: total.records, imported: total.imported, skipped: total.skipped };
    },
  );

  if (!asyncImports) return;
  app.get(
    '/v1/history/imports/:id',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'getHistoryImport',
        summary: 'Progress of an asynchronous history import',
        description:
          'State and record counts of an import accepted by POST /v1/history with Prefer: respond-async; ' +
          "any admin key of the tenant reads it (404 for another tenant's).",
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: HistoryImportBody, ...problemResponses(PROTECTED, 404) },
      },
    },
    async (req) => {
      const imp = await asyncImports.imports.get(principalOf(req).tenantId, req.params.id);
      if (!imp)
        throw new TriageError('TRIAGE_HISTORY_IMPORT_NOT_FOUND', `no history import ${req.params.id}`);
      return importBody(imp);
    },
  );
};
