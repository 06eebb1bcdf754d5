/** Where the shipped model registry lives. */
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';

/** The registry shipped with the package: `<package root>/models/artifacts`. */
export function shippedModelsDir(): string {
  return join(packageRoot(), 'models', 'artifacts');
}
