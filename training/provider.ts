/**
 * The feature provider `npm run train` uses. Today: the walking skeleton's schema
 * ({@link skeletonFeatureProvider}); the feature-engineering issue's vectors replace it.
 */
import type { FeatureProvider } from './features.js';
import { skeletonFeatureProvider } from './skeleton-features.js';

/** The provider of the current feature schema. */
export function createFeatureProvider(): FeatureProvider {
  return skeletonFeatureProvider();
}
