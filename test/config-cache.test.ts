/**
 * Policy and vendor-profile caching across service instances: two API instances on one
 * PostgreSQL schema (as two processes behind a load balancer would be); a policy or vendor
 * profile changed through one instance's API is used by the very next score on the other,
 * which has both cached by then.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionWithExplanation } from '../core/decision.js';
import { DEFAULT_POLICY_DOCUMENT, type PolicyDocument } from '../inference/policy.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

const postgres = engines('cfgcache').filter((e) => e.name === 'postgres');

describe.each(postgres)('policy and vendor caches across two instances on $name', ({ config }) => {
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    const cfg = config();
    a = await startHarness(cfg);
    b = await startHarness(cfg);
  });
  afterAll(async () => {
    await b?.app.close();
    await b?.wired.repo.close();
    await a?.close();
  });

  let n = 0;
  const scoreOnB = async (vendorId: string) => {
    const d = await b.scoreOk(
      makeInvoice({
        invoice_id: `cc-${++n}`,
        invoice_number: `CC-${n}`,
        vendor: { id: vendorId, name: 'Cache Vendor' },
      }),
    );
    const r = await b.call('auditor', { method: 'GET', url: `/v1/decisions/${d.decision_id}` });
    expect(r.statusCode).toBe(200);
    return r.json<DecisionWithExplanation>();
  };

  it('uses a policy changed through the other instance at the next score', async () => {
    expect((await scoreOnB('V-CC')).versions.policy).toBe('policy-default@1');
    const doc: PolicyDocument = { ...DEFAULT_POLICY_DOCUMENT, name: 'cached' };
    const put = await a.call('admin', { method: 'PUT', url: '/v1/policy', payload: doc });
    expect(put.statusCode, put.body).toBe(200);
    expect((await scoreOnB('V-CC')).versions.policy).toBe('cached@2');
    const again = await a.call('admin', {
      method: 'PUT',
      url: '/v1/policy',
      payload: { ...doc, name: 'cached-again' },
    });
    expect(again.statusCode, again.body).toBe(200);
    expect((await scoreOnB('V-CC')).versions.policy).toBe('cached-again@3');
  });

  it('uses a vendor profile created and changed through the other instance at the next score', async () => {
    expect((await scoreOnB('V-PROF')).explanation!.routing.vendor_category).toBeNull();
    const body = { name: 'Cache DME', category: 'dme', approved_betos: [], approved_hcpcs_prefixes: [] };
    const put = await a.call('admin', { method: 'PUT', url: '/v1/vendors/V-PROF', payload: body });
    expect(put.statusCode, put.body).toBe(201);
    expect((await scoreOnB('V-PROF')).explanation!.routing.vendor_category).toBe('dme');
    const change = await a.call('admin', {
      method: 'PUT',
      url: '/v1/vendors/V-PROF',
      payload: { ...body, category: 'lab' },
    });
    expect(change.statusCode, change.body).toBe(200);
    expect((await scoreOnB('V-PROF')).explanation!.routing.vendor_category).toBe('lab');
  });
});
