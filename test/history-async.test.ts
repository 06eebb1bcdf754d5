/**
 * Asynchronous history import (POST /v1/history with `Prefer: respond-async`): 202 with the
 * import's Location once the body is validated and staged, progress on
 * GET /v1/history/imports/{id}, the records then found by the duplicate search; bad records
 * refused as the synchronous form refuses them, nothing staged; Idempotency-Key; tenant scope;
 * and an import interrupted mid-chunk resumes on the next start with every record imported once.
 * PGlite with the in-process queue; PostgreSQL with BullMQ on Redis (TEST_REDIS_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import {
  createBullQueue,
  createInProcessQueue,
  createProcessors,
  createRecoverySweep,
  startBullWorkers,
  trainingUnavailable,
  type InProcessQueue,
  type JobQueue,
  type RunningWorkers,
} from '../jobs/index.js';
import type { HistoryStore } from '../store/history.js';
import type { Wired } from '../bin/bootstrap.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';
import { deleteRedisPrefix, TEST_REDIS_URL, uniquePrefix, waitFor } from './jobs-harness.js';
import './problem-matcher.js';

/** Records of the large import. */
const N = 2000;
/** Invoices per chunk of the import's job. */
const CHUNK = 50;

function past(tag: string, i: number, over: Partial<Invoice> = {}): Invoice {
  const { due_date: _none, ...inv } = makeInvoice({
    invoice_id: `${tag}-${i}`,
    invoice_number: `${tag.toUpperCase()}-${100_000 + i}`,
    vendor: { id: `V-${i % 7}`, name: `Vendor ${i % 7} Medical Supply` },
    invoice_date: `2024-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}`,
    ...over,
  } as Partial<Invoice>);
  inv.lines[0] = { ...inv.lines[0]!, unit_price_cents: 10_000 + i, amount_cents: 10_000 + i };
  return inv;
}
const ndjson = (invs: unknown[]): string => invs.map((x) => JSON.stringify(x)).join('\n') + '\n';

/** Processors over the wired store; `history` replaces the history store (fault injection). */
function processorsOf(wired: Wired, history: HistoryStore = wired.repo.history) {
  return createProcessors({
    scoring: wired.scoring,
    batches: wired.batches,
    train: trainingUnavailable,
    history: { history, imports: wired.repo.historyImports },
  });
}

interface ImportBody {
  import_id: string;
  state: string;
  records: number;
  processed: number;
  imported: number;
  skipped: number;
  refused: number;
  started_at: string | null;
  finished_at: string | null;
}

const setups = engines('histasync').flatMap((e) => {
  if (e.name === 'pglite') return [{ ...e, bull: false }];
  return TEST_REDIS_URL ? [{ ...e, bull: true }] : [];
});

describe.each(setups)('asynchronous history import on $name', ({ config, bull }) => {
  const cfg = config();
  const prefix = uniquePrefix('histasync');
  let h: Harness;
  let queue: JobQueue;
  let workers: RunningWorkers | null = null;
  beforeAll(async () => {
    h = await startHarness(cfg, {
      app: (wired) => {
        queue = bull
          ? createBullQueue({ redisUrl: TEST_REDIS_URL!, prefix, jobOptions: { backoff: { delayMs: 50 } } })
          : createInProcessQueue({
              processors: processorsOf(wired),
              jobOptions: { backoff: { delayMs: 50 } },
            });
        if (bull)
          workers = startBullWorkers({ redisUrl: TEST_REDIS_URL!, prefix, processors: processorsOf(wired) });
        return {
          history: { chunkSize: CHUNK, bodyLimitBytes: 64 * 1024 * 1024 },
          historyImports: { imports: wired.repo.historyImports, jobs: queue },
        };
      },
    });
  });
  afterAll(async () => {
    await workers?.close();
    await queue?.close();
    await h?.close();
    if (bull) await deleteRedisPrefix(TEST_REDIS_URL!, prefix);
  });

  const postAsync = (
    body: string,
    headers: Record<string, string> = {},
    key: 'admin' | 'other_admin' = 'admin',
  ) =>
    h.call(key, {
      method: 'POST',
      url: '/v1/history',
      headers: { 'content-type': 'application/x-ndjson', prefer: 'respond-async', ...headers },
      payload: body,
    });
  const status = async (id: string, key: 'admin' | 'other_admin' | 'workflow' = 'admin') =>
    h.call(key, { method: 'GET', url: `/v1/history/imports/${id}` });
  const count = async (sql: string): Promise<number> =>
    Number((await h.wired.repo.transaction((tx) => tx.query<{ n: number }>(sql)))[0]!.n);

  it(`answers 202 at once for ${N} records, shows progress, and every record is then a duplicate candidate`, async () => {
    const invs = Array.from({ length: N }, (_, i) => past('big', i));
    const t0 = performance.now();
    const r = await postAsync(ndjson(invs));
    const acceptMs = performance.now() - t0;
    expect(r.statusCode, r.body).toBe(202);
    expect(r.headers['preference-applied']).toBe('respond-async');
    const body = r.json<ImportBody>();
    expect(r.headers.location).toBe(`/v1/history/imports/${body.import_id}`);
    expect(body).toMatchObject({ records: N, imported: 0 });
    expect(['queued', 'running']).toContain(body.state);
    const seen: number[] = [];
    const done = await waitFor(
      'the import to finish',
      async () => {
        const s = (await status(body.import_id)).json<ImportBody>();
        seen.push(s.processed);
        return s.state === 'done' ? s : null;
      },
      300_000,
      25,
    );
    expect(done).toMatchObject({ records: N, processed: N, imported: N, skipped: 0, refused: 0 });
    expect(done.started_at).not.toBeNull();
    expect(done.finished_at).not.toBeNull();
    // Progress was observed part-way, and never went back.
    expect(seen.some((p) => p > 0 && p < N)).toBe(true);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(acceptMs).toBeLessThan(30_000);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM invoices WHERE tenant_id = 'default' AND invoice_id LIKE 'big-%'`,
      ),
    ).toBe(N);
    // Staged records are gone once done; the import is audited at both ends, each chunk once.
    expect(await count(`SELECT count(*)::int AS n FROM history_import_records`)).toBe(0);
    const audit = await h.wired.repo.audit.list('default');
    expect(audit.filter((a) => a.kind === 'history.import_accepted')).toHaveLength(1);
    expect(audit.filter((a) => a.kind === 'history.import_finished')).toHaveLength(1);
    expect(audit.filter((a) => a.kind === 'history.imported')).toHaveLength(N / CHUNK);
    expect((await h.wired.repo.audit.verify('default')).ok).toBe(true);
    // A later duplicate of an imported invoice finds it among the candidates.
    const d = await h.scoreOk(past('big', 1234, { invoice_id: 'later-dup-1234' }));
    const match = d.duplicates.find((x) => x.invoice_id === 'big-1234');
    expect(match?.earlier_approval).toBe('history');
  }, 400_000);

  it('refuses bad records with the messages of the synchronous form and stages nothing', async () => {
    const invs = [past('bad', 0), past('bad', 1), { ...past('bad', 2), total_cents: 'lots' }, past('bad', 3)];
    const body = `${ndjson(invs.slice(0, 2))}\n${ndjson(invs.slice(2))}`;
    const before = await count(`SELECT count(*)::int AS n FROM history_imports`);
    const a = await postAsync(body);
    expect(a).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/2/total_cents');
    const s = await h.call('admin', {
      method: 'POST',
      url: '/v1/history',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: body,
    });
    expect(s).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/2/total_cents');
    const [ap, sp] = [
      a.json<{ detail: string; errors: unknown }>(),
      s.json<{ detail: string; errors: unknown }>(),
    ];
    expect(ap.errors).toEqual(sp.errors);
    expect(ap.detail).toMatch(/^\/2 \(line 4\)/);
    expect(sp.detail.startsWith(ap.detail)).toBe(true);
    expect(await count(`SELECT count(*)::int AS n FROM history_imports`)).toBe(before);
    // An id repeated with other content is refused across chunks too (the sync form 409s there).
    const far = Array.from({ length: CHUNK + 1 }, (_, i) => past('rep', i));
    far.push({ ...past('rep', CHUNK + 1), invoice_id: 'rep-3' });
    const rep = await postAsync(ndjson(far));
    expect(rep).toBeProblem(400, 'TRIAGE_INPUT_INVALID', `/${CHUNK + 1}/invoice_id`);
    expect(await count(`SELECT count(*)::int AS n FROM history_imports`)).toBe(before);
  });

  it('Idempotency-Key: the same records answer the same import; other records are a 409', async () => {
    const invs = [past('idem', 0), past('idem', 1)];
    const r1 = await postAsync(ndjson(invs), { 'idempotency-key': 'hist-idem-1' });
    expect(r1.statusCode).toBe(202);
    const r2 = await postAsync(ndjson(invs), { 'idempotency-key': 'hist-idem-1' });
    expect(r2.statusCode).toBe(202);
    expect(r2.headers['idempotent-replayed']).toBe('true');
    expect(r2.json<ImportBody>().import_id).toBe(r1.json<ImportBody>().import_id);
    const r3 = await postAsync(ndjson([past('idem', 2)]), { 'idempotency-key': 'hist-idem-1' });
    expect(r3).toBeProblem(409, 'TRIAGE_IDEMPOTENCY_CONFLICT', '/headers/idempotency-key');
    const bad = await postAsync(ndjson(invs), { 'idempotency-key': 'has space' });
    expect(bad.statusCode).toBe(400);
    await waitFor(
      'the import',
      async () => (await status(r1.json<ImportBody>().import_id)).json<ImportBody>().state === 'done',
    );
  });

  it("is read by the tenant's admins only: 404 for another tenant, 403 for a workflow key", async () => {
    const r = await postAsync(ndjson([past('scope', 0)]));
    const id = r.json<ImportBody>().import_id;
    expect((await status(id)).statusCode).toBe(200);
    expect(await status(id, 'other_admin')).toBeProblem(404, 'TRIAGE_HISTORY_IMPORT_NOT_FOUND');
    expect(await status(id, 'workflow')).toBeProblem(403, 'TRIAGE_FORBIDDEN');
    expect(await status('00000000-0000-4000-8000-000000000000')).toBeProblem(
      404,
      'TRIAGE_HISTORY_IMPORT_NOT_FOUND',
    );
  });

  it('without Prefer: respond-async the import still runs in the request', async () => {
    const r = await h.call('admin', {
      method: 'POST',
      url: '/v1/history',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: ndjson([past('sync', 0)]),
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['preference-applied']).toBeUndefined();
    expect(r.json()).toEqual({ records: 1, imported: 1, skipped: 0 });
  });

  it('a queue closed mid-import stops it between chunks at once; the next start resumes it', async () => {
    const total = 8 * CHUNK;
    const { repo } = h.wired;
    const imp = await repo.historyImports.create({
      tenantId: 'other',
      submittedByKeyId: h.keyIds.other_admin,
      idempotencyKey: null,
      requestSha256: 'y'.repeat(64),
      chunkSize: CHUNK,
      records: Array.from({ length: total }, (_, i) => ({ index: i, text: JSON.stringify(past('stop', i)) })),
    });
    const id = imp.import.id;
    const first = createInProcessQueue({ processors: processorsOf(h.wired), jobOptions: { attempts: 1 } });
    await first.add('import-history', { tenantId: 'other', importId: id }, { jobId: 'stop-first' });
    await waitFor(
      'a chunk committed',
      async () => ((await repo.historyImports.get('other', id))?.nextIndex ?? 0) > 0,
      120_000,
      10,
    );
    await first.close();
    const mid = (await repo.historyImports.get('other', id))!;
    expect(mid.state).toBe('running');
    expect(mid.nextIndex).toBeLessThan(total);
    const next = createInProcessQueue({ processors: processorsOf(h.wired) });
    const sweep = createRecoverySweep({
      queue: next,
      batches: h.wired.batches,
      imports: repo.historyImports,
      graceMs: 0,
    });
    await sweep.runOnce();
    await next.drained();
    await next.close();
    expect(await repo.historyImports.get('other', id)).toMatchObject({
      state: 'done',
      imported: total,
      skipped: 0,
    });
    expect(
      await count(
        `SELECT count(*)::int AS n FROM invoices WHERE tenant_id = 'other' AND invoice_id LIKE 'stop-%'`,
      ),
    ).toBe(total);
  }, 300_000);

  it('an import interrupted inside a chunk resumes on the next start: every record imported once', async () => {
    const total = 6 * CHUNK + 7;
    const invs = Array.from({ length: total }, (_, i) => past('crash', i));
    const { repo } = h.wired;
    // The first service: its history store dies inside the third chunk's transaction, after the
    // chunk's rows and progress were written and before the commit.
    let chunks = 0;
    const dying: HistoryStore = {
      ...repo.history,
      importChunk: (t, records, actor, within) =>
        repo.history.importChunk(t, records, actor, async (tx, out) => {
          await within?.(tx, out);
          if (++chunks === 3) throw new Error('process killed mid-chunk');
        }),
    };
    // Staged as the route stages it; no job runs it until the first service's queue does.
    const imp = await repo.historyImports.create({
      tenantId: 'other',
      submittedByKeyId: h.keyIds.other_admin,
      idempotencyKey: null,
      requestSha256: 'x'.repeat(64),
      chunkSize: CHUNK,
      records: invs.map((inv, i) => ({ index: i, line: i + 1, text: JSON.stringify(inv) })),
    });
    const first: InProcessQueue = createInProcessQueue({
      processors: processorsOf(h.wired, dying),
      jobOptions: { attempts: 1 },
    });
    await first.add('import-history', { tenantId: 'other', importId: imp.import.id }, { jobId: 'first' });
    await first.drained();
    await first.close();
    const mid = await repo.historyImports.get('other', imp.import.id);
    expect(mid).toMatchObject({ state: 'running', nextIndex: 2 * CHUNK, imported: 2 * CHUNK });
    const crash = `SELECT count(*)::int AS n FROM invoices WHERE tenant_id = 'other' AND invoice_id LIKE 'crash-%'`;
    expect(await count(crash)).toBe(2 * CHUNK);
    // The next start: a new queue and its recovery sweep find the import and run it to the end.
    const next = createInProcessQueue({ processors: processorsOf(h.wired) });
    const sweep = createRecoverySweep({
      queue: next,
      batches: h.wired.batches,
      imports: repo.historyImports,
      graceMs: 0,
    });
    expect((await sweep.runOnce()).requeued).toBeGreaterThanOrEqual(1);
    await next.drained();
    await next.close();
    const end = await repo.historyImports.get('other', imp.import.id);
    expect(end).toMatchObject({ state: 'done', nextIndex: total, imported: total, skipped: 0, refused: 0 });
    expect(await count(crash)).toBe(total);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM (SELECT invoice_id FROM invoices WHERE tenant_id = 'other'
           GROUP BY invoice_id HAVING count(*) > 1) d`,
      ),
    ).toBe(0);
    expect((await repo.audit.verify('other')).ok).toBe(true);
  }, 300_000);
});
