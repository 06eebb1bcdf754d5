/**
 * Vendor ids as vendor masters spell them (`ACME/EAST 01`) and as an attacker would (`../../x`,
 * a backslash, NUL, 1,000 characters) everywhere an id reaches a URL path, a metric label or the
 * stored data, on the real store: ids with `/`, `\` and spaces keep working (percent-encoded, one
 * path segment of `/v1/vendors/{vendor_id}`), never address another route or vendor, never
 * become a metric label; what cannot be handled safely (NUL, over 64 characters, `.` and `..`,
 * which URL parsers resolve as directory steps) is refused with a 400 naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VENDOR_ID_DOT_SEGMENT } from '../core/validate.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

const REAL = ['ACME/EAST 01', '../../x', 'a\\b', 'V?x=1#frag', '100%25 /..'];

describe.each(engines('vendorpath'))('vendor ids in paths and labels on $name', ({ config }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(config());
  });
  afterAll(async () => h?.close());

  const profile = { category: 'dme', approved_betos: ['D1E'], approved_hcpcs_prefixes: ['E'] };
  const vendorUrl = (id: string) => `/v1/vendors/${encodeURIComponent(id)}`;
  const errorsOf = (r: { json: () => unknown }) => (r.json() as { errors: { path: string }[] }).errors;

  it('stores and reads the profile of a vendor id with /, \\, spaces, ? and # under that exact id', async () => {
    for (const id of REAL) {
      const put = await h.call('admin', { method: 'PUT', url: vendorUrl(id), payload: profile });
      expect(put.statusCode, `${id}: ${put.body}`).toBeLessThan(300);
      const got = await h.call('reviewer', { method: 'GET', url: vendorUrl(id) });
      expect(got.statusCode, got.body).toBe(200);
      expect(got.json()).toMatchObject({ vendor_id: id, approved_betos: ['D1E'] });
    }
    // Nothing was stored under what the ids would escape to.
    for (const other of ['x', 'a', 'V', '100%'])
      expect((await h.call('reviewer', { method: 'GET', url: vendorUrl(other) })).statusCode).toBe(404);
    // The unencoded id is other path segments: no vendor route, nothing stored.
    const raw = await h.call('admin', { method: 'PUT', url: '/v1/vendors/ACME/EAST', payload: profile });
    expect(raw.statusCode).toBe(404);
  });

  it('refuses NUL, more than 64 characters and . or .. with a 400 naming the field', async () => {
    for (const [url, path] of [
      ['/v1/vendors/%00', '/params/vendor_id'],
      [`/v1/vendors/${'a'.repeat(1000)}`, '/params/vendor_id'],
      [`/v1/vendors/${encodeURIComponent('é'.repeat(65))}`, '/params/vendor_id'],
      ['/v1/vendors/%20V-100', '/params/vendor_id'],
      ['/v1/vendors/%E2%80%8B', '/params/vendor_id'],
    ] as const) {
      for (const r of [
        await h.call('admin', { method: 'PUT', url, payload: profile }),
        await h.call('admin', { method: 'GET', url }),
      ]) {
        expect(r.statusCode, r.body).toBe(400);
        expect(r.headers['content-type']).toContain('application/problem+json');
        expect(errorsOf(r).map((e) => e.path)).toEqual([path]);
        // A parameter of the URL, not the body: one code for every refused vendor id.
        expect(r.json(), url).toMatchObject({ code: 'TRIAGE_REQUEST_INVALID', title: 'Invalid request' });
      }
    }
    const score = (id: string, n: number) =>
      h.call('workflow', {
        method: 'POST',
        url: '/v1/invoices/score',
        payload: makeInvoice({ invoice_id: `vp-refused-${n}`, vendor: { id, name: 'Acme Medical' } }),
      });
    for (const [n, id] of ['a\u0000b', 'x'.repeat(1000), '.', '..'].entries()) {
      const r = await score(id, n);
      expect(r.statusCode, r.body).toBe(400);
      expect(new Set(errorsOf(r).map((e) => e.path))).toEqual(new Set(['/vendor/id']));
    }
    expect(await score('..', 9).then((r) => r.json())).toMatchObject({
      errors: [{ path: '/vendor/id', message: VENDOR_ID_DOT_SEGMENT }],
    });
    // Nothing half-written: no decision under the refused invoices' ids.
    const listed = await h.call('reviewer', { method: 'GET', url: '/v1/worklist?limit=500' });
    expect(listed.body).not.toContain('vp-refused-');
  });

  it('scores invoices of such vendors, and neither vendor nor invoice ids become metric labels', async () => {
    for (const [n, id] of REAL.entries()) {
      const r = await h.call('workflow', {
        method: 'POST',
        url: '/v1/invoices/score',
        payload: makeInvoice({ invoice_id: `vp/../inv\\${n}`, vendor: { id, name: 'Acme Medical' } }),
      });
      expect(r.statusCode, r.body).toBe(200);
      const d = await h.call('auditor', {
        method: 'GET',
        url: `/v1/decisions/${r.json().decision_id}/invoice`,
      });
      expect(d.json()).toMatchObject({ invoice_id: `vp/../inv\\${n}`, vendor: { id } });
    }
    for (let i = 0; i < 30; i++) await h.call('reviewer', { method: 'GET', url: vendorUrl(`V-${i}/probe`) });
    const metrics = await h.call('admin', { method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    for (const needle of ['ACME', '../../x', 'a\\\\b', 'V-1/probe', 'V-1%2Fprobe', 'vp/../inv'])
      expect(metrics.body, needle).not.toContain(needle);
    // Every vendor request counts under the route pattern: one label value, not one per id.
    const routes = new Set([...metrics.body.matchAll(/route="([^"]*vendors[^"]*)"/g)].map((m) => m[1]));
    expect(routes).toEqual(new Set(['/v1/vendors/:vendor_id']));
  });
});
