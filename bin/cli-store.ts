/**
 * The store of the CLI's key, audit, import and ERP commands: the flags that name it
 * (`--data-dir`, `--database-url`, `--schema`), else the server's configuration (env).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { StoreConfig } from '../store/index.js';
import { loadConfig } from './config.js';

/** The store flags of key/audit commands (`--data-dir`, `--database-url`, `--schema`). */
export interface StoreFlags {
  dataDir?: string;
  databaseUrl?: string;
  schema?: string;
}

/**
 * The store of key/audit commands: flags first, else the server's configuration (env). With
 * `--database-url`, the schema is `--schema`, else `DATABASE_SCHEMA`, else the default (public).
 */
export function serviceStore(o: StoreFlags, env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const schema = o.schema ?? env.DATABASE_SCHEMA;
  if (o.databaseUrl)
    return { engine: 'postgres', connectionString: o.databaseUrl, ...(schema ? { schema } : {}) };
  if (o.dataDir) return { engine: 'pglite', dataDir: resolve(o.dataDir) };
  return loadConfig(env).store;
}

/** `c` with the store flags of {@link StoreFlags}. */
export const withStoreFlags = (c: Command): Command =>
  c
    .option('--data-dir <dir>', 'embedded store directory (default: DATA_DIR or ./data/pglite)')
    .option('--database-url <url>', 'PostgreSQL (default: DATABASE_URL)')
    .option('--schema <schema>', 'PostgreSQL schema (default: DATABASE_SCHEMA or public)');
