/**
 * Test harness for the job, bad-input and fault suites: the real app (real pipeline, real store)
 * with batch routes and a queue, row counts, polling, and clean-up of schemas and Redis keys.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { Redis } from 'ioredis';
import { buildApp, type AppDeps } from '../api/app.js';
import { createMetrics, instrumentScoring, type TriageMetrics } from '../api/metrics.js';
import { appDepsOf, wire, type Wired } from '../bin/bootstrap.js';
import {
  createInProcessQueue,
  createProcessors,
  trainingUnavailable,
  type InProcessQueue,
  type JobOptionsInput,
  type JobQueue,
  type TrainFn,
} from '../jobs/index.js';
import type { StoreConfig, TriageRepository } from '../store/index.js';
import type { Invoice } from '../core/invoice.js';
import type { DecisionResponse } from '../core/decision.js';
import { ROLES } from '../core/auth.js';
import { makeInvoice } from './fixtures.js';

/** The test Redis (CI: redis://127.0.0.1:6379), or undefined. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL;

/** A stack under test. */
export interface Stack {
  app: FastifyInstance;
  wired: Wired;
  queue: JobQueue;
  metrics: TriageMetrics;
  /** Row counts of every table a write route may touch. */
  counts(): Promise<RowCounts>;
  /** Waits until an in-process queue has nothing left to do (no-op for BullMQ). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Rows per table. */
export interface RowCounts {
  invoices: number;
  invoice_lines: number;
  decisions: number;
  batches: number;
  batch_items: number;
}

/** Options of {@link startStack}. */
export interface StackOptions {
  /** The queue; default an in-process queue over the real processors. */
  queue?: (wired: Wired, metrics: TriageMetrics) => JobQueue;
  /** Extra AppDeps (limits, rate limits...). */
  app?: Partial<AppDeps>;
  /** Batch route options. */
  batches?: { maxInvoices?: number; bodyLimitBytes?: number; chunkSize?: number; deadlineMs?: number };
  /** Deprecated no-op: the tenant header (`x-test-tenant`) is always honoured, see {@link authorizeInjections}. */
  tenantHeader?: boolean;
}

/** An in-process queue over the real processors of a wired stack. */
export function inProcessQueue(
  wired: Wired,
  metrics: TriageMetrics,
  opts: { autorun?: boolean; jobOptions?: JobOptionsInput; train?: TrainFn } = {},
): InProcessQueue {
  return createInProcessQueue({
    processors: createProcessors({
      scoring: instrumentScoring(wired.scoring, metrics, 'batch'),
      batches: wired.batches,
      train: opts.train ?? trainingUnavailable,
    }),
    jobOptions: opts.jobOptions ?? { backoff: { delayMs: 20 } },
    ...(opts.autorun !== undefined ? { autorun: opts.autorun } : {}),
  });
}

/** Wires store, pipeline, queue and app. */
export async function startStack(store: StoreConfig, opts: StackOptions = {}): Promise<Stack> {
  const wired = await wire(store, { models: null });
  const metrics = createMetrics({ processMetrics: false });
  metrics.watchModels(() => wired.scoring.versions.models);
  const queue = (opts.queue ?? ((w, m) => inProcessQueue(w, m)))(wired, metrics);
  metrics.watchQueue(queue);
  const app = await buildApp({
    ...appDepsOf(wired),
    scoring: instrumentScoring(wired.scoring, metrics, 'api'),
    bodyLimitBytes: 64 * 1024,
    metrics,
    batches: { batches: wired.batches, jobs: queue, chunkSize: 50, ...opts.batches },
    ...opts.app,
  });
  authorizeInjections(app, wired.repo);
  return {
    app,
    wired,
    queue,
    metrics,
    counts: () => rowCounts(wired),
    settle: async () => {
      if ('drained' in queue) await (queue as InProcessQueue).drained();
    },
    async close() {
      await app.close();
      await queue.close();
      await wired.repo.close();
      await dropSchema(store);
    },
  };
}

/**
 * Makes `app.inject` authenticate like a client: every injected request without an
 * `authorization` header gets the Bearer key of a test key holding every role, in the tenant
 * named by the `x-test-tenant` header (default `default`). Keys are created on first use. These
 * suites test jobs, limits, bad input and faults; roles and tenants have their own suite.
 */
export function authorizeInjections(app: FastifyInstance, repo: Pick<TriageRepository, 'keys'>): void {
  const keys = new Map<string, Promise<string>>();
  const keyOf = (tenantId: string): Promise<string> => {
    let k = keys.get(tenantId);
    if (!k) {
      k = repo.keys
        .create({ tenantId, name: `test ${tenantId}`, roles: [...ROLES] }, null)
        .then((c) => c.key);
      keys.set(tenantId, k);
    }
    return k;
  };
  const inject = app.inject.bind(app) as (o: InjectOptions) => Promise<LightMyRequestResponse>;
  (app as unknown as { inject: (o: InjectOptions) => Promise<LightMyRequestResponse> }).inject = async (
    o,
  ) => {
    const headers = { ...(o.headers ?? {}) } as Record<string, string>;
    if (headers.authorization === undefined) {
      const t = typeof headers['x-test-tenant'] === 'string' ? headers['x-test-tenant'] : 'default';
      headers.authorization = `Bearer ${await keyOf(t)}`;
    }
    return inject({ ...o, headers });
  };
}

/**
 * Posts `body` as `contentType` to each route that takes an intake document (scoring, then
 * batches); `check` gets each response, the route and the stack's row counts just before it,
 * and runs before the next route is posted to.
 */
export async function postToDocumentRoutes(
  s: Pick<Stack, 'app' | 'counts'>,
  body: string | Buffer,
  contentType: string,
  check: (r: LightMyRequestResponse, url: string, before: RowCounts) => Promise<void>,
): Promise<void> {
  for (const url of ['/v1/invoices/score', '/v1/batches']) {
    const before = await s.counts();
    const r = await s.app.inject({
      method: 'POST',
      url,
      payload: body,
      headers: { 'content-type': contentType },
    });
    await check(r, url, before);
  }
}

/** Row counts of the write tables. */
export async function rowCounts(wired: Wired): Promise<RowCounts> {
  const r = (
    await wired.db.query(
      `SELECT (SELECT count(*) FROM invoices) AS invoices, (SELECT count(*) FROM invoice_lines) AS invoice_lines,
              (SELECT count(*) FROM decisions) AS decisions, (SELECT count(*) FROM batches) AS batches,
              (SELECT count(*) FROM batch_items) AS batch_items`,
    )
  )[0]!;
  return {
    invoices: Number(r.invoices),
    invoice_lines: Number(r.invoice_lines),
    decisions: Number(r.decisions),
    batches: Number(r.batches),
    batch_items: Number(r.batch_items),
  };
}

/** Drops a test's PostgreSQL schema (no-op for PGlite). */
export async function dropSchema(store: StoreConfig): Promise<void> {
  if (store.engine !== 'postgres' || !store.schema) return;
  const c = new pg.Client({ connectionString: store.connectionString });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS ${store.schema} CASCADE`);
  } finally {
    await c.end();
  }
}

/** A unique Redis key prefix for one test (no ':' inside, as BullMQ wants for names). */
export function uniquePrefix(tag: string): string {
  return `it-${tag}-${process.pid}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every Redis key under a prefix. */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/** Polls `f` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(
  what: string,
  f: () => Promise<T>,
  timeoutMs = 60_000,
  everyMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `n` distinct valid invoices (ids `${tag}-0`...) over five vendors, so the duplicate search has work to do. */
export function invoiceSet(tag: string, n: number): Invoice[] {
  return Array.from({ length: n }, (_, i) => {
    const { due_date: _none, ...inv } = makeInvoice({
      invoice_id: `${tag}-${i}`,
      invoice_number: `N${tag.length}-${i * 7919}`,
      vendor: {
        id: `V-${i % 5}`,
        name: `Vendor ${['Alpha', 'Bravo', 'Charlie', 'Delta', 'Echo'][i % 5]} Medical`,
      },
      invoice_date: `2025-0${1 + (i % 9)}-${String(1 + (i % 28)).padStart(2, '0')}`,
    });
    // A different price per invoice; the total stays the sum of the lines.
    inv.lines[0] = { ...inv.lines[0]!, unit_price_cents: 20_000 + i * 100, amount_cents: 20_000 + i * 100 };
    return { ...inv, total_cents: inv.lines.reduce((t, l) => t + l.amount_cents, 0) };
  });
}

/** The 202 answer of `POST /v1/batches`. */
export interface Accepted {
  batch_id: string;
  state: string;
  total: number;
  job_ids: string[];
  enqueued: boolean;
  counts: { pending: number; done: number; failed: number };
}
/** A page of `GET /v1/batches/:id/results`. */
export interface ResultsPage {
  items: {
    index: number;
    invoice_id: string;
    state: string;
    replayed?: boolean;
    decision?: DecisionResponse;
    error?: { code: string };
  }[];
  next_after: number | null;
}
