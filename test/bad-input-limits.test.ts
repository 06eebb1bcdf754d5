/**
 * Limits: body size per route, the request timeout (a real socket that stalls), the scoring
 * deadline, rate limits per API key / IP (in memory and shared through Redis), readiness, and
 * the configuration that sets them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { buildApp } from '../api/app.js';
import { appDepsOf } from '../bin/bootstrap.js';
import { withDeadline } from '../api/limits.js';
import { toTriageError } from '../api/problem.js';
import { loadConfig } from '../bin/config.js';
import { isTriageError, TriageError } from '../core/errors.js';
import type { ScoringService } from '../inference/pipeline.js';
import { makeInvoice } from './fixtures.js';
import {
  authorizeInjections,
  deleteRedisPrefix,
  invoiceSet,
  startStack,
  TEST_REDIS_URL,
  uniquePrefix,
  type Stack,
} from './jobs-harness.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack(
    { engine: 'pglite' },
    { tenantHeader: true, batches: { bodyLimitBytes: 256 * 1024, maxInvoices: 60 } },
  );
});
afterAll(async () => s.close());

/** A bare app over the stack's store and pipeline with the given extra deps. */
async function appWith(deps: Partial<Parameters<typeof buildApp>[0]>) {
  const app = await buildApp({
    ...appDepsOf(s.wired),
    bodyLimitBytes: 64 * 1024,
    ...deps,
  });
  authorizeInjections(app, s.wired.repo);
  return app;
}

describe('body size per route', () => {
  it('refuses a score body above its limit with 413 but accepts the same size on /v1/batches', async () => {
    const c0 = await s.counts();
    const big = makeInvoice({ invoice_id: 'big-1' });
    big.lines = Array.from({ length: 320 }, (_, i) => ({ ...big.lines[0]!, line_number: i + 1 }));
    big.total_cents = 320 * 20_000;
    const bytes = Buffer.byteLength(JSON.stringify(big));
    expect(bytes).toBeGreaterThan(64 * 1024);
    const score = await s.app.inject({ method: 'POST', url: '/v1/invoices/score', payload: big });
    expect(score).toBeProblem(413, 'TRIAGE_PAYLOAD_TOO_LARGE');
    expect(await s.counts()).toEqual(c0);

    const batch = await s.app.inject({ method: 'POST', url: '/v1/batches', payload: { invoices: [big] } });
    expect(batch.statusCode).toBe(202);
    await s.settle();

    const tooBig = { invoices: Array.from({ length: 4 }, (_, i) => ({ ...big, invoice_id: `big-x-${i}` })) };
    expect(Buffer.byteLength(JSON.stringify(tooBig))).toBeGreaterThan(256 * 1024);
    const refused = await s.app.inject({ method: 'POST', url: '/v1/batches', payload: tooBig });
    expect(refused).toBeProblem(413, 'TRIAGE_PAYLOAD_TOO_LARGE');
  });
});

describe('request timeout', () => {
  it('answers a client that stalls mid-body with 408 problem+json and closes the connection', async () => {
    const app = await appWith({ requestTimeoutMs: 400 });
    const { key } = await s.wired.repo.keys.create(
      { tenantId: 'default', name: 'stall', roles: ['workflow'] },
      null,
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const { port } = app.server.address() as AddressInfo;
      const t0 = Date.now();
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = connect(port, '127.0.0.1');
        let data = '';
        sock.on('data', (b) => (data += b.toString()));
        sock.on('close', () => resolve(data));
        sock.on('error', reject);
        // Headers promise 1000 bytes; only 10 arrive.
        sock.write(
          `POST /v1/invoices/score HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"invoice`,
        );
      });
      const took = Date.now() - t0;
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toMatch(/Content-Type: application\/problem\+json/i);
      expect(answer).toMatch(/Retry-After: \d+/i);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
        code: string;
        status: number;
      };
      expect(body).toMatchObject({ code: 'TRIAGE_REQUEST_TIMEOUT', status: 408 });
      expect(took).toBeGreaterThanOrEqual(350);
      expect(took).toBeLessThan(5000);
    } finally {
      await app.close();
    }
  });
});

describe('scoring deadline', () => {
  it('answers 503 with Retry-After past the deadline; the retry returns the decision stored meanwhile', async () => {
    let slowOnce = true;
    const slow: ScoringService = {
      versions: s.wired.scoring.versions,
      policyFor: (t) => s.wired.scoring.policyFor(t),
      defaultPolicy: s.wired.scoring.defaultPolicy,
      effectiveThresholds: (d) => s.wired.scoring.effectiveThresholds(d),
      codingReasonFloor: () => s.wired.scoring.codingReasonFloor(),
      referenceCode: (c) => s.wired.scoring.referenceCode(c),
      unknownVendorCategories: (i) => s.wired.scoring.unknownVendorCategories(i),
      async score(inv, t) {
        if (slowOnce) {
          slowOnce = false;
          await new Promise((r) => setTimeout(r, 400));
        }
        return s.wired.scoring.score(inv, t);
      },
    };
    const app = await appWith({ scoring: withDeadline(slow, 100) });
    try {
      const inv = makeInvoice({ invoice_id: 'deadline-1' });
      const first = await app.inject({ method: 'POST', url: '/v1/invoices/score', payload: inv });
      expect(first.statusCode).toBe(503);
      expect(first.headers['retry-after']).toBe('5');
      expect(first.json()).toMatchObject({ code: 'TRIAGE_DEADLINE_EXCEEDED', retryable: true });
      // This service ignores the deadline's signal (its wrapper does not pass it on), so the
      // abandoned work finishes and stores the decision; the retry replays it. (Work that reads
      // the signal stops and stores nothing: test/score-cancel.test.ts.)
      await new Promise((r) => setTimeout(r, 1500));
      const retry = await app.inject({ method: 'POST', url: '/v1/invoices/score', payload: inv });
      expect(retry.statusCode).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBe('true');
    } finally {
      await app.close();
    }
  });
});

describe('rate limits', () => {
  it('answers 429 problem+json with Retry-After per API key, with a separate bucket for batches', async () => {
    const app = await appWith({
      rateLimit: { max: 5, windowMs: 60_000 },
      batches: { batches: s.wired.batches, jobs: s.queue, rateLimitMax: 2, rateLimitWindowMs: 60_000 },
    });
    app.addHook('onRequest', async (req) => {
      const k = req.headers['x-key'];
      if (typeof k === 'string') req.principal = { keyId: k, tenantId: 'rl', roles: ['workflow'] };
    });
    try {
      const get = (key: string) =>
        app.inject({
          method: 'GET',
          url: '/v1/decisions/00000000-0000-4000-8000-000000000000',
          headers: { 'x-key': key },
        });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await get('key-a')).statusCode);
      expect(statuses).toEqual([404, 404, 404, 404, 404, 429]);
      const limited = await get('key-a');
      expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(limited.json()).toMatchObject({ code: 'TRIAGE_RATE_LIMITED', status: 429, retryable: true });
      const after = Number(limited.headers['retry-after']);
      expect(after).toBeGreaterThan(0);
      expect(after).toBeLessThanOrEqual(60);
      expect(limited.headers['x-ratelimit-limit']).toBe('5');
      // Another key has its own bucket; health, readiness and metrics are never limited.
      expect((await get('key-b')).statusCode).toBe(404);
      for (const url of ['/readyz', '/metrics']) {
        expect((await app.inject({ url, headers: { 'x-key': 'key-a' } })).statusCode).toBe(200);
      }
      // Batches: 2 per window, counted apart from the other routes.
      const post = () =>
        app.inject({
          method: 'POST',
          url: '/v1/batches',
          payload: { invoices: [makeInvoice({ invoice_id: `rl-${Math.random()}` })] },
          headers: { 'x-key': 'key-c' },
        });
      expect([(await post()).statusCode, (await post()).statusCode, (await post()).statusCode]).toEqual([
        202, 202, 429,
      ]);
      expect((await get('key-c')).statusCode).toBe(404);
      // A 429 is decided before the body is read: it stores nothing.
      const c0 = await s.counts();
      expect((await post()).statusCode).toBe(429);
      expect(await s.counts()).toEqual(c0);
    } finally {
      await app.close();
      await s.settle();
    }
  });

  it('limits requests without a valid key per client IP: 429 problem+json with Retry-After', async () => {
    const app = await appWith({ rateLimit: { max: 3, windowMs: 60_000 } });
    try {
      const get = (headers: Record<string, string>, remoteAddress = '10.0.0.1') =>
        app.inject({ method: 'GET', url: '/v1/worklist', headers, remoteAddress });
      // None, an unknown key, a malformed header: one bucket, the client IP's.
      const statuses: number[] = [];
      for (const headers of [
        { authorization: 'Bearer itk_not_a_key' },
        { authorization: 'Basic abc' },
        { authorization: 'Bearer itk_another_unknown' },
        { authorization: 'Bearer itk_another_unknown' },
      ])
        statuses.push((await get(headers)).statusCode);
      expect(statuses).toEqual([401, 401, 401, 429]);
      const limited = await get({ 'x-api-key': 'itk_yet_another' });
      expect(limited.statusCode).toBe(429);
      expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(limited.json()).toMatchObject({ code: 'TRIAGE_RATE_LIMITED', status: 429, retryable: true });
      const after = Number(limited.headers['retry-after']);
      expect(after).toBeGreaterThan(0);
      expect(after).toBeLessThanOrEqual(60);
      // Another address has its own bucket; a valid key from the limited address has its key's.
      expect((await get({ authorization: 'Bearer itk_not_a_key' }, '10.0.0.2')).statusCode).toBe(401);
      expect((await get({}, '10.0.0.1')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it.skipIf(!TEST_REDIS_URL)('shares the limit between replicas through Redis', async () => {
    const ns = `${uniquePrefix('rl')}:`;
    const redis = new Redis(TEST_REDIS_URL!, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    await new Promise((r) => redis.once('ready', r));
    const [a, b] = await Promise.all(
      [0, 1].map(() => appWith({ rateLimit: { max: 4, windowMs: 60_000, redis, redisNamespace: ns } })),
    );
    try {
      const url = '/v1/decisions/00000000-0000-4000-8000-000000000000';
      const codes: number[] = [];
      // One client (one API key) calling both replicas.
      const { key } = await s.wired.repo.keys.create(
        { tenantId: 'default', name: 'rl', roles: ['auditor'] },
        null,
      );
      const headers = { authorization: `Bearer ${key}` };
      for (const app of [a!, b!, a!, b!, a!, b!]) codes.push((await app.inject({ url, headers })).statusCode);
      expect(codes).toEqual([404, 404, 404, 404, 429, 429]);
    } finally {
      await Promise.all([a!.close(), b!.close()]);
      redis.disconnect();
      await deleteRedisPrefix(TEST_REDIS_URL!, ns.slice(0, -1));
    }
  });
});

describe('readiness', () => {
  it('is ready when store and queue answer, and 503 with Retry-After naming what is down', async () => {
    expect((await s.app.inject({ url: '/readyz' })).json()).toEqual({
      status: 'ready',
      checks: { store: 'ok', queue: 'not_used' },
    });
    const queueDown = await appWith({ pingQueue: async () => Promise.reject(new Error('ECONNREFUSED')) });
    const storeDown = await appWith({ ping: async () => new Promise(() => undefined) }); // hangs: time-limited
    try {
      const q = await queueDown.inject({ url: '/readyz' });
      expect(q.statusCode).toBe(503);
      expect(q.headers['retry-after']).toBe('5');
      expect(q.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(q.json()).toMatchObject({
        code: 'TRIAGE_QUEUE_UNAVAILABLE',
        checks: { store: 'ok', queue: 'down' },
      });
      const t0 = Date.now();
      const st = await storeDown.inject({ url: '/readyz' });
      expect(Date.now() - t0).toBeLessThan(4000);
      expect(st.json()).toMatchObject({
        code: 'TRIAGE_STORE_UNAVAILABLE',
        checks: { store: 'down', queue: 'not_used' },
      });
    } finally {
      await Promise.all([queueDown.close(), storeDown.close()]);
    }
  });
});

describe('store outages', () => {
  it('maps a lost database connection to 503 TRIAGE_STORE_UNAVAILABLE, never a 500', () => {
    for (const err of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      new Error('Connection terminated unexpectedly'),
    ]) {
      expect(toTriageError(err)).toMatchObject({
        code: 'TRIAGE_STORE_UNAVAILABLE',
        status: 503,
        retryable: true,
      });
    }
    expect(toTriageError(new Error('Connection terminated unexpectedly; and more')).code).toBe(
      'TRIAGE_INTERNAL',
    );
  });
});

describe('configuration', () => {
  it('has documented defaults for jobs and limits', () => {
    const c = loadConfig({});
    expect(c.jobs).toEqual({
      redisUrl: null,
      queuePrefix: 'invoice-triage',
      attempts: 5,
      backoffMs: 2000,
      workerConcurrency: 2,
      workerLockMs: 30_000,
      workerStalledIntervalMs: 30_000,
      recoverySweepMs: 30_000,
      batchChunkSize: 50,
    });
    expect(c.limits).toEqual({
      batchBodyLimitBytes: 16 * 1024 * 1024,
      batchMaxInvoices: 1000,
      requestTimeoutMs: 30_000,
      scoreDeadlineMs: 10_000,
      scoreMaxInFlight: 32,
      rateLimitMax: 600,
      rateLimitBatchMax: 60,
      rateLimitWindowMs: 60_000,
    });
    expect(c.metricsListener).toBeNull();
    expect(Object.isFrozen(c.limits) && Object.isFrozen(c.jobs)).toBe(true);
  });

  it('reads every variable and names each bad one', () => {
    const c = loadConfig({
      REDIS_URL: 'redis://cache:6380/1',
      RATE_LIMIT_MAX: '0',
      SCORE_DEADLINE_MS: '2500',
      SCORE_MAX_IN_FLIGHT: '0',
      METRICS_PORT: '9464',
      BATCH_MAX_INVOICES: '50',
    });
    expect(c.jobs.redisUrl).toBe('redis://cache:6380/1');
    expect(c.limits).toMatchObject({
      rateLimitMax: 0,
      scoreDeadlineMs: 2500,
      scoreMaxInFlight: 0,
      batchMaxInvoices: 50,
    });
    expect(c.metricsListener).toEqual({ port: 9464, host: '127.0.0.1' });
    try {
      loadConfig({
        REDIS_URL: 'http://x',
        REQUEST_TIMEOUT_MS: '5',
        JOB_ATTEMPTS: 'many',
        QUEUE_PREFIX: 'a:b',
        SCORE_MAX_IN_FLIGHT: '-1',
      });
      expect.unreachable();
    } catch (e) {
      expect(isTriageError(e, 'TRIAGE_CONFIG_INVALID')).toBe(true);
      expect((e as TriageError).errors.map((x) => x.path)).toEqual(
        expect.arrayContaining([
          'REDIS_URL',
          'REQUEST_TIMEOUT_MS',
          'JOB_ATTEMPTS',
          'QUEUE_PREFIX',
          'SCORE_MAX_IN_FLIGHT',
        ]),
      );
    }
  });
});

describe('batches limit', () => {
  it('accepts exactly the maximum number of invoices and refuses one more', async () => {
    const at = await s.app.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: { invoices: invoiceSet('max', 60) },
    });
    expect(at.statusCode).toBe(202);
    const over = await s.app.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: { invoices: invoiceSet('max1', 61) },
    });
    expect(over.statusCode).toBe(400);
    expect(over.json().errors[0]).toMatchObject({ path: '/invoices' });
    await s.settle();
  });
});
