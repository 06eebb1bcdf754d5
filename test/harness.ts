/**
 * API test harness: the real app on a real store (PGlite or PostgreSQL), with API keys of
 * every role in two tenants, `default` and `other`.
 */
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { buildApp, type AppDeps } from '../api/app.js';
import { appDepsOf, wire, type Wired, type WireOptions } from '../bin/bootstrap.js';
import type { Role } from '../core/auth.js';
import {
  openDatabase,
  openStore,
  type SqlDatabase,
  type StoreConfig,
  type TriageRepository,
} from '../store/index.js';

/** Named keys of the harness: `<role>` in tenant default, `other_<role>` in tenant other. */
export type KeyName =
  | 'workflow'
  | 'workflow2'
  | 'reviewer'
  | 'auditor'
  | 'admin'
  | 'ds'
  | 'erp'
  | 'multi'
  | 'other_workflow'
  | 'other_reviewer'
  | 'other_auditor'
  | 'other_admin';

const SPECS: Record<KeyName, { tenant: string; roles: Role[] }> = {
  workflow: { tenant: 'default', roles: ['workflow'] },
  workflow2: { tenant: 'default', roles: ['workflow'] },
  reviewer: { tenant: 'default', roles: ['reviewer'] },
  auditor: { tenant: 'default', roles: ['auditor'] },
  admin: { tenant: 'default', roles: ['admin'] },
  ds: { tenant: 'default', roles: ['data-scientist'] },
  erp: { tenant: 'default', roles: ['erp'] },
  multi: { tenant: 'default', roles: ['reviewer', 'auditor'] },
  other_workflow: { tenant: 'other', roles: ['workflow'] },
  other_reviewer: { tenant: 'other', roles: ['reviewer'] },
  other_auditor: { tenant: 'other', roles: ['auditor'] },
  other_admin: { tenant: 'other', roles: ['admin'] },
};

/** A running app with keys. */
export interface Harness {
  app: FastifyInstance;
  wired: Wired;
  /** Plain keys by name. */
  keys: Record<KeyName, string>;
  /** Key ids by name. */
  keyIds: Record<KeyName, string>;
  /** `app.inject` with the named key as a Bearer token. */
  call(key: KeyName | null, opts: InjectOptions): Promise<LightMyRequestResponse>;
  /** Scores an invoice with a workflow key; throws with the problem body unless the answer is 200. */
  scoreOk(invoice: Invoice, key?: KeyName): Promise<DecisionResponse>;
  close(): Promise<void>;
}

/**
 * A raw database of `cfg` opened before the suite's tests (`beforeAll`), closed and its schema
 * dropped after them (`afterAll`); the returned function gives it to the tests.
 */
export function useDatabase(cfg: StoreConfig): () => SqlDatabase {
  return useOpened(cfg, openDatabase);
}

/**
 * What `open(cfg)` gives, opened before the suite's tests (`beforeAll`), closed and `cfg`'s schema
 * dropped after them (`afterAll`); the returned function gives it to the tests.
 * @throws Error from the returned function when called before the suite opened it.
 */
function useOpened<T extends { close(): Promise<void> }>(
  cfg: StoreConfig,
  open: (cfg: StoreConfig) => Promise<T>,
): () => T {
  let opened: T | undefined;
  beforeAll(async () => {
    opened = await open(cfg);
  });
  afterAll(async () => {
    await opened?.close();
    await dropSchema(cfg);
  });
  return () => {
    if (!opened) throw new Error('not opened yet');
    return opened;
  };
}

/** Drops a test's PostgreSQL schema (no-op on PGlite). */
export async function dropSchema(cfg: StoreConfig): Promise<void> {
  if (cfg.engine !== 'postgres' || !cfg.schema) return;
  const c = new pg.Client({ connectionString: cfg.connectionString });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${cfg.schema} CASCADE`);
  await c.end();
}

/** Starts the app on `cfg` and creates the harness keys. */
export async function startHarness(
  cfg: StoreConfig,
  opts: {
    wire?: WireOptions;
    clock?: () => Date;
    bodyLimitBytes?: number;
    /** More app dependencies (e.g. `models`), given the wired service. */
    app?: (wired: Wired) => Partial<AppDeps>;
  } = {},
): Promise<Harness> {
  const wired = await wire(cfg, {
    models: null,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.wire ?? {}),
  });
  const keys = {} as Record<KeyName, string>;
  const keyIds = {} as Record<KeyName, string>;
  for (const [name, spec] of Object.entries(SPECS) as [KeyName, (typeof SPECS)[KeyName]][]) {
    const k = await wired.repo.keys.create(
      { tenantId: spec.tenant, name: `test ${name}`, roles: spec.roles },
      null,
    );
    keys[name] = k.key;
    keyIds[name] = k.record.id;
  }
  const app = await buildApp({
    ...appDepsOf(wired),
    bodyLimitBytes: opts.bodyLimitBytes ?? 64 * 1024,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...opts.app?.(wired),
  });
  const call: Harness['call'] = (key, o) =>
    app.inject({
      ...o,
      headers: { ...(key ? { authorization: `Bearer ${keys[key]}` } : {}), ...(o.headers ?? {}) },
    });
  return {
    app,
    wired,
    keys,
    keyIds,
    call,
    async scoreOk(invoice, key = 'workflow') {
      const r = await call(key, { method: 'POST', url: '/v1/invoices/score', payload: invoice });
      if (r.statusCode !== 200) throw new Error(`scoring ${invoice.invoice_id}: ${r.statusCode} ${r.body}`);
      return r.json<DecisionResponse>();
    },
    async close() {
      await app.close();
      await wired.repo.close();
      await dropSchema(cfg);
    },
  };
}

/**
 * Starts a harness before the suite's tests and closes it after them; read it as `ref.h`
 * inside tests.
 */
export function useHarness(
  cfg: StoreConfig,
  opts: Parameters<typeof startHarness>[1] = {},
): { readonly h: Harness } {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await startHarness(cfg, opts);
  });
  afterAll(async () => {
    await harness?.close();
  });
  return {
    get h(): Harness {
      if (!harness) throw new Error('harness not started');
      return harness;
    },
  };
}

/**
 * Opens the store on `cfg` before the suite's tests, and after them closes it and drops its
 * PostgreSQL schema; read the repository as `ref.repo` inside tests.
 */
export function useStore(cfg: StoreConfig): { readonly repo: TriageRepository } {
  const repo = useOpened(cfg, openStore);
  return {
    get repo(): TriageRepository {
      return repo();
    },
  };
}

/**
 * Runs `tamper` with the audit log's no-update trigger off, and turns it on again afterwards even
 * if `tamper` throws: tamper-detection tests alter rows as someone with direct database access.
 * @param sql runs one statement on the store under test.
 */
export async function withAuditTriggerOff<T>(
  sql: (text: string) => Promise<unknown>,
  tamper: () => Promise<T>,
): Promise<T> {
  await sql('ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update');
  try {
    return await tamper();
  } finally {
    await sql('ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update');
  }
}
