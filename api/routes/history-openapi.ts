/**
 * The request body of `POST /v1/history` in the OpenAPI document: the route parses its body
 * itself (api/routes/history.ts), so the document is given it here.
 */
import { NDJSON } from './history.js';

/** The part of an OpenAPI document {@link withHistoryBody} reads and extends. */
interface OpenApiOperations {
  paths?: Record<string, Record<string, { requestBody?: unknown } | undefined>>;
}

/**
 * The OpenAPI document with the request body of `POST /v1/history` (`@fastify/swagger`'s
 * `transformObject`): the route parses its body itself, so its schema has no `body`. Both media
 * types carry invoices of the scoring route's schema: a JSON array of them, or NDJSON, one per line.
 * Unchanged when either route is absent.
 */
export function withHistoryBody<T extends object>(doc: T): T {
  const { paths } = doc as OpenApiOperations;
  const history = paths?.['/v1/history']?.post;
  const score = paths?.['/v1/invoices/score']?.post?.requestBody as
    { content?: Record<string, { schema?: unknown }> } | undefined;
  const invoice = score?.content?.['application/json']?.schema;
  if (!history || invoice === undefined) return doc;
  history.requestBody = {
    required: true,
    content: {
      'application/json': {
        schema: { type: 'array', items: invoice, description: 'Past invoices, up to 1 MiB.' },
      },
      [NDJSON]: {
        schema: {
          type: 'string',
          description:
            'One invoice (the application/json item schema) per line; up to 64 MiB, a line up to 1 MiB.',
        },
      },
    },
  };
  return doc;
}
