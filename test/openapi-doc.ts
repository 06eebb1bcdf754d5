/**
 * The served OpenAPI document (`GET /docs/json`) of an app with every optional route group
 * (batches, models, jobs, OIP v2, webhooks), built without a store: the document needs no dependency
 * until a request arrives, so the dependencies are inert stand-ins.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type AppDeps } from '../api/app.js';
import { ModelRegistry } from '../models/registry.js';

/** An OpenAPI 3.1 document, as far as the tests read it. */
export interface OpenApiDoc {
  openapi: string;
  info: { title: string; license?: { name: string; url?: string }; description?: string };
  servers?: { url: string }[];
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
}

/** Builds the app with every route group (and `extra` dependencies) and returns its served document. */
export async function servedOpenApi(extra: Partial<AppDeps> = {}): Promise<OpenApiDoc> {
  const inert = new Proxy({}, { get: () => () => Promise.reject(new Error('not used by the document')) });
  const deps = {
    scoring: inert,
    store: { keys: inert },
    ping: async () => undefined,
    engine: 'none',
    batches: { batches: inert, queue: inert },
    models: {
      registry: new ModelRegistry({ root: mkdtempSync(join(tmpdir(), 'openapi-registry-')) }),
      served: () => new Map(),
    },
    webhooks: { policy: { allowLoopback: false, allowPrivate: false }, secrets: inert },
    ...extra,
  } as unknown as AppDeps;
  const app = await buildApp(deps);
  try {
    return (await app.inject({ method: 'GET', url: '/docs/json' })).json<OpenApiDoc>();
  } finally {
    await app.close();
  }
}
