/**
 * The feature provider `npm run train` uses: the feature-engineering vectors over the loaded
 * benchmark ({@link benchmarkFeatureProvider}).
 */
import type { LoadedBenchmark } from './benchmark.js';
import { benchmarkFeatureProvider, type BenchmarkFeatures } from './benchmark-features.js';

/**
 * The provider of the current feature schema for a benchmark directory; `pairEdition` selects an
 * earlier pair-vector edition (features/comparisons.ts `PAIR_VECTOR_EDITIONS`; default the current).
 */
export function createFeatureProvider(ctx: {
  bench: LoadedBenchmark;
  dataDir: string;
  seed: number;
  pairEdition?: number;
}): BenchmarkFeatures {
  return benchmarkFeatureProvider(ctx.bench, ctx.dataDir, {
    seed: ctx.seed,
    ...(ctx.pairEdition !== undefined ? { pairEdition: ctx.pairEdition } : {}),
  });
}
