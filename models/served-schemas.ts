/**
 * The feature signature each task is served with: names in input order and the feature
 * schema version, from `features/schema.ts`. A model is loaded, registered from elsewhere or
 * promoted only if its input matches (see `checkSignature`). One place to change when the
 * feature pipeline's vectors change.
 */
import {
  acceptedSchemaVersions,
  earlierVectorVersions,
  LINE_FEATURES,
  PAIR_FEATURES,
  vectorSchemaVersion,
  type FeatureVector,
} from '../features/schema.js';
import type { FeatureSignature } from './signature.js';
import type { ModelTask } from './spec.js';

/** The vector each task's model reads. */
export const TASK_VECTOR: Readonly<Record<ModelTask, FeatureVector>> = {
  'coding-mismatch': 'line',
  duplicate: 'pair',
};

/** Served feature signatures per task: the names and version of the vector the task's model reads. */
export function servedFeatureSchemas(): Record<ModelTask, FeatureSignature> {
  const signature = (vector: FeatureVector, names: readonly string[]): FeatureSignature => ({
    names,
    version: vectorSchemaVersion(vector),
    accepted: acceptedSchemaVersions(vector).slice(1),
    earlier: earlierVectorVersions(vector).map(({ version, accepted, names }) => ({
      version,
      accepted,
      names,
    })),
  });
  return {
    'coding-mismatch': signature(
      'line',
      LINE_FEATURES.map((f) => f.name),
    ),
    duplicate: signature(
      'pair',
      PAIR_FEATURES.map((f) => f.name),
    ),
  };
}
