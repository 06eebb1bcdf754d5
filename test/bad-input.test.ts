/**
 * Bad input, generated (fast-check, fixed seed): malformed, oversized, wrongly typed,
 * unicode-hostile and boundary-value requests against every write route. Each must get a 4xx
 * problem+json naming the field (never a 5xx), or, when the mutation left the request valid, a
 * 2xx that stored exactly one request's rows; a refused request stores nothing (row counts
 * before and after).
 *
 * Adding a write route is one entry in {@link WRITE_ROUTES}: a URL and a valid body. Every
 * route gets NUL and otherwise unstorable strings in each text field (and path parameter), and
 * numbers beyond bigint in each numeric field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { secretBox } from '../events/index.js';
import { engines, makeInvoice } from './fixtures.js';
import { inProcessQueue, startStack, type Stack } from './jobs-harness.js';
import {
  renumber,
  urlOf,
  SEED,
  RUNS,
  pointers,
  put,
  HOSTILE_STRINGS,
  isUnstorable,
  relatedPaths,
  names,
  mutationArb,
  rawArb,
} from './bad-input-cases.js';
import type { Counts, WriteRoute, Json, Case } from './bad-input-cases.js';

const lineCount = (inv: unknown): number => ((inv as { lines?: unknown[] }).lines ?? []).length;

/** Decision the review route reviews (scored before the suite). */
let reviewedDecision = '';
/** The tenant's policy document (read before the suite). */
let policyDocument: unknown = null;

/** Every write route of the app under test (the model routes have their own suite). */
const WRITE_ROUTES: WriteRoute[] = [
  {
    name: 'score',
    url: '/v1/invoices/score',
    valid: (n) => makeInvoice({ invoice_id: `bad-s-${n}`, invoice_number: `S-${n}` }),
    stores: (b) => ({ invoices: 1, decisions: 1, invoice_lines: lineCount(b) }),
  },
  {
    name: 'batches',
    url: '/v1/batches',
    valid: (n) => ({
      invoices: [
        makeInvoice({ invoice_id: `bad-b-${n}-0`, invoice_number: `B-${n}-0` }),
        makeInvoice({ invoice_id: `bad-b-${n}-1`, invoice_number: `B-${n}-1` }),
      ],
    }),
    stores: (b) => ({ batches: 1, batch_items: ((b as { invoices: unknown[] }).invoices ?? []).length }),
  },
  {
    name: 'keys',
    url: '/v1/keys',
    valid: () => ({ name: 'bad-k-0 reporting', roles: ['auditor', 'reviewer'] }),
    stores: () => ({ api_keys: 1 }),
    share: 0.1,
  },
  {
    name: 'vendors',
    method: 'PUT',
    url: (id) => `/v1/vendors/${id}`,
    param: { name: 'vendor_id', url: (v) => `/v1/vendors/${encodeURIComponent(v)}` },
    valid: () => ({
      name: 'Acme Medical Supply',
      category: 'dme',
      approved_betos: ['D1A'],
      approved_hcpcs_prefixes: ['E0'],
    }),
    stores: () => ({ vendors: 1 }),
    share: 0.1,
  },
  {
    name: 'reviews',
    url: '/v1/reviews',
    valid: () => ({
      decision_id: reviewedDecision,
      outcome: 'confirmed',
      task: 'duplicate',
      line_number: 1,
      duplicate_of: 'bad-s-seed',
      close_item: false,
      idempotency_key: 'bad-r-0',
    }),
    stores: () => ({ reviews: 1 }),
    share: 0.1,
  },
  {
    name: 'policy',
    method: 'PUT',
    url: '/v1/policy',
    // A tenant of its own: accepted policies never change how the other routes' invoices route.
    headers: { 'x-test-tenant': 'bad-policy' },
    valid: () => ({ ...(policyDocument as object), description: 'bad-p-0' }),
    stores: () => ({ policies: 1 }),
    share: 0.1,
  },
  {
    name: 'webhooks',
    url: '/v1/webhooks',
    // A literal loopback address (allowed below): no DNS lookups while mutating.
    valid: () => ({
      url: 'https://127.0.0.1:9/hooks/bad-w-0',
      event_types: ['decision.created', 'decision.released'],
      description: 'bad-w-0 payment run',
    }),
    stores: () => ({ webhook_subscriptions: 1 }),
    share: 0.1,
  },
];
const problem = /^application\/problem\+json/;

describe.each(engines('badinput'))('bad input on $name', ({ name, config }) => {
  let s: Stack;
  const runs = name === 'pglite' ? RUNS : { mutation: RUNS.mutation / 5, raw: RUNS.raw / 5 };
  let cases = 0;
  beforeAll(async () => {
    s = await startStack(config(), {
      // Queue not running: a stored batch stays as written, so row counts are exact.
      queue: (w, m) => inProcessQueue(w, m, { autorun: false }),
      batches: { bodyLimitBytes: 256 * 1024, maxInvoices: 50 },
      app: {
        webhooks: {
          policy: { allowLoopback: true, allowPrivate: false },
          secrets: secretBox(Buffer.alloc(32, 1)),
        },
      },
    });
    const scored = await s.app.inject({
      method: 'POST',
      url: '/v1/invoices/score',
      payload: makeInvoice({ invoice_id: 'bad-s-seed' }),
    });
    reviewedDecision = scored.json<{ decision_id: string }>().decision_id;
    // Also creates the test keys of both tenants before any row is counted.
    policyDocument = (await s.app.inject({ url: '/v1/policy' })).json<{ document: unknown }>().document;
    await s.app.inject({ url: '/v1/policy', headers: { 'x-test-tenant': 'bad-policy' } });
  });
  afterAll(async () => {
    await s.close();
    console.log(`bad input on ${name}: ${cases} generated requests`);
  });

  /** Rows of every table a write route may add to, in one round trip. */
  async function counts(): Promise<Counts> {
    const tables = [
      ...['invoices', 'invoice_lines', 'decisions', 'batches', 'batch_items'],
      ...['api_keys', 'vendors', 'reviews', 'policies', 'webhook_subscriptions'],
    ] as const;
    const r = (
      await s.wired.db.query(`SELECT ${tables.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(', ')}`)
    )[0]!;
    return Object.fromEntries(tables.map((t) => [t, Number(r[t])])) as unknown as Counts;
  }

  /** Sends case `c` to `route` (at `url`, default the route's for case 0) and checks the answer. */
  async function check(route: WriteRoute, c: Case, url = urlOf(route, 0)): Promise<void> {
    cases++;
    const before = await counts();
    const res = await s.app.inject({
      method: route.method ?? 'POST',
      url,
      ...(c.body === undefined ? {} : { payload: c.body }),
      headers: { ...route.headers, 'content-type': c.contentType },
    });
    const after = await counts();
    const where = `${route.name}: ${c.label} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
    expect(res.statusCode, where).toBeLessThan(500);
    if (res.statusCode >= 400) {
      expect(res.headers['content-type'], where).toMatch(problem);
      const p = res.json<{ status: number; code: string; errors?: { path: string }[] }>();
      expect(p.status, where).toBe(res.statusCode);
      expect(p.code, where).toMatch(/^TRIAGE_[A-Z_]+$/);
      if (res.statusCode === 400) {
        const named = (p.errors ?? []).map((e) => e.path);
        const ok =
          c.expect === 'refuse'
            ? named.length > 0
            : named.some((n) => c.paths.some((want) => names(n, want)));
        expect(ok, `${where}\nexpected a path among ${c.paths.join(', ')}`).toBe(true);
      }
      expect(after, `${where}: stored something`).toEqual(before);
    } else {
      expect(c.expect, `${where}: should have been refused`).toBe('any');
      const stored = route.stores(c.parsed);
      for (const [table, n] of Object.entries(stored)) {
        expect(after[table as keyof Counts] - before[table as keyof Counts], `${where}: ${table}`).toBe(n);
      }
    }
  }

  for (const route of WRITE_ROUTES) {
    const share = route.share ?? 1;
    it(`${route.name}: mutated bodies get 4xx naming the field, or are stored whole`, async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(mutationArb(route), async (c) => {
          // Unique ids per case so that accepted cases never collide with earlier ones.
          n++;
          if (c.parsed !== undefined) {
            const fresh = renumber(JSON.stringify(c.parsed), n);
            c = { ...c, body: fresh, parsed: JSON.parse(fresh) };
          }
          await check(route, c, urlOf(route, n));
        }),
        { seed: SEED, numRuns: Math.ceil(runs.mutation * share), endOnFailure: true },
      );
    });

    it(`${route.name}: malformed, oversized and wrongly typed requests get 4xx problem+json`, async () => {
      await fc.assert(
        fc.asyncProperty(rawArb(route), (c) => check(route, c)),
        { seed: SEED, numRuns: Math.ceil(runs.raw * share), endOnFailure: true },
      );
    });

    it(`${route.name}: hostile strings: unstorable ones in every text field, the rest in free text`, async () => {
      const base = route.valid(0) as Json;
      let n = 0;
      for (const p of pointers(base).filter((x) => typeof x.value === 'string')) {
        const freeText = /\/(description|name|invoice_number)$/.test(p.path);
        for (const v of HOSTILE_STRINGS.filter((h) => freeText || isUnstorable(h))) {
          n++;
          const body = JSON.parse(renumber(JSON.stringify(put(base, p.path, v)), `h${n}`)) as Json;
          await check(
            route,
            {
              label: `hostile ${JSON.stringify(v.slice(0, 20))} at ${p.path}`,
              body: JSON.stringify(body),
              contentType: 'application/json',
              expect: isUnstorable(v) ? 'strict' : 'any',
              paths: relatedPaths(p.path),
              parsed: body,
            },
            urlOf(route, `h${n}`),
          );
        }
      }
    });

    const param = route.param;
    if (param)
      it(`${route.name}: unstorable path parameters are refused naming /params/${param.name}`, async () => {
        const body = JSON.stringify(route.valid(0));
        // NUL (lone surrogates cannot be percent-encoded; over-long values are the router's).
        for (const v of ['nul\u0000byte', '\u0000', 'V-1\u0000', '%00']) {
          await check(
            route,
            {
              label: `hostile ${JSON.stringify(v.slice(0, 20))} in :${param.name}`,
              body,
              contentType: 'application/json',
              expect: isUnstorable(v) ? 'strict' : 'any',
              paths: [`/params/${param.name}`],
              parsed: JSON.parse(body),
            },
            param.url(v),
          );
        }
      });
  }

  it('refuses an array longer than the route allows, naming it', async () => {
    const lines = Array.from({ length: 2001 }, (_, i) => ({
      line_number: i + 1,
      description: 'x',
      quantity: 1,
      unit_price_cents: 1,
      amount_cents: 1,
    }));
    const before = await s.counts();
    const inv = { ...makeInvoice({ invoice_id: 'too-many-lines' }), lines, total_cents: 2001 };
    const big = await startStackLimits(s, inv);
    expect(big.statusCode).toBe(400);
    expect(big.json().errors.map((e: { path: string }) => e.path)).toContain('/lines');
    const batch = await s.app.inject({
      method: 'POST',
      url: '/v1/batches',
      payload: { invoices: Array.from({ length: 51 }, (_, i) => makeInvoice({ invoice_id: `over-${i}` })) },
    });
    expect(batch.statusCode).toBe(400);
    expect(batch.json().errors[0].path).toBe('/invoices');
    expect(await s.counts()).toEqual(before);
  });
});

/** Scores on a copy of the app with a larger body limit (2001 lines exceed the 64 KiB test limit). */
async function startStackLimits(s: Stack, body: unknown) {
  const { buildApp } = await import('../api/app.js');
  const { authorizeInjections } = await import('./jobs-harness.js');
  const { appDepsOf } = await import('../bin/bootstrap.js');
  const app = await buildApp({
    ...appDepsOf(s.wired),
    bodyLimitBytes: 1024 * 1024,
  });
  authorizeInjections(app, s.wired.repo);
  try {
    return await app.inject({ method: 'POST', url: '/v1/invoices/score', payload: body as object });
  } finally {
    await app.close();
  }
}
