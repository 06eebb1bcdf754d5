/**
 * The API documentation pages (Swagger UI, `/docs`) admit inline styles, which Swagger UI sets as
 * it renders (a CSP error in the browser otherwise); scripts stay 'self', and every other route
 * keeps the strict policy.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../models/registry.js';
import { buildApp, type AppDeps } from './app.js';
import { docsCsp } from './security.js';

describe('/docs Content Security Policy', () => {
  it("adds 'unsafe-inline' to style-src only", () => {
    expect(docsCsp("default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:")).toBe(
      "default-src 'self';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data:",
    );
  });

  it('serves the Swagger UI pages with inline styles admitted, and the API without', async () => {
    const inert = new Proxy({}, { get: () => () => Promise.reject(new Error('not used')) });
    const app = await buildApp({
      scoring: inert,
      store: { keys: inert },
      ping: async () => undefined,
      engine: 'none',
      models: {
        registry: new ModelRegistry({ root: mkdtempSync(join(tmpdir(), 'docs-csp-')) }),
        served: () => new Map(),
      },
    } as unknown as AppDeps);
    try {
      for (const url of ['/docs/', '/docs/static/swagger-initializer.js']) {
        const r = await app.inject({ method: 'GET', url });
        expect(r.statusCode, url).toBe(200);
        const csp = String(r.headers['content-security-policy']);
        expect(csp, url).toContain("style-src 'self' 'unsafe-inline'");
        expect(csp, url).toContain("script-src 'self';");
        expect(csp, url).toContain("frame-ancestors 'none'");
      }
      const api = await app.inject({ method: 'GET', url: '/v1/worklist' });
      expect(String(api.headers['content-security-policy'])).not.toContain('unsafe-inline');
    } finally {
      await app.close();
    }
  });
});
