/**
 * The feature signature each task is served with: names in input order and the feature
 * schema version, from `features/schema.ts`. A model is loaded, registered from elsewhere or
 * promoted only if its input matches (see `checkSignature`). One place to change when the
 * feature pipeline's vectors change.
 */
import { featureSchemaVersion, LINE_FEATURES, PAIR_FEATURES } from '../features/schema.js';
import type { FeatureSignature } from './signature.js';
import type { ModelTask } from './spec.js';

/** Served feature signatures per task. */
export function servedFeatureSchemas(): Record<ModelTask, FeatureSignature> {
  const version = featureSchemaVersion();
  return {
    'coding-mismatch': { names: LINE_FEATURES.map((f) => f.name), version },
    duplicate: { names: PAIR_FEATURES.map((f) => f.name), version },
  };
}
