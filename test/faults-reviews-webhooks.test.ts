/**
 * Faults of reviews and webhook deliveries against real services (test/faults-harness.ts: a
 * private PostgreSQL cluster and a private Redis, real `bin/worker.ts` processes, the real app).
 * PostgreSQL restarted while reviewers submit outcomes: no reviewer label is lost or duplicated,
 * and the API answers 503 with Retry-After meanwhile. Webhook deliveries survive a worker SIGKILL
 * and a PostgreSQL restart: every event arrives, duplicates only by event id. Batches are in
 * test/faults.test.ts.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import { cloudEventType, type CloudEvent } from '../core/events.js';
import { verifyWebhook } from '../events/index.js';
import { tasksWithFindings } from '../core/review-tasks.js';
import { invoiceSet, waitFor } from './jobs-harness.js';
import { startReceiver } from './webhook-receiver.js';
import { logsOf, pgsrv, s, sleep, unavailable, useFaultStack, worker } from './faults-harness.js';

describe.skipIf(unavailable !== null)('faults', () => {
  useFaultStack();

  it('PostgreSQL restarted while reviewers submit outcomes: no label is lost or duplicated', async () => {
    // Open coding exceptions: line 2 describes a wheelchair but bills E0570 (a nebulizer).
    const invoices = invoiceSet('lbl', 24).map((inv) => {
      inv.lines[1] = { ...inv.lines[1]!, description: 'Standard wheelchair, fixed full length arms' };
      return inv;
    });
    const decisions: DecisionResponse[] = [];
    for (const inv of invoices) {
      const r = await s.app.inject({ method: 'POST', url: '/v1/invoices/score', payload: inv });
      expect(r.statusCode, r.body).toBe(200);
      decisions.push(r.json<DecisionResponse>());
    }
    const open = await s.wired.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM decisions WHERE id = ANY($1::uuid[]) AND review_status = 'open'`,
      [decisions.map((d) => d.decision_id)],
    );
    expect(Number(open[0]!.n), 'every decision is an open worklist item').toBe(decisions.length);

    const outcomes = ['confirmed', 'false_positive', 'corrected_code'] as const;
    const intended = decisions.map((d, i) => {
      // Each review closes its item: a coding false positive would leave an invoice that also has
      // a duplicate finding open (store/settlement.ts), so such an invoice gets a confirmation.
      const bothTasks = tasksWithFindings(d.reasons.map((r) => r.code)).length > 1;
      const outcome = bothTasks && outcomes[i % 3] === 'false_positive' ? 'confirmed' : outcomes[i % 3]!;
      return {
        key: `lbl-review-${i}`,
        body: {
          decision_id: d.decision_id,
          outcome,
          task: 'coding-mismatch',
          line_number: 2,
          ...(outcome === 'corrected_code' ? { corrected_code: { system: 'HCPCS', value: 'K0001' } } : {}),
        },
      };
    });
    type Sent = { status: number; retryAfter: string | undefined; code: string | undefined; at: number };
    const sent = new Map<string, Sent[]>(intended.map((r) => [r.key, []]));
    const done = new Map<string, { review_id: string; status: number }>();
    const inFlight = new Set<string>();
    /** One review, re-sent with the same key until the API stores (201) or replays (200) it. */
    const submitReview = async (r: (typeof intended)[number]): Promise<void> => {
      for (let attempt = 0; attempt < 400; attempt++) {
        inFlight.add(r.key);
        const res = await s.app.inject({
          method: 'POST',
          url: '/v1/reviews',
          headers: { 'idempotency-key': r.key },
          payload: r.body,
        });
        inFlight.delete(r.key);
        const problem = res.statusCode >= 400 ? res.json<{ code?: string }>() : null;
        sent.get(r.key)!.push({
          status: res.statusCode,
          retryAfter: res.headers['retry-after'] as string | undefined,
          code: problem?.code,
          at: Date.now(),
        });
        if (res.statusCode === 200 || res.statusCode === 201) {
          done.set(r.key, { review_id: res.json<{ review_id: string }>().review_id, status: res.statusCode });
          return;
        }
        if (res.statusCode !== 503) throw new Error(`review ${r.key}: ${res.statusCode} ${res.body}`);
        // Retry-After says 5 s; this client retries sooner to keep the case short.
        await sleep(100);
      }
      throw new Error(`review ${r.key} never stored`);
    };
    // Three reviewers, each working through its share of the worklist one review at a time.
    const reviewers = [0, 1, 2].map(async (k) => {
      for (const r of intended.filter((_, i) => i % 3 === k)) {
        await submitReview(r);
        await sleep(20);
      }
    });
    const failures: string[] = [];
    for (const r of reviewers) r.catch((e: unknown) => failures.push(String(e)));
    const all = Promise.all(reviewers);
    all.catch(() => undefined); // awaited below, after the restart
    await waitFor('the first reviews', async () => done.size >= 6, 30_000, 10);
    // Catch the next reviews half-written: hold the tenant's audit head, so each review
    // transaction has inserted its row and closed its item and then waits to append its audit
    // entry; stop PostgreSQL under them.
    const holder = new pg.Client({ connectionString: pgsrv.url });
    holder.on('error', () => undefined);
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM audit_heads WHERE tenant_id = 'default' FOR UPDATE`);
    let seen: { pid: number; wait: string | null; wrote: boolean }[] = [];
    try {
      await waitFor(
        'three reviews waiting on the audit head',
        async () => {
          // pg_stat_activity is snapshotted once per transaction: take a fresh one each time.
          await holder.query('SELECT pg_stat_clear_snapshot()');
          const w = await holder.query<{ pid: number; wait: string | null; wrote: boolean }>(
            `SELECT a.pid, a.wait_event_type AS wait, EXISTS (
                 SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                 WHERE l.pid = a.pid AND l.granted AND c.relname = 'reviews' AND l.mode = 'RowExclusiveLock'
               ) AS wrote
             FROM pg_stat_activity a
             WHERE a.pid <> pg_backend_pid() AND a.state = 'active' AND a.query LIKE '%audit_heads%'`,
          );
          seen = w.rows;
          return w.rows.filter((r) => r.wait === 'Lock').length === 3 && inFlight.size === 3;
        },
        20_000,
        10,
      );
    } catch (e) {
      await holder.end();
      throw new Error(
        `${String(e)}; in flight ${[...inFlight].join(',')}; on the head ${JSON.stringify(seen)}; ` +
          `reviewer failures ${failures.join(' | ')}`,
      );
    }
    const cut = [...inFlight];
    const cutWrote = seen.filter((r) => r.wait === 'Lock').map((r) => r.wrote);
    expect(cut.every((k) => !done.has(k))).toBe(true);
    const stoppedAt = Date.now();
    pgsrv.stop('fast');
    let restartedAt = Infinity;
    try {
      await holder.end().catch(() => undefined);
      const down = await s.app.inject({
        method: 'POST',
        url: '/v1/reviews',
        headers: { 'idempotency-key': 'lbl-review-probe' },
        payload: intended.at(-1)!.body,
      });
      expect(down.statusCode, down.body).toBe(503);
      expect(down.headers['retry-after']).toBe('5');
      expect(down.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(down.json()).toMatchObject({ code: 'TRIAGE_STORE_UNAVAILABLE', retryable: true });
      await sleep(1500);
    } finally {
      restartedAt = Date.now();
      pgsrv.start();
    }
    await all;
    expect(done.size).toBe(intended.length);

    const attempts = [...sent.values()].flat();
    // The cut transactions were refused and left nothing: the retry stored the review anew.
    for (const k of cut) {
      expect(sent.get(k)![0], k).toMatchObject({ status: 503, code: 'TRIAGE_STORE_UNAVAILABLE' });
      expect(done.get(k)!.status, `${k} was not half-stored by the refused attempt`).toBe(201);
    }
    const refused = attempts.filter((a) => a.status === 503);
    expect(refused.length, 'reviewers were refused while PostgreSQL was down').toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.retryAfter).toBe('5');
      expect(a.code).toBe('TRIAGE_STORE_UNAVAILABLE');
    }
    expect(attempts.every((a) => [200, 201, 503].includes(a.status))).toBe(true);
    expect(
      attempts.some((a) => a.status === 201 && a.at > restartedAt),
      'reviews stored after the restart',
    ).toBe(true);
    expect(attempts.filter((a) => a.status === 201 && a.at < stoppedAt).length).toBeGreaterThanOrEqual(6);

    // Exactly one review row per decision, with the intended outcome.
    const ids = decisions.map((d) => d.decision_id);
    const rows = await s.wired.db.query<{
      decision_id: string;
      n: string;
      outcomes: string[];
      keys: string[];
    }>(
      `SELECT decision_id::text AS decision_id, count(*) AS n, array_agg(outcome) AS outcomes,
         array_agg(idempotency_key) AS keys
       FROM reviews WHERE decision_id = ANY($1::uuid[]) GROUP BY decision_id`,
      [ids],
    );
    const byDecision = new Map(rows.map((r) => [r.decision_id, r]));
    for (const r of intended) {
      const row = byDecision.get(r.body.decision_id);
      expect({ n: Number(row?.n), outcomes: row?.outcomes, keys: row?.keys }, r.key).toEqual({
        n: 1,
        outcomes: [r.body.outcome],
        keys: [r.key],
      });
    }
    expect(rows).toHaveLength(intended.length);
    const probe = await s.wired.db.query(`SELECT 1 FROM reviews WHERE idempotency_key = 'lbl-review-probe'`);
    expect(probe, 'the refused probe stored nothing').toEqual([]);

    // Nothing half-written: each review has its one audit entry and closed its item, and the
    // review id the client got is the stored one.
    const whole = await s.wired.db.query<{
      key: string;
      review_id: string;
      audits: string;
      closed_by: string | null;
    }>(
      `SELECT r.idempotency_key AS key, r.id::text AS review_id, d.closed_by_review::text AS closed_by,
         (SELECT count(*) FROM audit_log a WHERE a.tenant_id = r.tenant_id AND a.kind = 'review.created'
            AND a.subject_id = r.id::text) AS audits
       FROM reviews r JOIN decisions d ON d.id = r.decision_id
       WHERE r.decision_id = ANY($1::uuid[]) AND d.review_status = 'closed'`,
      [ids],
    );
    expect(whole).toHaveLength(intended.length);
    for (const w of whole) {
      expect({ audits: Number(w.audits), closed_by: w.closed_by }, w.key).toEqual({
        audits: 1,
        closed_by: w.review_id,
      });
      expect(done.get(w.key)!.review_id, w.key).toBe(w.review_id);
    }

    // A client that lost a response re-sends: the stored review comes back, nothing is added.
    for (const r of intended) {
      const again = await s.app.inject({
        method: 'POST',
        url: '/v1/reviews',
        headers: { 'idempotency-key': r.key },
        payload: r.body,
      });
      expect(again.statusCode, again.body).toBe(200);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.json<{ review_id: string }>().review_id).toBe(done.get(r.key)!.review_id);
    }

    // The training labels: exactly one per reviewed decision, with its outcome.
    const labels = (await s.wired.repo.reviews.listLabels({ tenant: 'default', latestOnly: false })).filter(
      (l) => ids.includes(l.decision_id),
    );
    expect(labels).toHaveLength(intended.length);
    for (const r of intended) {
      const mine = labels.filter((l) => l.decision_id === r.body.decision_id);
      expect(
        mine.map((l) => ({
          review_id: l.review_id,
          line: l.line_number,
          outcome: l.outcome,
          label: l.label,
          code: l.corrected_code,
        })),
        r.key,
      ).toEqual([
        {
          review_id: done.get(r.key)!.review_id,
          line: 2,
          outcome: r.body.outcome,
          label: r.body.outcome === 'false_positive' ? 0 : 1,
          code: r.body.outcome === 'corrected_code' ? 'K0001' : null,
        },
      ]);
    }

    const verify = await s.app.inject({ url: '/v1/audit/verify' });
    expect(verify.statusCode, verify.body).toBe(200);
    expect(verify.json()).toMatchObject({ ok: true, first_bad_seq: null, problem: null });
    expect(verify.json<{ rows_checked: number }>().rows_checked).toBeGreaterThanOrEqual(intended.length);
    // And the case did cut half-written work: each stopped transaction held its review row.
    expect(cutWrote, 'the stopped transactions had inserted their reviews').toEqual([true, true, true]);
  }, 90_000);

  it('webhook events survive a worker SIGKILL and a PostgreSQL restart: all arrive, duplicates only by id, in order', async () => {
    const receiver = await startReceiver();
    try {
      const created = await s.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        payload: { url: receiver.url('/slow'), event_types: ['decision.created', 'decision.reviewed'] },
      });
      expect(created.statusCode, created.body).toBe(201);
      const sub = created.json<{ id: string; secret: string }>();
      const a = await worker();
      const decisions: DecisionResponse[] = [];
      for (const inv of invoiceSet('evt', 16)) {
        const r = await s.app.inject({ method: 'POST', url: '/v1/invoices/score', payload: inv });
        expect(r.statusCode, r.body).toBe(200);
        decisions.push(r.json<DecisionResponse>());
      }
      for (const d of decisions.slice(0, 8)) {
        const r = await s.app.inject({
          method: 'POST',
          url: '/v1/reviews',
          payload: {
            decision_id: d.decision_id,
            outcome: 'confirmed',
            idempotency_key: `evt-${d.decision_id}`,
          },
        });
        expect(r.statusCode, r.body).toBe(201);
      }
      const slow = () => receiver.received.filter((r) => r.path === '/slow');
      // Kill the worker while a delivery is in flight (the receiver holds each for 300 ms).
      await waitFor(
        'a delivery in flight',
        async () => slow().length >= 3 && slow().some((r) => r.status === null),
        60_000,
        10,
      );
      await a.kill();
      const b = await worker();
      await waitFor('deliveries by the second worker', async () => slow().length >= 10, 60_000, 20);
      pgsrv.stop('fast');
      await sleep(1500);
      pgsrv.start();
      const total = 16 + 8;
      await waitFor(
        `every delivery delivered\n${logsOf().slice(-3000)}`,
        async () => {
          const [r] = await s.wired.db.query(
            `SELECT count(*) FILTER (WHERE state = 'delivered') AS delivered, count(*) AS n
             FROM webhook_deliveries WHERE subscription_id = $1`,
            [sub.id],
          );
          return Number(r!.n) === total && Number(r!.delivered) === total;
        },
        120_000,
        250,
      );
      const feed = await s.app.inject({ url: '/v1/events?limit=1000' });
      // The subscription's types only: a reviewed HOLD (an invoice duplicating an earlier case's)
      // also emits decision.confirmed, which this subscription does not receive.
      const subscribed = new Set([cloudEventType('decision.created'), cloudEventType('decision.reviewed')]);
      const events = feed
        .json<{ items: CloudEvent[] }>()
        .items.filter((e) => e.subject.startsWith('evt-') && subscribed.has(e.type));
      expect(events).toHaveLength(total);
      const firstById = new Map<string, CloudEvent>();
      for (const r of slow()) {
        const ok = verifyWebhook({
          secret: sub.secret,
          body: r.body,
          timestamp: String(r.headers['webhook-timestamp']),
          signature: String(r.headers['webhook-signature']),
        });
        expect(ok).toBe(true);
        const e = JSON.parse(r.body) as CloudEvent;
        expect(r.headers['webhook-id']).toBe(e.id);
        if (!firstById.has(e.id)) firstById.set(e.id, e);
      }
      // No event lost, none invented: after dedup by id the receiver holds exactly the outbox.
      expect([...firstById.keys()].sort()).toEqual(events.map((e) => e.id).sort());
      for (const key of new Set(events.map((e) => e.partitionkey))) {
        const seqs = [...firstById.values()]
          .filter((e) => e.partitionkey === key)
          .map((e) => Number(e.sequence));
        expect(seqs, key).toEqual([...seqs].sort((x, y) => x - y));
      }
      expect(b.log()).not.toMatch(/"level":60/);
    } finally {
      await receiver.close();
    }
  }, 240_000);
});
