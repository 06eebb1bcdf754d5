/**
 * RFC 9457 problem details: every error response of the API is `application/problem+json`
 * with `type`, `title`, `status`, `detail`, the stable `code`, `retryable`, the request id
 * and, for validation errors, `errors: [{ path, message }]`.
 */
import Type from 'typebox';
import {
  ERROR_CATALOG,
  MAX_REPORTED_ERRORS,
  TriageError,
  type ErrorCode,
  type FieldError,
} from '../core/errors.js';
import { describeFieldErrors, toFieldErrors, type SchemaErrorLike } from '../core/validate.js';

/** Schema of a problem body (for OpenAPI). */
export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String(),
  retryable: Type.Boolean(),
  request_id: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
});

/** A problem body. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  retryable: boolean;
  request_id: string;
  errors?: FieldError[];
}

/** Problem body of a catalogued error. */
export function problemOf(e: TriageError, requestId: string): ProblemBody {
  return {
    type: `urn:invoice-triage:problem:${e.code}`,
    title: e.title,
    status: e.status,
    detail: e.message,
    code: e.code,
    retryable: e.retryable,
    request_id: requestId,
    ...(e.errors.length > 0 ? { errors: e.errors } : {}),
  };
}

/**
 * The code of a request body that fails its schema or a rule, on every route:
 * `TRIAGE_INPUT_INVALID`. Path, query and header problems, and a body that cannot be parsed, are
 * `TRIAGE_REQUEST_INVALID`.
 */
export const BODY_INVALID = 'TRIAGE_INPUT_INVALID' satisfies ErrorCode;

/** The code of a validation failure in `context` (`body`, `params`, `querystring`, `headers`). */
export function validationCode(context: string | undefined): ErrorCode {
  return context === 'body' ? BODY_INVALID : 'TRIAGE_REQUEST_INVALID';
}

/** A body field problem found by a handler (after the schema), with the body code. */
export function bodyInvalid(detail: string, errors: FieldError[]): TriageError {
  return new TriageError(BODY_INVALID, detail, errors);
}

/** `te` with at most {@link MAX_REPORTED_ERRORS} field errors, the total in its detail. */
export function capped(te: TriageError): TriageError {
  if (te.errors.length <= MAX_REPORTED_ERRORS) return te;
  return new TriageError(
    te.code,
    `${te.errors.length} fields invalid; the first ${MAX_REPORTED_ERRORS} are listed`,
    te.errors.slice(0, MAX_REPORTED_ERRORS),
  );
}

/** Node socket errors and PostgreSQL SQLSTATEs that mean the database is down or restarting. */
const STORE_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
]);

/** node-postgres errors without a code that mean the connection to the database was lost. */
const STORE_DOWN_MESSAGES =
  /^(Connection terminated unexpectedly|Connection terminated|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect)$/;

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: SchemaErrorLike[];
  validationContext?: string;
}

/**
 * Maps any error thrown in a request to a catalogued {@link TriageError}. Fastify's own
 * client errors (bad JSON, body too large, wrong media type) keep their 4xx meaning;
 * anything unknown becomes `TRIAGE_INTERNAL` without leaking its message.
 */
export function toTriageError(err: unknown): TriageError {
  if (err instanceof TriageError) return err;
  const e = (err ?? {}) as FastifyLikeError;
  if (Array.isArray(e.validation)) {
    const prefix = e.validationContext && e.validationContext !== 'body' ? `/${e.validationContext}` : '';
    const errors = toFieldErrors(e.validation, prefix);
    const code = validationCode(e.validationContext);
    return new TriageError(code, describeFieldErrors(errors), errors);
  }
  if ((e.code !== undefined && STORE_DOWN_CODES.has(e.code)) || STORE_DOWN_MESSAGES.test(e.message ?? '')) {
    return new TriageError('TRIAGE_STORE_UNAVAILABLE', 'the store is unavailable; retry later');
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TriageError('TRIAGE_PAYLOAD_TOO_LARGE', 'request body exceeds the configured limit', [
        { path: '/', message: "is over this route's body limit" },
      ]);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TriageError('TRIAGE_MEDIA_TYPE_UNSUPPORTED', 'send the request body as application/json', [
        { path: '/headers/content-type', message: 'is not application/json' },
      ]);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TriageError('TRIAGE_MEDIA_TYPE_UNSUPPORTED', 'send the request body as application/json', [
        { path: '/headers/content-length', message: 'does not match the body' },
      ]);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TriageError('TRIAGE_REQUEST_INVALID', 'request body is empty', [
        { path: '/', message: 'is required' },
      ]);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      // Also raised for "__proto__" / "constructor.prototype" keys (prototype poisoning).
      return new TriageError(
        'TRIAGE_REQUEST_INVALID',
        'request body is not valid JSON, or holds a forbidden __proto__ or constructor.prototype key',
        [{ path: '/', message: 'is not valid JSON' }],
      );
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // Other client errors from fastify (e.g. malformed JSON reported by the parser).
    const parseError = e instanceof SyntaxError;
    return new TriageError(
      'TRIAGE_REQUEST_INVALID',
      parseError ? 'request body is not valid JSON' : 'invalid request',
      [{ path: '/', message: parseError ? 'is not valid JSON' : 'is invalid' }],
    );
  }
  return new TriageError('TRIAGE_INTERNAL', 'internal error; quote the request id when reporting it');
}

/** The catalogue's status for a code (for OpenAPI response lists). */
export function statusOf(code: ErrorCode): number {
  return ERROR_CATALOG[code].status;
}

/**
 * A request the client abandoned: it closed the connection while its body was still being
 * read (Node fails the request stream with `ECONNRESET` "aborted"). Not a failure of the
 * service: logged at info with the route and `progress` (counts only, never contents).
 */
export class ClientClosedError extends Error {
  /**
   * @param progress what the request had done when the connection closed (e.g. records committed).
   * @param timedOut true when the server closed it: the request timeout's 408 was sent (api/limits.ts).
   */
  constructor(
    readonly progress: Readonly<Record<string, number>> = {},
    readonly timedOut = false,
  ) {
    super(
      timedOut
        ? 'the request body was not received in time (408 sent)'
        : 'the client closed the connection before the request body was read',
    );
    this.name = 'ClientClosedError';
  }
}

/**
 * Whether `err` is the client's closing of the connection mid-body: the error the request
 * stream itself failed with (`req.errored`), or a {@link ClientClosedError}. An error of the
 * service (a database `ECONNRESET`, a stream the service stopped reading) is not.
 */
export function isClientClosed(req: { errored: Error | null }, err: unknown): boolean {
  return err instanceof ClientClosedError || (req.errored !== null && err === req.errored);
}
