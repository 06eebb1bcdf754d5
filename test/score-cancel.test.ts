/**
 * Scoring stopped at its deadline (api/limits.ts `withDeadline`, the `signal` of
 * `ScoringService.score`): the transaction rolls back at its next statement, so nothing of the
 * invoice is stored (no decision without its audit entry, no invoice id answering with nothing)
 * and a retry with the same invoice id scores it again. And `/healthz` answers while a scoring
 * transaction is open on the embedded engine (it does not queue a statement behind it), while
 * `/readyz` reports the store busy after its time limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDeadline } from '../api/limits.js';
import type { TriageRepository } from '../store/index.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

const DEADLINE_MS = 3000;

/** What a scored invoice writes in tenant `t`, counted per table in one statement. */
async function written(repo: TriageRepository, t: string): Promise<Record<string, number>> {
  const rows = await repo.transaction((tx) =>
    tx.query<Record<string, string | number>>(
      `SELECT (SELECT count(*) FROM invoices WHERE tenant_id = $1) AS invoices,
              (SELECT count(*) FROM invoice_lines l JOIN invoices i ON i.pk = l.invoice_pk
                WHERE i.tenant_id = $1) AS invoice_lines,
              (SELECT count(*) FROM invoice_line_keys k JOIN invoices i ON i.pk = k.invoice_pk
                WHERE i.tenant_id = $1) AS invoice_line_keys,
              (SELECT count(*) FROM decisions WHERE tenant_id = $1) AS decisions,
              (SELECT count(*) FROM audit_outbox WHERE tenant_id = $1)
                + (SELECT count(*) FROM audit_log WHERE tenant_id = $1) AS audit,
              (SELECT count(*) FROM events WHERE tenant_id = $1) AS events,
              (SELECT coalesce(sum(lines), 0) FROM vendor_code_counts WHERE tenant_id = $1) AS code_lines,
              (SELECT coalesce(sum(invoices), 0) FROM tenant_invoice_counts WHERE tenant_id = $1) AS counted`,
      [t],
    ),
  );
  return Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)]));
}

/**
 * Replaces the repository's `withScoringLock` (the scoring service calls it through the same
 * object) so that `beforeInsert` runs inside the transaction, after the candidate search and
 * before the write, with the transaction's options; returns the restore function and the
 * transactions' outcomes.
 */
function interceptScoringTx(
  repo: TriageRepository,
  beforeInsert: (o: { signal?: AbortSignal } | undefined) => Promise<void> | void,
): { restore(): void; runs: Promise<unknown>[] } {
  const original = repo.withScoringLock;
  const runs: Promise<unknown>[] = [];
  repo.withScoringLock = (tenantId, keys, fn, o) => {
    const run = original(
      tenantId,
      keys,
      (tx) =>
        fn({
          ...tx,
          insert: async (...a) => {
            await beforeInsert(o);
            return tx.insert(...a);
          },
        }),
      o,
    );
    runs.push(run.catch((e: unknown) => e));
    return run;
  };
  return { restore: () => (repo.withScoringLock = original), runs };
}

/** Resolves when `signal` aborts, or after `ms` when it never does (no signal handed down). */
const abortedOr = (signal: AbortSignal | undefined, ms: number) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

describe.each(engines('cancel'))('scoring cancelled at its deadline on $name', ({ name, config }) => {
  const ref = {} as { h: Harness };
  beforeAll(async () => {
    ref.h = await startHarness(config(), {
      app: (w) => ({ scoring: withDeadline(w.scoring, DEADLINE_MS) }),
    });
  }, 120_000);
  afterAll(async () => {
    await ref.h.close();
  });

  it('an abort in the middle of the write rolls back everything; the retry scores again', async () => {
    const { h } = ref;
    const tenant = `cancel-${name}`;
    const inv = makeInvoice({ invoice_id: 'cancel-mid-write', vendor: { id: 'V-CX1', name: 'Cancel One' } });
    const before = await written(h.wired.repo, tenant);
    const stop = new AbortController();
    // Aborted once the write's first statement (invoice, lines and decision) is under way:
    // the audit, event and vendor-statistics statements after it must not run, nor the commit.
    const spy = interceptScoringTx(h.wired.repo, () =>
      queueMicrotask(() => stop.abort(new Error('stopped'))),
    );
    try {
      await expect(h.wired.scoring.score(inv, tenant, null, { signal: stop.signal })).rejects.toThrow(
        'stopped',
      );
    } finally {
      spy.restore();
    }
    expect(spy.runs).toHaveLength(1);
    expect(await spy.runs[0]).toMatchObject({ message: 'stopped' });
    expect(await written(h.wired.repo, tenant)).toEqual(before);
    expect(await h.wired.repo.findByInvoiceId(tenant, inv.invoice_id)).toBeNull();

    const retry = await h.wired.scoring.score(inv, tenant);
    expect(retry.created).toBe(true);
    const after = await written(h.wired.repo, tenant);
    expect(after).toMatchObject({
      invoices: before.invoices! + 1,
      invoice_lines: before.invoice_lines! + 2,
      invoice_line_keys: before.invoice_line_keys! + 1,
      decisions: before.decisions! + 1,
      audit: before.audit! + 1,
      events: before.events! + 1,
      code_lines: before.code_lines! + 2,
    });
    expect((await h.wired.scoring.score(inv, tenant)).decision).toEqual(retry.decision);
    expect((await h.wired.repo.audit.verify(tenant)).ok).toBe(true);
  });

  it('a 503 at the deadline leaves no rows, and the retry with the same invoice id scores it', async () => {
    const { h } = ref;
    const inv = makeInvoice({ invoice_id: 'cancel-deadline', vendor: { id: 'V-CX2', name: 'Cancel Two' } });
    const before = await written(h.wired.repo, 'default');
    // The transaction stays open until the deadline passes (or 4 s, when no signal reaches it).
    const spy = interceptScoringTx(h.wired.repo, (o) => abortedOr(o?.signal, DEADLINE_MS + 2500));
    let first;
    try {
      first = await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: inv });
    } finally {
      spy.restore();
    }
    expect(first).toBeProblem(503, 'TRIAGE_DEADLINE_EXCEEDED');
    expect(first.headers['retry-after']).toBe('5');
    // The scoring transaction has ended (rolled back) by the time its promise settles.
    expect(spy.runs).toHaveLength(1);
    expect(await spy.runs[0]).toMatchObject({ code: 'TRIAGE_DEADLINE_EXCEEDED' });
    expect(await written(h.wired.repo, 'default')).toEqual(before);

    const retry = await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: inv });
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await written(h.wired.repo, 'default')).toMatchObject({
      invoices: before.invoices! + 1,
      decisions: before.decisions! + 1,
      audit: before.audit! + 1,
    });
    const replay = await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: inv });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(retry.json());
  });

  it('/healthz answers while a scoring transaction is open; /readyz says when the store is busy', async () => {
    const { h } = ref;
    const inv = makeInvoice({ invoice_id: 'cancel-health', vendor: { id: 'V-CX3', name: 'Cancel Three' } });
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const spy = interceptScoringTx(h.wired.repo, async () => {
      entered();
      await gate;
    });
    let scored = false;
    const scoring = withDeadline(h.wired.scoring, 60_000)
      .score(inv, 'default')
      .finally(() => (scored = true));
    try {
      await inside;
      const health = h.app.inject({ method: 'GET', url: '/healthz' });
      const answer = await Promise.race([
        health,
        new Promise<'no answer'>((r) => setTimeout(() => r('no answer'), 5000)),
      ]);
      expect(answer === 'no answer' ? answer : answer.statusCode).toBe(200);
      expect(scored).toBe(false);
      if (answer !== 'no answer')
        expect(answer.json()).toMatchObject({
          status: 'ok',
          store: name,
          store_state: name === 'pglite' ? 'busy' : 'ok',
        });
      const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
      expect(scored).toBe(false);
      if (name === 'pglite') {
        expect(ready).toBeProblem(503, 'TRIAGE_STORE_UNAVAILABLE');
        expect(ready.json()).toMatchObject({ checks: { store: 'busy', queue: 'not_used' } });
      } else expect(ready.statusCode).toBe(200);
    } finally {
      release();
      spy.restore();
    }
    expect((await scoring).created).toBe(true);
    // Afterwards (the audit link may still run after the commit: a short wait, within the limit).
    expect((await h.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({
      status: 'ready',
      checks: { store: 'ok' },
    });
  }, 30_000);
});
