/**
 * Group commit of score requests (inference/group-commit.ts) through `POST /v1/invoices/score`:
 * requests sent together are scored in fewer transactions than requests, each answered with the
 * decision that scoring them one by one in the order they arrived makes (byte for byte, with the
 * same clock and id sequence), duplicates sent together found, each stored and audited under
 * the key that sent it; a conflicting member answered 409 alone; a queued request past its
 * signal leaves the queue; a group's transaction aborted by one member's signal (deadline) stores
 * nothing and answers every member with that reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDeadline } from '../api/limits.js';
import { wire, type Wired } from '../bin/bootstrap.js';
import type { DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { withGroupCommit } from '../inference/group-commit.js';
import { withScore, type ScoringService } from '../inference/pipeline.js';
import type { TriageRepository } from '../store/index.js';
import { CLOCK, invoice, sequenceIds } from './batch-chunk-fixtures.js';
import { engines } from './fixtures.js';
import { dropSchema, startHarness, type Harness } from './harness.js';

const DEADLINE_MS = 3000;

/** Transactions of the scoring paths, counted, each able to wait (`hold`) before it runs. */
interface TxSpy {
  single: number;
  chunks: number;
  /** Each group transaction's outcome (its result or error), settled when it has ended. */
  chunkRuns: Promise<unknown>[];
  /** Awaited before a single score's transaction (with its options). */
  holdSingle?: (o: { signal?: AbortSignal } | undefined) => Promise<void>;
  /** Awaited inside a group's transaction before its work (with its options). */
  holdChunk?: (o: { signal?: AbortSignal } | undefined) => Promise<void>;
}

function spyTx(repo: TriageRepository): TxSpy {
  const spy: TxSpy = { single: 0, chunks: 0, chunkRuns: [] };
  const single = repo.withScoringLock.bind(repo);
  const chunk = repo.withChunkLock.bind(repo);
  repo.withScoringLock = async (t, keys, fn, o) => {
    spy.single++;
    await spy.holdSingle?.(o);
    return single(t, keys, fn, o);
  };
  repo.withChunkLock = (t, keys, fn, o) => {
    spy.chunks++;
    const run = chunk(
      t,
      keys,
      async (tx) => {
        await tx.sql.query('SELECT 1');
        await spy.holdChunk?.(o);
        return fn(tx);
      },
      o,
    );
    spy.chunkRuns.push(run.catch((e: unknown) => e));
    return run;
  };
  return spy;
}

/** Resolves when `signal` aborts, or after `ms` when it never does. */
const abortedOr = (signal: AbortSignal | undefined, ms: number) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/** Rows of a tenant's invoices, decisions and audit entries. */
async function counts(w: Wired, tenant: string): Promise<number[]> {
  const r = await w.db.query<{ i: number; d: number; a: number }>(
    `SELECT (SELECT count(*) FROM invoices WHERE tenant_id = $1)::int AS i,
            (SELECT count(*) FROM decisions WHERE tenant_id = $1)::int AS d,
            ((SELECT count(*) FROM audit_outbox WHERE tenant_id = $1)
              + (SELECT count(*) FROM audit_log WHERE tenant_id = $1))::int AS a`,
    [tenant],
  );
  return [r[0]!.i, r[0]!.d, r[0]!.a];
}

describe.each(engines('group'))('group commit of score requests on $name', ({ config }) => {
  const cfgOne = config();
  const ref = {} as { h: Harness; one: Wired; spy: TxSpy; arrived: string[]; groups: number[] };
  /** Resolves once `n` requests have reached the group-commit wrapper. */
  let arrivedAt: { n: number; then: () => void } | null = null;
  const allArrived = (n: number) =>
    new Promise<void>((resolve) => {
      arrivedAt = { n, then: resolve };
    });

  beforeAll(async () => {
    ref.arrived = [];
    ref.groups = [];
    const arrive = (s: ScoringService): ScoringService =>
      withScore(s, (inv, t, k, o) => {
        ref.arrived.push(inv.invoice_id);
        if (arrivedAt && ref.arrived.length >= arrivedAt.n) setImmediate(arrivedAt.then);
        return s.score(inv, t, k, o);
      });
    ref.h = await startHarness(config(), {
      clock: () => CLOCK,
      wire: { newId: sequenceIds() },
      app: (w) => ({
        scoring: withDeadline(
          arrive(withGroupCommit(w.scoring, { runners: 1, onGroup: (n) => ref.groups.push(n) })),
          DEADLINE_MS,
        ),
      }),
    });
    ref.spy = spyTx(ref.h.wired.repo);
    ref.one = await wire(cfgOne, { models: null, clock: () => CLOCK, newId: sequenceIds() });
  }, 300_000);
  afterAll(async () => {
    await ref.h.close();
    await ref.one.repo.close();
    await dropSchema(cfgOne);
  });

  /**
   * Sends `invoices` at once with alternating workflow keys, the first one alone until the
   * others have reached the wrapper (so they queue behind it).
   */
  async function sendTogether(invoices: readonly Invoice[]) {
    const { h, spy } = ref;
    ref.arrived.length = 0;
    const gate = allArrived(invoices.length);
    let first = true;
    spy.holdSingle = async () => {
      if (!first) return;
      first = false;
      await gate;
    };
    try {
      return await Promise.all(
        invoices.map((inv, i) =>
          h.call(i % 2 === 0 ? 'workflow' : 'workflow2', {
            method: 'POST',
            url: '/v1/invoices/score',
            payload: inv,
          }),
        ),
      );
    } finally {
      spy.holdSingle = undefined;
    }
  }

  it('scores requests sent together in fewer transactions, each as one by one in arrival order', async () => {
    const { h, spy, one } = ref;
    const burst = Array.from({ length: 20 }, (_, i) => invoice(i));
    // A duplicate of c-3 (another id) sent in the same burst.
    burst.push({ ...burst[3]!, invoice_id: 'dup-of-3' });
    const [s0, c0] = [spy.single, spy.chunks];
    ref.groups.length = 0;
    const res = await sendTogether(burst);
    for (const r of res) expect(r.statusCode, r.body).toBe(200);
    const transactions = spy.single - s0 + spy.chunks - c0;
    expect(transactions).toBeLessThan(burst.length / 2);
    expect(spy.single - s0).toBe(1);
    expect(ref.groups).toEqual([burst.length - 1]);

    // One by one, in the order the requests reached the service, on another store.
    const byId = new Map(burst.map((inv) => [inv.invoice_id, inv]));
    const single = new Map<string, DecisionResponse>();
    for (const id of ref.arrived)
      single.set(id, (await one.scoring.score(byId.get(id)!, 'default')).decision);
    for (const [i, r] of res.entries()) {
      expect(r.json(), burst[i]!.invoice_id).toEqual(single.get(burst[i]!.invoice_id));
      const rec = await h.wired.repo.getDecisionRecord('default', r.json<DecisionResponse>().decision_id);
      const oneRec = await one.repo.getDecisionRecord('default', r.json<DecisionResponse>().decision_id);
      expect(rec?.decision).toEqual(oneRec?.decision);
      // Stored and audited under the key that sent it.
      expect(rec?.scoredByKeyId).toBe(h.keyIds[i % 2 === 0 ? 'workflow' : 'workflow2']);
    }
    const dup = res[burst.length - 1]!.json<DecisionResponse>();
    const later =
      ref.arrived.indexOf('dup-of-3') > ref.arrived.indexOf('c-3') ? dup : res[3]!.json<DecisionResponse>();
    expect(later.reasons.map((r) => r.code)).toContain('DUPLICATE_SAME_NUMBER');
    const audited = await h.wired.db.query<{ subject_id: string; actor_key_id: string | null }>(
      `SELECT subject_id, actor_key_id FROM audit_outbox WHERE tenant_id = 'default'
       UNION ALL SELECT subject_id, actor_key_id FROM audit_log WHERE tenant_id = 'default'`,
    );
    for (const [i, r] of res.entries())
      expect(audited.filter((a) => a.subject_id === r.json<DecisionResponse>().decision_id)).toEqual([
        {
          subject_id: r.json<DecisionResponse>().decision_id,
          actor_key_id: h.keyIds[i % 2 === 0 ? 'workflow' : 'workflow2'],
        },
      ]);
    expect((await h.wired.repo.audit.verify('default')).ok).toBe(true);
  }, 240_000);

  it('answers a conflicting member 409 and a re-sent one as a replay, the rest of its group scored', async () => {
    const { h, spy } = ref;
    const stored = invoice(40);
    await h.scoreOk(stored);
    const burst = [
      invoice(41),
      invoice(42),
      {
        ...stored,
        total_cents: stored.total_cents + 100,
        lines: stored.lines.map((l, k) =>
          k === 0
            ? { ...l, amount_cents: l.amount_cents + 100, unit_price_cents: l.unit_price_cents + 100 }
            : l,
        ),
      },
      invoice(43),
      stored,
      invoice(44),
    ];
    const c0 = spy.chunks;
    ref.groups.length = 0;
    const res = await sendTogether(burst);
    expect(ref.groups).toEqual([burst.length - 1]);
    expect(spy.chunks - c0).toBeGreaterThan(0);
    expect(res.map((r) => r.statusCode)).toEqual([200, 200, 409, 200, 200, 200]);
    expect(res[2]!.json()).toMatchObject({ code: 'TRIAGE_INVOICE_CONFLICT' });
    expect(res[4]!.headers['idempotent-replayed']).toBe('true');
    for (const i of [0, 1, 3, 5]) expect(res[i]!.headers['idempotent-replayed']).toBeUndefined();
    const again = await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: burst[1] });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(res[1]!.json());
  }, 120_000);

  it('a queued request whose signal aborts leaves the queue at once and stores nothing; the others are scored', async () => {
    const { h, spy } = ref;
    const groups: number[] = [];
    const gc = withGroupCommit(h.wired.scoring, { runners: 1, onGroup: (n) => groups.push(n) });
    const stopped = invoice(51);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    spy.holdSingle = async () => {
      spy.holdSingle = undefined;
      await held;
    };
    const ctl = new AbortController();
    const first = gc.score(invoice(50), 'default', null);
    await new Promise((r) => setTimeout(r, 50));
    const queued = gc.score(stopped, 'default', null, { signal: ctl.signal });
    const third = gc.score(invoice(52), 'default', null);
    ctl.abort(new Error('past its deadline'));
    await expect(queued).rejects.toThrow('past its deadline');
    release();
    expect((await first).created).toBe(true);
    expect((await third).created).toBe(true);
    expect(groups).toEqual([1]);
    expect(await h.wired.repo.findByInvoiceId('default', stopped.invoice_id)).toBeNull();
  }, 60_000);

  it("a group's transaction stopped at a member's deadline stores nothing and answers every member 503", async () => {
    const { h, spy } = ref;
    const burst = [60, 61, 62, 63].map((i) => invoice(i));
    const before = await counts(h.wired, 'default');
    const c0 = spy.chunks;
    spy.holdChunk = async (o) => {
      spy.holdChunk = undefined;
      await abortedOr(o?.signal, DEADLINE_MS + 2500);
    };
    ref.groups.length = 0;
    const res = await sendTogether(burst);
    expect(ref.groups).toEqual([3]);
    expect(spy.chunks - c0).toBeGreaterThan(0);
    expect(res[0]!.statusCode).toBe(200);
    for (const r of res.slice(1)) {
      expect(r).toBeProblem(503, 'TRIAGE_DEADLINE_EXCEEDED');
      expect(r.headers['retry-after']).toBeDefined();
    }
    // The group's transaction has ended (rolled back at the deadline) when its promise settles.
    expect(spy.chunkRuns).toHaveLength(c0 + 1);
    expect(await spy.chunkRuns[c0]).toMatchObject({ code: 'TRIAGE_DEADLINE_EXCEEDED' });
    expect(await counts(h.wired, 'default')).toEqual(before.map((n) => n + 1));
    for (const inv of burst.slice(1))
      expect(await h.wired.repo.findByInvoiceId('default', inv.invoice_id)).toBeNull();
    for (const inv of burst.slice(1)) {
      const retry = await h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: inv });
      expect(retry.statusCode, retry.body).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
    }
    expect((await h.wired.repo.audit.verify('default')).ok).toBe(true);
  }, 60_000);
});
