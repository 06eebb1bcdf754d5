/**
 * Configuration: read from the environment once, here in `bin/`, validated, frozen and passed
 * down. No other module reads `process.env`.
 */
import { dirname, join, resolve } from 'node:path';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { TriageError } from '../core/errors.js';
import { toFieldErrors, type SchemaErrorLike } from '../core/validate.js';
import type { StoreConfig } from '../store/index.js';

const Env = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535 }),
  HOST: Type.String({ minLength: 1 }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_SCHEMA: Type.Optional(Type.String({ pattern: '^[a-z_][a-z0-9_]{0,62}$' })),
  DATA_DIR: Type.String({ minLength: 1 }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
  ),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024 }),
  BOOTSTRAP_KEYS_FILE: Type.Optional(Type.String({ minLength: 1 })),
  POLICY_FILE: Type.Optional(Type.String({ minLength: 1 })),
});

/** The service configuration. */
export interface Config {
  port: number;
  host: string;
  store: StoreConfig;
  logLevel: Static<typeof Env>['LOG_LEVEL'];
  bodyLimitBytes: number;
  /** Where the bootstrap API keys of a new installation are written (mode 0600). */
  bootstrapKeysFile: string;
  /** Routing policy file (version 1 of every tenant), or undefined for the shipped default. */
  policyFile: string | undefined;
}

const check = Compile(Env);

/**
 * Parses the environment: `PORT` (default 3000), `HOST` (127.0.0.1), `DATABASE_URL`
 * (PostgreSQL; when absent the embedded PGlite store in `DATA_DIR`, default `./data/pglite`),
 * `DATABASE_SCHEMA` (default public), `LOG_LEVEL` (info), `BODY_LIMIT_BYTES` (1 MiB),
 * `BOOTSTRAP_KEYS_FILE` (default `bootstrap-keys.json` beside `DATA_DIR`, i.e.
 * `./data/bootstrap-keys.json`), `POLICY_FILE` (routing policy JSON; default the shipped one).
 * @throws TriageError `TRIAGE_CONFIG_INVALID` naming each bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const num = (v: string | undefined, d: number): number | string =>
    v === undefined || v === '' ? d : /^\d+$/.test(v) ? Number(v) : v;
  const raw = {
    PORT: num(env.PORT, 3000),
    HOST: env.HOST || '127.0.0.1',
    ...(env.DATABASE_URL ? { DATABASE_URL: env.DATABASE_URL } : {}),
    ...(env.DATABASE_SCHEMA ? { DATABASE_SCHEMA: env.DATABASE_SCHEMA } : {}),
    DATA_DIR: env.DATA_DIR || './data/pglite',
    LOG_LEVEL: env.LOG_LEVEL || 'info',
    BODY_LIMIT_BYTES: num(env.BODY_LIMIT_BYTES, 1024 * 1024),
    ...(env.BOOTSTRAP_KEYS_FILE ? { BOOTSTRAP_KEYS_FILE: env.BOOTSTRAP_KEYS_FILE } : {}),
    ...(env.POLICY_FILE ? { POLICY_FILE: env.POLICY_FILE } : {}),
  };
  if (!check.Check(raw)) {
    const errors = toFieldErrors(check.Errors(raw) as SchemaErrorLike[]).map((e) => ({
      ...e,
      path: e.path.replace(/^\//, ''),
    }));
    throw new TriageError(
      'TRIAGE_CONFIG_INVALID',
      `invalid environment: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
      errors,
    );
  }
  const store: StoreConfig = raw.DATABASE_URL
    ? {
        engine: 'postgres',
        connectionString: raw.DATABASE_URL,
        ...(raw.DATABASE_SCHEMA ? { schema: raw.DATABASE_SCHEMA } : {}),
      }
    : { engine: 'pglite', dataDir: resolve(raw.DATA_DIR) };
  return Object.freeze({
    port: raw.PORT,
    host: raw.HOST,
    store,
    logLevel: raw.LOG_LEVEL,
    bodyLimitBytes: raw.BODY_LIMIT_BYTES,
    bootstrapKeysFile: resolve(
      raw.BOOTSTRAP_KEYS_FILE ?? join(dirname(resolve(raw.DATA_DIR)), 'bootstrap-keys.json'),
    ),
    policyFile: raw.POLICY_FILE ? resolve(raw.POLICY_FILE) : undefined,
  });
}
