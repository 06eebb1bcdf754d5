/**
 * Roles, API keys and tenants through app.inject(), on both store engines: every route's role
 * refusals (401 without or with a bad key, 403 with a key lacking the role), key creation,
 * listing and revocation (hashed at rest, shown once, audited), cross-tenant reads (404), and
 * fail-closed registration of routes without roles.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../api/app.js';
import { FIGURES } from '../api/routes/kpis.js';
import { appDepsOf, ensureBootstrapKeys } from '../bin/bootstrap.js';
import type { DecisionResponse } from '../core/decision.js';
import { openStore } from '../store/index.js';
import { ROLES } from '../core/auth.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness, type KeyName } from './harness.js';

/** Every protected route and the roles it admits (the route table of the README). */
const ROUTES: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; roles: string[] }[] = [
  { method: 'POST', url: '/v1/invoices/score', roles: ['workflow'] },
  { method: 'GET', url: '/v1/decisions/{id}', roles: ['auditor', 'reviewer', 'workflow'] },
  { method: 'POST', url: '/v1/reviews', roles: ['reviewer'] },
  { method: 'GET', url: '/v1/reviews', roles: ['reviewer', 'auditor'] },
  { method: 'GET', url: '/v1/worklist', roles: ['reviewer'] },
  { method: 'GET', url: '/v1/audit/verify', roles: ['auditor'] },
  { method: 'GET', url: '/v1/audit', roles: ['auditor'] },
  { method: 'POST', url: '/v1/keys', roles: ['admin'] },
  { method: 'GET', url: '/v1/keys', roles: ['admin'] },
  { method: 'DELETE', url: '/v1/keys/{id}', roles: ['admin'] },
  { method: 'GET', url: '/v1/policy', roles: ['admin', 'auditor'] },
  { method: 'PUT', url: '/v1/policy', roles: ['admin'] },
  { method: 'PUT', url: '/v1/vendors/{vendor_id}', roles: ['admin'] },
  { method: 'GET', url: '/v1/vendors/{vendor_id}', roles: ['admin', 'reviewer', 'auditor'] },
  { method: 'POST', url: '/v1/history', roles: ['admin'] },
  { method: 'POST', url: '/v1/erp/load', roles: ['erp', 'admin'] },
  { method: 'POST', url: '/v1/erp/callbacks', roles: ['erp'] },
  { method: 'POST', url: '/v1/worklist/{id}/claim', roles: ['reviewer'] },
  { method: 'DELETE', url: '/v1/worklist/{id}/claim', roles: ['reviewer'] },
  { method: 'GET', url: '/v1/worklist/claims', roles: ['reviewer'] },
  { method: 'GET', url: '/v1/audit/export', roles: ['auditor'] },
  {
    method: 'GET',
    url: '/v1/console/session',
    roles: ['workflow', 'reviewer', 'data-scientist', 'auditor', 'admin', 'erp'],
  },
  { method: 'GET', url: '/v1/decisions/{id}/invoice', roles: ['reviewer', 'auditor'] },
  { method: 'GET', url: '/v1/decisions/{id}/history', roles: ['auditor'] },
  { method: 'GET', url: '/v1/events', roles: ['auditor', 'workflow'] },
  ...Object.keys(FIGURES).map((f) => ({
    method: 'GET' as const,
    url: `/v1/kpis/${f}`,
    roles: ['reviewer', 'auditor', 'data-scientist', 'admin'],
  })),
];
const ROLE_KEYS: Record<string, KeyName> = {
  workflow: 'workflow',
  reviewer: 'reviewer',
  auditor: 'auditor',
  admin: 'admin',
  'data-scientist': 'ds',
};
const concrete = (url: string): string =>
  url.replace('{id}', '6f1c3c1e-8a3e-4d2b-9b1e-2f1a4c5d6e7f').replace('{vendor_id}', 'V-1');

describe.each(engines('auth'))('roles and keys on $name', ({ config }) => {
  let h: Harness;
  const cfg = config();
  beforeAll(async () => {
    h = await startHarness(cfg);
  });
  afterAll(async () => {
    await h.close();
  });

  it('documents exactly the route table in OpenAPI, with the roles in each description', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<{
      paths: Record<string, Record<string, { description?: string }>>;
    }>();
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .filter((r) => r.includes('/v1/'))
      .sort();
    expect(documented).toEqual(ROUTES.map((r) => `${r.method} ${r.url}`).sort());
    for (const r of ROUTES)
      expect(doc.paths[r.url]![r.method.toLowerCase()]!.description).toContain(
        `Roles: ${r.roles.join(', ')}.`,
      );
  });

  it('refuses every route without a key (401) and with a key lacking the role (403)', async () => {
    for (const r of ROUTES) {
      const url = concrete(r.url);
      const none = await h.call(null, { method: r.method, url });
      expect(none.statusCode, `${r.method} ${r.url}`).toBe(401);
      expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(none.json()).toMatchObject({ code: 'TRIAGE_AUTH_REQUIRED' });
      const bad = await h.app.inject({
        method: r.method,
        url,
        headers: { 'x-api-key': 'itk_not-a-real-key-at-all' },
      });
      expect(bad).toBeProblem(401, 'TRIAGE_AUTH_INVALID');
      for (const [role, key] of Object.entries(ROLE_KEYS)) {
        const res = await h.call(key, { method: r.method, url });
        if (r.roles.includes(role))
          expect([401, 403], `${role} ${r.method} ${r.url}`).not.toContain(res.statusCode);
        else {
          expect(res, `${role} ${r.method} ${r.url}`).toBeProblem(403, 'TRIAGE_FORBIDDEN');
        }
      }
    }
  });

  it('accepts the key as Bearer or X-API-Key, refuses malformed or conflicting headers', async () => {
    const ok = await h.app.inject({ method: 'GET', url: '/v1/keys', headers: { 'x-api-key': h.keys.admin } });
    expect(ok.statusCode).toBe(200);
    const basic = await h.app.inject({
      method: 'GET',
      url: '/v1/keys',
      headers: { authorization: 'Basic eDp5' },
    });
    expect(basic.statusCode).toBe(401);
    const both = await h.app.inject({
      method: 'GET',
      url: '/v1/keys',
      headers: { authorization: `Bearer ${h.keys.admin}`, 'x-api-key': h.keys.auditor },
    });
    expect(both.statusCode).toBe(401);
    expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'ready' });
  });

  it('creates a key shown once, stores only its hash, lists prefixes, revokes it, and audits both', async () => {
    const created = await h.call('admin', {
      method: 'POST',
      url: '/v1/keys',
      payload: { name: 'ERP connector', roles: ['workflow', 'reviewer'] },
    });
    expect(created.statusCode).toBe(201);
    const k = created.json<{ id: string; key: string; prefix: string; tenant_id: string; roles: string[] }>();
    expect(k.key).toMatch(/^itk_[A-Za-z0-9_-]{43}$/);
    expect(k.prefix).toBe(k.key.slice(0, 12));
    expect(k).toMatchObject({ tenant_id: 'default', roles: ['workflow', 'reviewer'] });
    expect(created.headers['cache-control']).toBe('no-store');

    // At rest: sha256 only; no column holds the key.
    const rows = await h.wired.repo.transaction((tx) =>
      tx.query<Record<string, unknown>>('SELECT * FROM api_keys WHERE id = $1', [k.id]),
    );
    expect(rows[0]!.key_sha256).toBe(createHash('sha256').update(k.key).digest('hex'));
    expect(JSON.stringify(rows[0])).not.toContain(k.key.slice(12));

    const list = await h.call('admin', { method: 'GET', url: '/v1/keys' });
    expect(list.body).not.toContain(k.key.slice(12));
    const listed = list.json<{ items: { id: string; prefix: string; revoked_at: string | null }[] }>().items;
    expect(listed.find((x) => x.id === k.id)).toMatchObject({ prefix: k.prefix, revoked_at: null });
    expect(listed.every((x) => !('key' in x))).toBe(true);

    const usable = await h.app.inject({
      method: 'GET',
      url: '/v1/worklist',
      headers: { authorization: `Bearer ${k.key}` },
    });
    expect(usable.statusCode).toBe(200);

    // Another tenant's admin cannot see or revoke it.
    expect((await h.call('other_admin', { method: 'DELETE', url: `/v1/keys/${k.id}` })).statusCode).toBe(404);
    const revoked = await h.call('admin', { method: 'DELETE', url: `/v1/keys/${k.id}` });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revoked_at).toMatch(/^\d{4}-/);
    const after = await h.app.inject({
      method: 'GET',
      url: '/v1/worklist',
      headers: { authorization: `Bearer ${k.key}` },
    });
    expect(after).toBeProblem(401, 'TRIAGE_AUTH_INVALID');

    const audit = await h.call('auditor', { method: 'GET', url: `/v1/audit?subject_id=${k.id}` });
    const entries = audit.json<{
      items: { kind: string; actor_key_id: string; payload: Record<string, unknown> }[];
    }>().items;
    expect(entries.map((e) => e.kind)).toEqual(['key.created', 'key.revoked']);
    expect(entries.every((e) => e.actor_key_id === h.keyIds.admin)).toBe(true);
    expect(JSON.stringify(entries)).not.toContain(k.key.slice(12));
  });

  it('names bad key requests: unknown role, no roles, a repeated role, unknown key id; takes every role', async () => {
    const bad = await h.call('admin', {
      method: 'POST',
      url: '/v1/keys',
      payload: { name: 'x', roles: ['root'] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].path).toBe('/roles/0');
    const empty = await h.call('admin', {
      method: 'POST',
      url: '/v1/keys',
      payload: { name: 'x', roles: [] },
    });
    expect(empty.statusCode).toBe(400);
    // One key may hold every role; a role named twice is refused.
    const all = await h.call('admin', {
      method: 'POST',
      url: '/v1/keys',
      payload: { name: 'all roles', roles: [...ROLES] },
    });
    expect(all.statusCode).toBe(201);
    expect([...all.json().roles].sort()).toEqual([...ROLES].sort());
    const twice = await h.call('admin', {
      method: 'POST',
      url: '/v1/keys',
      payload: { name: 'x', roles: ['erp', 'erp'] },
    });
    expect(twice.statusCode).toBe(400);
    const missing = await h.call('admin', {
      method: 'DELETE',
      url: '/v1/keys/6f1c3c1e-8a3e-4d2b-9b1e-2f1a4c5d6e7f',
    });
    expect(missing).toBeProblem(404, 'TRIAGE_KEY_NOT_FOUND');
  });

  it("refuses to revoke the tenant's last active admin key (409), revokes an admin that is not the last", async () => {
    const created = await h.call('other_admin', {
      method: 'POST',
      url: '/v1/keys',
      payload: { name: 'second admin', roles: ['admin'] },
    });
    expect(created.statusCode, created.body).toBe(201);
    const second = created.json<{ id: string }>().id;
    const revoked = await h.call('other_admin', { method: 'DELETE', url: `/v1/keys/${second}` });
    expect(revoked.statusCode, revoked.body).toBe(200);
    const own = h.keyIds.other_admin;
    const last = await h.call('other_admin', { method: 'DELETE', url: `/v1/keys/${own}` });
    expect(last).toBeProblem(409, 'TRIAGE_KEY_LAST_ADMIN', '/id');
    const list = await h.call('other_admin', { method: 'GET', url: '/v1/keys' });
    expect(list.statusCode).toBe(200);
    const mine = list
      .json<{ items: { id: string; revoked_at: string | null }[] }>()
      .items.find((k) => k.id === own);
    expect(mine?.revoked_at).toBeNull();
  });

  it("keeps tenants apart: another tenant's decision is a 404, and a workflow key reads only its own", async () => {
    const mine = (
      await h.call('workflow', {
        method: 'POST',
        url: '/v1/invoices/score',
        payload: makeInvoice({ invoice_id: 'auth-1' }),
      })
    ).json<DecisionResponse>();
    const theirs = await h.call('other_workflow', {
      method: 'POST',
      url: '/v1/invoices/score',
      payload: makeInvoice({ invoice_id: 'auth-1' }),
    });
    // Same client id in another tenant is a separate invoice, not a replay.
    expect(theirs.statusCode).toBe(200);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    const theirId = theirs.json<DecisionResponse>().decision_id;
    expect(theirId).not.toBe(mine.decision_id);
    // ...and not a duplicate of the other tenant's copy.
    expect(theirs.json<DecisionResponse>().duplicates).toEqual([]);

    const read = (key: KeyName, id: string) => h.call(key, { method: 'GET', url: `/v1/decisions/${id}` });
    expect((await read('auditor', mine.decision_id)).statusCode).toBe(200);
    expect((await read('reviewer', mine.decision_id)).statusCode).toBe(200);
    expect((await read('workflow', mine.decision_id)).statusCode).toBe(200);
    expect((await read('workflow2', mine.decision_id)).statusCode).toBe(404);
    for (const k of ['other_auditor', 'other_reviewer', 'other_workflow'] as const) {
      const r = await read(k, mine.decision_id);
      expect(r, k).toBeProblem(404, 'TRIAGE_DECISION_NOT_FOUND');
    }
    expect((await read('auditor', theirId)).statusCode).toBe(404);
    expect((await read('other_auditor', theirId)).statusCode).toBe(200);
  });

  it('refuses, at registration, a route that declares no roles (fail closed)', async () => {
    const app = await buildApp({
      ...appDepsOf(h.wired),
    });
    expect(() => app.get('/v1/unguarded', async () => 'open')).toThrow(/config\.roles/);
    expect(() => app.get('/v1/bad-role', { config: { roles: ['root' as never] } }, async () => 'x')).toThrow(
      /config\.roles/,
    );
    expect(() => app.get('/healthz-extra', async () => 'x')).toThrow(/config\.roles/);
    await app.close();
  });
});

describe('bootstrap keys', () => {
  it('are created once, on an empty key table, and written to a 0600 file before they commit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triage-boot-'));
    const repo = await openStore({ engine: 'pglite' });
    try {
      // A write that fails creates no key.
      writeFileSync(join(dir, 'blocker'), 'a file, not a directory');
      await expect(ensureBootstrapKeys(repo, join(dir, 'blocker', 'keys.json'))).rejects.toThrow();
      expect(await repo.keys.list('default')).toEqual([]);

      const file = join(dir, 'data', 'bootstrap-keys.json');
      expect(await ensureBootstrapKeys(repo, file)).toBe(file);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const body = JSON.parse(readFileSync(file, 'utf8')) as { keys: { key: string; roles: string[] }[] };
      expect(body.keys.map((k) => k.roles)).toEqual([['admin'], ['workflow']]);
      const admin = await repo.keys.authenticate(body.keys[0]!.key);
      expect(admin).toMatchObject({ tenantId: 'default', roles: ['admin'] });
      // Second start: keys exist, nothing is written.
      expect(await ensureBootstrapKeys(repo, join(dir, 'again.json'))).toBeNull();
      expect(await repo.keys.list('default')).toHaveLength(2);
      expect((await repo.audit.verify('default')).rowsChecked).toBe(2);
    } finally {
      await repo.close();
    }
  });
});
