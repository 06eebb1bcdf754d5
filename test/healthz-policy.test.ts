/**
 * `GET /healthz` is public, so it claims no tenant's policy: it names the default policy of tenants
 * without their own (`default_policy`), and still does after a tenant stored its own, which
 * `GET /v1/policy` (with the tenant's key) reports.
 */
import { describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../inference/policy.js';
import { useHarness } from './harness.js';

describe('GET /healthz and a tenant policy', () => {
  const ref = useHarness({ engine: 'pglite' }, { wire: { models: { reloadMs: null } } });

  it('names the default policy for new tenants as such, not as the policy in force', async () => {
    const health = async () =>
      (await ref.h.app.inject({ method: 'GET', url: '/healthz' })).json<Record<string, unknown>>();
    const before = await health();
    expect(before).toMatchObject({ status: 'ok', default_policy: 'policy-certified@1' });
    expect(before.versions).not.toHaveProperty('policy');
    expect(Object.keys(before.versions as object).sort()).toEqual([
      'feature_schema',
      'models',
      'reference_data',
    ]);

    const served = (await ref.h.call('admin', { method: 'GET', url: '/v1/policy' })).json<{
      document: PolicyDocument;
    }>().document;
    const own: PolicyDocument = {
      ...served,
      name: 'tenant-own',
      queues: { ...served.queues, coding: { ...served.queues.coding, review_at: 0.2 } },
    };
    const put = await ref.h.call('admin', { method: 'PUT', url: '/v1/policy', payload: own });
    expect(put.statusCode, put.body).toBe(200);
    const label = put.json<{ label: string }>().label;
    expect(label).toMatch(/^tenant-own@\d+$/);

    const after = await health();
    expect(after).toEqual(before);
    expect(JSON.stringify(after)).not.toContain('tenant-own');
    expect((await ref.h.call('admin', { method: 'GET', url: '/v1/policy' })).json().label).toBe(label);
  });
});
