/**
 * `Expect: 100-continue` (RFC 9110 section 10.1.1): a client asks whether to send its body. Node's
 * HTTP server answers `100 Continue` as soon as the headers arrive unless the server listens for
 * `checkContinue`, so an oversized body (a `Content-Length` over the route's limit), an
 * unauthenticated request or a refused media type would be invited before its 413, 401 or 415.
 *
 * With {@link installExpectContinue}, `100 Continue` is sent only when the body is actually read
 * (the route's parser or stream listens for its data), which happens after authentication, the
 * rate limit, the media-type and charset checks and the body-limit check against `Content-Length`
 * (fastify's, and the history route's own). A request answered before that gets its final status
 * without `100`, and Node closes the connection after it (the client may still be sending).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { TriageError } from '../core/errors.js';
import { problemOf } from './problem.js';

/** Stream events that start reading a request body. */
const READING_EVENTS = new Set<string | symbol>(['data', 'readable']);

/**
 * Makes `server` defer `100 Continue` until the request body is read (see the module comment).
 * Any other `Expect` value is answered 417 `TRIAGE_EXPECTATION_FAILED` problem+json naming
 * `/headers/expect` (Node's own 417 has no body). Call once per server, before it listens.
 */
export function installExpectContinue(server: Server): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const invite = (): void => {
      req.off('newListener', onListener);
      req.off('resume', invite);
      // Once the final answer is on its way, reading the rest is Node discarding it: no 100 then.
      if (!res.headersSent && !res.writableEnded) res.writeContinue();
    };
    const onListener = (event: string | symbol): void => {
      if (READING_EVENTS.has(event)) invite();
    };
    req.on('newListener', onListener);
    req.on('resume', invite);
    server.emit('request', req, res);
  });
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const error = new TriageError('TRIAGE_EXPECTATION_FAILED', 'only Expect: 100-continue is supported', [
      { path: '/headers/expect', message: 'is not 100-continue' },
    ]);
    const body = JSON.stringify(problemOf(error, randomUUID()));
    res.writeHead(417, {
      'content-type': 'application/problem+json',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    res.end(body);
    req.resume();
  });
}
