/**
 * Dates in query parameters, on both store engines: a date outside 1900-2199 is a valid
 * `format: date` (`0000-01-01`) but year 0000 is no PostgreSQL date, which failed the query with
 * a 500; every date parameter is a 400 naming it instead (core/validate.ts `checkQueryDates`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines } from './fixtures.js';
import { startHarness, type Harness, type KeyName } from './harness.js';

describe.each(engines('qdates'))('query dates on $name', ({ config }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(config(), {
      app: (w) => ({
        monitoring: { monitoring: w.monitoring, store: w.monitoringStore, defaultAuditRate: 0.02 },
      }),
    });
  });
  afterAll(async () => h?.close());

  it('outside 1900-2199 are a 400 naming the parameter, never a 500', async () => {
    const cases: [KeyName, string, string][] = [
      ['auditor', '/v1/audit/export?from=0000-01-01&to=2026-12-08', '/querystring/from'],
      ['auditor', '/v1/audit/export?from=2026-12-01&to=9999-12-31', '/querystring/to'],
      ['auditor', '/v1/metrics/auto-approve-error?since=0000-01-01', '/querystring/since'],
      ['reviewer', '/v1/worklist?as_of=0000-01-01', '/querystring/as_of'],
    ];
    for (const [key, url, path] of cases) {
      const res = await h.call(key, { method: 'GET', url });
      expect(res.statusCode, `${url} -> ${res.body}`).toBe(400);
      expect(res.json<{ errors: unknown[] }>().errors, url).toEqual([
        { path, message: 'must be between 1900-01-01 and 2199-12-31' },
      ]);
    }
    const edges = await h.call('auditor', {
      method: 'GET',
      url: '/v1/audit/export?from=1900-01-01&to=2199-12-31',
    });
    expect(edges.statusCode).toBe(200);
  });
});
