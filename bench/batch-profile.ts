/**
 * Where the batch path's node CPU and allocation go (`npx tsx bench/batch-profile.ts [--invoices
 * 600] [--chunk 100] [--concurrency 2] [--cpu-out FILE] [--heap-out FILE]`): this checkout's
 * chunked batch ({@link runBatchBenchmark}) on PostgreSQL (`BENCH_DATABASE_URL`, default
 * `TEST_DATABASE_URL`), each run on a fresh schema dropped after: one untimed run of 50 invoices,
 * then `--invoices` under V8's sampling heap profiler (512-byte interval, collected objects
 * included), then the same invoices (a new tenant, so the same work with the memos warm, as
 * bench/batch-ab.ts's second run of a tree) under the CPU profiler (200 us). Only the chunk
 * scoring is profiled (not the wiring, the batch's creation or the digests). Prints bytes allocated
 * per invoice with the top allocating functions, node CPU per invoice and the top functions by
 * self and inclusive share of the profiled samples (idle included), as JSON.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { parseBenchArgs } from './args.js';
import { runBatchBenchmark } from './batch.js';
import { tenLineInvoice } from './history.js';
import { openPostgres } from '../store/postgres.js';
import { cpuTally, heapTally, top, type CpuProfile, type HeapNode } from './profile-tally.js';

async function main(): Promise<void> {
  const { opts: o } = parseBenchArgs<
    [],
    { invoices: string; chunk: string; concurrency: string; cpuOut?: string; heapOut?: string }
  >('bench/batch-profile.ts', (c) =>
    c
      .option('--invoices <n>', 'invoices per profiled run', '600')
      .option('--chunk <n>', 'batch chunk size', '100')
      .option('--concurrency <n>', 'chunk jobs in flight', '2')
      .option('--cpu-out <file>', 'also write the CPU profile (.cpuprofile) here')
      .option('--heap-out <file>', 'also write the sampling heap profile (.heapprofile) here'),
  );
  const connectionString = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  if (!connectionString) throw new Error('set BENCH_DATABASE_URL or TEST_DATABASE_URL');
  const n = Number(o.invoices);
  const session = new Session();
  session.connect();
  const runOn = async (
    schema: string,
    invoices: number,
    around?: (score: () => Promise<void>) => Promise<void>,
  ): Promise<number> => {
    try {
      const [run] = await runBatchBenchmark(
        { engine: 'postgres', connectionString, schema },
        invoices,
        Number(o.chunk),
        tenLineInvoice,
        ['chunked'],
        Number(o.concurrency),
        around,
      );
      return run!.nodeCpuMsPerInvoice;
    } finally {
      const db = await openPostgres({ connectionString, schema });
      await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await db.close();
    }
  };
  await runOn('bench_batch_profile_warm', 50);
  const load0 = loadavg()[0]!;

  let heap: HeapNode | undefined;
  const heapCpuMs = await runOn('bench_batch_profile_heap', n, async (score) => {
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 512,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await score();
    heap = ((await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: HeapNode } })
      .profile.head;
  });
  if (o.heapOut) writeFileSync(o.heapOut, JSON.stringify({ head: heap }));
  const { bytes, allocated } = heapTally(heap!);

  let profile: CpuProfile | undefined;
  const cpuMs = await runOn('bench_batch_profile_cpu', n, async (score) => {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    await score();
    profile = ((await session.post('Profiler.stop')) as unknown as { profile: CpuProfile }).profile;
  });
  if (o.cpuOut) writeFileSync(o.cpuOut, JSON.stringify(profile));
  session.disconnect();
  const { self, inclusive } = cpuTally(profile!);
  console.log(
    JSON.stringify(
      {
        invoices: n,
        allocatedKbPerInvoice: Math.round(allocated / n / 1024),
        topAllocations: top(bytes, allocated, 30),
        nodeCpuMsPerInvoice: { heapRun: heapCpuMs, cpuRun: cpuMs },
        topSelf: top(self, profile!.samples.length, 40),
        topInclusive: top(inclusive, profile!.samples.length, 60),
        load: [load0, loadavg()[0]!],
      },
      null,
      1,
    ),
  );
}

await main();
