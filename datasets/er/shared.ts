/**
 * Where the team's shared benchmark data lives. The product never reads it at run time; tests,
 * training and measurement scripts do, and skip (with a message) when it is absent.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDatasetsDir } from '../shared.js';

export { sharedDatasetsDir };

/** `<shared datasets>/er`, or null when absent. */
export function sharedErDir(): string | null {
  const root = sharedDatasetsDir();
  if (root === null) return null;
  const dir = join(root, 'er');
  return existsSync(dir) ? dir : null;
}
