/**
 * Calibration rows for `npm run certify` (training/certify.ts): invoices of a labelled benchmark
 * split, and the seeded procurement benchmark's invoices with their ERP data loaded, scored
 * through the served champions in submission order. Rows can be written to and read back from
 * JSONL so that a certification can be re-run without scoring again.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import type { Reason } from '../core/decision.js';
import type { DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { readBenchmark } from '../datasets/benchmark/read.js';
import type { BenchmarkLabel, BenchmarkSplit } from '../datasets/benchmark/types.js';
import {
  EXCEPTION_KINDS,
  generateProcurementBenchmark,
  HARD_NEGATIVE_KINDS,
} from '../datasets/procurement/generator.js';
import { DEFAULT_TENANT } from '../inference/index.js';
import { round3 } from '../inference/explain.js';
import type { TriageRepository } from '../store/index.js';
import type { CertifyRow } from '../training/certify.js';
import { keyUniform } from '../training/rng.js';

/**
 * Part `index` (0-based) of `count` of a benchmark split, by vendor profile: every invoice of a
 * vendor, under any of its ids (a vendor-variant duplicate bills under an alternate id), lands in
 * the same part, so duplicates of one vendor meet their originals. Parts can be scored in
 * parallel processes; only candidates across vendor profiles (a look-alike at another vendor)
 * are not seen.
 */
export interface Shard {
  index: number;
  count: number;
}

/** Whether a vendor profile belongs to `shard` (all of them without one). */
export function inShard(shard: Shard | undefined, vendorProfile: string): boolean {
  return shard === undefined || Math.floor(keyUniform(7, vendorProfile) * shard.count) === shard.index;
}

/** The part of the wired service the rows need. */
export interface RowScorer {
  repo: TriageRepository;
  scoring: { score(invoice: Invoice): Promise<{ decision: DecisionResponse }> };
}

/**
 * The invoice's unrounded duplicate score: the best reported candidate's score (routing compares
 * this one with the thresholds), or the decision's 3-decimal score when no reported candidate
 * rounds to it (then the rounded one is all there is). Probability in [0, 1].
 */
export function rawDuplicateScore(decision: Pick<DecisionResponse, 'scores' | 'duplicates'>): number {
  const best = decision.duplicates.reduce((m, d) => Math.max(m, d.score), 0);
  return round3(best) === decision.scores.duplicate ? best : decision.scores.duplicate;
}

/** A certification row from a decision; `kinds` are the exception's kinds (empty: clean). */
export function rowOf(
  decision: DecisionResponse,
  vendorId: string,
  kinds: readonly string[],
  source: CertifyRow['source'],
): CertifyRow {
  return {
    invoiceId: decision.invoice_id,
    vendorId,
    exception: kinds.length > 0,
    kinds: [...kinds],
    coding: decision.lines.reduce((m, l) => Math.max(m, l.coding_mismatch ?? 0), 0),
    duplicate: rawDuplicateScore(decision),
    reasons: decision.reasons as Reason[], // the service emits codes of REASON_CODES only
    source,
  };
}

/** Writes each row to `file` (JSONL, truncated first) when given. */
export function rowSink(file: string | undefined): (r: CertifyRow) => void {
  if (!file) return () => undefined;
  writeFileSync(file, '');
  return (r) => appendFileSync(file, `${JSON.stringify(r)}\n`);
}

/** Reads rows written by {@link rowSink}. */
export function readRows(file: string): CertifyRow[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as CertifyRow);
}

/**
 * The exception kinds of a benchmark invoice, one per kind (`duplicate:<kind>`, e.g.
 * `duplicate:line_level_duplicate`, and `coding:<kind>` once per coding kind on its lines);
 * empty when it is clean.
 */
export function benchmarkKinds(label: Pick<BenchmarkLabel, 'duplicate' | 'coding'>): string[] {
  const coding = [...new Set(label.coding.map((c) => `coding:${c.kind}`))].sort();
  return [...(label.duplicate ? [`duplicate:${label.duplicate.kind}`] : []), ...coding];
}

/** Scores a benchmark split in submission order (exception: a duplicate or coding label). */
export async function scoreBenchmarkRows(
  s: RowScorer,
  dataDir: string,
  split: BenchmarkSplit,
  limit: number | undefined,
  sink: (r: CertifyRow) => void,
  shard?: Shard,
): Promise<CertifyRow[]> {
  const rows: CertifyRow[] = [];
  for await (const r of readBenchmark(dataDir, split)) {
    if (limit !== undefined && rows.length >= limit) break;
    if (!inShard(shard, r.label.vendor_profile)) continue;
    const { decision } = await s.scoring.score(r.invoice);
    const row = rowOf(decision, r.invoice.vendor.id, benchmarkKinds(r.label), 'invoices');
    rows.push(row);
    sink(row);
    if (rows.length % 500 === 0) process.stderr.write(`scored ${rows.length} of ${dataDir} (${split})\n`);
  }
  return rows;
}

/** Case kinds of the procurement benchmark (exceptions, hard negatives, clean), 15. */
export const PROCUREMENT_CASE_KINDS = Object.keys(EXCEPTION_KINDS).length + HARD_NEGATIVE_KINDS.length + 1;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Why a vendor count of the procurement benchmark is refused for certification, or null when
 * it is usable. The generator deals case `s` (1-based, kinds in turn) to vendor `s mod n`; when
 * `n` shares a factor with the {@link PROCUREMENT_CASE_KINDS} kinds, each vendor bills only one
 * or a few kinds (with 60 or 180 vendors: every clean and hard-negative case comes from 24 or 72
 * vendors that bill nothing else), so the vendor clusters of the certification confound vendor
 * with kind and one missed kind makes a huge design effect. A count coprime with the kinds gives
 * every vendor every kind in turn.
 */
export function procurementVendorsProblem(n: number): string | null {
  if (!Number.isInteger(n) || n < 1) return 'must be a positive integer';
  const g = gcd(n, PROCUREMENT_CASE_KINDS);
  if (g === 1) return null;
  let next = n + 1;
  while (gcd(next, PROCUREMENT_CASE_KINDS) !== 1) next++;
  return `must be coprime with the ${PROCUREMENT_CASE_KINDS} case kinds (${n} shares the factor ${g}: each vendor would bill only some kinds), e.g. ${next}`;
}

/** Options of {@link scoreProcurementRows}. */
export interface ProcurementRowsOptions {
  seed: number;
  /** Cases per kind (9 exception kinds, 5 hard-negative kinds, clean). */
  perKind: number;
  vendors: number;
}

/**
 * Scores the seeded procurement benchmark (every case, both of its splits: the seed must differ
 * from the line matcher's) with its ERP data loaded for the default tenant and its vendors
 * registered (no HCPCS approvals: the lines carry item numbers, not codes). Each case's earlier
 * invoices against the same PO are scored first and not returned. Exception: a PO-match
 * exception case; hard negatives and clean cases are clean. Vendor ids are prefixed `po:` so
 * they never merge with the invoice benchmark's vendors.
 */
export async function scoreProcurementRows(
  s: RowScorer,
  o: ProcurementRowsOptions,
  sink: (r: CertifyRow) => void,
): Promise<CertifyRow[]> {
  const b = generateProcurementBenchmark({ seed: o.seed, perKind: o.perKind, vendors: o.vendors });
  for (const v of b.vendors)
    await s.repo.vendors.put(
      DEFAULT_TENANT,
      v.id,
      { name: v.name, approved_betos: [], approved_hcpcs_prefixes: [] },
      null,
    );
  await s.repo.erp.load(DEFAULT_TENANT, b.load, null);
  const rows: CertifyRow[] = [];
  for (const c of b.cases) {
    for (const p of c.prior) await s.scoring.score(p);
    const { decision } = await s.scoring.score(c.invoice);
    const kinds = c.label === 'exception' ? [`procurement:${c.kind}`] : [];
    const row = rowOf(decision, `po:${c.invoice.vendor.id}`, kinds, 'procurement');
    rows.push(row);
    sink(row);
  }
  return rows;
}
