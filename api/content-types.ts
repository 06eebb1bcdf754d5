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
import { INTAKE_MEDIA_TYPES, convertDocument, type DocumentFormat } from '../intake/index.js';
import { errorCodeOf, rewordErrors } from './routes/common.js';

/** Routes that take documents, and the body each gets. */
const DOCUMENT_ROUTES: Readonly<Record<string, 'invoice' | 'batch'>> = {
  'POST /v1/invoices/score': 'invoice',
  'POST /v1/batches': 'batch',
};

/** What each document format's request body is, for the OpenAPI document. */
const DOCUMENT_BODIES: Readonly<Record<DocumentFormat, { type: 'string' | 'object'; description: string }>> =
  {
    'x12-810': { type: 'string', description: 'An ASC X12 810 interchange.' },
    'ubl-2.1': { type: 'string', description: 'A UBL 2.1 Invoice or CreditNote document.' },
    'fhir-r4': { type: 'object', description: 'A FHIR R4 Invoice resource, or a Bundle of them.' },
  };

/** The part of an OpenAPI document {@link withDocumentMediaTypes} reads and extends. */
interface OpenApiPaths {
  paths?: Record<string, Record<string, { requestBody?: { content?: Record<string, unknown> } } | undefined>>;
}

/**
 * The OpenAPI document with the intake media types added to the request body of each route
 * that takes documents (`@fastify/swagger`'s `transformObject`; the route schemas describe JSON
 * only). Each entry says what the document must carry and what the route makes of it.
 */
export function withDocumentMediaTypes<T extends object>(doc: T): T {
  const { paths } = doc as OpenApiPaths;
  for (const [route, shape] of Object.entries(DOCUMENT_ROUTES)) {
    const [method, url] = route.split(' ') as [string, string];
    const body = paths?.[url]?.[method.toLowerCase()]?.requestBody;
    if (!body) continue;
    const carries =
      shape === 'invoice'
        ? 'It must carry exactly one invoice.'
        : 'Each invoice it carries is one item of the batch.';
    for (const [mediaType, format] of Object.entries(INTAKE_MEDIA_TYPES)) {
      const { type, description } = DOCUMENT_BODIES[format];
      body.content = {
        ...body.content,
        [mediaType]: {
          schema: { type, description: `${description} ${carries} Recorded as source ${format}.` },
        },
      };
    }
  }
  return doc;
}

/** Every media type the routes that take documents accept. */
const DOCUMENT_ROUTE_TYPES = ['application/json', ...Object.keys(INTAKE_MEDIA_TYPES)].join(', ');

/**
 * The `errorHandler` of a route that takes documents: its 415 (a media type without a parser)
 * names every media type the route accepts, not JSON alone; other errors pass on unchanged.
 */
export const documentRouteErrors = rewordErrors(
  (e) => errorCodeOf(e) === 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
  () =>
    new TriageError(
      'TRIAGE_MEDIA_TYPE_UNSUPPORTED',
      `send the request body as one of ${DOCUMENT_ROUTE_TYPES}`,
      [{ path: '/headers/content-type', message: `is none of ${DOCUMENT_ROUTE_TYPES}` }],
    ),
);

/** Registers one body parser per intake media type on `app` (before the routes). */
export function installDocumentParsers(app: FastifyInstance): void {
  for (const [mediaType, format] of Object.entries(INTAKE_MEDIA_TYPES)) {
    app.addContentTypeParser(mediaType, { parseAs: 'buffer' }, async (req: FastifyRequest, body: Buffer) => {
      const shape = DOCUMENT_ROUTES[`${req.method} ${req.routeOptions.url ?? ''}`];
      if (!shape)
        throw new TriageError(
          'TRIAGE_MEDIA_TYPE_UNSUPPORTED',
          `${mediaType} is accepted by POST /v1/invoices/score and POST /v1/batches only; send this body as application/json`,
          [{ path: '/headers/content-type', message: `is ${mediaType}, which this route does not accept` }],
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
