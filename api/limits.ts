/**
 * Protective limits of the HTTP API: body size per route, how long a client may take to send
 * its request, how long scoring may take, and how many requests a client may make.
 *
 * - Body size: `bodyLimitBytes` for every route (413 above), `batches.bodyLimitBytes` for
 *   `POST /v1/batches`.
 * - Receiving the request: `requestTimeoutMs` (Node's `server.requestTimeout`, checked every
 *   quarter of it, at most every 30 s): a client still sending after that gets a 408
 *   problem+json and the connection is closed (slow-loris protection). Idle sockets are closed
 *   after twice that.
 * - Scoring: `scoreDeadlineMs` per invoice; past it the API answers 503
 *   `TRIAGE_DEADLINE_EXCEEDED` with `Retry-After`, and the scoring work stops at its next stage
 *   or statement and its transaction rolls back: nothing of the invoice is stored, and the retry
 *   with the same `invoice_id` scores it again (or, when the work had committed just before the
 *   deadline, returns the stored decision).
 * - Rate: `@fastify/rate-limit`, per API key (or client IP without a valid key), `max` requests per
 *   `windowMs` on every route and `batchMax` on `POST /v1/batches`; 429 problem+json
 *   `TRIAGE_RATE_LIMITED` with `Retry-After` (seconds to the window's end). Shared by every
 *   replica through Redis when one is given; if Redis fails, requests are let through.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { TriageError } from '../core/errors.js';
import { timeoutSignal, untilAborted } from '../core/timeout.js';
import { withScore, type ScoringService } from '../inference/pipeline.js';
import { problemOf } from './problem.js';

/**
 * Rate limits; `max: 0` disables them. One bucket per key across routes, except routes with
 * their own `config.rateLimit` (POST /v1/batches: `BatchRoutesOptions.rateLimitMax`).
 */
export interface RateLimits {
  /** Requests per window per key; default 600. */
  max: number;
  /** Window, milliseconds; default 60 000. */
  windowMs: number;
  /** An ioredis client for limits shared across replicas; default per-process memory. */
  redis?: unknown;
  /** Redis key prefix of the counters; default `invoice-triage-rl:`. */
  redisNamespace?: string;
}

/**
 * Rate-limit bucket of a request: the API key when authenticated (so one client behind a
 * shared proxy address does not starve another), else the client IP address.
 */
export function rateLimitKeyOf(req: FastifyRequest): string {
  return req.principal ? `key:${req.principal.keyId}` : `ip:${req.ip}`;
}

/** Fastify server options for the request timeout (see the module comment). */
export function timeoutOptions(requestTimeoutMs: number): {
  requestTimeout: number;
  connectionTimeout: number;
  http: { connectionsCheckingInterval: number; headersTimeout: number };
} {
  return {
    requestTimeout: requestTimeoutMs,
    connectionTimeout: requestTimeoutMs * 2,
    http: {
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(requestTimeoutMs / 4))),
      headersTimeout: requestTimeoutMs,
    },
  };
}

/**
 * What a request still reading its body has done so far, for the 408 of the request timeout
 * (which Node raises on the socket, outside the route): a route that commits work while it
 * reads (the history import) registers it under its socket with {@link trackBodyProgress}.
 */
interface BodyProgress {
  /** The 408's detail: what was committed and how to resume. */
  detail(): string;
  /** Set when the 408 was sent: the connection is closed by the server, not the client. */
  timedOut: boolean;
}

const bodyProgress = new WeakMap<Socket, BodyProgress>();

/**
 * Registers what the request on `socket` has committed while reading its body, so that a
 * request timeout's 408 says it (`detail`); call the returned function when the body is read.
 * @returns `stop()`, which unregisters it and tells whether the 408 was sent meanwhile.
 */
export function trackBodyProgress(socket: Socket, detail: () => string): () => { timedOut: boolean } {
  const p: BodyProgress = { detail, timedOut: false };
  bodyProgress.set(socket, p);
  return () => {
    if (bodyProgress.get(socket) === p) bodyProgress.delete(socket);
    return { timedOut: p.timedOut };
  };
}

/**
 * Answers protocol-level client errors (request timeout, oversized headers, malformed HTTP)
 * with problem+json on the raw socket, then closes it. A timeout of a request that committed
 * work while reading its body ({@link trackBodyProgress}) names that work. Installed as
 * fastify's `clientErrorHandler`.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const progress = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? bodyProgress.get(socket) : undefined;
  if (progress) progress.timedOut = true;
  const te =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new TriageError(
          'TRIAGE_REQUEST_TIMEOUT',
          progress
            ? `the request body was not received in time: ${progress.detail()}`
            : 'the request was not received in time; send it again',
        )
      : new TriageError(
          'TRIAGE_REQUEST_INVALID',
          err.code === 'HPE_HEADER_OVERFLOW' ? 'request headers are too large' : 'malformed HTTP request',
          [{ path: '/', message: 'is not a valid HTTP request' }],
        );
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : te.status;
  const body = JSON.stringify({ ...problemOf(te, 'none'), status });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `${te.retryable ? 'Retry-After: 1\r\n' : ''}Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * Registers the rate limiter; call before declaring routes (it attaches itself as routes are
 * added). Routes opt out with `config: { rateLimit: false }` and set their own with
 * `config: { rateLimit: { max } }`. Runs as a route `onRequest` hook, after the auth hook (an
 * application `onRequest` hook), so it is keyed by API key, or by client IP for a request
 * without a valid key, whose 401 comes after it (api/auth.ts), before the body is read.
 */
export async function registerRateLimit(app: FastifyInstance, limits: RateLimits): Promise<void> {
  if (limits.max <= 0) return;
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    max: limits.max,
    timeWindow: limits.windowMs,
    keyGenerator: rateLimitKeyOf,
    skipOnError: true,
    ...(limits.redis
      ? { redis: limits.redis, nameSpace: limits.redisNamespace ?? 'invoice-triage-rl:' }
      : {}),
    errorResponseBuilder: (_req, ctx) =>
      new TriageError(
        'TRIAGE_RATE_LIMITED',
        `rate limit of ${ctx.max} requests per ${Math.round(limits.windowMs / 1000)} s reached; retry in ${ctx.after}`,
      ),
  });
}

/**
 * A scoring service whose `score` gives up after `deadlineMs` with a 503
 * `TRIAGE_DEADLINE_EXCEEDED` (retryable), answered as soon as the deadline passes. The deadline
 * is one timer, an abort signal handed to the work (with the caller's own signal, when given):
 * scoring stops at its next stage or statement and its transaction rolls back, so a retry with
 * the same invoice_id scores again; work that committed before the deadline is returned by it.
 */
export function withDeadline(scoring: ScoringService, deadlineMs: number): ScoringService {
  return withScore(scoring, (invoice, tenantId, actorKeyId, opts = {}) => {
    const deadline = timeoutSignal(
      deadlineMs,
      () =>
        new TriageError(
          'TRIAGE_DEADLINE_EXCEEDED',
          `scoring took longer than ${deadlineMs} ms and was stopped; retry with the same invoice_id (idempotent)`,
        ),
    );
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline.signal]) : deadline.signal;
    return untilAborted(scoring.score(invoice, tenantId, actorKeyId, { ...opts, signal }), signal).finally(
      deadline.clear,
    );
  });
}
