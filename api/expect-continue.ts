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
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/** Stream events that start reading a request body. */
const READING_EVENTS = new Set<string | symbol>(['data', 'readable']);

/**
 * Makes `server` defer `100 Continue` until the request body is read (see the module comment).
 * Other `Expect` values keep Node's answer (417). Call once per server, before it listens.
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
}
