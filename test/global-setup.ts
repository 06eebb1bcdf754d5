/**
 * Vitest global setup: writes one migrated in-memory PGlite database for the whole run and names
 * it in {@link PGLITE_TEMPLATE_ENV}, so every test process copies it instead of running PGlite's
 * initdb and all migrations itself. Removed at the end of the run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../store/migrate.js';
import { PGLITE_TEMPLATE_ENV, writeMigratedTemplate } from '../store/pglite.js';

export default async function setup(): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'triage-pglite-template-'));
  const file = join(dir, 'migrated.tar');
  await writeMigratedTemplate(migrate, file);
  process.env[PGLITE_TEMPLATE_ENV] = file;
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
