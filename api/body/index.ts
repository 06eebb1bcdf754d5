/**
 * Request-body parsers by media type. Each parser takes the raw bytes and returns the value
 * the route's schema validates, or throws a `TriageError` (4xx) naming the place; media types
 * without a parser are a 415. JSON is `json.ts`; other formats (EDI, XML...) sit beside it, as
 * one module each plus one entry in {@link BODY_PARSERS}.
 */
import type { FastifyInstance } from 'fastify';
import { TriageError } from '../../core/errors.js';
import { parseJsonBody } from './json.js';

export { MAX_BODY_DEPTH, invalidUtf8Offset, jsonKeyProblem, parseJsonBody } from './json.js';

/** A body parser: raw bytes in, the value to validate out. @throws TriageError naming the place. */
export type BodyParser = (bytes: Buffer) => unknown;

/** The parsers the API accepts, by media type. */
export const BODY_PARSERS: Readonly<Record<string, BodyParser>> = {
  'application/json': parseJsonBody,
};

/**
 * Replaces fastify's parsers by {@link BODY_PARSERS} (call before any route). A body sent with a
 * `content-encoding` other than `identity` (gzip, br...) is refused with 415
 * `TRIAGE_MEDIA_TYPE_UNSUPPORTED` naming the header: the parsers read the bytes as sent.
 */
export function installBodyParsers(app: FastifyInstance, parsers = BODY_PARSERS): void {
  app.addHook('preParsing', async (req) => {
    const encoding = req.headers['content-encoding']?.trim().toLowerCase();
    if (encoding !== undefined && encoding !== '' && encoding !== 'identity')
      throw new TriageError(
        'TRIAGE_MEDIA_TYPE_UNSUPPORTED',
        `content-encoding ${encoding} is not supported; send the body uncompressed`,
        [{ path: '/headers/content-encoding', message: 'is not supported (send the body uncompressed)' }],
      );
  });
  app.removeAllContentTypeParsers();
  for (const [type, parse] of Object.entries(parsers))
    app.addContentTypeParser(type, { parseAs: 'buffer' }, (_req, body, done) => {
      try {
        done(null, parse(body as Buffer));
      } catch (e) {
        done(e as Error, undefined);
      }
    });
}
