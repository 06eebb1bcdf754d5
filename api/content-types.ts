/**
 * Request bodies in the document formats of `intake/` beside JSON: `application/edi-x12`
 * (ASC X12 810), `application/xml` (UBL 2.1 Invoice / CreditNote) and `application/fhir+json`
 * (FHIR R4 Invoice or Bundle), on `POST /v1/invoices/score` (a document carrying exactly one
 * invoice) and `POST /v1/batches` (any number, as `{ invoices: [...] }`). The parser converts
 * the document to canonical invoices, so the routes' schemas, rules and answers are those of
 * JSON; a malformed document is a 400 naming the segment/element, element path or JSON pointer.
 * Other routes answer these media types with 415.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TriageError } from '../core/errors.js';
import { INTAKE_MEDIA_TYPES, convertDocument } from '../intake/index.js';

/** Routes that take documents, and the body each gets. */
const DOCUMENT_ROUTES: Readonly<Record<string, 'invoice' | 'batch'>> = {
  'POST /v1/invoices/score': 'invoice',
  'POST /v1/batches': 'batch',
};

/** Registers one body parser per intake media type on `app` (before the routes). */
export function installDocumentParsers(app: FastifyInstance): void {
  for (const [mediaType, format] of Object.entries(INTAKE_MEDIA_TYPES)) {
    app.addContentTypeParser(mediaType, { parseAs: 'buffer' }, async (req: FastifyRequest, body: Buffer) => {
      const shape = DOCUMENT_ROUTES[`${req.method} ${req.routeOptions.url ?? ''}`];
      if (!shape)
        throw new TriageError(
          'TRIAGE_MEDIA_TYPE_UNSUPPORTED',
          `${mediaType} is accepted by POST /v1/invoices/score and POST /v1/batches only; send this body as application/json`,
        );
      if (body.length === 0)
        throw new TriageError('TRIAGE_REQUEST_INVALID', 'request body is empty', [
          { path: '/', message: 'is required' },
        ]);
      const invoices = await convertDocument(format, body);
      if (shape === 'batch') return { invoices };
      if (invoices.length !== 1)
        throw new TriageError(
          'TRIAGE_INPUT_INVALID',
          `the document carries ${invoices.length} invoices; POST /v1/invoices/score takes one (send many to POST /v1/batches)`,
          [{ path: '/', message: `carries ${invoices.length} invoices` }],
        );
      return invoices[0];
    });
  }
}
