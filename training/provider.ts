/**
 * The feature provider `npm run train` uses: the feature-engineering vectors over the loaded
 * benchmark ({@link benchmarkFeatureProvider}).
 */
import type { FeatureVector } from '../features/schema.js';
import type { LoadedBenchmark } from './benchmark.js';
import { benchmarkFeatureProvider, type BenchmarkFeatures } from './benchmark-features.js';

/**
 * The provider of the current feature schema for a benchmark directory; `editions` selects an
 * earlier edition of a vector (`VECTOR_EDITIONS` of features/schema.ts; default the current).
 */
export function createFeatureProvider(ctx: {
  bench: LoadedBenchmark;
  dataDir: string;
  seed: number;
  editions?: Partial<Record<FeatureVector, number>>;
}): BenchmarkFeatures {
  return benchmarkFeatureProvider(ctx.bench, ctx.dataDir, {
    seed: ctx.seed,
    ...(ctx.editions ? { editions: ctx.editions } : {}),
  });
}
