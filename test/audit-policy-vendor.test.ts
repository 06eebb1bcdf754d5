/**
 * Audit log, routing policy and vendor profiles through app.inject(), on both store engines:
 * the hash chain verifies, and tampering with a row by raw SQL (altered, deleted, cut tail) is
 * detected with the first bad seq; policy versions are stored, audited and recorded in
 * decisions, with overrides per vendor category and facility; vendor profiles flag codes
 * outside the approved categories and restrict suggestions.
 */
import { describe, expect, it } from 'vitest';
import type { DecisionResponse, DecisionWithExplanation } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { DEFAULT_POLICY_DOCUMENT, type PolicyDocument } from '../inference/policy.js';
import { engines, makeInvoice } from './fixtures.js';
import { useHarness, withAuditTriggerOff } from './harness.js';

const wheelchairOnNebulizer = (over: Partial<Invoice>): Invoice => {
  const inv = makeInvoice(over);
  inv.lines[1] = { ...inv.lines[1]!, description: 'Standard wheelchair, fixed full length arms' };
  return inv;
};

describe.each(engines('audit'))('audit, policy and vendors on $name', ({ config }) => {
  const ref = useHarness(config());
  const score = (i: Invoice): Promise<DecisionResponse> => ref.h.scoreOk(i);
  const explanationOf = async (id: string) =>
    (
      await ref.h.call('auditor', { method: 'GET', url: `/v1/decisions/${id}` })
    ).json<DecisionWithExplanation>().explanation!;
  const sql = (text: string, params: unknown[] = []) =>
    ref.h.wired.repo.transaction((tx) => tx.query(text, params));

  /** A tenant with `n` audited key creations and an auditor key; returns the auditor's plain key. */
  const tenantWithEntries = async (tenant: string, n: number): Promise<string> => {
    for (let i = 0; i < n; i++)
      await ref.h.wired.repo.keys.create({ tenantId: tenant, name: `k${i}`, roles: ['workflow'] }, null);
    return (
      await ref.h.wired.repo.keys.create({ tenantId: tenant, name: 'auditor', roles: ['auditor'] }, null)
    ).key;
  };
  const verifyAs = async (key: string) =>
    (
      await ref.h.app.inject({
        method: 'GET',
        url: '/v1/audit/verify',
        headers: { authorization: `Bearer ${key}` },
      })
    ).json<{
      ok: boolean;
      rows_checked: number;
      first_bad_seq: number | null;
      problem: string | null;
      head: { seq: number; hash: string };
    }>();

  it('chains decisions, key changes and policy changes, and verifies them', async () => {
    const d = await score(makeInvoice({ invoice_id: 'aud-1' }));
    const v = await verifyAs(ref.h.keys.auditor);
    expect(v).toMatchObject({ ok: true, first_bad_seq: null, problem: null });
    expect(v.rows_checked).toBe(v.head.seq);
    const entries = (
      await ref.h.call('auditor', { method: 'GET', url: `/v1/audit?subject_id=${d.decision_id}` })
    ).json<{
      items: {
        kind: string;
        actor_key_id: string;
        payload: Record<string, unknown>;
        prev_hash: string;
        hash: string;
      }[];
    }>().items;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      kind: 'decision.created',
      actor_key_id: ref.h.keyIds.workflow,
      payload: {
        decision_id: d.decision_id,
        invoice_id: 'aud-1',
        decision: d.decision,
        versions: d.versions,
      },
    });
    // No invoice text in the audit log.
    expect(JSON.stringify(entries)).not.toContain('Oxygen concentrator');
    const page = (await ref.h.call('auditor', { method: 'GET', url: '/v1/audit?limit=2' })).json<{
      items: { seq: number; prev_hash: string; hash: string }[];
      next_after_seq: number;
    }>();
    expect(page.items.map((e) => e.seq)).toEqual([1, 2]);
    expect(page.items[1]!.prev_hash).toBe(page.items[0]!.hash);
    expect(page.next_after_seq).toBe(2);
  });

  it('refuses UPDATE and DELETE on the audit log', async () => {
    await expect(
      sql(`UPDATE audit_log SET kind = 'x' WHERE tenant_id = 'default' AND seq = 1`),
    ).rejects.toThrow(/append-only/);
    await expect(sql(`DELETE FROM audit_log WHERE tenant_id = 'default' AND seq = 1`)).rejects.toThrow(
      /append-only/,
    );
  });

  it('refuses TRUNCATE of the audit log and of its heads', async () => {
    await expect(sql('TRUNCATE audit_log')).rejects.toThrow(/audit_log cannot be truncated/);
    await expect(sql('TRUNCATE audit_heads')).rejects.toThrow(/audit_heads cannot be truncated/);
    await expect(sql('TRUNCATE audit_log, audit_heads')).rejects.toThrow(/cannot be truncated/);
    const rows = await sql(`SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = 'default'`);
    expect((rows as { n: number }[])[0]!.n).toBeGreaterThan(0);
  });

  it('verifies chains of more than nine entries (rows in numeric seq order)', async () => {
    const key = await tenantWithEntries('long-chain', 11);
    expect(await verifyAs(key)).toMatchObject({ ok: true, rows_checked: 12, first_bad_seq: null });
  });

  it('detects a row altered by raw SQL and names its seq', async () => {
    const key = await tenantWithEntries('tamper-a', 3);
    expect((await verifyAs(key)).ok).toBe(true);
    await withAuditTriggerOff(sql, async () => {
      await sql(
        `UPDATE audit_log SET payload = replace(payload, '"k1"', '"kX"') WHERE tenant_id = 'tamper-a' AND seq = 2`,
      );
      expect(await verifyAs(key)).toMatchObject({ ok: false, first_bad_seq: 2, problem: 'payload_altered' });
      // Re-hashing the payload does not help: the row hash covers it.
      const rows = await sql(`SELECT payload FROM audit_log WHERE tenant_id = 'tamper-a' AND seq = 2`);
      const { createHash } = await import('node:crypto');
      const newSha = createHash('sha256').update(String(rows[0]!.payload)).digest('hex');
      await sql(`UPDATE audit_log SET payload_sha256 = $1 WHERE tenant_id = 'tamper-a' AND seq = 2`, [
        newSha,
      ]);
      expect(await verifyAs(key)).toMatchObject({ ok: false, first_bad_seq: 2, problem: 'altered' });
      // An altered actor is caught too.
      await sql(`UPDATE audit_log SET actor_key_id = 'someone' WHERE tenant_id = 'tamper-a' AND seq = 1`);
      expect(await verifyAs(key)).toMatchObject({ ok: false, first_bad_seq: 1, problem: 'altered' });
    });
  });

  it('detects a deleted row (gap) and a cut tail', async () => {
    const gapKey = await tenantWithEntries('tamper-b', 4);
    const tailKey = await tenantWithEntries('tamper-c', 2);
    await withAuditTriggerOff(sql, async () => {
      await sql(`DELETE FROM audit_log WHERE tenant_id = 'tamper-b' AND seq = 3`);
      expect(await verifyAs(gapKey)).toMatchObject({
        ok: false,
        first_bad_seq: 3,
        problem: 'gap',
        rows_checked: 2,
      });
      await sql(`DELETE FROM audit_log WHERE tenant_id = 'tamper-c' AND seq = 3`);
      expect(await verifyAs(tailKey)).toMatchObject({ ok: false, first_bad_seq: 3, problem: 'truncated' });
    });
    // Each tenant's chain is its own: the default tenant still verifies.
    expect((await verifyAs(ref.h.keys.auditor)).ok).toBe(true);
    const all = await ref.h.wired.repo.audit.verifyAll();
    expect(all.filter((r) => !r.ok).map((r) => r.tenantId)).toEqual(['tamper-a', 'tamper-b', 'tamper-c']);
  });

  it('stores a new policy version, audits it, records it in decisions and replays an unchanged one', async () => {
    const cur = await ref.h.call('admin', { method: 'GET', url: '/v1/policy' });
    expect(cur.json()).toMatchObject({ label: 'policy-default@1', version: 1, created_at: null });
    const doc: PolicyDocument = {
      ...DEFAULT_POLICY_DOCUMENT,
      name: 'strict',
      queues: { ...DEFAULT_POLICY_DOCUMENT.queues, coding: { review_at: 0.4 } },
      overrides: [
        {
          when: { vendor_category: 'dme' },
          queues: { coding: { review_at: 0.99 } },
          description: 'DME: codes only',
        },
        { when: { facility_id: 'F-ICU' }, queues: { coding: { review_at: 0.99 } } },
      ],
    };
    const put = await ref.h.call('admin', { method: 'PUT', url: '/v1/policy', payload: doc });
    expect(put.statusCode, put.body).toBe(200);
    const stored = put.json<{ label: string; version: number; sha256: string; created_by: string }>();
    expect(stored).toMatchObject({ label: 'strict@2', version: 2, created_by: ref.h.keyIds.admin });
    const again = await ref.h.call('admin', { method: 'PUT', url: '/v1/policy', payload: doc });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().version).toBe(2);
    expect((await ref.h.call('auditor', { method: 'GET', url: '/v1/policy' })).json().label).toBe('strict@2');
    expect((await ref.h.call('other_admin', { method: 'GET', url: '/v1/policy' })).json().label).toBe(
      'policy-default@1',
    );

    const d = await score(
      wheelchairOnNebulizer({
        invoice_id: 'pol-1',
        invoice_number: 'P-1',
        invoice_date: '2025-05-01',
        due_date: '2025-05-31',
      }),
    );
    expect(d.versions.policy).toBe('strict@2');
    expect(d.decision).toBe('REVIEW');
    const ex = await explanationOf(d.decision_id);
    expect(ex.routing).toMatchObject({
      policy: 'strict@2',
      policy_sha256: stored.sha256,
      overrides_applied: [],
    });
    expect(ex.routing.thresholds['coding.review_at']).toBe(0.4);
    const audit = (
      await ref.h.call('auditor', { method: 'GET', url: '/v1/audit?subject_id=strict@2' })
    ).json<{
      items: { kind: string; payload: { sha256: string; document: PolicyDocument } }[];
    }>().items;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      kind: 'policy.changed',
      payload: { sha256: stored.sha256, document: { name: 'strict' } },
    });
  });

  it('names each bad field of a policy', async () => {
    const bad = async (doc: unknown) => {
      const r = await ref.h.call('admin', { method: 'PUT', url: '/v1/policy', payload: doc as object });
      expect(r.statusCode).toBe(400);
      return r.json<{ errors: { path: string }[] }>().errors.map((e) => e.path);
    };
    const base = DEFAULT_POLICY_DOCUMENT;
    expect(await bad({ ...base, queues: { ...base.queues, ap: { review_at: 0.8, hold_at: 0.5 } } })).toEqual([
      '/queues/ap/hold_at',
    ]);
    expect(await bad({ ...base, always_review: ['NOT_A_CODE'] })).toEqual(['/always_review/0']);
    expect(await bad({ ...base, queues: { ...base.queues, coding: { review_at: 1.5 } } })).toEqual([
      '/queues/coding/review_at',
    ]);
    expect(await bad({ ...base, overrides: [{ when: {} }] })).toContain('/overrides/0/when');
    expect(await bad({ ...base, colour: 'red' })).toEqual(['/colour']);
    expect(await bad({ ...base, procurement: { price_contract: { abs: 0.5, percent: 1 } } })).toEqual([
      '/procurement/price_contract/abs',
    ]);
  });

  it('keeps vendor profiles per tenant, versioned and audited', async () => {
    const body = {
      name: 'Acme DME',
      category: 'dme',
      approved_betos: ['D1C', 'D1E'],
      approved_hcpcs_prefixes: [],
    };
    const created = await ref.h.call('admin', { method: 'PUT', url: '/v1/vendors/V-100', payload: body });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ vendor_id: 'V-100', category: 'dme', version: 1 });
    const updated = await ref.h.call('admin', { method: 'PUT', url: '/v1/vendors/V-100', payload: body });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().version).toBe(2);
    expect(
      (await ref.h.call('reviewer', { method: 'GET', url: '/v1/vendors/V-100' })).json().approved_betos,
    ).toEqual(['D1C', 'D1E']);
    const other = await ref.h.call('other_admin', { method: 'GET', url: '/v1/vendors/V-100' });
    expect(other).toBeProblem(404, 'TRIAGE_VENDOR_NOT_FOUND');
    const bad = await ref.h.call('admin', {
      method: 'PUT',
      url: '/v1/vendors/V-100',
      payload: { ...body, approved_betos: ['d1e'] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/approved_betos/0');
    // Well-formed but unknown to the HCPCS 2025-01 file: refused, nothing stored or audited.
    const unknown = await ref.h.call('admin', {
      method: 'PUT',
      url: '/v1/vendors/V-100',
      payload: { ...body, approved_betos: ['D1C', 'ZZZ'], approved_hcpcs_prefixes: ['E', 'Z9'] },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(unknown.json().errors).toEqual([
      { path: '/approved_betos/1', message: 'no HCPCS code has the BETOS code ZZZ' },
      { path: '/approved_hcpcs_prefixes/1', message: 'no HCPCS code starts with Z9' },
    ]);
    expect((await ref.h.call('reviewer', { method: 'GET', url: '/v1/vendors/V-100' })).json().version).toBe(
      2,
    );
    const audit = (await ref.h.call('auditor', { method: 'GET', url: '/v1/audit?subject_id=V-100' })).json()
      .items;
    expect(audit.map((e: { kind: string }) => e.kind)).toEqual(['vendor.updated', 'vendor.updated']);
  });

  it("applies the vendor category override and restricts suggestions to the vendor's categories", async () => {
    const d = await score(
      wheelchairOnNebulizer({
        invoice_id: 'ven-1',
        invoice_number: 'VN-1',
        invoice_date: '2025-07-01',
        due_date: '2025-07-31',
      }),
    );
    // DME override raises coding.review_at to 0.99: the description mismatch (0.956) does not fire.
    expect(d.decision).toBe('AUTO_APPROVE');
    expect(d.scores.coding_mismatch).toBeGreaterThan(0.9);
    const ex = await explanationOf(d.decision_id);
    expect(ex.routing).toMatchObject({ vendor_category: 'dme', overrides_applied: ['vendor_category=dme'] });
    expect(ex.routing.thresholds['coding.review_at']).toBe(0.99);
    // Suggestions for the wheelchair line come only from D1C/D1E (wheelchairs are D1D).
    const sugg = ex.evidence.lines[1]!.suggested;
    expect(sugg.length).toBeGreaterThan(0);
    expect(sugg.every((s) => s.in_vendor_profile === true && ['D1C', 'D1E'].includes(s.betos!))).toBe(true);
    expect(d.lines[1]!.suggested_codes.map((s) => s.value)).toEqual(sugg.map((s) => s.code));
  });

  it('flags a code outside the approved categories, only for a vendor with a profile', async () => {
    const outside = makeInvoice({
      invoice_id: 'ven-2',
      invoice_number: 'Z-77120',
      invoice_date: '2025-09-01',
      due_date: '2025-09-30',
    });
    outside.lines[1] = {
      ...outside.lines[1]!,
      description: 'Standard wheelchair',
      code: { system: 'HCPCS', value: 'K0001' },
    };
    const d = await score(outside);
    expect(d.decision, JSON.stringify(d.reasons)).toBe('REVIEW');
    expect(d.queue, JSON.stringify(d.reasons)).toBe('coding');
    const r = d.reasons.find((x) => x.code === 'CODE_OUTSIDE_VENDOR_PROFILE')!;
    expect(r.evidence).toMatchObject({ line_number: 2, code: 'K0001', betos: 'D1D', vendor_category: 'dme' });
    const noProfile = await score({
      ...outside,
      invoice_id: 'ven-3',
      vendor: { id: 'V-none', name: 'Other Co' },
    });
    expect(noProfile.reasons.map((x) => x.code)).not.toContain('CODE_OUTSIDE_VENDOR_PROFILE');
    expect(noProfile.decision).toBe('AUTO_APPROVE');
  });

  it('applies a facility override', async () => {
    const base = wheelchairOnNebulizer({ vendor: { id: 'V-fac', name: 'Facility Test Supply' } });
    const icu = await score({ ...base, invoice_id: 'fac-1', invoice_number: 'F-1', facility_id: 'F-ICU' });
    const ward = await score({
      ...base,
      invoice_id: 'fac-2',
      invoice_number: 'F-2',
      facility_id: 'F-WARD',
      invoice_date: '2025-06-01',
      due_date: '2025-06-30',
    });
    expect(icu.decision).toBe('AUTO_APPROVE');
    expect((await explanationOf(icu.decision_id)).routing.overrides_applied).toEqual(['facility_id=F-ICU']);
    expect(ward.decision).toBe('REVIEW');
  });
});
