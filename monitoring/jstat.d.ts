/**
 * Types of the part of `jstat` (npm, MIT, no types published) that monitoring/stats.ts uses:
 * the beta distribution's quantile function.
 */
declare module 'jstat' {
  const jstat: {
    jStat: {
      beta: {
        /** Quantile of Beta(alpha, beta) at probability `p` in [0, 1]. */
        inv(p: number, alpha: number, beta: number): number;
      };
    };
  };
  export default jstat;
}
