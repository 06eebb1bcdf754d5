/**
 * Admission control of the scoring route and the API-key cache, over real HTTP against
 * PostgreSQL: a scoring request beyond the concurrency limit is refused at once with 503
 * problem+json and Retry-After (the admitted ones complete); a key revoked through another
 * process (a second app on the same database) stops working within a second, while lookups of
 * an active key reach the database at most once per cache period.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.js';
import { appDepsOf } from '../bin/bootstrap.js';
import { withScore } from '../inference/pipeline.js';
import type { Principal } from '../core/auth.js';
import { engines, makeInvoice } from './fixtures.js';
import { startStack, type Stack } from './jobs-harness.js';

const pg = engines('admission').find((e) => e.name === 'postgres');

describe.skipIf(!pg)('admission control and key cache (PostgreSQL, real HTTP)', () => {
  const store = pg!.config();
  let a: Stack;
  let b: Stack;
  const apps: FastifyInstance[] = [];
  beforeAll(async () => {
    a = await startStack(store);
    b = await startStack(store); // a second process on the same database
  }, 120_000);
  afterAll(async () => {
    for (const app of apps) await app.close();
    await b?.close();
    await a?.close();
  });

  async function listen(deps: Partial<Parameters<typeof buildApp>[0]>, s: Stack = a): Promise<string> {
    const app = await buildApp({
      ...appDepsOf(s.wired),
      ...deps,
    });
    apps.push(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }

  const score = (base: string, key: string, id: string) =>
    fetch(`${base}/v1/invoices/score`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(makeInvoice({ invoice_id: id })),
    });

  it('refuses the request beyond the limit at once with 503 TRIAGE_OVERLOADED and Retry-After; admitted ones complete', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let started = 0;
    const gated = withScore(a.wired.scoring, async (inv, tenant, actor) => {
      started++;
      await gate;
      return a.wired.scoring.score(inv, tenant, actor);
    });
    const base = await listen({ scoring: gated, admission: { maxInFlight: 2 } });
    const { key } = await a.wired.repo.keys.create(
      { tenantId: 'default', name: 'adm', roles: ['workflow'] },
      null,
    );
    const first = [score(base, key, 'adm-1'), score(base, key, 'adm-2')];
    while (started < 2) await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    const refused = await score(base, key, 'adm-3');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ code: 'TRIAGE_OVERLOADED', status: 503, retryable: true });
    // Other routes are not counted.
    const other = await fetch(`${base}/v1/worklist`, { headers: { authorization: `Bearer ${key}` } });
    expect(other.status).not.toBe(503);
    open();
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    // The slots are free again: the refused invoice is admitted now, and was never stored before.
    const retried = await score(base, key, 'adm-3');
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as { invoice_id: string }).invoice_id).toBe('adm-3');
  });

  it('counts a request only once its body is in: a slow upload holds no slot', async () => {
    const base = await listen({ admission: { maxInFlight: 1 } });
    const { key } = await a.wired.repo.keys.create(
      { tenantId: 'default', name: 'adm-slow', roles: ['workflow'] },
      null,
    );
    const body = Buffer.from(JSON.stringify(makeInvoice({ invoice_id: 'adm-slow' })));
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
    socket.write(
      `POST /v1/invoices/score HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${key}\r\n` +
        `content-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`,
    );
    socket.write(body.subarray(0, 20));
    await new Promise((r) => setTimeout(r, 300));
    // The slow client has sent headers and 20 bytes; the one slot is still free for others.
    const other = await score(base, key, 'adm-fast');
    expect(other.status).toBe(200);
    socket.write(body.subarray(20));
    await once(socket, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('"invoice_id":"adm-slow"');
  });

  it('reuses a key lookup within the cache period and honours a revocation from another process within a second', async () => {
    let lookups = 0;
    const keys = a.wired.repo.keys;
    const counting = new Proxy(a.wired.repo, {
      get: (t, p, r) =>
        p === 'keys'
          ? {
              ...keys,
              authenticate: (k: string): Promise<Principal | null> => {
                lookups++;
                return keys.authenticate(k);
              },
            }
          : (Reflect.get(t, p, r) as unknown),
    });
    const base = await listen({ store: counting, keyCacheMs: 500 });
    const baseB = await listen({}, b);
    const created = await a.wired.repo.keys.create(
      { tenantId: 'default', name: 'kc', roles: ['workflow'] },
      null,
    );
    const admin = await a.wired.repo.keys.create(
      { tenantId: 'default', name: 'kc-admin', roles: ['admin'] },
      null,
    );
    // A workflow key may read decisions: an unknown id is a 404 once the key is accepted.
    const get = () =>
      fetch(`${base}/v1/decisions/00000000-0000-4000-8000-000000000000`, {
        headers: { authorization: `Bearer ${created.key}` },
      });
    const statuses = await Promise.all(Array.from({ length: 20 }, get));
    expect(statuses.map((r) => r.status)).toEqual(statuses.map(() => 404));
    expect(lookups).toBe(1);
    // An unknown key is refused (and not remembered).
    expect(
      (await fetch(`${base}/v1/worklist`, { headers: { authorization: 'Bearer itk_not_a_key_0000000000' } }))
        .status,
    ).toBe(401);

    const revoked = await fetch(`${baseB}/v1/keys/${created.record.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin.key}` },
    });
    expect(revoked.status).toBe(200);
    const t0 = Date.now();
    let status = (await get()).status;
    while (status === 404 && Date.now() - t0 < 3000) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await get()).status;
    }
    expect(status).toBe(401);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
