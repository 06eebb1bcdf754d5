/**
 * `GET /v1/audit/export?from=&to=&format=jsonl|csv` (auditor): the tenant's audit entries
 * written on the days from..to (UTC, inclusive), streamed in chain order as JSON Lines (one
 * entry per line, as `GET /v1/audit` returns it) or CSV (csv-stringify; the payload column
 * holds its canonical JSON). Pages of {@link EXPORT_PAGE} rows are read as the client drains
 * the stream, so memory stays flat whatever the range. A CSV cell that a spreadsheet would read
 * as a formula (text starting with `=`, `+`, `-`, `@`, tab or carriage return: a vendor id is
 * client text) is written with a leading `'` (csv-stringify `escape_formulas`), so it is shown as
 * text, never evaluated; the JSON Lines export holds every value as stored.
 */
import { Readable } from 'node:stream';
import Type from 'typebox';
import { stringify } from 'csv-stringify';
import type { AuditRow } from '../../store/audit.js';
import { TriageError } from '../../core/errors.js';
import { checkQueryDates } from '../../core/date-range.js';
import { principalOf } from '../auth.js';
import { auditEntryOf } from './audit.js';
import { problemResponses, PROTECTED, type RoutePlugin } from './common.js';
import type { AuditRoutesOptions } from './audit.js';

/** Rows read per store round trip. */
export const EXPORT_PAGE = 1000;

/** CSV columns, in order. */
export const AUDIT_CSV_COLUMNS = [
  'seq',
  'ts',
  'actor_key_id',
  'kind',
  'subject_id',
  'payload',
  'payload_sha256',
  'prev_hash',
  'hash',
] as const;

/** Registers the export route. */
export const auditExportRoutes: RoutePlugin<AuditRoutesOptions> = async (app, deps) => {
  app.get(
    '/v1/audit/export',
    {
      config: { roles: ['auditor'] },
      schema: {
        operationId: 'exportAudit',
        summary: "Export the tenant's audit entries of a date range as JSON Lines or CSV (streamed)",
        description:
          'Entries written on the days from..to (UTC, inclusive), in sequence order. JSON Lines: one entry per ' +
          'line as GET /v1/audit returns it; CSV: header row, payload as canonical JSON text.',
        querystring: Type.Object(
          {
            from: Type.String({ format: 'date' }),
            to: Type.String({ format: 'date' }),
            format: Type.Optional(
              Type.Union([Type.Literal('jsonl'), Type.Literal('csv')], { default: 'jsonl' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          // A stream (application/x-ndjson or text/csv): fastify sends streams without serialising them.
          200: Type.Unknown({ description: 'JSON Lines or CSV text.' }),
          ...problemResponses(PROTECTED),
        },
      },
    },
    async (req, reply) => {
      const { from, to } = req.query;
      checkQueryDates({ from, to });
      if (from > to)
        throw new TriageError('TRIAGE_REQUEST_INVALID', 'from must be on or before to', [
          { path: '/querystring/from', message: 'must be on or before to' },
        ]);
      const tenantId = principalOf(req).tenantId;
      const format = req.query.format ?? 'jsonl';
      async function* rows(): AsyncGenerator<AuditRow> {
        let afterSeq = 0;
        for (;;) {
          const page = await deps.store.audit.list(tenantId, {
            afterSeq,
            limit: EXPORT_PAGE,
            fromDay: from,
            toDay: to,
          });
          yield* page;
          if (page.length < EXPORT_PAGE) return;
          afterSeq = page[page.length - 1]!.seq;
        }
      }
      const name = `audit-${tenantId}-${from}-${to}.${format}`;
      void reply.header('content-disposition', `attachment; filename="${name}"`);
      if (format === 'csv') {
        void reply.type('text/csv; charset=utf-8');
        const csv = stringify({ header: true, columns: [...AUDIT_CSV_COLUMNS], escape_formulas: true });
        const source = Readable.from(
          (async function* () {
            for await (const r of rows()) yield { ...auditEntryOf(r), payload: r.payload };
          })(),
        );
        source.on('error', (e) => csv.destroy(e));
        return reply.send(source.pipe(csv));
      }
      void reply.type('application/x-ndjson; charset=utf-8');
      return reply.send(
        Readable.from(
          (async function* () {
            for await (const r of rows()) yield `${JSON.stringify(auditEntryOf(r))}\n`;
          })(),
        ),
      );
    },
  );
};
