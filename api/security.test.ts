/**
 * The security headers of {@link registerSecurityHeaders} (helmet built once) are those that
 * @fastify/helmet set with the same options (helmet built per request): every header, in the same
 * order and with the same values, on a 200, a 404, an error answer and a header the route set.
 */
import fastifyHelmet from '@fastify/helmet';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { HELMET_OPTIONS, registerSecurityHeaders } from './security.js';

/** An app with `install`'s security headers and a few routes. */
async function appWith(install: (app: FastifyInstance) => Promise<void>): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await install(app);
  app.get('/ok', async () => ({ ok: true }));
  app.get('/own-header', async (_req, reply) => {
    void reply.header('referrer-policy', 'same-origin').header('x-request-id', 'r1');
    return 'text';
  });
  app.get('/fails', async () => {
    throw new Error('boom');
  });
  app.post('/echo', async (req) => req.body);
  await app.ready();
  return app;
}

/** The response's headers, in order, without `date`. */
function headersOf(r: LightMyRequestResponse): [string, unknown][] {
  return Object.entries(r.headers).filter(([k]) => k !== 'date');
}

describe('security headers', () => {
  it('are the headers @fastify/helmet set with the same options, on every kind of answer', async () => {
    const before = await appWith(async (app) => {
      await app.register(fastifyHelmet, { global: true, ...HELMET_OPTIONS });
    });
    const after = await appWith(registerSecurityHeaders);
    try {
      const requests = [
        { method: 'GET', url: '/ok' },
        { method: 'GET', url: '/own-header' },
        { method: 'GET', url: '/fails' },
        { method: 'GET', url: '/nowhere' },
        { method: 'POST', url: '/echo', payload: { a: 1 } },
        { method: 'POST', url: '/echo', payload: '{', headers: { 'content-type': 'application/json' } },
      ] as const;
      for (const req of requests) {
        const [a, b] = [await before.inject(req), await after.inject(req)];
        expect(b.statusCode, req.url).toBe(a.statusCode);
        expect(headersOf(b), req.url).toEqual(headersOf(a));
        expect(b.body, req.url).toBe(a.body);
      }
      const ok = await after.inject({ method: 'GET', url: '/ok' });
      expect(ok.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(ok.headers['x-frame-options']).toBe('DENY');
      expect(ok.headers['referrer-policy']).toBe('no-referrer');
    } finally {
      await before.close();
      await after.close();
    }
  });
});
