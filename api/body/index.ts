/**
 * Request-body parsers by media type. Each parser takes the raw bytes (and the schema the
 * route validates the value with) and returns the value, or throws a `TriageError` (4xx) naming
 * the place; media types without a parser are a 415. JSON is `json.ts`; other formats (EDI,
 * XML...) sit beside it, as one module each plus one entry in {@link BODY_PARSERS}.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import { TriageError } from '../../core/errors.js';
import { INTAKE_MEDIA_TYPES } from '../../intake/index.js';
import { UTF8_NAMES } from '../../core/utf8.js';
import { parseJsonBody } from './json.js';

export { MAX_BODY_DEPTH, invalidUtf8Offset, jsonKeyProblem, parseJsonBody, parseJsonText } from './json.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The schema of the body of a route that validates its body itself (it declares no
     * `schema.body`), for the body parser: e.g. `POST /v1/history`'s array of invoices.
     */
    bodySchema?: TSchema;
  }
}

/**
 * A body parser: raw bytes in, the value to validate out.
 * @param schema the schema the route validates the value with, when it has one (the JSON parser
 *   refuses numbers written with a fraction or exponent where it declares integers).
 * @throws TriageError naming the place.
 */
export type BodyParser = (bytes: Buffer, schema?: unknown) => unknown;

/** The schema a request's body is validated with: its route's `config.bodySchema`, else `schema.body`. */
export function bodySchemaOf(req: FastifyRequest): unknown {
  return req.routeOptions.config.bodySchema ?? req.routeOptions.schema?.body;
}

/** The parsers the API accepts, by media type. */
export const BODY_PARSERS: Readonly<Record<string, BodyParser>> = {
  'application/json': parseJsonBody,
};

/**
 * Media types read as UTF-8 whatever they declare (JSON, NDJSON and the intake documents), so
 * another declared charset is refused.
 */
const UTF8_TYPES = new Set(['application/json', 'application/x-ndjson', ...Object.keys(INTAKE_MEDIA_TYPES)]);

/** 415s of {@link installBodyParsers}'s guard (charset, content-encoding), kept by routes rewording 415s. */
const encodingRefusals = new WeakSet<TriageError>();

/**
 * Whether `e` is the 415 of a declared charset other than UTF-8 or of a compressed body: it names
 * what was refused, so a route's own wording of "send another media type" must not replace it.
 */
export function isEncodingRefusal(e: unknown): boolean {
  return e instanceof TriageError && encodingRefusals.has(e);
}

const refusal = (e: TriageError): TriageError => (encodingRefusals.add(e), e);

/**
 * Replaces fastify's parsers by {@link BODY_PARSERS} (call before any route). A body sent with a
 * `content-encoding` other than `identity` (gzip, br...), or a JSON, NDJSON, X12, XML or FHIR
 * body declaring a charset other than UTF-8 (`charset=utf-16`, `latin1`), is refused with 415
 * `TRIAGE_MEDIA_TYPE_UNSUPPORTED` naming the header: the parsers read the bytes as sent, as UTF-8.
 */
export function installBodyParsers(app: FastifyInstance, parsers = BODY_PARSERS): void {
  app.addHook('preParsing', async (req) => {
    const encoding = req.headers['content-encoding']?.trim().toLowerCase();
    if (encoding !== undefined && encoding !== '' && encoding !== 'identity')
      throw refusal(
        new TriageError(
          'TRIAGE_MEDIA_TYPE_UNSUPPORTED',
          `content-encoding ${encoding} is not supported; send the body uncompressed`,
          [{ path: '/headers/content-encoding', message: 'is not supported (send the body uncompressed)' }],
        ),
      );
    // JSON is UTF-8 (RFC 8259 section 8.1), and so are the documents read: a body declared in
    // another charset would be misread.
    const [type, ...params] = (req.headers['content-type'] ?? '')
      .split(';')
      .map((p) => p.trim().toLowerCase());
    // Every charset given counts: `charset=utf-8; charset=latin1` declares latin1 too.
    const charset = params
      .filter((p) => p.startsWith('charset='))
      .map((p) => p.slice(8).replace(/^"(.*)"$/, '$1'))
      .find((c) => !UTF8_NAMES.has(c));
    if (UTF8_TYPES.has(type!) && charset !== undefined)
      throw refusal(
        new TriageError(
          'TRIAGE_MEDIA_TYPE_UNSUPPORTED',
          `charset ${charset} is not supported; send ${type} as UTF-8`,
          [
            {
              path: '/headers/content-type',
              message: `declares charset ${charset} (only utf-8 is accepted)`,
            },
          ],
        ),
      );
  });
  app.removeAllContentTypeParsers();
  for (const [type, parse] of Object.entries(parsers))
    app.addContentTypeParser(type, { parseAs: 'buffer' }, (req, body, done) => {
      try {
        const schema = bodySchemaOf(req);
        // A route that takes no body reads an empty one as none, whatever Content-Type came with
        // it (many HTTP clients send `application/json` on every POST).
        if (schema === undefined && (body as Buffer).length === 0) return done(null, undefined);
        done(null, parse(body as Buffer, schema));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
}
