/**
 * `npm run recall:invoices -- --data <benchmark dir>`: recall@k of the invoice embedding on a
 * generated benchmark (`npm run gen:benchmark`), i.e. how often the invoice a duplicate copies is
 * among its k nearest earlier invoices, as the pgvector kNN candidate search sees them.
 *
 * Definition printed with the results: for each invoice of the chosen split labelled as a
 * duplicate (`label.duplicate`), rank every invoice submitted before it (all splits, by `seq`:
 * what the store holds at that time) by cosine of the invoice embeddings; a hit at k when the
 * invoice it duplicates (`label.duplicate.of`) is among the k nearest. Per duplicate kind and
 * overall. Also: for each hard negative, how often its related invoice is the nearest one
 * (candidates the pair model must then reject).
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import type { Invoice } from '../../core/invoice.js';
import { readBenchmark } from '../../datasets/benchmark/read.js';
import type { BenchmarkRecord, BenchmarkSplit } from '../../datasets/benchmark/types.js';
import { invoiceEmbedding } from '../../features/invoice-features.js';
import { normaliseInvoiceNumber } from '../../features/invoice-number.js';
import { normaliseDescription } from '../../features/text.js';
import { normaliseVendorName } from '../../features/vendor.js';
import { toMatrix } from '../../features/knn.js';

const KS = [1, 5, 10] as const;

/** Recall of one embedding. */
export interface InvoiceRecall {
  embedding: string;
  duplicates: number;
  /** recall@k overall. */
  recall: Record<string, number>;
  /** recall@10 and count per duplicate kind. */
  byKind: Record<string, { n: number; recall10: number }>;
  /** Share of hard negatives whose related invoice is their nearest earlier invoice. */
  hardNegativeTop1: number;
}

/**
 * Rank (0-based) of row `target` among rows `0 .. upto-1` by dot product with row `q`
 * (rows ordered by submission), or -1 when `target` is not among them.
 */
function rankAmongEarlier(m: ReturnType<typeof toMatrix>, q: number, upto: number, target: number): number {
  const { dim, data } = m;
  if (target >= upto) return -1;
  const qo = q * dim;
  let t = 0;
  for (let d = 0; d < dim; d++) t += data[qo + d]! * data[target * dim + d]!;
  let rank = 0;
  for (let r = 0, off = 0; r < upto; r++, off += dim) {
    if (r === target) continue;
    let s = 0;
    for (let d = 0; d < dim; d++) s += data[qo + d]! * data[off + d]!;
    if (s > t) rank++;
  }
  return rank;
}

/** Measures one embedding over records in submission order. */
export function measureInvoiceRecall(
  records: readonly BenchmarkRecord[],
  split: BenchmarkSplit,
  name: string,
  embed: (inv: Invoice) => ArrayLike<number>,
  dim: number,
): InvoiceRecall {
  const m = toMatrix(
    records.map((r) => embed(r.invoice)),
    dim,
  );
  const row = new Map(records.map((r, i) => [r.invoice.invoice_id, i]));
  const hits = new Map<number, number>(KS.map((k) => [k, 0]));
  const byKind: Record<string, { n: number; hit: number }> = {};
  let n = 0;
  let neg = 0;
  let negTop = 0;
  records.forEach((r, i) => {
    if (r.label.split !== split) return;
    const dup = r.label.duplicate;
    if (dup) {
      const target = row.get(dup.of);
      if (target === undefined) return;
      n++;
      const rank = rankAmongEarlier(m, i, i, target);
      for (const k of KS) if (rank >= 0 && rank < k) hits.set(k, hits.get(k)! + 1);
      const kind = (byKind[dup.kind] ??= { n: 0, hit: 0 });
      kind.n++;
      if (rank >= 0 && rank < 10) kind.hit++;
    }
    const hn = r.label.hard_negative;
    if (hn) {
      const target = row.get(hn.related);
      if (target === undefined) return;
      neg++;
      if (rankAmongEarlier(m, i, i, target) === 0) negTop++;
    }
  });
  return {
    embedding: name,
    duplicates: n,
    recall: Object.fromEntries(KS.map((k) => [`@${k}`, n === 0 ? 0 : hits.get(k)! / n])),
    byKind: Object.fromEntries(
      Object.entries(byKind).map(([k, v]) => [k, { n: v.n, recall10: v.hit / v.n }]),
    ),
    hardNegativeTop1: neg === 0 ? 0 : negTop / neg,
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

async function main(): Promise<void> {
  const opts = new Command()
    .requiredOption('--data <dir>', 'generated benchmark directory (npm run gen:benchmark)')
    .option('--split <split>', 'split whose duplicates are the queries', 'test')
    .option('--json', 'print JSON')
    .parse()
    .opts<{ data: string; split: BenchmarkSplit; json?: boolean }>();
  if (!existsSync(opts.data)) {
    console.error(
      `No benchmark at ${opts.data}: run \`npm run gen:benchmark -- --invoices 50000 --seed 42 --out ${opts.data}\``,
    );
    process.exitCode = 2;
    return;
  }
  const records: BenchmarkRecord[] = [];
  for await (const r of readBenchmark(opts.data)) records.push(r);
  records.sort((a, b) => a.label.seq - b.label.seq);
  const variants: [string, (inv: Invoice) => ArrayLike<number>, number][] = [64, 128, 256].map((dim) => [
    `invoice embedding (recipe 1) at ${dim} dims${dim === 128 ? ' (stored)' : ''}`,
    (inv) =>
      invoiceEmbedding(
        inv,
        {
          vendorKey: normaliseVendorName(inv.vendor.name),
          canonicalNumber: normaliseInvoiceNumber(inv.invoice_number).canonical,
          lineTexts: inv.lines.map((l) => normaliseDescription(l.description)),
        },
        dim,
      ),
    dim,
  ]);
  const results = variants.map(([name, embed, dim]) =>
    measureInvoiceRecall(records, opts.split, name, embed, dim),
  );
  if (opts.json) {
    console.log(JSON.stringify(results, null, 2));
    return;
  }
  console.log(
    [
      `Invoice-embedding recall on ${opts.data} (${records.length} invoices), queries: the duplicates of the ${opts.split} split.`,
      'For each duplicate, every invoice submitted before it is ranked by cosine; a hit at k when the',
      'invoice it duplicates is among the k nearest. "hard-neg top-1" = share of hard negatives whose',
      'related (non-duplicate) invoice is their nearest earlier invoice.',
      '',
      ['embedding', 'duplicates', ...KS.map((k) => `recall@${k}`), 'hard-neg top-1'].join(' | '),
    ].join('\n'),
  );
  for (const r of results)
    console.log(
      [r.embedding, r.duplicates, ...KS.map((k) => pct(r.recall[`@${k}`]!)), pct(r.hardNegativeTop1)].join(
        ' | ',
      ),
    );
  const kinds = Object.keys(results[0]!.byKind).sort();
  console.log(`\nrecall@10 by duplicate kind (n):\n${['embedding', ...kinds].join(' | ')}`);
  for (const r of results)
    console.log(
      [r.embedding, ...kinds.map((k) => `${pct(r.byKind[k]?.recall10 ?? 0)} (${r.byKind[k]?.n ?? 0})`)].join(
        ' | ',
      ),
    );
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
