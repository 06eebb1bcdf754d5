/**
 * The fastify application factory. `buildApp(deps)` installs the shared hooks (request ids,
 * authentication and role checks, problem+json errors), OpenAPI, and registers the route
 * plugins of `api/routes/`; it never listens: `bin/server.ts` listens, tests call
 * `app.inject()`. This folder is the only importer of fastify.
 */
import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { TriageError } from '../core/errors.js';
import type { ScoringService } from '../inference/pipeline.js';
import type { TriageRepository } from '../store/repository.js';
import type { CertifiedBound } from '../store/kpis.js';
import { installAdmission, type AdmissionOptions } from './admission.js';
import { cachedKeyVerifier, installAuth } from './auth.js';
import { installBodyParsers } from './body/index.js';
import { installRouteNotFound } from './not-found.js';
import { installExpectContinue } from './expect-continue.js';
import {
  MAX_PARAM_LENGTH,
  installInputGuards,
  longParamErrors,
  validatorCompiler,
  withBodyTextErrors,
} from './input.js';
import { installDocumentParsers, withDocumentMediaTypes } from './content-types.js';
import { ClientClosedError, isClientClosed, problemOf, toTriageError } from './problem.js';
import { clientErrorHandler, registerRateLimit, timeoutOptions, type RateLimits } from './limits.js';
import { createMetrics, type TriageMetrics } from './metrics.js';
import { installRequestMetrics, metricsRoutes } from './routes/metrics.js';
import { readinessRoutes } from './routes/readiness.js';
import { batchRoutes, type BatchRoutesOptions } from './routes/batches.js';
import { healthRoutes, type StorePing } from './routes/health.js';
import { invoiceRoutes } from './routes/invoices.js';
import { keyRoutes } from './routes/keys.js';
import { auditRoutes } from './routes/audit.js';
import { reviewRoutes } from './routes/reviews.js';
import { worklistRoutes } from './routes/worklist.js';
import { policyRoutes } from './routes/policy.js';
import { vendorRoutes } from './routes/vendors.js';
import { historyRoutes, type HistoryRoutesOptions } from './routes/history.js';
import { withHistoryBody } from './routes/history-openapi.js';
import { modelRoutes, type ModelsApiDeps } from './routes/models.js';
import { jobRoutes } from './routes/jobs.js';
import { oipRoutes } from './routes/oip.js';
import { eventRoutes } from './routes/events.js';
import { webhookRoutes, type WebhookRoutesOptions } from './routes/webhooks.js';
import { monitoringRoutes, type MonitoringApiDeps } from './routes/monitoring.js';
import { claimRoutes } from './routes/claims.js';
import { kpiRoutes } from './routes/kpis.js';
import { auditExportRoutes } from './routes/audit-export.js';
import { consoleRoutes } from './routes/console.js';
import { erpRoutes } from './routes/erp.js';
import { docsCsp, registerSecurityHeaders } from './security.js';

/** The parts of the repository the routes use. */
export type ApiStore = Pick<
  TriageRepository,
  | 'keys'
  | 'audit'
  | 'reviews'
  | 'worklist'
  | 'policies'
  | 'vendors'
  | 'history'
  | 'getDecisionRecord'
  | 'claims'
  | 'decisionFacts'
  | 'console'
  | 'events'
  | 'erp'
>;

/**
 * The URL a client reaches a listener at: an unspecified address (`0.0.0.0`, `::`) is reached
 * on the loopback; an IPv6 address is bracketed. @returns e.g. `http://127.0.0.1:3917`.
 */
export function serverUrl(listen: { host: string; port: number }): string {
  const host = listen.host === '0.0.0.0' || listen.host === '::' ? '127.0.0.1' : listen.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${listen.port}`;
}

/**
 * Where `app` listens: `listen` as configured, except that port 0 (the system chooses) is the
 * port bound once the app listens (`listen` unchanged before that).
 */
export function listenedAt(
  app: Pick<FastifyInstance, 'server'>,
  listen: { host: string; port: number },
): { host: string; port: number } {
  const bound = app.server.address();
  return listen.port === 0 && bound !== null && typeof bound === 'object'
    ? { ...listen, port: bound.port }
    : listen;
}

/** What the app needs. */
export interface AppDeps {
  scoring: ScoringService;
  /** Keys, audit, reviews, worklist, policy and vendor operations. */
  store: ApiStore;
  /** Store round trip of /healthz and /readyz (see `StorePing`, api/routes/health.ts). */
  ping: StorePing;
  /** Store engine name, shown by /healthz. */
  engine: string;
  /** A pino logger; default: no logging. Request bodies are never logged. */
  logger?: FastifyBaseLogger;
  /** Maximum request body, bytes; default 1 MiB. */
  bodyLimitBytes?: number;
  /**
   * Where the service listens (`HOST`, `PORT`), listed as the OpenAPI document's server;
   * default 127.0.0.1:3000 (the configuration's defaults).
   */
  listen?: { host: string; port: number };
  /** Clock for "today" (worklist priority); default the system clock. */
  clock?: () => Date;
  /** Time a client has to send a whole request, ms (408 after); default 30 000. See api/limits.ts. */
  requestTimeoutMs?: number;
  /** How long an API key's lookup is reused, ms (0..1000, default 500); see `cachedKeyVerifier` in api/auth.ts. */
  keyCacheMs?: number;
  /** Admission limit of the scoring route (503 above); default none. See api/admission.ts. */
  admission?: AdmissionOptions;
  /** Rate limits (429 above); default none. See api/limits.ts. */
  rateLimit?: RateLimits;
  /** Prometheus instruments served on /metrics; default a fresh registry. */
  metrics?: TriageMetrics;
  /** Job-queue round trip for /readyz (Redis); absent when jobs run in-process. */
  pingQueue?: () => Promise<void>;
  /** Batch routes (/v1/batches); absent when not given. */
  batches?: BatchRoutesOptions;
  /** History import limits and chunk size (POST /v1/history); defaults of api/routes/history.ts. */
  history?: Omit<HistoryRoutesOptions, 'store' | 'async'>;
  /**
   * Asynchronous history imports (`Prefer: respond-async` on POST /v1/history, and
   * GET /v1/history/imports/{id}): where imports are staged and the queue their jobs go to;
   * absent: the preference is not applied (the import runs in the request).
   */
  historyImports?: HistoryRoutesOptions['async'];
  /** Model management (/v1/models, /v1/jobs) and OIP v2 inference (/v2); absent when not given. */
  models?: ModelsApiDeps;
  /** Webhook subscriptions (/v1/webhooks); absent when not given. The event feed is always served. */
  webhooks?: WebhookRoutesOptions;
  /** Model monitoring (drift, shadow, audit sample); absent when not given. */
  monitoring?: MonitoringApiDeps;
  /** Auto-approve bounds the served model cards certify (dashboard, /v1/kpis/auto-approve); default none. */
  certifiedBounds?: () => CertifiedBound[];
}

const PROBLEM = 'application/problem+json';

/**
 * The request as the request log records it: the route pattern (`/v1/vendors/:vendor_id`), never
 * the raw URL, whose path parameters and query carry vendor, invoice and batch ids. A request no
 * route matched is logged as `(no route)`.
 */
export function requestLogFields(req: FastifyRequest): {
  method: string;
  route: string;
  remoteAddress: string;
} {
  return { method: req.method, route: req.routeOptions?.url ?? '(no route)', remoteAddress: req.ip };
}

/** `logger` with the request serializer of {@link requestLogFields} (fastify keeps a logger's own serializers). */
function withRouteRequestLog(logger: FastifyBaseLogger): FastifyBaseLogger {
  return logger.child({}, { serializers: { req: requestLogFields } });
}

/** Builds the app (not listening). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: withRouteRequestLog(deps.logger) } : { logger: false }),
    bodyLimit: deps.bodyLimitBytes ?? 1024 * 1024,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && /^[\w.-]{1,64}$/.test(h) ? h : randomUUID();
    },
    ...timeoutOptions(deps.requestTimeoutMs ?? 30_000),
    clientErrorHandler,
    // Router-level errors (malformed URL encoding, over-long path parameters) as problem+json too.
    frameworkErrors: (err, req, reply) => {
      const te =
        err.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? new TriageError(
              'TRIAGE_REQUEST_INVALID',
              'a path parameter is too long',
              longParamErrors(req.server, req.method, req.url),
            )
          : new TriageError('TRIAGE_REQUEST_INVALID', 'the request URL is malformed', [
              { path: '/url', message: 'is invalid' },
            ]);
      void (reply as FastifyReply)
        .status(te.status)
        .type(PROBLEM)
        .header('x-request-id', req.id)
        .send(problemOf(te, String(req.id)));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  // `Expect: 100-continue` is answered only when a body is read, so a 413 (or 401, 415...) comes first.
  installExpectContinue(app.server);
  // The media types of api/body/ (JSON) and, on the scoring and batch routes, the intake
  // documents of api/content-types.ts: others (text/plain included) are refused with 415.
  installBodyParsers(app);
  // Every route: prototype keys named by path, unstorable text (NUL) refused before the store.
  installInputGuards(app);
  // X12 810, UBL and FHIR documents on the scoring and batch routes (converted to invoices).
  installDocumentParsers(app);

  app.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-request-id', req.id);
    return payload;
  });

  app.setErrorHandler((err, req, reply) => {
    const te = withBodyTextErrors(req, toTriageError(err));
    // A client that left mid-body is not a failure of the service: info, route and counts only
    // (the answer below goes nowhere).
    if (isClientClosed(req.raw, err)) {
      const closed = err instanceof ClientClosedError ? err : null;
      req.log.info(
        { route: requestLogFields(req).route, ...closed?.progress },
        closed?.timedOut
          ? 'request body not received in time; connection closed after the 408'
          : 'client closed the connection mid-request',
      );
    } else if (te.status >= 500)
      req.log.error(
        { err: { code: (err as { code?: string }).code, name: (err as Error).name } },
        'request failed',
      );
    if (te.retryable && !reply.hasHeader('retry-after')) void reply.header('retry-after', '5');
    if (te.status === 401) void reply.header('www-authenticate', 'Bearer realm="invoice-triage"');
    void reply
      .status(te.status)
      .type(PROBLEM)
      .send(problemOf(te, String(req.id)));
  });
  const notFound = installRouteNotFound(app);
  app.setNotFoundHandler((req, reply) => {
    const { error, allow } = notFound(req);
    if (allow) void reply.header('allow', allow.join(', '));
    void reply
      .status(error.status)
      .type(PROBLEM)
      .send(problemOf(error, String(req.id)));
  });

  // Security headers first, so that refused requests (401, 403) carry them too.
  await registerSecurityHeaders(app);
  // Scoring requests above the concurrency limit are refused once their body is in (preValidation).
  installAdmission(app, deps.admission ?? { maxInFlight: 0 });
  // Before any route: refuse routes without roles, authenticate and check roles per request.
  const keys = cachedKeyVerifier(deps.store.keys, { ttlMs: deps.keyCacheMs ?? 500 });
  installAuth(app, keys);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'invoice-triage',
        version: '0.1.0',
        description:
          'Scores healthcare supplier and service invoices before payment: coding-mismatch risk (HCPCS), ' +
          'duplicate submissions, priority and routing. Money is integer cents; dates are YYYY-MM-DD. ' +
          'Every /v1 and /v2 route needs an API key, sent as `Authorization: Bearer <key>` or ' +
          '`X-API-Key: <key>`, with one of the roles listed in the route description. Errors are ' +
          'application/problem+json (RFC 9457) with a stable `code` and, for invalid input, ' +
          '`errors[].path` (a JSON pointer).',
        license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'API key' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    // The document is built at its first request, so after listen: `servers` can name the bound port.
    transformObject: (d) =>
      'openapiObject' in d
        ? {
            ...withHistoryBody(withDocumentMediaTypes(d.openapiObject)),
            servers: [
              {
                url: serverUrl(listenedAt(app, deps.listen ?? { host: '127.0.0.1', port: 3000 })),
                description: 'This service (npm start; PORT and HOST move it)',
              },
            ],
          }
        : d.swaggerObject,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // Swagger UI applies an inline style as it renders (Chromium: "Applying inline style
    // violates ... style-src 'self'"): its pages alone admit inline styles; scripts stay 'self'.
    transformStaticCSP: docsCsp,
  });
  const metrics = deps.metrics ?? createMetrics();
  installRequestMetrics(app, metrics);
  if (deps.rateLimit) await registerRateLimit(app, deps.rateLimit);

  const { scoring, store } = deps;
  await app.register(healthRoutes, { ping: deps.ping, engine: deps.engine, scoring });
  await app.register(invoiceRoutes, { scoring, store, ...(deps.clock ? { clock: deps.clock } : {}) });
  await app.register(reviewRoutes, { scoring, store, ...(deps.clock ? { clock: deps.clock } : {}) });
  await app.register(worklistRoutes, { store, ...(deps.clock ? { clock: deps.clock } : {}) });
  await app.register(auditRoutes, { store });
  await app.register(keyRoutes, { store, onRevoked: () => keys.forget() });
  await app.register(policyRoutes, { scoring, store });
  await app.register(vendorRoutes, { scoring, store });
  await app.register(historyRoutes, {
    ...deps.history,
    store,
    ...(deps.historyImports ? { async: deps.historyImports } : {}),
  });
  await app.register(erpRoutes, { store, ...(deps.clock ? { clock: deps.clock } : {}) });
  await app.register(claimRoutes, { store, ...(deps.clock ? { clock: deps.clock } : {}) });
  await app.register(kpiRoutes, {
    scoring,
    store,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.certifiedBounds ? { certifiedBounds: deps.certifiedBounds } : {}),
  });
  await app.register(auditExportRoutes, { store });
  await app.register(consoleRoutes, { scoring, store });
  await app.register(readinessRoutes, {
    pingStore: deps.ping,
    ...(deps.pingQueue ? { pingQueue: deps.pingQueue } : {}),
  });
  await app.register(metricsRoutes, { metrics });
  if (deps.batches) await app.register(batchRoutes, deps.batches);
  if (deps.models) {
    await app.register(modelRoutes, deps.models);
    await app.register(jobRoutes, { jobs: deps.models });
    await app.register(oipRoutes, deps.models);
  }
  await app.register(eventRoutes, { store });
  if (deps.webhooks) await app.register(webhookRoutes, { store, ...deps.webhooks });
  if (deps.monitoring) await app.register(monitoringRoutes, { monitoring: deps.monitoring });

  return app;
}
