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
 * (the scoring path then serves the heuristics, model management still reads a registry, and
 * writes are refused: {@link registryWritesRefused}).
 */
export function servedModelsDir(models: { dir: string | null }): string {
  return models.dir ?? shippedModelsDir();
}

/**
 * Why the service's registry refuses writes for a configuration, or undefined when it takes them.
 * `MODELS_DIR=none` reads the shipped `models/artifacts`, which is part of the package (tracked
 * by git, shared by every install): registering, promoting or retraining there would change the
 * shipped files, so the registry is opened read-only (`TRIAGE_MODEL_REGISTRY_READ_ONLY`, 409).
 */
export function registryWritesRefused(models: { dir: string | null }): string | undefined {
  return models.dir === null
    ? 'MODELS_DIR=none: the service serves the heuristic scorers and reads the shipped model registry ' +
        '(models/artifacts), which is never written; set MODELS_DIR to a registry directory (default: ' +
        'models beside DATA_DIR) to register, promote or retrain models'
    : undefined;
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
