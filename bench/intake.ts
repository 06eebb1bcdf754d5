/**
 * Conversion-alone benchmark of the intake adapters (`npm run bench -- --only intake`): one
 * ASC X12 810 interchange of `n` invoices and `n` UBL 2.1 documents, converted and validated to
 * canonical invoices (no scoring, no store). The invoices are the 61 HCPCS samples cycled with
 * unique numbers (2.7 lines per invoice on average). Peak RSS is sampled every 20 ms during
 * each run; the load average is read before and after, since other work on the machine slows
 * the wall-clock figures down (the CPU-time figures much less).
 */
import { loadavg } from 'node:os';
import Table from 'cli-table3';
import { fmt } from './stats.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Invoice } from '../core/invoice.js';
import { writeUbl, writeX12 } from '../datasets/intake-writers.js';
import { convertDocument } from '../intake/index.js';

/** Figures of one format. */
export interface IntakeResult {
  format: string;
  invoices: number;
  lines: number;
  documentBytes: number;
  seconds: number;
  /** CPU time of the process during the run (user + system), seconds: less sensitive to other load. */
  cpuSeconds: number;
  invoicesPerSecond: number;
  /** Invoices per CPU second (what one otherwise idle core would convert). */
  invoicesPerCpuSecond: number;
  linesPerSecond: number;
  /** Peak RSS during the run minus RSS before it, MiB. */
  peakRssGrowthMiB: number;
  /** 1-minute load average before and after the run. */
  load: [number, number];
}

/** `n` invoices: the HCPCS samples cycled, each with its own id and number. */
export function intakeBenchInvoices(root: string, n: number): Invoice[] {
  const base = readFileSync(join(root, 'datasets/samples/hcpcs_invoices.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Invoice);
  return Array.from({ length: n }, (_, i) => {
    const b = base[i % base.length]!;
    return { ...b, invoice_id: `bench-${i}`, invoice_number: `${b.invoice_number}-${i}` };
  });
}

async function measure(
  format: string,
  invoices: readonly Invoice[],
  bytes: number,
  run: () => Promise<number>,
): Promise<IntakeResult> {
  const loadBefore = loadavg()[0]!;
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const converted = await run();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  if (converted !== invoices.length)
    throw new Error(`${format}: converted ${converted} of ${invoices.length}`);
  const lines = invoices.reduce((a, i) => a + i.lines.length, 0);
  return {
    format,
    invoices: invoices.length,
    lines,
    documentBytes: bytes,
    seconds,
    cpuSeconds,
    invoicesPerSecond: invoices.length / seconds,
    invoicesPerCpuSecond: invoices.length / cpuSeconds,
    linesPerSecond: lines / seconds,
    peakRssGrowthMiB: (peak - rss0) / 2 ** 20,
    load: [loadBefore, loadavg()[0]!],
  };
}

/** Converts an `n`-invoice X12 interchange, then `n` UBL documents one after another. */
export async function runIntakeBenchmark(root: string, n: number): Promise<IntakeResult[]> {
  const invoices = intakeBenchInvoices(root, n);
  const x12 = Buffer.from(writeX12(invoices, { sender: 'BENCH', control: 1 }));
  const ubl = invoices.map((i) => Buffer.from(writeUbl(i)));
  // Warm-up (JIT) on a small document of each format.
  await convertDocument(
    'x12-810',
    Buffer.from(writeX12(invoices.slice(0, 50), { sender: 'BENCH', control: 2 })),
  );
  for (const d of ubl.slice(0, 50)) await convertDocument('ubl-2.1', d);
  const out: IntakeResult[] = [];
  out.push(
    await measure(
      'x12-810 (one interchange)',
      invoices,
      x12.length,
      async () => (await convertDocument('x12-810', x12)).length,
    ),
  );
  out.push(
    await measure(
      'ubl-2.1 (one document per invoice)',
      invoices,
      ubl.reduce((a, d) => a + d.length, 0),
      async () => {
        let k = 0;
        for (const d of ubl) {
          k += (await convertDocument('ubl-2.1', d)).length;
          if (k % 200 === 0) await new Promise((r) => setImmediate(r));
        }
        return k;
      },
    ),
  );
  return out;
}

/** The figures of {@link runIntakeBenchmark} as a text table (wall and CPU columns named apart). */
export function intakeTable(results: readonly IntakeResult[]): string {
  const t = new Table({
    head: [
      'format',
      'invoices',
      'lines',
      'MiB in',
      'wall s',
      'CPU s',
      'invoices/s (wall)',
      'invoices per CPU s',
      'lines/s (wall)',
      'peak RSS growth MiB',
      'load 1m before/after',
    ],
  });
  for (const r of results)
    t.push(
      [
        r.format,
        r.invoices,
        r.lines,
        fmt(r.documentBytes / 2 ** 20),
        fmt(r.seconds),
        fmt(r.cpuSeconds),
        Math.round(r.invoicesPerSecond),
        Math.round(r.invoicesPerCpuSecond),
        Math.round(r.linesPerSecond),
        fmt(r.peakRssGrowthMiB),
        `${r.load[0].toFixed(1)} / ${r.load[1].toFixed(1)}`,
      ].map(String),
    );
  return t.toString();
}
