/**
 * Worklist claims in the audit log, through app.inject() on both store engines: taking,
 * renewing and releasing a claim, taking over an expired one, releasing one's own expired
 * claim, and a review or an ERP posting closing a claimed item each append their entry
 * (`review.claimed`, `review.claim_renewed`, `review.released`, `review.claim_expired`) in the
 * change's transaction: subject the decision, actor the key, no invoice contents. A refused
 * claim appends nothing, the chain verifies, an altered claim entry is detected, and the
 * decision's history lists the entries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness, withAuditTriggerOff } from './harness.js';

const NOW = new Date('2025-03-20T12:00:00Z');
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

interface Entry {
  seq: number;
  kind: string;
  actor_key_id: string | null;
  subject_id: string;
  payload: Record<string, unknown>;
}

/** The payload keys a claim entry may carry: ids and times, never invoice data. */
const CLAIM_KEYS = new Set([
  'decision_id',
  'key_id',
  'claimed_at',
  'expires_at',
  'ttl_seconds',
  'previous_key_id',
  'previous_claimed_at',
  'previous_expires_at',
  'released_at',
  'reason',
  'expired_at',
  'applied_by',
]);

describe.each(engines('claimaudit'))('claims audited on $name', ({ config }) => {
  let h: Harness;
  let now = NOW;
  let second: { key: string; id: string };
  let n = 0;

  beforeAll(async () => {
    h = await startHarness(config(), { clock: () => now });
    const k = await h.wired.repo.keys.create(
      { tenantId: 'default', name: 'second reviewer', roles: ['reviewer'] },
      null,
    );
    second = { key: k.key, id: k.record.id };
  });
  afterAll(async () => h?.close());

  /** A new open worklist item (a coding exception). */
  const openItem = async (): Promise<string> => {
    const inv = makeInvoice({ invoice_id: `claim-audit-${++n}`, invoice_number: `CA-${n}` });
    inv.lines[1] = { ...inv.lines[1]!, description: 'Standard wheelchair, fixed full length arms' };
    const d = await h.scoreOk(inv);
    expect(d.decision).not.toBe('AUTO_APPROVE');
    return d.decision_id;
  };
  const as = (who: 'first' | 'second', method: 'POST' | 'DELETE', url: string, payload?: object) =>
    h.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${who === 'first' ? h.keys.reviewer : second.key}` },
      ...(payload ? { payload } : {}),
    });
  const claim = (who: 'first' | 'second', id: string, query = '') =>
    as(who, 'POST', `/v1/worklist/${id}/claim${query}`);
  const release = (who: 'first' | 'second', id: string) => as(who, 'DELETE', `/v1/worklist/${id}/claim`);
  /** The claim entries about decision `id`, in chain order. */
  const entries = async (id: string): Promise<Entry[]> => {
    const r = await h.call('auditor', { method: 'GET', url: `/v1/audit?subject_id=${id}&limit=1000` });
    expect(r.statusCode, r.body).toBe(200);
    const items = r.json<{ items: Entry[] }>().items.filter((e) => /^review\.(claim|released)/.test(e.kind));
    for (const e of items) {
      expect(e.subject_id).toBe(id);
      expect(Object.keys(e.payload).filter((key) => !CLAIM_KEYS.has(key))).toEqual([]);
    }
    return items;
  };
  const verify = async () =>
    (await h.call('auditor', { method: 'GET', url: '/v1/audit/verify' })).json<{
      ok: boolean;
      first_bad_seq: number | null;
      problem: string | null;
    }>();

  it('claim, renewal and release each append one entry; a refused claim none', async () => {
    const id = await openItem();
    const first = h.keyIds.reviewer;
    expect((await claim('first', id)).statusCode).toBe(200);
    now = minutes(5);
    expect((await claim('first', id, '?ttl_seconds=600')).statusCode).toBe(200);
    expect(await claim('second', id)).toBeProblem(409, 'TRIAGE_CLAIM_CONFLICT');
    expect(await release('second', id)).toBeProblem(409, 'TRIAGE_CLAIM_CONFLICT');
    now = minutes(7);
    expect((await release('first', id)).json()).toEqual({ released: true });
    expect((await release('first', id)).json()).toEqual({ released: false });
    expect((await entries(id)).map((e) => [e.kind, e.actor_key_id, e.payload])).toEqual([
      [
        'review.claimed',
        first,
        {
          decision_id: id,
          key_id: first,
          claimed_at: '2025-03-20T12:00:00.000Z',
          expires_at: '2025-03-20T12:15:00.000Z',
          ttl_seconds: 900,
          previous_key_id: null,
        },
      ],
      [
        'review.claim_renewed',
        first,
        {
          decision_id: id,
          key_id: first,
          claimed_at: '2025-03-20T12:05:00.000Z',
          expires_at: '2025-03-20T12:15:00.000Z',
          previous_claimed_at: '2025-03-20T12:00:00.000Z',
          previous_expires_at: '2025-03-20T12:15:00.000Z',
        },
      ],
      [
        'review.released',
        first,
        {
          decision_id: id,
          key_id: first,
          claimed_at: '2025-03-20T12:05:00.000Z',
          expires_at: '2025-03-20T12:15:00.000Z',
          released_at: '2025-03-20T12:07:00.000Z',
          reason: 'released',
        },
      ],
    ]);
    expect(await verify()).toMatchObject({ ok: true });
    now = NOW;
  });

  it('an expired claim is audited when it is applied: taken over, or released by its holder', async () => {
    const id = await openItem();
    const first = h.keyIds.reviewer;
    expect((await claim('first', id)).statusCode).toBe(200);
    now = minutes(16); // past the 15-minute claim
    expect((await claim('second', id)).statusCode).toBe(200);
    now = minutes(40); // past the second reviewer's claim too
    expect((await release('second', id)).json()).toEqual({ released: true });
    const got = await entries(id);
    expect(got.map((e) => [e.kind, e.actor_key_id])).toEqual([
      ['review.claimed', first],
      ['review.claim_expired', second.id],
      ['review.claimed', second.id],
      ['review.claim_expired', second.id],
    ]);
    expect(got[1]!.payload).toEqual({
      decision_id: id,
      key_id: first,
      claimed_at: '2025-03-20T12:00:00.000Z',
      expired_at: '2025-03-20T12:15:00.000Z',
      applied_by: 'claim',
    });
    expect(got[2]!.payload).toMatchObject({ key_id: second.id, previous_key_id: first });
    expect(got[3]!.payload).toMatchObject({ key_id: second.id, applied_by: 'release' });
    expect(await verify()).toMatchObject({ ok: true });
    now = NOW;
  });

  it("a review closing a claimed item ends the claim, audited after the review; the decision's history lists it", async () => {
    const id = await openItem();
    expect((await claim('second', id)).statusCode).toBe(200);
    const review = await as('second', 'POST', '/v1/reviews', {
      decision_id: id,
      outcome: 'false_positive',
      task: 'coding-mismatch',
      idempotency_key: `close-${id}`,
    });
    expect(review.statusCode, review.body).toBe(201);
    expect((await entries(id)).map((e) => [e.kind, e.actor_key_id, e.payload.reason])).toEqual([
      ['review.claimed', second.id, undefined],
      ['review.released', second.id, 'item_closed'],
    ]);
    const history = await h.call('auditor', { method: 'GET', url: `/v1/decisions/${id}/history` });
    expect(history.json<{ items: { kind: string }[] }>().items.map((e) => e.kind)).toEqual([
      'decision.created',
      'review.claimed',
      'review.created',
      'decision.state_changed',
      'review.released',
    ]);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('an ERP callback posting the invoice closes the item and ends its claim, audited with its key', async () => {
    const id = await openItem();
    expect((await claim('first', id)).statusCode).toBe(200);
    const posted = await h.call('erp', {
      method: 'POST',
      url: '/v1/erp/callbacks',
      payload: { invoice_id: `claim-audit-${n}`, status: 'posted', idempotency_key: `posted-${n}` },
    });
    expect(posted.json(), posted.body).toMatchObject({ review_status: 'closed' });
    expect(
      (await entries(id)).map((e) => [e.kind, e.actor_key_id, e.payload.key_id, e.payload.reason]),
    ).toEqual([
      ['review.claimed', h.keyIds.reviewer, h.keyIds.reviewer, undefined],
      ['review.released', h.keyIds.erp, h.keyIds.reviewer, 'item_closed'],
    ]);
    const claims = await h.call('reviewer', { method: 'GET', url: '/v1/worklist/claims' });
    expect(claims.json<{ items: { decision_id: string }[] }>().items.map((c) => c.decision_id)).not.toContain(
      id,
    );
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('detects an altered claim entry', async () => {
    const id = await openItem();
    expect((await claim('first', id)).statusCode).toBe(200);
    const [row] = await entries(id);
    const sql = (text: string) => h.wired.repo.transaction((tx) => tx.query(text));
    await withAuditTriggerOff(sql, async () => {
      // Someone rewrites who held the item.
      await sql(
        `UPDATE audit_log SET payload = replace(payload, '${h.keyIds.reviewer}', '${second.id}')
         WHERE tenant_id = 'default' AND seq = ${row!.seq}`,
      );
    });
    expect(await verify()).toMatchObject({ ok: false, first_bad_seq: row!.seq, problem: 'payload_altered' });
  });
});
