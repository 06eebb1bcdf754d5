/**
 * Where the team's public datasets live (HCPCS, CMS fee schedules, SROIE, Amazon-Google,
 * Febrl; each folder has a README with provenance and licence). Only builders, benchmarks,
 * measurement scripts and tests read them; the service never does at run time (what it needs
 * is copied into `datasets/`). Callers skip, with a message, when the folder is absent.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageRoot } from '../core/paths.js';

/** The machine-wide copy, used when the checkout does not sit beside `shared/` (worktrees). */
export const SHARED_DATASETS_FALLBACK = '/work/shared/datasets';

/**
 * The shared datasets directory: `<package root>/../shared/datasets` when it exists (a checkout
 * beside `shared/`), else {@link SHARED_DATASETS_FALLBACK} when that exists.
 * @returns the directory, or null when neither exists.
 */
export function sharedDatasetsDir(): string | null {
  const candidates = [resolve(packageRoot(), '..', 'shared', 'datasets'), SHARED_DATASETS_FALLBACK];
  return candidates.find((d) => existsSync(d)) ?? null;
}
