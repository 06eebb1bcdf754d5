/**
 * Where the compute path's CPU and allocation go (`npx tsx bench/compute-profile.ts [--invoices
 * 600] [--descriptions new|repeated] [--cpu-out FILE] [--heap-out FILE] [--tree DIR]`): the
 * stubbed-store `computeService` of DIR/bench/compute.ts (default this checkout) scores 50
 * untimed invoices, then `--invoices` timed ones twice, once under V8's sampling heap profiler
 * (512-byte interval, objects that either GC collected included) and once under the CPU
 * profiler (200 us). Prints bytes allocated per invoice with the top allocating functions, the
 * top functions by self and by inclusive CPU share of the main thread, and the process's CPU
 * split between the main thread and the others (V8's helper threads, ONNX Runtime's pool) from
 * `/proc/self/task/<tid>/stat`, as JSON. `--cpu-out` / `--heap-out` also write the two profiles
 * (.cpuprofile / .heapprofile) there.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { parseBenchArgs } from './args.js';
import { resolve } from 'node:path';
import type { Invoice } from '../core/invoice.js';
import type { validateInvoice as ValidateInvoice } from '../core/validate.js';
import type { computeService as ComputeService } from './compute.js';
import type { tenLineInvoice as TenLineInvoice } from './history.js';
import { cpuTally, heapTally, top, type CpuProfile, type HeapNode } from './profile-tally.js';

/** CPU ticks (user + system, clock ticks) of every thread of this process, by thread id. */
function threadTicks(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(tid, Number(fields[11]) + Number(fields[12]));
  }
  return out;
}

async function main(): Promise<void> {
  const { opts: o } = parseBenchArgs<
    [],
    { invoices: string; descriptions: string; cpuOut?: string; heapOut?: string; tree: string }
  >('bench/compute-profile.ts', (c) =>
    c
      .option('--invoices <n>', 'timed invoices per profile', '600')
      .option('--descriptions <kind>', '`new` (unique per invoice) or `repeated`', 'new')
      .option('--cpu-out <file>', 'also write the CPU profile (.cpuprofile) here')
      .option('--heap-out <file>', 'also write the sampling heap profile (.heapprofile) here')
      .option('--tree <dir>', 'the checkout whose compute path is profiled (its bench/compute.ts)', '.'),
  );
  const dir = resolve(o.tree);
  const { computeService } = (await import(`${dir}/bench/compute.ts`)) as {
    computeService: typeof ComputeService;
  };
  const { tenLineInvoice } = (await import(`${dir}/bench/history.ts`)) as {
    tenLineInvoice: typeof TenLineInvoice;
  };
  const { validateInvoice } = (await import(`${dir}/core/validate.ts`)) as {
    validateInvoice: typeof ValidateInvoice;
  };
  const n = Number(o.invoices);
  const fresh = o.descriptions !== 'repeated';
  const earlier = Array.from({ length: 10 }, (_, i) => tenLineInvoice(1_000_000 + i, 'e'));
  const explanations: string[] = [];
  const service = await computeService(earlier, explanations);
  const invoices = Array.from({ length: 2 * n + 50 }, (_, i) => tenLineInvoice(i, 'c', fresh));
  const run = async (batch: readonly Invoice[]): Promise<void> => {
    for (const inv of batch) JSON.stringify((await service.scoring.score(validateInvoice(inv))).decision);
    explanations.length = 0;
  };
  await run(invoices.slice(0, 50));
  const session = new Session();
  session.connect();
  const load0 = loadavg()[0]!;

  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await run(invoices.slice(50, 50 + n));
  const { profile: heap } = (await session.post('HeapProfiler.stopSampling')) as unknown as {
    profile: { head: HeapNode };
  };
  if (o.heapOut) writeFileSync(o.heapOut, JSON.stringify(heap));
  const { bytes, allocated } = heapTally(heap.head);

  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  const ticks0 = threadTicks();
  const cpu0 = process.cpuUsage();
  await session.post('Profiler.start');
  await run(invoices.slice(50 + n));
  const { profile } = (await session.post('Profiler.stop')) as unknown as {
    profile: CpuProfile;
  };
  const cpu = process.cpuUsage(cpu0);
  const ticks1 = threadTicks();
  if (o.cpuOut) writeFileSync(o.cpuOut, JSON.stringify(profile));
  session.disconnect();

  const { self, inclusive } = cpuTally(profile);
  const mainTid = String(process.pid);
  let mainTicks = 0;
  let otherTicks = 0;
  for (const [tid, t] of ticks1) {
    const d = t - (ticks0.get(tid) ?? 0);
    if (tid === mainTid) mainTicks += d;
    else otherTicks += d;
  }
  console.log(
    JSON.stringify(
      {
        descriptions: o.descriptions,
        invoices: n,
        allocatedKbPerInvoice: Math.round(allocated / n / 1024),
        topAllocations: top(bytes, allocated, 25),
        cpuMsPerInvoice: (cpu.user + cpu.system) / 1000 / n,
        invoicesPerCpuSecond: n / ((cpu.user + cpu.system) / 1e6),
        otherThreadsShare: Math.round((1000 * otherTicks) / (mainTicks + otherTicks)) / 10,
        topSelf: top(self, profile.samples.length, 30),
        topInclusive: top(inclusive, profile.samples.length, 40),
        load: [load0, loadavg()[0]!],
      },
      null,
      1,
    ),
  );
  await service.close();
}

await main();
