/** Where the shipped model registry lives, and the service's own copy of it. */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { packageRoot } from '../core/paths.js';

/** The registry shipped with the package: `<package root>/models/artifacts`. */
export function shippedModelsDir(): string {
  return join(packageRoot(), 'models', 'artifacts');
}

/**
 * The registry the service serves and changes for a configuration (bin/config.ts `models.dir`:
 * `MODELS_DIR`, default `models` beside `DATA_DIR`); the shipped registry when `MODELS_DIR=none`
 * (the scoring path then serves the heuristics, model management still reads a registry).
 */
export function servedModelsDir(models: { dir: string | null }): string {
  return models.dir ?? shippedModelsDir();
}

/**
 * Makes `dir` a registry the service may change (promotions, retrained versions): when it does
 * not exist, copies the shipped registry into it (staged in a sibling directory, then renamed
 * in one step, so a crash leaves no half copy). The shipped `models/artifacts` is never written
 * by the running service. @returns true when `dir` was seeded now.
 * @throws Error from the file system (e.g. no permission).
 */
export function seedModelsDir(dir: string, shipped: string = shippedModelsDir()): boolean {
  if (resolve(dir) === resolve(shipped) || existsSync(dir)) return false;
  mkdirSync(dirname(dir), { recursive: true });
  const staging = `${dir}.seeding-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  cpSync(shipped, staging, { recursive: true });
  renameSync(staging, dir);
  return true;
}
