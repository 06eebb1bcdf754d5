/**
 * HTTP scoring latency at fixed request rates: starts the built server (`dist/bin/server.js`)
 * as a child process on a free port, then drives `POST /v1/invoices/score` with autocannon at
 * each rate for a fixed duration (coordinated omission corrected: autocannon measures from the
 * intended send time). Every request is a new invoice (unique `invoice_id` and number).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import autocannon from 'autocannon';

/** Latency and errors at one target rate. Latencies in ms. */
export interface RateResult {
  targetRps: number;
  durationSeconds: number;
  achievedRps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Non-2xx responses. */
  non2xx: number;
  /** Socket errors and timeouts. */
  errors: number;
  timeouts: number;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** A running server child process. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `node dist/bin/server.js` with `env` (PORT is chosen here) and waits until /healthz answers 200.
 * @throws Error when the server exits or is not healthy within `timeoutMs`.
 */
export async function startServer(env: Record<string, string>, timeoutMs = 120_000): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/bin/server.js'], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('server did not become healthy in time');
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * Drives `POST /v1/invoices/score` at `rps` for `seconds`. `bodies` are invoice JSON strings
 * containing the placeholder `__ID__` (replaced by a unique id per request).
 */
export async function runRate(
  url: string,
  bodies: readonly string[],
  rps: number,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<RateResult> {
  let i = 0;
  const tag = `${rps}-${Date.now().toString(36)}`;
  const result = await autocannon({
    url,
    connections: Math.max(10, Math.ceil(rps / 10)),
    overallRate: rps,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        path: '/v1/invoices/score',
        headers: { 'content-type': 'application/json', ...headers },
        setupRequest: (req) => {
          const b = bodies[i % bodies.length]!;
          req.body = b.replaceAll('__ID__', `${tag}-${i}`);
          i++;
          return req;
        },
      },
    ],
  });
  return {
    targetRps: rps,
    durationSeconds: seconds,
    achievedRps: result.requests.total / seconds,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
