/**
 * Two checkouts' scoring compute in one process, taking turns (`npx tsx bench/compute-ab.ts
 * BEFORE_DIR AFTER_DIR [--invoices 1500] [--descriptions new|repeated]`): each tree's
 * {@link computeService} (bench/compute.ts of that tree, store stubbed) scores the same
 * invoices in turns of 50, the order of the two trees swapped every turn, and the CPU seconds
 * of each tree's turns are summed. On a shared machine this ratio moves less than two runs
 * minutes apart. Prints invoices per CPU second per tree, their ratio, a digest of each tree's
 * decisions and stored explanations (equal when both decide and explain the same) and the
 * 1-minute load average. Both trees need this bench/compute.ts and bench/history.ts.
 */
import { createHash, type Hash } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseAbCommand } from './args.js';
import type { Invoice } from '../core/invoice.js';
import type { computeService as ComputeService } from './compute.js';
import type { tenLineInvoice as TenLineInvoice } from './history.js';

/** One tree's service, invoices and running totals. */
interface Tree {
  dir: string;
  service: Awaited<ReturnType<typeof ComputeService>>;
  validate: (inv: unknown) => Invoice;
  invoices: Invoice[];
  /** The stored explanation of the invoice just scored (the stub appends it). */
  explanations: string[];
  /** Each decision's JSON, then its stored explanation, in order (nothing kept). */
  digest: Hash;
  cpuSeconds: number;
}

const TURN = 50;

async function openTree(dir: string, n: number, newDescriptions: boolean): Promise<Tree> {
  const { computeService } = (await import(`${dir}/bench/compute.ts`)) as {
    computeService: typeof ComputeService;
  };
  const { tenLineInvoice } = (await import(`${dir}/bench/history.ts`)) as {
    tenLineInvoice: typeof TenLineInvoice;
  };
  const { validateInvoice } = (await import(`${dir}/core/validate.ts`)) as {
    validateInvoice: (x: unknown) => Invoice;
  };
  const earlier = Array.from({ length: 10 }, (_, i) => tenLineInvoice(1_000_000 + i, 'e'));
  const explanations: string[] = [];
  const service = await computeService(earlier, explanations);
  const all = Array.from({ length: n + TURN }, (_, i) => tenLineInvoice(i, 'c', newDescriptions));
  // The first turn warms the JIT and the memos, untimed.
  for (const inv of all.slice(0, TURN)) await service.scoring.score(validateInvoice(inv));
  explanations.length = 0;
  return {
    dir,
    service,
    validate: validateInvoice,
    invoices: all.slice(TURN),
    explanations,
    digest: createHash('sha256'),
    cpuSeconds: 0,
  };
}

async function main(): Promise<void> {
  const { trees: dirs, opts: o } = parseAbCommand<{ invoices: string; descriptions: string }>((c) =>
    c
      .option('--invoices <n>', 'timed invoices per tree', '1500')
      .option('--descriptions <kind>', '`new` (unique per invoice) or `repeated` (the same ten)', 'new'),
  );
  const n = Number(o.invoices);
  const trees = [
    await openTree(dirs[0], n, o.descriptions !== 'repeated'),
    await openTree(dirs[1], n, o.descriptions !== 'repeated'),
  ];
  const load0 = loadavg()[0]!;
  for (let at = 0, turn = 0; at < n; at += TURN, turn++) {
    for (const t of turn % 2 === 0 ? trees : [...trees].reverse()) {
      const cpu0 = process.cpuUsage();
      // Hashed as they come, not kept: a service keeps neither, and holding every decision's and
      // explanation's JSON (about 60 KB an invoice) would add their promotion to the figure.
      for (const inv of t.invoices.slice(at, at + TURN)) {
        const { decision } = await t.service.scoring.score(t.validate(inv));
        t.digest.update(JSON.stringify(decision)).update(t.explanations.shift() ?? '');
      }
      const cpu = process.cpuUsage(cpu0);
      t.cpuSeconds += (cpu.user + cpu.system) / 1e6;
    }
  }
  const rows = trees.map((t) => ({
    tree: t.dir,
    invoicesPerCpuSecond: n / t.cpuSeconds,
    digest: t.digest.digest('hex').slice(0, 16),
  }));
  console.log(
    JSON.stringify({
      descriptions: o.descriptions,
      invoices: n,
      trees: rows,
      ratio: rows[1]!.invoicesPerCpuSecond / rows[0]!.invoicesPerCpuSecond,
      load: [load0, loadavg()[0]!],
    }),
  );
  for (const t of trees) await t.service.close();
}

await main();
