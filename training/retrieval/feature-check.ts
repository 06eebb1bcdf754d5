/**
 * `npm run features:check -- --data <benchmark dir>`: how well each single line feature separates
 * each seeded coding-exception kind from clean lines on a generated benchmark (ROC-AUC of the
 * feature alone, oriented so that 1 = perfect and 0.5 = no signal). A sanity check of the
 * features before any model is trained, not a model evaluation.
 *
 * Inputs the service would have: typical quantities fitted on the clean lines of the *train*
 * split (`fitTypicalQuantities`), vendor profiles from the vendor master (`vendors.json` approved
 * BETOS categories) plus the categories of the vendor's earlier lines in the measured split.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadReferenceData } from '../../datasets/reference.js';
import { readBenchmark, readVendors } from '../../datasets/benchmark/read.js';
import type { BenchmarkRecord, BenchmarkSplit } from '../../datasets/benchmark/types.js';
import { codeCategory, referenceIndex } from '../../features/reference-index.js';
import { lineFeatureVector, lineServiceDate, LINE_VECTOR_NAMES } from '../../features/line-features.js';
import { fitTypicalQuantities } from '../../features/typical-quantities.js';
import { rocAuc } from '../eval/metrics.js';

/** ROC-AUC of scores for positives vs negatives (training/eval/metrics.ts); NaN when either is empty. */
function separation(pos: readonly number[], neg: readonly number[]): number {
  return rocAuc([
    ...pos.map((score) => ({ score, label: 1 as const })),
    ...neg.map((score) => ({ score, label: 0 as const })),
  ]);
}

async function main(): Promise<void> {
  const opts = new Command()
    .requiredOption('--data <dir>', 'generated benchmark directory')
    .option('--split <split>', 'split to measure', 'test')
    .option('--top <n>', 'features listed per kind', '3')
    .parse()
    .opts<{ data: string; split: BenchmarkSplit; top: string }>();
  if (!existsSync(join(opts.data, 'vendors.json'))) {
    console.error(`No benchmark at ${opts.data}: run npm run gen:benchmark first.`);
    process.exitCode = 2;
    return;
  }
  const ref = loadReferenceData();
  const reference = referenceIndex(ref);
  const category = (code: string): string | null => {
    const c = ref.hcpcs.get(code.toUpperCase());
    return c ? codeCategory(c) : null;
  };
  const vendors = readVendors(opts.data);
  const approved = new Map<string, string[]>();
  for (const v of vendors)
    for (const id of [v.id, ...v.alt_ids])
      approved.set(
        id,
        v.approved_categories.map((c) => c.betos),
      );

  const records: BenchmarkRecord[] = [];
  for await (const r of readBenchmark(opts.data)) records.push(r);
  const clean = (r: BenchmarkRecord, n: number): boolean => !r.label.coding.some((c) => c.line_number === n);
  const typical = fitTypicalQuantities(
    records
      .filter((r) => r.label.split === 'train')
      .flatMap((r) =>
        r.invoice.lines
          .filter(
            (l) => l.code?.system === 'HCPCS' && clean(r, l.line_number) && category(l.code.value) !== null,
          )
          .map((l) => ({ code: l.code!.value, category: category(l.code!.value)!, quantity: l.quantity })),
      ),
    `clean lines of the train split of ${opts.data}`,
  );
  const history = new Map<string, Record<string, number>>();
  const byKind = new Map<string, Float32Array[]>();
  const cleanRows: Float32Array[] = [];
  for (const r of records
    .filter((x) => x.label.split === opts.split)
    .sort((a, b) => a.label.seq - b.label.seq)) {
    const vid = r.invoice.vendor.id;
    const counts = history.get(vid) ?? {};
    const profile = { approvedCategories: approved.get(vid) ?? [], categoryCounts: { ...counts } };
    for (const l of r.invoice.lines) {
      if (l.code?.system !== 'HCPCS') continue;
      const v = lineFeatureVector(l, {
        reference,
        serviceDate: lineServiceDate(r.invoice, l),
        vendorProfile: profile,
        typicalQuantities: typical,
      });
      const label = r.label.coding.find((c) => c.line_number === l.line_number);
      if (label) byKind.set(label.kind, [...(byKind.get(label.kind) ?? []), v]);
      else cleanRows.push(v);
      const cat = category(l.code.value);
      if (cat !== null) counts[cat] = (counts[cat] ?? 0) + 1;
    }
    history.set(vid, counts);
  }
  console.log(
    `Single-feature ROC-AUC (oriented: max(AUC, 1 - AUC), arrow = direction of the exception) on the ${opts.split} split of ${opts.data}; ${cleanRows.length} clean HCPCS lines; typical quantities: ${typical.byCode.size} codes, ${typical.byCategory.size} categories.`,
  );
  console.log('kind (lines) | best features');
  const top = Number(opts.top);
  for (const [kind, rows] of [...byKind].sort()) {
    const scored = LINE_VECTOR_NAMES.map((name, i) => {
      const auc = separation(
        rows.map((v) => v[i]!),
        cleanRows.map((v) => v[i]!),
      );
      return { name, auc: Math.max(auc, 1 - auc), dir: auc >= 0.5 ? '↑' : '↓' };
    }).sort((a, b) => b.auc - a.auc);
    console.log(
      `${kind} (${rows.length}) | ${scored
        .slice(0, top)
        .map((s) => `${s.name} ${s.dir} ${s.auc.toFixed(3)}`)
        .join(', ')}`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
