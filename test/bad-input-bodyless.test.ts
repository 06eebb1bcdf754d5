/**
 * A body sent to a route that declares none (the claim routes, DELETEs, a redelivery) is refused
 * naming what the route would otherwise have ignored: a client sending `{"ttl_seconds": 3600}`
 * to `POST /v1/worklist/:id/claim` learns that the TTL is a query parameter instead of getting
 * the default 900 s without a word. Nothing is stored by the refusal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unexpectedBodyErrors } from '../api/input.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

describe('unexpectedBodyErrors', () => {
  it('accepts no body and {}; names each property, a query parameter as such, or / for another value', () => {
    const query = { properties: { ttl_seconds: {} } };
    expect(unexpectedBodyErrors(undefined, query)).toEqual([]);
    expect(unexpectedBodyErrors({}, query)).toEqual([]);
    expect(unexpectedBodyErrors({ ttl_seconds: 3600, 'a/b': 1 }, query)).toEqual([
      { path: '/ttl_seconds', message: expect.stringContaining('ttl_seconds is a query parameter') },
      { path: '/a~1b', message: 'is not allowed: this route takes no request body' },
    ]);
    for (const body of [null, [], 'x', 1, true])
      expect(unexpectedBodyErrors(body, undefined), JSON.stringify(body)).toEqual([
        { path: '/', message: 'is not allowed: this route takes no request body' },
      ]);
  });
});

describe.each(engines('bodyless'))('a body sent to a route that takes none on $name', ({ config }) => {
  let h: Harness;
  let decisionId: string;
  beforeAll(async () => {
    h = await startHarness(config());
    const invoice = makeInvoice({ invoice_id: 'bodyless-1', total_cents: -5 });
    decisionId = (await h.scoreOk(invoice)).decision_id;
  }, 300_000);
  afterAll(async () => h?.close());

  const claim = (method: 'POST' | 'DELETE', payload?: unknown, query = '') =>
    h.call('reviewer', {
      method,
      url: `/v1/worklist/${decisionId}/claim${query}`,
      ...(payload === undefined
        ? {}
        : { payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } }),
    });

  it('refuses the claim TTL in the body, naming it as a query parameter; nothing is claimed', async () => {
    const res = await claim('POST', { ttl_seconds: 3600 });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({
      code: 'TRIAGE_INPUT_INVALID',
      errors: [{ path: '/ttl_seconds', message: expect.stringContaining('is a query parameter') }],
    });
    const claims = await h.call('reviewer', { method: 'GET', url: '/v1/worklist/claims' });
    expect(claims.json<{ items: unknown[] }>().items).toEqual([]);
  });

  it('takes the TTL in the query string, an empty object or no body, and refuses a body on DELETE', async () => {
    const viaQuery = await claim('POST', undefined, '?ttl_seconds=3600');
    expect(viaQuery.statusCode, viaQuery.body).toBe(200);
    const ms = Date.parse(viaQuery.json<{ expires_at: string }>().expires_at) - Date.now();
    expect(ms).toBeGreaterThan(3000_000);
    expect((await claim('POST', {})).statusCode).toBe(200);
    const del = await claim('DELETE', { reason: 'done' });
    expect(del.statusCode, del.body).toBe(400);
    expect(del.json()).toMatchObject({ errors: [{ path: '/reason' }] });
    expect((await claim('DELETE')).statusCode).toBe(200);
  });

  it('reads an empty body sent as application/json as none on a route that takes no body', async () => {
    const empty = (method: 'POST' | 'DELETE') =>
      h.call('reviewer', {
        method,
        url: `/v1/worklist/${decisionId}/claim`,
        payload: '',
        headers: { 'content-type': 'application/json' },
      });
    const claimed = await empty('POST');
    expect(claimed.statusCode, claimed.body).toBe(200);
    expect(claimed.json()).toMatchObject({ decision_id: decisionId });
    expect((await empty('DELETE')).statusCode).toBe(200);
    // A route that takes a body still needs one.
    const score = await h.call('workflow', {
      method: 'POST',
      url: '/v1/invoices/score',
      payload: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(score.statusCode).toBe(400);
    expect(score.json()).toMatchObject({ detail: 'request body is empty', errors: [{ path: '/' }] });
  });
});
