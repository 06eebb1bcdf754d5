/**
 * `npx tsx scripts/procurement-holdout.ts [--database-url URL] [--json]`: scores the hand-built
 * procurement hold-out set (datasets/samples/procurement-holdout) through the HTTP API of a
 * fresh service and prints per-kind recall (every expected reason code fired), the
 * hard-negative flag rate and each case the service gets wrong. The store is an in-memory
 * PGlite, or with `--database-url` PostgreSQL + pgvector in a new schema dropped at the end.
 * `--json` prints the per-case results as JSON instead. Exit code 0 whatever the figures.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { buildApp } from '../api/app.js';
import { appDepsOf, wire } from '../bin/bootstrap.js';
import type { Role } from '../core/auth.js';
import type { StoreConfig } from '../store/index.js';
import {
  formatReport,
  runHoldout,
  type HoldoutCall,
} from '../datasets/samples/procurement-holdout/holdout.js';

const args = process.argv.slice(2);
const urlAt = args.indexOf('--database-url');
const databaseUrl = urlAt >= 0 ? args[urlAt + 1] : undefined;
if (urlAt >= 0 && !databaseUrl) throw new Error('--database-url needs a URL');
const schema = `holdout_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const cfg: StoreConfig = databaseUrl
  ? { engine: 'postgres', connectionString: databaseUrl, schema, maxConnections: 4 }
  : { engine: 'pglite' };

const wired = await wire(cfg, { models: null });
try {
  const keys = new Map<string, string>();
  for (const role of ['admin', 'erp', 'workflow'] as Role[]) {
    const k = await wired.repo.keys.create(
      { tenantId: 'default', name: `holdout ${role}`, roles: [role] },
      null,
    );
    keys.set(role, k.key);
  }
  const app = await buildApp({
    ...appDepsOf(wired),
    bodyLimitBytes: 1024 * 1024,
  });
  const call: HoldoutCall = (role, method, url, payload) =>
    app.inject({
      method,
      url,
      payload: payload as object,
      headers: { authorization: `Bearer ${keys.get(role) ?? ''}` },
    });
  const results = await runHoldout(call);
  process.stdout.write(
    (args.includes('--json') ? JSON.stringify(results, null, 2) : formatReport(results)) + '\n',
  );
  await app.close();
} finally {
  await wired.repo.close();
  if (databaseUrl) {
    const c = new pg.Client({ connectionString: databaseUrl });
    await c.connect();
    await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await c.end();
  }
}
