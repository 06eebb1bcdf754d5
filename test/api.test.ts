/** API tests through app.inject(), on the real pipeline, on both store engines. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../api/app.js';
import type { Wired } from '../bin/bootstrap.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';
import type { DecisionResponse } from '../core/decision.js';
import { DEFAULT_POLICY_DEFINITION } from '../inference/policy.js';

describe.each(engines('api'))('API on $name', ({ config }) => {
  let h: Harness;
  let app: FastifyInstance;
  let wired: Wired;
  const cfg = config();

  beforeAll(async () => {
    h = await startHarness(cfg);
    app = h.app;
    wired = h.wired;
  });
  afterAll(async () => {
    await h.close();
  });

  const score = (body: unknown, headers: Record<string, string> = {}) =>
    h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: body as object, headers });
  /** POSTs a raw body (not serialised by the test) with the given content type. */
  const postRaw = (payload: string | undefined, contentType = 'application/json') =>
    h.call('workflow', {
      method: 'POST',
      url: '/v1/invoices/score',
      ...(payload === undefined ? {} : { payload }),
      headers: { 'content-type': contentType },
    });

  it('scores an invoice: decision, reasons, scores, versions', async () => {
    const inv = makeInvoice({ invoice_id: 'api-1' });
    inv.lines[1] = { ...inv.lines[1]!, description: 'Standard wheelchair, fixed full length arms' };
    const res = await score(inv);
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toBeTruthy();
    const d = res.json<DecisionResponse>();
    expect(d.invoice_id).toBe('api-1');
    expect(d.decision).toBe('REVIEW');
    expect(d.queue).toBe('coding');
    expect(d.reasons[0]!.code).toBe('DESCRIPTION_CODE_MISMATCH');
    expect(d.reasons[0]!.evidence.line_number).toBe(2);
    expect(d.lines[1]!.suggested_codes.length).toBeGreaterThan(0);
    expect(d.scores.coding_mismatch).toBeGreaterThan(0.5);
    expect(d.scores.duplicate).toBe(0);
    expect(d.versions.models).toEqual({
      'coding-mismatch': 'heuristic-coding@1',
      duplicate: 'heuristic-duplicate@1',
    });
    expect(d.versions.feature_schema).toMatch(/^fs-/);
    expect(d.versions.policy).toBe('policy-default@1');
    expect(d.priority).toBeGreaterThan(0);

    const got = await h.call('workflow', { method: 'GET', url: `/v1/decisions/${d.decision_id}` });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject(d);
  });

  it('returns the stored decision when the same invoice is re-sent, and 409 for changed content', async () => {
    const inv = makeInvoice({ invoice_id: 'api-idem' });
    const a = (await score(inv)).json<DecisionResponse>();
    const again = await score(inv);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json<DecisionResponse>().decision_id).toBe(a.decision_id);
    const changed = await score({ ...inv, total_cents: 21_501 });
    expect(changed.statusCode).toBe(409);
    expect(changed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(changed.json()).toMatchObject({
      code: 'TRIAGE_INVOICE_CONFLICT',
      status: 409,
      errors: [{ path: '/invoice_id' }],
    });
  });

  it('holds a re-keyed resubmission and says which invoice it duplicates and how it differs', async () => {
    await score(
      makeInvoice({
        invoice_id: 'api-orig',
        invoice_number: 'INV-2044',
        vendor: { id: 'V-300', name: 'Keystone DME Co.' },
      }),
    );
    const res = await score(
      makeInvoice({
        invoice_id: 'api-dup',
        invoice_number: 'INV-2O44',
        vendor: { id: 'V-300', name: 'KEYSTONE DME COMPANY' },
      }),
    );
    const d = res.json<DecisionResponse>();
    expect(d.decision).toBe('HOLD');
    expect(d.queue).toBe('ap');
    expect(d.duplicates[0]!.invoice_id).toBe('api-orig');
    expect(d.duplicates[0]!.earlier_decision).toBe('AUTO_APPROVE');
    expect(d.duplicates[0]!.earlier_approved).toBe(true);
    expect(d.duplicates[0]!.earlier_approval).toBe('auto_approved');
    const num = d.duplicates[0]!.differences.find((x) => x.field === 'invoice_number')!;
    expect(num).toMatchObject({
      this_value: 'INV-2O44',
      earlier_value: 'INV-2044',
      note: "substitute '0'->'O' at 5",
    });
    expect(d.reasons[0]!.code).toBe('DUPLICATE_SAME_NUMBER');
  });

  it('answers 400 problem+json naming each bad field, and stores nothing', async () => {
    const res = await score({
      ...makeInvoice({ invoice_id: 'api-bad' }),
      currency: 'usd',
      total_cents: '450.00',
      lines: [{ line_number: 0 }],
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const p = res.json<{
      code: string;
      type: string;
      title: string;
      detail: string;
      errors: { path: string }[];
    }>();
    expect(p.code).toBe('TRIAGE_INPUT_INVALID');
    expect(p.type).toBe('urn:invoice-triage:problem:TRIAGE_INPUT_INVALID');
    const paths = p.errors.map((e) => e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/currency',
        '/total_cents',
        '/lines/0/line_number',
        '/lines/0/description',
        '/lines/0/quantity',
      ]),
    );
    expect(await wired.repo.findByInvoiceId('default', 'api-bad')).toBeNull();
  });

  it('answers 400 for cross-field errors, bad JSON and an empty body', async () => {
    const inv = makeInvoice({ invoice_id: 'api-rules', due_date: '2024-01-01' });
    const r1 = await score(inv);
    expect(r1.statusCode).toBe(400);
    expect(r1.json().errors).toEqual([{ path: '/due_date', message: 'must not be before invoice_date' }]);
    // The detail names the field and the rule, as a schema error's does (it said "1 field(s) invalid").
    expect(r1.json().detail).toBe('1 field invalid: /due_date must not be before invoice_date');
    const r2 = await postRaw('{"invoice_id": ');
    expect(r2).toBeProblem(400, 'TRIAGE_REQUEST_INVALID');
    const r3 = await postRaw(undefined);
    expect(r3.statusCode).toBe(400);
  });

  it('answers 415 for a non-JSON body and 413 above the body limit', async () => {
    const r1 = await postRaw('a,b', 'text/csv');
    expect(r1).toBeProblem(415, 'TRIAGE_MEDIA_TYPE_UNSUPPORTED', '/headers/content-type');
    // JSON declared in another charset would be misread as UTF-8: 415 naming the header.
    const utf16 = await postRaw('{}', 'application/json; charset=UTF-16');
    expect(utf16).toBeProblem(415, 'TRIAGE_MEDIA_TYPE_UNSUPPORTED', '/headers/content-type');
    expect(utf16.json().detail).toBe('charset utf-16 is not supported; send application/json as UTF-8');
    expect((await postRaw('{}', 'application/json; charset="utf-8"')).statusCode).toBe(400); // read: {} lacks fields
    // Every charset given counts, not only the first.
    const twice = await postRaw('{}', 'application/json; charset=utf-8; charset=latin1');
    expect(twice).toBeProblem(415, 'TRIAGE_MEDIA_TYPE_UNSUPPORTED', '/headers/content-type');
    expect(twice.json().detail).toBe('charset latin1 is not supported; send application/json as UTF-8');
    const big = makeInvoice({ invoice_id: 'api-big' });
    big.lines = Array.from({ length: 400 }, (_, i) => ({
      ...big.lines[0]!,
      line_number: i + 1,
      description: 'x'.repeat(200),
    }));
    const r2 = await score(big);
    expect(r2).toBeProblem(413, 'TRIAGE_PAYLOAD_TOO_LARGE', '/');
  });

  it('flags concurrent copies of one invoice under different ids: one passes, the rest are held', async () => {
    const copies = Array.from({ length: 6 }, (_, i) =>
      makeInvoice({
        invoice_id: `race-${i}`,
        invoice_number: 'RC-7001',
        vendor: { id: 'V-race', name: 'Race Medical' },
      }),
    );
    const results = await Promise.all(copies.map((c) => score(c)));
    const decisions = results.map((r) => r.json<DecisionResponse>());
    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    expect(decisions.filter((d) => d.decision === 'AUTO_APPROVE')).toHaveLength(1);
    const held = decisions.filter((d) => d.decision === 'HOLD');
    expect(held).toHaveLength(5);
    expect(held.every((d) => d.reasons[0]!.code === 'DUPLICATE_SAME_NUMBER')).toBe(true);
  });

  it('reviews an invoice with a negative total', async () => {
    const inv = makeInvoice({ invoice_id: 'api-neg', total_cents: -1_500 });
    inv.lines = [{ ...inv.lines[1]!, line_number: 1, unit_price_cents: -1_500, amount_cents: -1_500 }];
    const d = (await score(inv)).json<DecisionResponse>();
    expect(d.decision).toBe('REVIEW');
    expect(d.queue).toBe('ap');
    expect(d.reasons.map((r) => r.code)).toContain('NEGATIVE_TOTAL');
    const credit = makeInvoice({
      invoice_id: 'api-credit',
      document_type: 'credit_memo',
      invoice_number: 'CM-1',
      total_cents: -1_500,
    });
    credit.lines = inv.lines;
    expect((await score(credit)).json<DecisionResponse>().reasons.map((r) => r.code)).not.toContain(
      'NEGATIVE_TOTAL',
    );
  });

  it('answers 400, not 500, for text the database cannot store, and stores nothing', async () => {
    const inv = makeInvoice({ invoice_id: 'api-nul' });
    inv.lines[0]!.description = 'Wheel\u0000chair';
    const res = await score(inv);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([
      { path: '/lines/0/description', message: 'contains a NUL character' },
    ]);
    const lone = await postRaw(
      JSON.stringify(makeInvoice({ invoice_id: 'api-nul' })).replace('"INV-1008"', '"INV-\\ud800"'),
    );
    expect(lone.statusCode).toBe(400);
    expect(lone.json().errors[0].path).toBe('/invoice_number');
    const ok = await score(makeInvoice({ invoice_id: 'api-nul', invoice_number: 'INV-🦽' }));
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers problem+json for a missing body, text/plain, __proto__ keys and malformed URLs', async () => {
    const noBody = await h.call('workflow', { method: 'POST', url: '/v1/invoices/score' });
    expect(noBody.statusCode).toBe(400);
    expect(noBody.json()).toMatchObject({
      code: 'TRIAGE_REQUEST_INVALID',
      errors: [{ path: '/', message: 'is required' }],
    });
    const text = await postRaw(JSON.stringify(makeInvoice()), 'text/plain');
    expect(text.statusCode).toBe(415);
    const proto = await postRaw('{"__proto__": {"x": 1}}');
    expect(proto.statusCode).toBe(400);
    expect(proto.json().detail).toMatch(/__proto__/);
    for (const url of ['/v1/decisions/%E0%A4%A', `/v1/decisions/${'a'.repeat(300)}`]) {
      const r = await h.call('auditor', { method: 'GET', url });
      expect(r).toBeProblem(400, 'TRIAGE_REQUEST_INVALID');
      expect(r.body).not.toContain('aaaa');
    }
  });

  it('answers 404 problem+json for an unknown decision and route', async () => {
    const r1 = await h.call('auditor', {
      method: 'GET',
      url: '/v1/decisions/6f1c3c1e-8a3e-4d2b-9b1e-2f1a4c5d6e7f',
    });
    expect(r1).toBeProblem(404, 'TRIAGE_DECISION_NOT_FOUND');
    const r2 = await h.call('auditor', { method: 'GET', url: '/v1/decisions/not-a-uuid' });
    expect(r2.statusCode).toBe(400);
    expect(r2.json().errors[0].path).toBe('/params/id');
    const r3 = await app.inject({ method: 'GET', url: '/v1/nothing' });
    expect(r3).toBeProblem(404, 'TRIAGE_ROUTE_NOT_FOUND');
  });

  it('answers 405 with Allow for another method on a known route, and names an unknown KPI figure', async () => {
    const del = await app.inject({ method: 'DELETE', url: '/v1/invoices/score' });
    expect(del).toBeProblem(405, 'TRIAGE_METHOD_NOT_ALLOWED');
    expect(del.headers.allow).toBe('POST');
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/decisions/6f1c3c1e-8a3e-4d2b-9b1e-2f1a4c5d6e7f',
    });
    expect(put).toBeProblem(405, 'TRIAGE_METHOD_NOT_ALLOWED');
    expect(put.headers.allow?.split(', ').sort()).toEqual(['GET', 'HEAD']);
    // A file missing under a static route of the request's method is not found, not a 405
    // saying the path "does not accept GET; it accepts HEAD, GET".
    for (const method of ['GET', 'HEAD'] as const) {
      const missing = await app.inject({ method, url: '/docs/static/no-such-file.js' });
      expect(missing.statusCode, `${method} ${missing.body}`).toBe(404);
      expect(missing.headers.allow).toBeUndefined();
    }
    expect(await app.inject({ method: 'GET', url: '/docs/static/no-such-file.js' })).toBeProblem(
      404,
      'TRIAGE_ROUTE_NOT_FOUND',
    );
    const kpi = await h.call('auditor', { method: 'GET', url: '/v1/kpis/nope' });
    expect(kpi).toBeProblem(404, 'TRIAGE_ROUTE_NOT_FOUND');
    expect(kpi.json().errors).toEqual([
      { path: '/params/figure', message: expect.stringMatching(/^is not one of [a-z-]+(, [a-z-]+)+$/) },
    ]);
  });

  it('reports health with the store engine and versions, and serves OpenAPI at /docs', async () => {
    const h = await app.inject({ method: 'GET', url: '/healthz' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toMatchObject({ status: 'ok', store: cfg.engine });
    const doc = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(doc.statusCode).toBe(200);
    const spec = doc.json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/v1/invoices/score', '/v1/decisions/{id}', '/healthz']),
    );
    const ui = await app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });
});

/**
 * The app wired to a store that refuses every connection (ECONNREFUSED from the scoring
 * service, the key store and the health ping), logging to `logger` when given.
 */
async function appWithStoreDown(logger?: Parameters<typeof buildApp>[0]['logger']): Promise<FastifyInstance> {
  const down = async (): Promise<void> => {
    throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  };
  const scoring = {
    score: down as never,
    getDecision: down as never,
    policyFor: down as never,
    defaultPolicy: DEFAULT_POLICY_DEFINITION,
    effectiveThresholds: down as never,
    codingReasonFloor: () => null,
    referenceCode: () => null,
    unknownVendorCategories: () => [],
    versions: { models: {}, feature_schema: 'fs', policy: 'p', reference_data: 'r' },
  };
  const store = { keys: { authenticate: down } } as never;
  return buildApp({ scoring, store, ping: down, engine: 'postgres', ...(logger ? { logger } : {}) });
}

describe('API when the store is down', () => {
  it('answers 503 with a retry hint', async () => {
    const app = await appWithStoreDown();
    const h = await app.inject({ method: 'GET', url: '/healthz' });
    expect(h.statusCode).toBe(503);
    expect(h.headers['retry-after']).toBe('5');
    expect(h.json()).toMatchObject({ code: 'TRIAGE_STORE_UNAVAILABLE', retryable: true });
    const s = await app.inject({
      method: 'POST',
      url: '/v1/invoices/score',
      payload: makeInvoice(),
      headers: { authorization: 'Bearer itk_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG' },
    });
    expect(s).toBeProblem(503, 'TRIAGE_STORE_UNAVAILABLE');
    await app.close();
  });
});

describe('request log', () => {
  it('records the route pattern, never the raw URL with its vendor id', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
    const app = await appWithStoreDown(logger);
    await app.inject({
      method: 'GET',
      url: '/v1/vendors/V-100?x=V-200',
      headers: { authorization: 'Bearer itk_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG' },
    });
    await app.inject({ method: 'GET', url: '/v1/no-such/V-300' });
    await app.close();
    const reqs = lines.map((l) => JSON.parse(l) as { req?: unknown }).flatMap((l) => (l.req ? [l.req] : []));
    expect(reqs).toEqual([
      { method: 'GET', route: '/v1/vendors/:vendor_id', remoteAddress: '127.0.0.1' },
      { method: 'GET', route: '(no route)', remoteAddress: '127.0.0.1' },
    ]);
    expect(lines.join('\n')).not.toMatch(/V-[123]00/);
  });
});
