/** A real HTTP receiver of webhook deliveries on 127.0.0.1 (node:http), for the events and fault suites. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Status it answered (null: never answered). */
  status: number | null;
}

/**
 * A loopback receiver: `/ok` answers 200, `/slow` 200 after 300 ms, `/flaky` 500 five times then
 * 200, `/never` holds the request (until `answerNever(false)`).
 */
export async function startReceiver() {
  const received: Received[] = [];
  let flakyFailures = 0;
  let neverAnswers = true;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status: null,
      };
      received.push(r);
      const answer = (status: number) => {
        r.status = status;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'nope');
      };
      if (r.path === '/flaky') return answer(flakyFailures++ < 5 ? 500 : 200);
      if (r.path === '/never' && neverAnswers) return;
      if (r.path === '/slow') return void setTimeout(() => answer(200), 300);
      answer(200);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    answerNever: (v: boolean) => {
      neverAnswers = v;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
