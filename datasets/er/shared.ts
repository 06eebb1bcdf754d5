/**
 * Where the team's shared benchmark data lives. The product never reads it at run time; tests,
 * training and measurement scripts do, and skip (with a message) when it is absent.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../../core/paths.js';

/**
 * The shared datasets directory: `<package root>/../shared/datasets` when it exists (a checkout
 * beside `shared/`), else `/work/shared/datasets` (a worktree elsewhere on the same machine).
 * @returns the directory, or null when neither exists.
 */
export function sharedDatasetsDir(): string | null {
  const candidates = [resolve(packageRoot(), '..', 'shared', 'datasets'), '/work/shared/datasets'];
  return candidates.find((d) => existsSync(d)) ?? null;
}

/** `<shared datasets>/er`, or null when absent. */
export function sharedErDir(): string | null {
  const root = sharedDatasetsDir();
  if (root === null) return null;
  const dir = join(root, 'er');
  return existsSync(dir) ? dir : null;
}
