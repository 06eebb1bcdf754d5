/** Small statistics helpers for the benchmarks: percentiles and a timer. */

/** The q-quantile (0..1) of `xs` by linear interpolation between order statistics; NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** p50/p95/p99 and mean of latencies, in the unit given (ms by convention). */
export function percentiles(xs: readonly number[]): { p50: number; p95: number; p99: number; mean: number } {
  const mean = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
  return { p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), p99: quantile(xs, 0.99), mean };
}

/** Milliseconds elapsed since `t0` (a `process.hrtime.bigint()` reading). */
export function msSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Rounds for display: 3 significant decimals below 10, 1 decimal below 1000, else integer. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a < 10 ? x.toFixed(3) : a < 1000 ? x.toFixed(1) : Math.round(x).toString();
}
