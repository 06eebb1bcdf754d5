/**
 * Batch scoring in the deployed topology (`npm run bench -- --only batch-workers`): N
 * `bin/worker.ts` processes take one stored batch's `score-batch` chunk jobs from BullMQ on Redis
 * and score them against PostgreSQL. Each run uses a fresh schema (migrated with the measured
 * checkout's own migrations) and queue prefix; the workers
 * first score a warm-up batch (another tenant), then the measured batch is enqueued and timed
 * from the enqueue (the idle workers take the first job at once) until the batch is complete.
 * The runs' decisions are compared: every item scored once, and the same route, reasons and
 * duplicates whatever the number of workers.
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import Table from 'cli-table3';
import pg from 'pg';
import type { Invoice } from '../core/invoice.js';
import { createBullQueue, enqueueBatch } from '../jobs/index.js';
import { createBatchRepository } from '../store/batches.js';
import { loadMigrations, migrate, openPostgres } from '../store/index.js';
import { startWorker, type WorkerProcess } from '../test/faults-services.js';
import { deleteRedisPrefix } from '../test/jobs-harness.js';
import { batchInvoices } from './batch.js';
import { chunkJobSpans, chunkJobsInFlight, type ChunkJobsInFlight } from './chunk-jobs-in-flight.js';
import { backendCpuMs, BENCH_TRACKER, trackBackendCpu } from './pg-cpu.js';
import { trackBackendStates, trackLockWaits } from './pg-waits.js';
import { fmt, msSince } from './stats.js';

/** What one run of {@link runWorkerBatch} measured. */
export interface WorkerBatchRun {
  /** The checkout whose `bin/worker.ts` ran. */
  tree: string;
  /** `NODE_OPTIONS` of the workers ('' for none). */
  nodeOptions: string;
  workers: number;
  /** `score-batch` jobs in flight per worker (`WORKER_CONCURRENCY`). */
  concurrency: number;
  invoices: number;
  lines: number;
  chunks: number;
  seconds: number;
  linesPerSecond: number;
  /** CPU of all worker processes over the run per invoice, ms (from /proc/PID/stat, 10 ms ticks). */
  nodeCpuMsPerInvoice: number;
  /** Each worker process's share of the workers' CPU over the run (both near 1 / workers when the jobs spread). */
  workerCpuShares: number[];
  /** CPU of the database's client backends per invoice, ms. */
  pgCpuMsPerInvoice: number;
  /** Node and PostgreSQL CPU over the wall time (at most the machine's cores). */
  coresBusy: number;
  /** The batch's chunk jobs while they ran ({@link chunkJobsInFlight}). */
  inFlight: ChunkJobsInFlight;
  /** The database's client backends per state, mean over the run (bench/pg-waits.ts). */
  backendStates: Record<string, number>;
  /**
   * Backends waiting for a row or table lock, mean over the run, by the table locked
   * (bench/pg-waits.ts {@link trackLockWaits}).
   */
  lockWaitsByTable: Record<string, number>;
  /** 1-minute load average at the end of the run. */
  load1: number;
  /** Decisions stored for the batch's invoices (one per invoice when correct). */
  decisions: number;
  /** Resubmitted invoices of the batch ({@link batchWithResubmissions}). */
  resubmissions: number;
  /** Resubmissions whose decision names their original among its duplicates with a `DUPLICATE_` reason. */
  resubmissionsFound: number;
  /** sha256 (16 hex) of every invoice's route, queue and reason codes (distinct, sorted). */
  routesDigest: string;
  /**
   * sha256 (16 hex) of the invoice ids each decision names as duplicates among its own vendor's
   * invoices (sorted): what one job scoring a vendor's invoices in batch order decides, whatever
   * the number of workers.
   */
  sameVendorDigest: string;
  /**
   * sha256 (16 hex) of the same plus both scores, the priority and the invoice ids named as
   * duplicates (sorted). These may differ between runs: invoices of different vendors are
   * scored in any order across jobs, so the earlier invoices of other vendors a kNN search finds
   * differ with the timing.
   */
  scoresDigest: string;
  /** Per invoice id, what {@link WorkerBatchRun.routesDigest} digests (to name the invoices two runs' routes differ on). */
  routes: Record<string, string>;
}

/** Options of {@link runWorkerBatch}. */
export interface WorkerBatchOptions {
  connectionString: string;
  redisUrl: string;
  /** A schema of its own, created and dropped by the run. */
  schema: string;
  /** Checkout whose `bin/worker.ts` runs (with tsx). */
  tree: string;
  /** `NODE_OPTIONS` of the worker processes (V8 flags such as `--max-semi-space-size=64`); default none. */
  nodeOptions?: string;
  workers: number;
  concurrency: number;
  invoices: number;
  chunkSize: number;
  /**
   * Invoices per worker of the warm-up batch each run scores first (JIT, memos, each
   * connection's prepared statements), in chunks of 25 so that every worker takes some; default 200.
   */
  warmInvoices?: number;
  invoiceOf: (i: number, tag: string) => Invoice;
}

/** Every this many invoices, the batch resubmits an earlier invoice of the batch (a duplicate). */
const RESUBMIT_EVERY = 25;

/**
 * The bench's batch ({@link batchInvoices}) with duplicates in it: invoice `i` with
 * `i % 25 === 24` is invoice `i - 12` sent again under its own id, with the same invoice number
 * (even `i / 25`) or the number without its first hyphen.
 */
export function batchWithResubmissions(
  n: number,
  tag: string,
  invoiceOf: (i: number, tag: string) => Invoice,
): Invoice[] {
  const invoices = batchInvoices(n, tag, invoiceOf);
  return invoices.map((inv, i) => {
    if (i % RESUBMIT_EVERY !== RESUBMIT_EVERY - 1) return inv;
    const original = invoices[i - 12]!;
    const sameNumber = Math.floor(i / RESUBMIT_EVERY) % 2 === 0;
    return {
      ...original,
      invoice_id: inv.invoice_id,
      invoice_number: sameNumber ? original.invoice_number : original.invoice_number.replace('-', ''),
    };
  });
}

async function waitUntil(what: string, f: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** CPU ms used so far by each of the processes `pids` (and their threads). */
function processesCpuMs(pids: readonly number[]): number[] {
  return pids.map((pid) => backendCpuMs(pid) ?? Number.NaN);
}

/**
 * One run: starts `workers` worker processes on a fresh schema and queue prefix, scores a
 * warm-up batch, then measures the batch of `invoices` invoices ({@link batchWithResubmissions}).
 * Drops the schema and the queue's Redis keys after.
 * @throws Error when a worker does not start, or the batch is not complete within 10 minutes.
 */
export async function runWorkerBatch(o: WorkerBatchOptions): Promise<WorkerBatchRun> {
  // The schema gets the measured tree's migrations, not the bench process's (an A/B of a migration).
  const db = await openPostgres({ connectionString: o.connectionString, schema: o.schema });
  await migrate(db, loadMigrations(join(resolve(o.tree), 'store', 'migrations'))).catch(
    async (e: unknown) => {
      await db.close();
      throw e;
    },
  );
  const batches = createBatchRepository(db);
  const prefix = `bench-bw-${o.schema}`;
  const producer = createBullQueue({ redisUrl: o.redisUrl, prefix });
  // Polls completion on a connection the CPU and state samplers leave out.
  const poll = new pg.Client({
    connectionString: o.connectionString,
    application_name: BENCH_TRACKER,
    options: `-c search_path=${o.schema},public`,
  });
  await poll.connect();
  const workers: WorkerProcess[] = [];
  const submit = async (tenantId: string, invoices: Invoice[], chunkSize = o.chunkSize) => {
    const { batch, chunks } = await batches.create({
      tenantId,
      idempotencyKey: null,
      submittedByKeyId: null,
      requestSha256: '0'.repeat(64),
      chunkSize,
      invoices,
    });
    return { batchId: batch.id, chunks, tenantId };
  };
  const complete = async (b: { batchId: string }): Promise<void> =>
    waitUntil(
      `batch ${b.batchId}`,
      async () => {
        const { rows } = await poll.query<{ done: boolean }>(
          'SELECT completed_at IS NOT NULL AS done FROM batches WHERE id = $1',
          [b.batchId],
        );
        return rows[0]?.done === true;
      },
      600_000,
    );
  try {
    const env = {
      DATABASE_URL: o.connectionString,
      DATABASE_SCHEMA: o.schema,
      REDIS_URL: o.redisUrl,
      QUEUE_PREFIX: prefix,
      WORKER_CONCURRENCY: String(o.concurrency),
      RECOVERY_SWEEP_MS: '3600000',
      LOG_LEVEL: 'info',
      ...(o.nodeOptions ? { NODE_OPTIONS: o.nodeOptions } : {}),
    };
    workers.push(
      ...(await Promise.all(Array.from({ length: o.workers }, () => startWorker(env, o.tree, 600_000)))),
    );
    const warm = await submit(
      'bench-warm',
      batchInvoices((o.warmInvoices ?? 200) * o.workers, 'warm', o.invoiceOf),
      25,
    );
    await enqueueBatch(producer, warm, warm.chunks);
    await complete(warm);

    const invoices = batchWithResubmissions(o.invoices, 'bw', o.invoiceOf);
    const b = await submit('bench-batch', invoices);
    const pids = workers.map((w) => w.child.pid!);
    const pgCpu = await trackBackendCpu(o.connectionString);
    const states = await trackBackendStates(o.connectionString);
    const lockWaits = await trackLockWaits(o.connectionString);
    const cpu0 = processesCpuMs(pids);
    const t0 = process.hrtime.bigint();
    const t0Ms = Date.now();
    const jobIds = await enqueueBatch(producer, b, b.chunks);
    await complete(b);
    const seconds = msSince(t0) / 1000;
    const spans = await chunkJobSpans(o.redisUrl, prefix, jobIds);
    const perWorker = processesCpuMs(pids).map((ms, k) => ms - cpu0[k]!);
    const nodeMs = perWorker.reduce((a, b) => a + b, 0);
    const pgMs = await pgCpu.stop();
    const backendStates = await states.stop();
    const lockWaitsByTable = await lockWaits.stop();
    const lines = invoices.reduce((s, inv) => s + inv.lines.length, 0);
    const originals = new Map(
      invoices.flatMap((inv, i) =>
        i % RESUBMIT_EVERY === RESUBMIT_EVERY - 1
          ? [[inv.invoice_id, invoices[i - 12]!.invoice_id] as const]
          : [],
      ),
    );
    const vendorOf = new Map(invoices.map((inv) => [inv.invoice_id, inv.vendor.id]));
    const digests = await decisionDigests(poll, b.tenantId, originals, vendorOf);
    return {
      tree: o.tree,
      nodeOptions: o.nodeOptions ?? '',
      workers: o.workers,
      concurrency: o.concurrency,
      invoices: o.invoices,
      lines,
      chunks: b.chunks,
      seconds,
      linesPerSecond: lines / seconds,
      nodeCpuMsPerInvoice: nodeMs / o.invoices,
      workerCpuShares: perWorker.map((ms) => ms / nodeMs),
      pgCpuMsPerInvoice: pgMs / o.invoices,
      coresBusy: (nodeMs + pgMs) / 1000 / seconds,
      inFlight: chunkJobsInFlight(spans, t0Ms, o.workers * o.concurrency),
      backendStates,
      lockWaitsByTable,
      load1: loadavg()[0]!,
      ...digests,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await poll.end();
    await producer.close();
    await deleteRedisPrefix(o.redisUrl, prefix);
    await db.exec(`DROP SCHEMA IF EXISTS ${o.schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
}

/** The tenant's decisions, counted and digested (see {@link WorkerBatchRun}). */
async function decisionDigests(
  client: pg.Client,
  tenantId: string,
  originals: ReadonlyMap<string, string>,
  vendorOf: ReadonlyMap<string, string>,
): Promise<
  Pick<
    WorkerBatchRun,
    | 'decisions'
    | 'resubmissions'
    | 'resubmissionsFound'
    | 'routesDigest'
    | 'sameVendorDigest'
    | 'scoresDigest'
    | 'routes'
  >
> {
  const { rows } = await client.query<{
    invoice_id: string;
    decision: string;
    queue: string | null;
    reason_codes: string[];
    duplicates: string[];
    scores: string;
  }>(
    `SELECT i.invoice_id, d.decision, d.queue, d.reason_codes,
       ARRAY(SELECT m->>'invoice_id' FROM jsonb_array_elements(d.response->'duplicates') m) AS duplicates,
       concat_ws(' ', d.coding_mismatch_score::text, d.duplicate_score::text, d.priority::text) AS scores
     FROM decisions d JOIN invoices i ON i.pk = d.invoice_pk
     WHERE d.tenant_id = $1 ORDER BY i.invoice_id`,
    [tenantId],
  );
  const routes = createHash('sha256');
  const scores = createHash('sha256');
  const sameVendor = createHash('sha256');
  const byInvoice: Record<string, string> = {};
  for (const r of rows) {
    const reasons = [...new Set(r.reason_codes)].sort();
    const route = JSON.stringify([r.invoice_id, r.decision, r.queue, reasons]);
    const scored = `${route} ${r.scores} ${[...r.duplicates].sort().join(',')}`;
    byInvoice[r.invoice_id] = route;
    routes.update(route + '\n');
    const own = r.duplicates.filter((id) => vendorOf.get(id) === vendorOf.get(r.invoice_id)).sort();
    sameVendor.update(`${r.invoice_id} ${own.join(',')}\n`);
    scores.update(scored + '\n');
  }
  return {
    decisions: rows.length,
    resubmissions: originals.size,
    resubmissionsFound: rows.filter(
      (r) =>
        r.duplicates.includes(originals.get(r.invoice_id) ?? '') &&
        r.reason_codes.some((c) => c.startsWith('DUPLICATE_')),
    ).length,
    routesDigest: routes.digest('hex').slice(0, 16),
    sameVendorDigest: sameVendor.digest('hex').slice(0, 16),
    scoresDigest: scores.digest('hex').slice(0, 16),
    routes: byInvoice,
  };
}

/** The runs as table rows (tree, workers x in flight, lines/s, CPU per invoice, cores busy, waits, lock waits, load, decisions, digests). */
export function workerBatchRows(runs: readonly WorkerBatchRun[]): string[][] {
  return runs.map((r) => [
    r.nodeOptions ? `${r.tree} (${r.nodeOptions})` : r.tree,
    `${r.workers} x ${r.concurrency}`,
    String(r.chunks),
    fmt(r.linesPerSecond),
    `${fmt(r.nodeCpuMsPerInvoice)} / ${fmt(r.pgCpuMsPerInvoice)}`,
    fmt(r.coresBusy),
    `${fmt(r.inFlight.mean)}; ${fmt(r.inFlight.belowSlotsSeconds)} of ${fmt(r.inFlight.lastEndSeconds)} s`,
    fmt(r.backendStates['in transaction, waiting for the client'] ?? 0),
    Object.entries(r.lockWaitsByTable)
      .slice(0, 3)
      .map(([table, n]) => `${table} ${fmt(n)}`)
      .join(', ') || '0',
    fmt(r.load1),
    `${r.decisions}, ${r.resubmissionsFound} / ${r.resubmissions}`,
    `${r.routesDigest} / ${r.sameVendorDigest} / ${r.scoresDigest}`,
  ]);
}

/** Head of {@link workerBatchRows}. */
export const WORKER_BATCH_HEAD = [
  'tree',
  'workers x in flight',
  'chunks',
  'lines/s',
  'node / pg CPU ms/invoice',
  'cores busy',
  'jobs in flight; s below the slots',
  'tx waiting for node',
  'lock waits by table',
  'load 1m',
  'decisions, resubmissions found',
  'digests: routes / same-vendor duplicates / scores',
];

/** Options of {@link workerBatchSection}. */
export interface WorkerBatchSectionOptions extends Pick<
  WorkerBatchOptions,
  'connectionString' | 'redisUrl' | 'concurrency' | 'invoices' | 'chunkSize' | 'invoiceOf'
> {
  /** Prefix of the runs' schemas. */
  schemaTag: string;
  /** Checkouts, alternated (their order swapped every round). */
  trees: readonly string[];
  /** `NODE_OPTIONS` of the workers, each run with every tree ('' for none). */
  nodeOptions: readonly string[];
  /** Worker processes per run, in order. */
  workers: readonly number[];
  rounds: number;
}

/**
 * The `batch-workers` section of `npm run bench`: for each round, each worker count and each
 * tree and `NODE_OPTIONS` (their order swapped every other round), one {@link runWorkerBatch}; prints one JSON
 * line per run as it ends, then a table, and whether the decisions' digests agree.
 * @returns the runs.
 */
export async function workerBatchSection(o: WorkerBatchSectionOptions): Promise<WorkerBatchRun[]> {
  const runs: WorkerBatchRun[] = [];
  for (let round = 0; round < o.rounds; round++) {
    const variants = o.trees.flatMap((tree) => o.nodeOptions.map((nodeOptions) => ({ tree, nodeOptions })));
    if (round % 2 === 1) variants.reverse();
    for (const workers of o.workers) {
      for (const [k, v] of variants.entries()) {
        const run = await runWorkerBatch({
          ...o,
          ...v,
          schema: `${o.schemaTag}_bw_${round}_${workers}_${k}`,
          workers,
        });
        const { routes: _perInvoice, ...figures } = run;
        console.log(JSON.stringify({ round, ...figures }));
        runs.push(run);
        const first = runs[0]!;
        const differ = Object.keys(first.routes).filter((id) => first.routes[id] !== run.routes[id]);
        console.log(`routes of ${differ.length} invoices differ from the first run's`);
        for (const id of differ.slice(0, 3))
          console.log(`  ${id}:\n  ${first.routes[id]}\n  ${run.routes[id]}`);
      }
    }
  }
  console.log(
    `\nBatch scoring by worker processes through BullMQ on PostgreSQL, ${o.invoices} 10-line invoices, chunks of ${o.chunkSize}`,
  );
  const t = new Table({ head: WORKER_BATCH_HEAD });
  for (const r of workerBatchRows(runs)) t.push(r);
  console.log(t.toString());
  const same = (f: (r: WorkerBatchRun) => string): string =>
    new Set(runs.map(f)).size === 1 ? 'identical' : 'differ';
  console.log(
    `decisions across runs: routes ${same((r) => r.routesDigest)}, same-vendor duplicates ${same((r) => r.sameVendorDigest)}, scores ${same((r) => r.scoresDigest)}; ` +
      `one decision per invoice in every run: ${runs.every((r) => r.decisions === r.invoices)}; ` +
      `every resubmission found in every run: ${runs.every((r) => r.resubmissionsFound === r.resubmissions)}`,
  );
  return runs;
}
