/**
 * `npx tsx scripts/certify-misses.ts --data DIR --split valid --rows F...`: the exceptions no
 * threshold of the certification acts on. Reads rows written by `npm run certify -- --rows-out`
 * (which carry the invoice id) and the benchmark split they were scored from, and lists every
 * exception whose per-row approve scale is 0 (training/certify.ts `thresholdScores`: nothing but
 * the two review thresholds could stop it, and neither score gives it a reason, so it is
 * auto-approved at every scale), with its kind, what the generator did (the label's evidence or
 * changes) and its scores; then the count per kind.
 */
import { Command } from 'commander';
import { readBenchmark } from '../datasets/benchmark/read.js';
import type { BenchmarkRecord, BenchmarkSplit } from '../datasets/benchmark/types.js';
import { DEFAULT_POLICY } from '../inference/index.js';
import { thresholdScores, type CertifyRow } from '../training/certify.js';
import { readRows } from '../bin/certify-rows.js';

interface Options {
  data: string;
  split: BenchmarkSplit;
  rows: string[];
  codingReview: number;
  duplicateReview: number;
}

/** What makes a record an exception, one entry per label (kind, what the generator did). */
function exceptionParts(rec: BenchmarkRecord): { kind: string; what: string }[] {
  const out: { kind: string; what: string }[] = [];
  const d = rec.label.duplicate;
  if (d) out.push({ kind: `dup ${d.kind}`, what: [...d.changes, ...(d.combined ?? [])].join(' ') });
  for (const c of rec.label.coding) {
    const line = rec.invoice.lines.find((l) => l.line_number === c.line_number);
    const ev = Object.entries(c.evidence ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    out.push({
      kind: `coding ${c.kind}`,
      what: `line ${c.line_number} ${line?.code?.value ?? '-'} qty ${line?.quantity} @${line?.unit_price_cents} "${line?.description}" ${ev}`,
    });
  }
  return out;
}

const program = new Command()
  .requiredOption('--data <dir>', 'benchmark directory the rows were scored from')
  .option('--split <split>', 'split the rows were scored from', 'valid')
  .requiredOption('--rows <file...>', 'rows written by npm run certify -- --rows-out')
  .option('--coding-review <x>', 'served coding review threshold', Number, 0.0226)
  .option('--duplicate-review <x>', 'served duplicate review threshold', Number, 0.024)
  .action(async (o: Options) => {
    const rows: CertifyRow[] = o.rows.flatMap((f) => readRows(f));
    const served = {
      ...DEFAULT_POLICY,
      codingReview: o.codingReview,
      duplicateReview: o.duplicateReview,
    };
    const { approve } = thresholdScores(rows, served);
    const missed = new Map<string, CertifyRow>();
    rows.forEach((r, i) => {
      if (r.exception && approve[i] === 0 && r.invoiceId) missed.set(r.invoiceId, r);
    });
    const invoiceRows = rows.filter((r) => (r.source ?? 'invoices') === 'invoices');
    const approvedAlways = approve.filter(
      (a, i) => a === 0 && (rows[i]!.source ?? 'invoices') === 'invoices',
    );
    const perKind = new Map<string, number>();
    for await (const rec of readBenchmark(o.data, o.split)) {
      const r = missed.get(rec.invoice.invoice_id);
      if (!r) continue;
      for (const p of exceptionParts(rec)) {
        perKind.set(p.kind, (perKind.get(p.kind) ?? 0) + 1);
        process.stdout.write(
          `${rec.invoice.invoice_id}\t${rec.label.vendor_profile}\t${p.kind}\tcoding ${r.coding.toFixed(4)}\tdup ${r.duplicate.toFixed(4)}\t${p.what}\n`,
        );
      }
    }
    process.stdout.write(
      `\n${invoiceRows.length} invoice rows; ${approvedAlways.length} approved at every scale; ${missed.size} of them exceptions\n`,
    );
    for (const [k, n] of [...perKind].sort((a, b) => b[1] - a[1])) process.stdout.write(`${n}\t${k}\n`);
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`error: ${(e as Error).message}\n`);
  process.exitCode = 2;
});
