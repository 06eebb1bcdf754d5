/**
 * Batch scoring throughput on PostgreSQL (`npm run bench -- --only batch`): the same stored
 * batch of 10-line invoices scored by the `score-batch` processor one invoice at a time
 * (`ScoringService.score` per item, the path without `scoreChunk`) and per chunk
 * (`scoreChunk`: a group per transaction), each on a fresh tenant, in one run. Vendors are
 * drawn at random (seeded) among 50, so groups are cut where a vendor repeats.
 */
import { loadavg } from 'node:os';
import type { Invoice } from '../core/invoice.js';
import { wire } from '../bin/bootstrap.js';
import { createProcessors, trainingUnavailable } from '../jobs/processors.js';
import type { StoreConfig } from '../store/index.js';
import { fmt, msSince } from './stats.js';
import { trackBackendCpu } from './pg-cpu.js';
import { trackBackendStates } from './pg-waits.js';

/** One way of scoring the batch. */
export interface BatchRun {
  mode: 'one-by-one' | 'chunked';
  invoices: number;
  lines: number;
  seconds: number;
  invoicesPerSecond: number;
  linesPerSecond: number;
  /** CPU seconds of this process (scoring, features, models, driver) per invoice, ms. */
  nodeCpuMsPerInvoice: number;
  /** CPU of the database's client backends (PostgreSQL on this machine) per invoice, ms. */
  pgCpuMsPerInvoice: number;
  /** The database's client backends per state, mean over the run ({@link trackBackendStates}). */
  backendStates: Record<string, number>;
  /** 1-minute load average at the end of the run. */
  load1: number;
  /** Mean stored decision documents per decision, bytes: response and explanation as JSON text, and both as stored (compressed). */
  storedBytes: { response: number; explanation: number; stored: number };
}

/** The mean sizes of the tenant's stored decision documents (see {@link BatchRun.storedBytes}). */
async function storedBytesOf(
  w: Awaited<ReturnType<typeof wire>>,
  tenantId: string,
): Promise<BatchRun['storedBytes']> {
  const [r] = await w.db.query<{ response: number; explanation: number; stored: number }>(
    `SELECT avg(octet_length(response::text))::float8 AS response,
       avg(coalesce(octet_length(explanation::text), 0))::float8 AS explanation,
       avg(pg_column_size(response) + coalesce(pg_column_size(explanation), 0))::float8 AS stored
     FROM decisions WHERE tenant_id = $1`,
    [tenantId],
  );
  return r!;
}

/** Seeded vendor of invoice `i` among 50 (a 32-bit integer hash). */
function vendorOf(i: number): number {
  let x = (i + 1) * 0x9e3779b1;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  return (x >>> 0) % 50;
}

/**
 * The bench's batch: invoice `i` is `invoiceOf(i, tag)` with its vendor drawn (seeded) among 50.
 * @param invoiceOf a 10-line invoice by index and tag (unique ids per tag).
 */
export function batchInvoices(
  n: number,
  tag: string,
  invoiceOf: (i: number, tag: string) => Invoice,
): Invoice[] {
  return Array.from({ length: n }, (_, i) => {
    const inv = invoiceOf(i, tag);
    const v = vendorOf(i);
    return { ...inv, vendor: { id: `V-${v}`, name: `Vendor ${v} Medical Supply LLC` } };
  });
}

/**
 * Scores `n` invoices as a stored batch with chunks of `chunkSize`, one by one and chunked.
 * @param invoiceOf a 10-line invoice by index and tag (unique ids per tag).
 * @param modes the runs to make, in order (default both).
 * @param concurrency chunk jobs in flight at once, taken in chunk order as a worker with
 *   `WORKER_CONCURRENCY` jobs takes a batch's queued chunks (default 1: one after the other).
 *   The batch is cut into chunks as `POST /v1/batches` cuts it (store/batches.ts: a vendor's
 *   invoices in one chunk of about `chunkSize`).
 * @param around wraps each mode's timed scoring (default: runs it), e.g. to profile only the
 *   chunk scoring and not the wiring, the batch's creation or the digests (bench/batch-profile.ts).
 */
export async function runBatchBenchmark(
  store: Extract<StoreConfig, { engine: 'postgres' }>,
  n: number,
  chunkSize: number,
  invoiceOf: (i: number, tag: string) => Invoice,
  modes: readonly BatchRun['mode'][] = ['one-by-one', 'chunked'],
  concurrency = 1,
  around: (score: () => Promise<void>) => Promise<void> = (score) => score(),
): Promise<BatchRun[]> {
  const w = await wire(store, { models: { reloadMs: null } });
  const runs: BatchRun[] = [];
  try {
    for (const mode of modes) {
      const tenantId = `bench-batch-${mode}`;
      const invoices = batchInvoices(n, `b-${mode}`, invoiceOf);
      const { batch, chunks } = await w.batches.create({
        tenantId,
        idempotencyKey: null,
        submittedByKeyId: null,
        requestSha256: '0'.repeat(64),
        chunkSize,
        invoices,
      });
      const scoring = mode === 'chunked' ? w.scoring : { score: w.scoring.score.bind(w.scoring) };
      const p = createProcessors({ scoring, batches: w.batches, train: trainingUnavailable });
      const ctx = { updateProgress: async () => undefined };
      const pgCpu = await trackBackendCpu(store.connectionString);
      const states = await trackBackendStates(store.connectionString);
      const cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      let nextChunk = 0;
      const worker = async (): Promise<void> => {
        for (let chunk = nextChunk++; chunk < chunks; chunk = nextChunk++) {
          await p['score-batch']({ tenantId, batchId: batch.id, chunk }, ctx as never);
        }
      };
      await around(async () => {
        await Promise.all(Array.from({ length: Math.min(concurrency, chunks) }, worker));
      });
      const seconds = msSince(t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const pgMs = await pgCpu.stop();
      const backendStates = await states.stop();
      const lines = invoices.reduce((s, inv) => s + inv.lines.length, 0);
      runs.push({
        mode,
        invoices: n,
        lines,
        seconds,
        invoicesPerSecond: n / seconds,
        linesPerSecond: lines / seconds,
        nodeCpuMsPerInvoice: (cpu.user + cpu.system) / 1000 / n,
        pgCpuMsPerInvoice: pgMs / n,
        backendStates,
        load1: loadavg()[0]!,
        storedBytes: await storedBytesOf(w, tenantId),
      });
    }
  } finally {
    await w.closeModels();
    await w.repo.close();
  }
  return runs;
}

/** Cores kept busy by a run: this process's and PostgreSQL's CPU over the wall time (at most 2 on this machine). */
export function coresBusy(r: BatchRun): number {
  return ((r.nodeCpuMsPerInvoice + r.pgCpuMsPerInvoice) * r.invoices) / 1000 / r.seconds;
}

/** The runs as table rows (mode, invoices/s, lines/s, node and PostgreSQL CPU ms per invoice, cores busy, seconds, load, stored KB per decision). */
export function batchRows(runs: readonly BatchRun[]): string[][] {
  return runs.map((r) => [
    r.mode,
    fmt(r.invoicesPerSecond),
    fmt(r.linesPerSecond),
    fmt(r.nodeCpuMsPerInvoice),
    fmt(r.pgCpuMsPerInvoice),
    fmt(coresBusy(r)),
    fmt(r.seconds),
    fmt(r.load1),
    `${fmt(r.storedBytes.response / 1000)} + ${fmt(r.storedBytes.explanation / 1000)} (${fmt(r.storedBytes.stored / 1000)})`,
  ]);
}
