/**
 * Round bookkeeping of the store-scale benchmark on already-filled databases
 * (bench/store-scale-existing.ts): the order of the points in each round, and per-round and
 * pooled figures with their ratios to the first point. Pure; no database.
 */
import { quantile } from './stats.js';

/** What one point scored in one round. */
export interface RoundSample {
  /** Index of the point (0 = the reference the ratios divide by). */
  point: number;
  /** Round number, from 0. */
  round: number;
  /** Invoices scored (the latencies' count). */
  invoices: number;
  /** PostgreSQL backend CPU of those invoices together, ms; null when unreadable. */
  cpuMs: number | null;
  /** Wall time of each scoring transaction, ms. */
  latenciesMs: readonly number[];
  /** 1-minute load average when the point's block of the round ended. */
  load1: number;
}

/** Figures of one point over a set of samples (one round, or all rounds pooled). */
export interface PointFigures {
  point: number;
  invoices: number;
  /** PostgreSQL backend CPU per invoice, ms; null when any sample's CPU was unreadable. */
  cpuMsPerInvoice: number | null;
  p50Ms: number;
  p99Ms: number;
  /** Ratios to point 0 over the same samples (1 for point 0; null when CPU is unreadable). */
  cpuVsFirst: number | null;
  p50VsFirst: number;
  p99VsFirst: number;
  /** Lowest and highest 1-minute load average seen at the end of the samples' blocks. */
  load: [number, number];
}

/** Per-round and pooled figures of every point. */
export interface RoundSummary {
  /** `rounds[r][p]`: point p in round r. */
  rounds: PointFigures[][];
  /** Every round of a point together: CPU summed, latencies pooled before the percentiles. */
  pooled: PointFigures[];
}

/**
 * The order in which `points` points run in round `round`: rotated by one point per round
 * (2 points: 0,1 then 1,0, ...), so that a load that rises or falls through the run does not
 * always land on the same point.
 * @throws RangeError when `points` < 1 or `round` < 0 or either is not an integer.
 */
export function roundOrder(points: number, round: number): number[] {
  if (!Number.isInteger(points) || points < 1) throw new RangeError(`points must be >= 1: ${points}`);
  if (!Number.isInteger(round) || round < 0) throw new RangeError(`round must be >= 0: ${round}`);
  return Array.from({ length: points }, (_, i) => (i + round) % points);
}

function figures(
  point: number,
  samples: readonly RoundSample[],
): Omit<PointFigures, 'cpuVsFirst' | 'p50VsFirst' | 'p99VsFirst'> {
  const invoices = samples.reduce((a, s) => a + s.invoices, 0);
  const cpu = samples.some((s) => s.cpuMs === null)
    ? null
    : samples.reduce((a, s) => a + s.cpuMs!, 0) / invoices;
  const lat = samples.flatMap((s) => s.latenciesMs);
  const loads = samples.map((s) => s.load1);
  return {
    point,
    invoices,
    cpuMsPerInvoice: invoices > 0 ? cpu : null,
    p50Ms: quantile(lat, 0.5),
    p99Ms: quantile(lat, 0.99),
    load: [Math.min(...loads), Math.max(...loads)],
  };
}

function withRatios(rows: ReturnType<typeof figures>[]): PointFigures[] {
  const first = rows[0]!;
  return rows.map((r) => ({
    ...r,
    cpuVsFirst:
      r.cpuMsPerInvoice === null || !first.cpuMsPerInvoice ? null : r.cpuMsPerInvoice / first.cpuMsPerInvoice,
    p50VsFirst: r.p50Ms / first.p50Ms,
    p99VsFirst: r.p99Ms / first.p99Ms,
  }));
}

/**
 * Per-round and pooled figures of `points` points from their samples.
 * @throws Error when a (round, point) pair has no sample or more than one, or a sample names a
 *   point outside 0..points-1 (the bookkeeping of the run is then wrong).
 */
export function summariseRounds(samples: readonly RoundSample[], points: number): RoundSummary {
  const roundCount = samples.reduce((a, s) => Math.max(a, s.round + 1), 0);
  const grid: RoundSample[][] = Array.from({ length: roundCount }, () => []);
  for (const s of samples) {
    if (s.point < 0 || s.point >= points) throw new Error(`sample of unknown point ${s.point}`);
    if (grid[s.round]![s.point]) throw new Error(`two samples of point ${s.point} in round ${s.round}`);
    grid[s.round]![s.point] = s;
  }
  const rounds = grid.map((row, r) =>
    withRatios(
      Array.from({ length: points }, (_, p) => {
        const s = row[p];
        if (!s) throw new Error(`no sample of point ${p} in round ${r}`);
        return figures(p, [s]);
      }),
    ),
  );
  const pooled = withRatios(
    Array.from({ length: points }, (_, p) =>
      figures(
        p,
        samples.filter((s) => s.point === p),
      ),
    ),
  );
  return { rounds, pooled };
}
