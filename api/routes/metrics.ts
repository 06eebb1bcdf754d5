/**
 * `GET /metrics` (Prometheus text format) and the request-latency hook.
 *
 * Access: the route declares role `admin` (enforced by the auth hook); an admin key reads the
 * process-wide series and those labelled with its own tenant, never another tenant's
 * ({@link tenantExposition}). Prometheus scrapers without an API key use the private listener
 * instead (`METRICS_PORT`, bound to `METRICS_HOST`, default 127.0.0.1), which serves the whole
 * registry without authentication.
 */
import type { FastifyInstance } from 'fastify';
import { tenantExposition, type TriageMetrics } from '../metrics.js';
import { principalOf } from '../auth.js';
import { problemResponses, PROTECTED, type RoutePlugin } from './common.js';

/** Observes every response's latency by method, route pattern and status. Call on the root app. */
export function installRequestMetrics(app: FastifyInstance, metrics: TriageMetrics): void {
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpDuration.observe(
      {
        method: req.method,
        route: req.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
}

/** The `/metrics` route (register with `app.register(metricsRoutes, { metrics })`). */
export const metricsRoutes: RoutePlugin<{ metrics: TriageMetrics }> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      config: { roles: ['admin'], rateLimit: false },
      schema: {
        operationId: 'getMetrics',
        summary: 'Prometheus metrics (role admin; or the private METRICS_PORT listener)',
        description:
          'Prometheus text exposition format (text/plain; version=0.0.4). Series labelled with another tenant are left out.',
        response: {
          200: {
            description: 'The metrics',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          ...problemResponses(PROTECTED),
        },
      },
    },
    async (req, reply) => {
      const body = tenantExposition(await metrics.registry.metrics(), principalOf(req).tenantId);
      void reply.type(metrics.registry.contentType);
      return body;
    },
  );
};
