/**
 * Shared pieces of the route plugins: the one plugin shape, the problem responses a route
 * declares for OpenAPI, path parameters and cursors.
 *
 * Every plugin is a {@link RoutePlugin} over its own narrow options (only what its handlers
 * use), registered by `buildApp` as `app.register(xRoutes, { ...its options })`. Handlers read
 * the caller with `principalOf(req)` (api/auth.ts). Each route lists the problem statuses it can
 * answer: {@link PROTECTED} for every `/v1` and `/v2` route, {@link WITH_BODY} when it reads a
 * body, plus its own (404, 409, 422...).
 */
import type { FastifyPluginOptions } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { TriageError } from '../../core/errors.js';
import { Problem } from '../problem.js';

/** A route plugin: an async fastify plugin (TypeBox-typed) over its own options. */
export type RoutePlugin<Options extends FastifyPluginOptions> = FastifyPluginAsyncTypebox<Options>;

/** HTTP statuses of problem+json responses. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 406 | 408 | 409 | 413 | 415 | 422 | 429 | 500 | 501 | 503;

/** What each problem status means in this API (the response description in OpenAPI). */
const PROBLEM_MEANING: Record<ProblemStatus, string> = {
  400: 'Invalid request: a body, path, query or header field, named in errors[].path',
  401: 'No API key, or an unknown or revoked one',
  403:
    'The key has none of the route’s roles (TRIAGE_FORBIDDEN), or, changing the shared models, is not of the ' +
    'operator tenant MODEL_OPERATOR_TENANT (TRIAGE_OPERATOR_ONLY)',
  404: 'Not found (or another tenant’s)',
  406: 'The Accept header names no media type the route answers in',
  408: 'The request body was not received in time',
  409: 'Conflicts with stored state (a reused id or idempotency key, a refused promotion)',
  413: 'Request body too large',
  415: 'Unsupported media type: send application/json',
  422: 'Well formed, but does not fit (e.g. a review that does not fit its decision)',
  429: 'Rate limit exceeded; see Retry-After',
  500: 'Internal error; quote the request id',
  501: 'Not available on this service',
  503: 'A dependency (store, queue) or the deadline failed; retry after Retry-After',
};

/**
 * What any authenticated route can answer: 400 (malformed URL, unstorable text in a path or
 * query parameter), 401, 403, 429, 500, and 503 (the store holding the keys is down).
 */
export const PROTECTED: readonly ProblemStatus[] = [400, 401, 403, 429, 500, 503];

/** What reading a JSON body adds: 408 (sent too slowly), 413 (too large), 415 (not JSON). */
export const WITH_BODY: readonly ProblemStatus[] = [400, 408, 413, 415];

/**
 * The problem responses of a route, for its `schema.response`, from status lists and single
 * statuses: `{ 200: X, ...problemResponses(PROTECTED, WITH_BODY, 409) }`.
 */
export function problemResponses(
  ...statuses: (ProblemStatus | readonly ProblemStatus[])[]
): Partial<Record<ProblemStatus, typeof Problem>> {
  const all = [...new Set(statuses.flat())].sort((a, b) => a - b);
  return Object.fromEntries(
    all.map((s) => [s, Type.Object(Problem.properties, { description: PROBLEM_MEANING[s] })]),
  );
}

/**
 * The clock option of the route plugins whose handlers read the time (claim times and their
 * expiry, "today" of priorities and KPIs, ERP load times).
 */
export interface ClockOption {
  /** The handlers' clock; default the system clock. */
  clock?: () => Date;
}

/** The time now by a plugin's clock: its own, else the system clock. */
export function nowOf(o: ClockOption): Date {
  return o.clock ? o.clock() : new Date();
}

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

/**
 * A route `errorHandler` giving the route's own wording to some refusals (matched by `when`, for
 * instance fastify's `FST_ERR_CTP_BODY_TOO_LARGE`): it throws `reword()` for those and the error
 * itself otherwise, and fastify hands what it throws to the app's handler (problem+json).
 * @throws always.
 */
export function rewordErrors(
  when: (e: unknown) => boolean,
  reword: () => TriageError,
): (e: unknown) => never {
  return (e) => {
    throw when(e) ? reword() : e;
  };
}

/** The fastify (or intake) error code of `e`, if any. */
export const errorCodeOf = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;
