/** Shared pieces of the route plugins: options type, problem responses for OpenAPI, cursors. */
import Type from 'typebox';
import type { AppDeps } from '../app.js';
import { Problem } from '../problem.js';

/** Options every route plugin receives. */
export interface RouteOptions {
  deps: AppDeps;
}

/** Problem responses of protected routes (400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503). */
export const problemResponses = {
  400: Problem,
  401: Problem,
  403: Problem,
  404: Problem,
  409: Problem,
  413: Problem,
  415: Problem,
  422: Problem,
  429: Problem,
  500: Problem,
  503: Problem,
};

/** UUID path parameter `id`. */
export const IdParam = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** Encodes an opaque cursor (base64url JSON). */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Decodes an opaque cursor, or null when it is not one of ours. */
export function decodeCursor(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

/** The problem responses a route can answer with, by status, for its OpenAPI operation. */
export function problemsOf<S extends keyof typeof problemResponses>(
  ...statuses: S[]
): Pick<typeof problemResponses, S> {
  return Object.fromEntries(statuses.map((s) => [s, problemResponses[s]])) as Pick<
    typeof problemResponses,
    S
  >;
}
