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
  /** Where the document was fetched from (`overHttp` only), e.g. `http://127.0.0.1:41234`. */
  fetchedFrom?: string;
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
}

/**
 * Builds the app with every route group (and `extra` dependencies) and returns its served document:
 * injected, or with `overHttp` fetched from the app listening on a port the system chooses.
 */
export async function servedOpenApi(extra: Partial<AppDeps> = {}, overHttp = false): Promise<OpenApiDoc> {
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
    if (overHttp) {
      const at = await app.listen({ port: 0, host: '127.0.0.1' });
      return { ...((await (await fetch(`${at}/docs/json`)).json()) as OpenApiDoc), fetchedFrom: at };
    }
    return (await app.inject({ method: 'GET', url: '/docs/json' })).json<OpenApiDoc>();
  } finally {
    await app.close();
  }
}
