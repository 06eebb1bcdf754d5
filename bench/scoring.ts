/**
 * In-process scoring throughput and latency: the full path of `POST /v1/invoices/score`
 * without HTTP (validate, features, coding scorer, duplicate candidates + pair scorer, policy,
 * one transaction to store the decision), invoices scored one after another.
 */
import type { Invoice } from '../core/invoice.js';
import { validateInvoice } from '../core/validate.js';
import type { ScoringService } from '../inference/index.js';
import { msSince, percentiles } from './stats.js';

/** Throughput and per-invoice latency (ms) of sequential scoring. */
export interface ScoringResult {
  invoices: number;
  lines: number;
  seconds: number;
  invoicesPerSecond: number;
  linesPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; mean: number };
}

/**
 * Scores `invoices` one by one on `scoring` (after `warmup` untimed invoices from the same list).
 * @throws the scoring service's errors (a benchmark invoice must be valid)
 */
export async function runScoringBenchmark(
  scoring: ScoringService,
  tenant: string,
  invoices: readonly Invoice[],
  warmup = 20,
): Promise<ScoringResult> {
  for (const inv of invoices.slice(0, warmup)) await scoring.score(validateInvoice(inv), tenant);
  const timed = invoices.slice(warmup);
  const lat: number[] = [];
  let lines = 0;
  const t0 = process.hrtime.bigint();
  for (const inv of timed) {
    const t = process.hrtime.bigint();
    await scoring.score(validateInvoice(inv), tenant);
    lat.push(msSince(t));
    lines += inv.lines.length;
  }
  return scoringResult(lat, lines, msSince(t0) / 1000);
}

/** A {@link ScoringResult} from per-invoice latencies (ms), the lines scored and the seconds taken. */
export function scoringResult(lat: readonly number[], lines: number, seconds: number): ScoringResult {
  return {
    invoices: lat.length,
    lines,
    seconds,
    invoicesPerSecond: lat.length / seconds,
    linesPerSecond: lines / seconds,
    latencyMs: percentiles(lat),
  };
}
