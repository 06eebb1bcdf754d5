/**
 * The review console's server side through app.inject(), on both store engines: claims (a
 * second reviewer's claim is a 409, release, expiry), the session, the invoice and history
 * reads, the streamed audit export (JSON Lines and CSV), security headers on API and console
 * responses, and the KPI routes' query checks.
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

const NOW = new Date('2025-03-20T12:00:00Z');

describe.each(engines('console'))('console API on $name', ({ config }) => {
  let h: Harness;
  let now = NOW;
  let d: DecisionResponse;

  beforeAll(async () => {
    h = await startHarness(config(), { clock: () => now });
    const inv = makeInvoice({ invoice_id: 'c1', received_date: '2025-03-10' });
    inv.lines[1] = { ...inv.lines[1]!, description: 'Standard wheelchair, fixed full length arms' };
    d = await h.scoreOk(inv);
    // A second reviewer key in the same tenant.
    const k = await h.wired.repo.keys.create(
      { tenantId: 'default', name: 'second reviewer', roles: ['reviewer'] },
      null,
    );
    (h.keys as Record<string, string>).reviewer2 = k.key;
  });
  afterAll(async () => h?.close());

  const as = (key: string, method: 'GET' | 'POST' | 'DELETE', url: string) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${(h.keys as Record<string, string>)[key]}` },
    });

  it('routes the test invoice to review', () => {
    expect(d.decision).not.toBe('AUTO_APPROVE');
  });

  it('claims: the first reviewer holds the item, a second gets 409 until release or expiry', async () => {
    const first = await as('reviewer', 'POST', `/v1/worklist/${d.decision_id}/claim`);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      decision_id: d.decision_id,
      claimed_by_me: true,
      key_name: 'test reviewer',
    });
    expect(first.json().expires_at).toBe('2025-03-20T12:15:00.000Z');

    const second = await as('reviewer2', 'POST', `/v1/worklist/${d.decision_id}/claim`);
    expect(second).toBeProblem(409, 'TRIAGE_CLAIM_CONFLICT');

    const seen = await as('reviewer2', 'GET', '/v1/worklist/claims');
    expect(seen.json().items).toEqual([
      expect.objectContaining({
        decision_id: d.decision_id,
        claimed_by_me: false,
        key_name: 'test reviewer',
      }),
    ]);
    expect((await as('reviewer2', 'DELETE', `/v1/worklist/${d.decision_id}/claim`)).statusCode).toBe(409);

    now = new Date(NOW.getTime() + 16 * 60_000); // past the 15-minute claim
    const taken = await as('reviewer2', 'POST', `/v1/worklist/${d.decision_id}/claim`);
    expect(taken.statusCode, taken.body).toBe(200);
    const released = await as('reviewer2', 'DELETE', `/v1/worklist/${d.decision_id}/claim`);
    expect(released.json()).toEqual({ released: true });
    expect((await as('reviewer', 'GET', '/v1/worklist/claims')).json().items).toEqual([]);
    now = NOW;
  });

  it('claims: unknown item 404, auditor 403', async () => {
    const r = await as('reviewer', 'POST', '/v1/worklist/00000000-0000-4000-8000-000000000000/claim');
    expect(r.statusCode).toBe(404);
    expect((await as('auditor', 'POST', `/v1/worklist/${d.decision_id}/claim`)).statusCode).toBe(403);
  });

  it('claims: a review by anyone but the claimant is a 409 and stores nothing', async () => {
    expect((await as('reviewer', 'POST', `/v1/worklist/${d.decision_id}/claim`)).statusCode).toBe(200);
    const review = await h.app.inject({
      method: 'POST',
      url: '/v1/reviews',
      headers: { authorization: `Bearer ${(h.keys as Record<string, string>).reviewer2}` },
      payload: { decision_id: d.decision_id, outcome: 'false_positive', idempotency_key: 'claim-test-1' },
    });
    expect(review).toBeProblem(409, 'TRIAGE_CLAIM_CONFLICT', '/decision_id');
    const stored = await as('reviewer', 'GET', `/v1/reviews?decision_id=${d.decision_id}`);
    expect(stored.json().items).toEqual([]);
    expect((await as('reviewer', 'DELETE', `/v1/worklist/${d.decision_id}/claim`)).statusCode).toBe(200);
  });

  it('session names tenant, roles and the SLA', async () => {
    const r = await as('multi', 'GET', '/v1/console/session');
    expect(r.json()).toEqual({
      tenant_id: 'default',
      key_id: h.keyIds.multi,
      roles: ['reviewer', 'auditor'],
      sla_days: 5,
    });
  });

  it("invoice of a decision: the submitted lines; another tenant's reviewer gets 404", async () => {
    const r = await as('reviewer', 'GET', `/v1/decisions/${d.decision_id}/invoice`);
    expect(r.statusCode).toBe(200);
    expect(r.json().lines[1].description).toBe('Standard wheelchair, fixed full length arms');
    expect((await as('other_reviewer', 'GET', `/v1/decisions/${d.decision_id}/invoice`)).statusCode).toBe(
      404,
    );
    expect((await as('workflow', 'GET', `/v1/decisions/${d.decision_id}/invoice`)).statusCode).toBe(403);
  });

  it('history: scored, claimed, reviewed, in chain order (auditor only)', async () => {
    expect((await as('reviewer', 'POST', `/v1/worklist/${d.decision_id}/claim`)).statusCode).toBe(200);
    const review = await h.call('reviewer', {
      method: 'POST',
      url: '/v1/reviews',
      payload: {
        decision_id: d.decision_id,
        outcome: 'false_positive',
        task: 'coding-mismatch',
        idempotency_key: 'h-1',
      },
    });
    expect(review.statusCode, review.body).toBe(201);
    // The review closed the item, so its claim is gone and nothing is left to claim.
    expect((await as('reviewer', 'GET', '/v1/worklist/claims')).json().items).toEqual([]);
    expect((await as('reviewer', 'POST', `/v1/worklist/${d.decision_id}/claim`)).statusCode).toBe(404);
    expect((await as('reviewer2', 'POST', `/v1/worklist/${d.decision_id}/claim`)).statusCode).toBe(404);
    const r = await as('auditor', 'GET', `/v1/decisions/${d.decision_id}/history`);
    expect(r.statusCode, r.body).toBe(200);
    // The claims of the tests above are part of the decision's history (store/claims.ts).
    expect(r.json().items.map((e: { kind: string }) => e.kind)).toEqual([
      'decision.created',
      'review.claimed',
      'review.claim_expired',
      'review.claimed',
      'review.released',
      'review.claimed',
      'review.released',
      'review.claimed',
      'review.created',
      'decision.state_changed',
      'review.released',
    ]);
    expect((await as('reviewer', 'GET', `/v1/decisions/${d.decision_id}/history`)).statusCode).toBe(403);
  });

  it('exports a date range as JSON Lines and CSV with the same entries', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const all = (await as('auditor', 'GET', '/v1/audit?limit=1000')).json().items as {
      seq: number;
      hash: string;
    }[];
    const jsonl = await as('auditor', 'GET', `/v1/audit/export?from=${today}&to=${today}&format=jsonl`);
    expect(jsonl.statusCode, jsonl.body).toBe(200);
    expect(jsonl.headers['content-type']).toContain('application/x-ndjson');
    const lines = jsonl.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; hash: string });
    expect(lines.map((l) => l.hash)).toEqual(all.map((e) => e.hash));
    const csv = await as('auditor', 'GET', `/v1/audit/export?from=${today}&to=${today}&format=csv`);
    expect(csv.headers['content-type']).toContain('text/csv');
    const rows = parse(csv.body, { columns: true }) as {
      seq: string;
      kind: string;
      payload: string;
      hash: string;
    }[];
    expect(rows.map((r) => r.hash)).toEqual(all.map((e) => e.hash));
    expect(JSON.parse(rows.find((r) => r.kind === 'decision.created')!.payload)).toMatchObject({
      decision_id: d.decision_id,
    });
    const none = await as('auditor', 'GET', '/v1/audit/export?from=2000-01-01&to=2000-01-02');
    expect(none.body).toBe('');
    const bad = await as('auditor', 'GET', '/v1/audit/export?from=2025-02-01&to=2025-01-01');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/querystring/from');
    expect((await as('reviewer', 'GET', `/v1/audit/export?from=${today}&to=${today}`)).statusCode).toBe(403);
  });

  it('exports a client id a spreadsheet would read as a formula as text in CSV, as stored in JSON Lines', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const ids = ['=HYPERLINK("http://evil.example","x")', '+SUM(1)', '-2+3', '@cmd'];
    for (const id of ids) {
      const put = await h.app.inject({
        method: 'PUT',
        url: `/v1/vendors/${encodeURIComponent(id)}`,
        headers: { authorization: `Bearer ${h.keys.admin}` },
        payload: { name: 'Formula Vendor', approved_betos: [], approved_hcpcs_prefixes: ['E'] },
      });
      expect(put.statusCode, put.body).toBeLessThan(300);
    }
    const csv = await as('auditor', 'GET', `/v1/audit/export?from=${today}&to=${today}&format=csv`);
    const rows = parse(csv.body, { columns: true }) as { kind: string; subject_id: string }[];
    const subjects = rows.filter((r) => r.kind === 'vendor.updated').map((r) => r.subject_id);
    expect(subjects).toEqual(ids.map((id) => `'${id}`));
    const jsonl = await as('auditor', 'GET', `/v1/audit/export?from=${today}&to=${today}&format=jsonl`);
    const stored = jsonl.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; subject_id: string })
      .filter((e) => e.kind === 'vendor.updated')
      .map((e) => e.subject_id);
    expect(stored).toEqual(ids);
  });

  it('security headers on API, problem and console responses; /docs still loads', async () => {
    for (const r of [
      await as('reviewer', 'GET', '/v1/worklist'),
      await h.app.inject({ method: 'GET', url: '/v1/worklist' }),
      await h.app.inject({ method: 'GET', url: '/console/' }),
    ]) {
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      const csp = String(r.headers['content-security-policy']);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
    }
    expect((await h.app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
  });

  it('KPI routes: one per figure, range checked', async () => {
    const r = await as(
      'auditor',
      'GET',
      '/v1/kpis/straight-through?from=2025-03-01&to=2025-03-31&bucket=month',
    );
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({
      figure: 'straight-through',
      periods: ['2025-03-01'],
      points: [{ period: '2025-03-01', group: 'all', n: 1, count: 0, rate: 0 }],
    });
    const long = await as('auditor', 'GET', '/v1/kpis/review-load?from=2020-01-01&to=2025-01-01');
    expect(long.statusCode).toBe(400);
    expect((await as('workflow', 'GET', '/v1/kpis/review-load')).statusCode).toBe(403);
  });
});
