/**
 * The fastify application factory. `buildApp(deps)` registers routes, OpenAPI and error
 * handling but never listens: `bin/server.ts` listens, tests call `app.inject()`.
 * This folder is the only importer of fastify.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { Invoice } from '../core/invoice.js';
import { DecisionResponse } from '../core/decision.js';
import { TriageError } from '../core/errors.js';
import { checkInvoiceRules } from '../core/validate.js';
import type { ScoringService } from '../inference/pipeline.js';
import { Problem, problemOf, toTriageError } from './problem.js';
import { clientErrorHandler, registerRateLimit, timeoutOptions, type RateLimits } from './limits.js';
import { createMetrics, type TriageMetrics } from './metrics.js';
import { installRequestMetrics, metricsRoutes } from './routes/metrics.js';
import { readinessRoutes } from './routes/readiness.js';
import { batchRoutes, type BatchRoutesOptions } from './routes/batches.js';

/** What the app needs. */
export interface AppDeps {
  scoring: ScoringService;
  /** Readiness probe of the store; rejects when it is unreachable. */
  ping: () => Promise<void>;
  /** Store engine name, shown by /healthz. */
  engine: string;
  /** A pino logger; default: no logging. Request bodies are never logged. */
  logger?: FastifyBaseLogger;
  /** Maximum request body, bytes; default 1 MiB. */
  bodyLimitBytes?: number;
  /** Time a client has to send a whole request, ms (408 after); default 30 000. See api/limits.ts. */
  requestTimeoutMs?: number;
  /** Rate limits (429 above); default none. See api/limits.ts. */
  rateLimit?: RateLimits;
  /** Prometheus instruments served on /metrics; default a fresh registry. */
  metrics?: TriageMetrics;
  /** Job-queue round trip for /readyz (Redis); absent when jobs run in-process. */
  pingQueue?: () => Promise<void>;
  /** Batch routes (/v1/batches); absent when not given. */
  batches?: BatchRoutesOptions;
}

const PROBLEM = 'application/problem+json';

/** Builds the app (not listening). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: deps.bodyLimitBytes ?? 1024 * 1024,
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && /^[\w.-]{1,64}$/.test(h) ? h : randomUUID();
    },
    ...timeoutOptions(deps.requestTimeoutMs ?? 30_000),
    clientErrorHandler,
    // Router-level errors (malformed URL encoding, over-long path parameters) as problem+json too.
    frameworkErrors: (err, req, reply) => {
      const te = new TriageError(
        'TRIAGE_REQUEST_INVALID',
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'a path parameter is too long'
          : 'the request URL is malformed',
        [{ path: '/url', message: 'is invalid' }],
      );
      void (reply as FastifyReply)
        .status(te.status)
        .type(PROBLEM)
        .header('x-request-id', req.id)
        .send(problemOf(te, String(req.id)));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // JSON only: other media types (text/plain included) are refused with 415.
  app.removeContentTypeParser('text/plain');

  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-request-id', req.id);
    return payload;
  });

  app.setErrorHandler((err, req, reply) => {
    const te = toTriageError(err);
    if (te.status >= 500)
      req.log.error(
        { err: { code: (err as { code?: string }).code, name: (err as Error).name } },
        'request failed',
      );
    if (te.retryable && !reply.hasHeader('retry-after')) void reply.header('retry-after', '5');
    void reply
      .status(te.status)
      .type(PROBLEM)
      .send(problemOf(te, String(req.id)));
  });
  app.setNotFoundHandler((req, reply) => {
    const te = new TriageError('TRIAGE_ROUTE_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
    void reply
      .status(404)
      .type(PROBLEM)
      .send(problemOf(te, String(req.id)));
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'invoice-triage',
        version: '0.1.0',
        description:
          'Scores healthcare supplier and service invoices before payment: coding-mismatch risk (HCPCS), ' +
          'duplicate submissions, priority and routing. Money is integer cents; dates are YYYY-MM-DD.',
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  const metrics = deps.metrics ?? createMetrics();
  installRequestMetrics(app, metrics);
  if (deps.rateLimit) await registerRateLimit(app, deps.rateLimit);

  const problemResponses = {
    400: Problem,
    404: Problem,
    409: Problem,
    413: Problem,
    415: Problem,
    500: Problem,
    429: Problem,
    503: Problem,
  };

  app.post(
    '/v1/invoices/score',
    {
      schema: {
        summary: 'Score an invoice and index it for later duplicate checks',
        description:
          'Idempotent on invoice_id: re-sending the same invoice returns the stored decision ' +
          '(header idempotent-replayed: true); the same id with different content is a 409.',
        body: Invoice,
        response: { 200: DecisionResponse, ...problemResponses },
      },
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) {
          throw new TriageError(
            'TRIAGE_REQUEST_INVALID',
            'request body is required: send the invoice as JSON',
            [{ path: '/', message: 'is required' }],
          );
        }
      },
    },
    async (req, reply) => {
      const invoice = req.body;
      const ruleErrors = checkInvoiceRules(invoice);
      if (ruleErrors.length > 0) {
        throw new TriageError('TRIAGE_INPUT_INVALID', `${ruleErrors.length} field(s) invalid`, ruleErrors);
      }
      const out = await deps.scoring.score(invoice);
      if (!out.created) void reply.header('idempotent-replayed', 'true');
      req.log.info(
        { decision_id: out.decision.decision_id, decision: out.decision.decision, created: out.created },
        'invoice scored',
      );
      return out.decision;
    },
  );

  app.get(
    '/v1/decisions/:id',
    {
      schema: {
        summary: 'Read a stored decision with its reasons and versions',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: DecisionResponse, ...problemResponses },
      },
    },
    async (req) => {
      const d = await deps.scoring.getDecision(req.params.id);
      if (!d) throw new TriageError('TRIAGE_DECISION_NOT_FOUND', `no decision ${req.params.id}`);
      return d;
    },
  );

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness and store readiness',
        response: {
          200: Type.Object({ status: Type.Literal('ok'), store: Type.String(), versions: Type.Unknown() }),
          503: Problem,
        },
      },
    },
    async () => {
      try {
        await deps.ping();
      } catch (e) {
        throw new TriageError('TRIAGE_STORE_UNAVAILABLE', 'the store does not answer; retry later', [], {
          cause: e,
        });
      }
      return { status: 'ok' as const, store: deps.engine, versions: deps.scoring.versions };
    },
  );

  await app.register(readinessRoutes, {
    pingStore: deps.ping,
    ...(deps.pingQueue ? { pingQueue: deps.pingQueue } : {}),
  });
  await app.register(metricsRoutes, { metrics });
  if (deps.batches) await app.register(batchRoutes, deps.batches);

  return app;
}
