/**
 * Prometheus instruments (prom-client), shared by the API server and the workers. No fastify
 * here, so that `bin/worker.ts` can expose the same metrics on a plain HTTP listener.
 *
 * Series (all prefixed `invoice_triage_`):
 * - `http_request_duration_seconds{method,route,status_code}` histogram, route = the route
 *   pattern (`/v1/batches/:id`), `unmatched` for 404s, so the label set stays small;
 * - `decisions_total{decision,queue,source}` counter of new decisions (replays not counted),
 *   queue `none` for AUTO_APPROVE, source `api` or `batch`;
 * - `queue_jobs{queue,state}` gauge of jobs per job queue and state, read at scrape time,
 *   and `queue_up` (1 when the queue answered the scrape, else 0);
 * - `model_info{task,version}` gauge = 1 for each scorer version in use;
 * - the default Node.js process metrics (CPU, memory, event-loop lag, GC, handles).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DecisionResponse } from '../core/decision.js';
import { withScore, type ScoringService } from '../inference/pipeline.js';
import { JOB_NAMES, JOB_STATES, type JobQueue } from '../jobs/types.js';
import { withTimeout } from '../core/timeout.js';

/** Where a decision was made. */
export type DecisionSource = 'api' | 'batch';

/** The instruments of one process. */
export interface TriageMetrics {
  readonly registry: Registry;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly decisions: Counter<'decision' | 'queue' | 'source'>;
  /** Counts one new decision. */
  observeDecision(d: DecisionResponse, source: DecisionSource): void;
  /** Reads the queue's job counts at every scrape (time-limited; `queue_up` 0 when it fails). */
  watchQueue(queue: JobQueue, timeoutMs?: number): void;
  /** Reads the scorer versions at every scrape (task -> version, e.g. from `ScoringService.versions.models`). */
  watchModels(versions: () => Record<string, string>): void;
}

/** Latency buckets, seconds: 5 ms to 10 s. */
export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Creates a registry with every instrument and the default process metrics. */
export function createMetrics(opts: { processMetrics?: boolean } = {}): TriageMetrics {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'invoice_triage_' });

  let queue: { q: JobQueue; timeoutMs: number } | null = null;
  let models: (() => Record<string, string>) | null = null;

  const httpDuration = new Histogram({
    name: 'invoice_triage_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern, seconds',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'invoice_triage_decisions_total',
    help: 'New decisions by kind, review queue (none for AUTO_APPROVE) and source (api or batch)',
    labelNames: ['decision', 'queue', 'source'] as const,
    registers: [registry],
  });
  /**
   * The queue's counts for one scrape: both queue gauges are collected in parallel, so they
   * share one time-limited read (reused for 500 ms); null when the queue did not answer.
   */
  let scrape: { at: number; counts: Promise<Awaited<ReturnType<JobQueue['counts']>> | null> } | null = null;
  const queueCounts = (): Promise<Awaited<ReturnType<JobQueue['counts']>> | null> => {
    if (!queue) return Promise.resolve(null);
    if (scrape && Date.now() - scrape.at < 500) return scrape.counts;
    const { q, timeoutMs } = queue;
    const counts = withTimeout(q.counts(), timeoutMs, () => new Error('queue counts timed out')).catch(
      () => null,
    );
    scrape = { at: Date.now(), counts };
    return counts;
  };
  new Gauge({
    name: 'invoice_triage_queue_up',
    help: '1 when the job queue answered the scrape, else 0',
    registers: [registry],
    async collect() {
      if (!queue) return;
      this.set((await queueCounts()) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'invoice_triage_queue_jobs',
    help: 'Jobs per job queue and state at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const counts = await queueCounts();
      this.reset();
      if (!counts) return;
      for (const name of JOB_NAMES) {
        for (const state of JOB_STATES) this.set({ queue: name, state }, counts[name][state]);
      }
    },
  });
  new Gauge({
    name: 'invoice_triage_model_info',
    help: 'Scorer versions in use (value 1) by task',
    labelNames: ['task', 'version'] as const,
    registers: [registry],
    collect() {
      if (!models) return;
      this.reset();
      for (const [task, version] of Object.entries(models())) this.set({ task, version }, 1);
    },
  });

  return {
    registry,
    httpDuration,
    decisions,
    observeDecision(d, source) {
      decisions.inc({ decision: d.decision, queue: d.queue ?? 'none', source });
    },
    watchQueue(q, timeoutMs = 1000) {
      queue = { q, timeoutMs };
    },
    watchModels(versions) {
      models = versions;
    },
  };
}

/** A scoring service that counts every new decision it makes in `metrics`. */
export function instrumentScoring(
  scoring: ScoringService,
  metrics: TriageMetrics,
  source: DecisionSource,
): ScoringService {
  const chunk = scoring.scoreChunk;
  return withScore(
    scoring,
    async (invoice, tenantId, actorKeyId, opts) => {
      const out = await scoring.score(invoice, tenantId, actorKeyId, opts);
      if (out.created) metrics.observeDecision(out.decision, source);
      return out;
    },
    chunk &&
      ((invoices, tenantId, opts = {}) =>
        chunk(invoices, tenantId, {
          ...opts,
          committed: (settled) => {
            for (const x of settled)
              if ('outcome' in x && x.outcome.created) metrics.observeDecision(x.outcome.decision, source);
            opts.committed?.(settled);
          },
        })),
  );
}

/**
 * The exposition `text` (Prometheus text format) as one tenant's admin key may read it: every
 * sample whose `tenant` label names another tenant (drift, auto-approve error) is left out;
 * samples without a `tenant` label (process-wide series) and the `# HELP`/`# TYPE` lines stay.
 * The private listener ({@link serveMetrics}) serves the registry unfiltered.
 */
export function tenantExposition(text: string, tenantId: string): string {
  // prom-client's escaping of label values: backslash, newline, double quote.
  const own = tenantId.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return text
    .split('\n')
    .filter((line) => {
      if (line.startsWith('#')) return true;
      const tenant = tenantLabel(line);
      return tenant === null || tenant === own;
    })
    .join('\n');
}

/** The escaped value of a sample line's `tenant` label, or null when it has none. */
function tenantLabel(line: string): string | null {
  const open = line.indexOf('{');
  if (open < 0) return null;
  const label = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/y;
  label.lastIndex = open + 1;
  for (let m = label.exec(line); m; m = label.exec(line)) if (m[1] === 'tenant') return m[2]!;
  return null;
}

/** A plain HTTP listener serving `GET /metrics` (for workers, or a private metrics port). */
export interface MetricsListener {
  /** `http://host:port`. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Serves the registry on `host:port` (port 0 = any free port). Only `GET /metrics` answers;
 * bind it to a private interface: it has no authentication.
 */
export async function serveMetrics(
  registry: Registry,
  port: number,
  host = '127.0.0.1',
): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    address: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
