/**
 * Where the team's public datasets live (HCPCS, CMS fee schedules, SROIE, Amazon-Google,
 * Febrl; each folder has a README with provenance and licence). Only builders, benchmarks and
 * tests read them; the service itself never does (what it needs is copied into `datasets/`).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../core/paths.js';

/** The fallback location of the shared datasets when the checkout does not sit beside `shared/`. */
export const SHARED_DATASETS_FALLBACK = '/work/shared/datasets';

/**
 * The shared datasets directory: `<package root>/../shared/datasets` when it exists (a checkout
 * beside `shared/`), else {@link SHARED_DATASETS_FALLBACK} when that exists, else the first
 * path anyway (callers check for the files they need and skip or fail with a clear message).
 */
export function sharedDatasetsDir(): string {
  const beside = resolve(packageRoot(), '..', 'shared', 'datasets');
  if (existsSync(beside)) return beside;
  return existsSync(SHARED_DATASETS_FALLBACK) ? SHARED_DATASETS_FALLBACK : beside;
}

/** `sharedDatasetsDir()` joined with a relative path, e.g. `er/amazon_google`. */
export function sharedDatasetPath(...parts: string[]): string {
  return join(sharedDatasetsDir(), ...parts);
}
