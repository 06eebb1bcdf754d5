/**
 * Admission control: at most `maxInFlight` requests of the routes that declare
 * `config: { admission: true }` (the scoring route) are in the server at once. One more is
 * refused at once, before its body is validated or scored, with 503 problem+json
 * `TRIAGE_OVERLOADED` and `Retry-After: 1`, rather than queueing behind the others until the
 * scoring deadline passes. A request counts from the moment its body has been received and
 * parsed (the `preValidation` hook) until its response is sent (or its client goes away), so a
 * client uploading slowly holds no slot while the server waits for its bytes (the body read is
 * bounded by the request timeout instead).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TriageError } from '../core/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route counts towards the admission limit (see api/admission.ts). */
    admission?: boolean;
  }
}

/** Admission limit; `maxInFlight: 0` turns it off. */
export interface AdmissionOptions {
  /** Requests of admission-controlled routes in the server at once. */
  maxInFlight: number;
}

/**
 * Installs the limit on `app`. `inFlight()` reads the current count (for metrics and tests).
 */
export function installAdmission(app: FastifyInstance, o: AdmissionOptions): { inFlight(): number } {
  let inFlight = 0;
  const admitted = new WeakSet<FastifyRequest>();
  const release = (req: FastifyRequest): void => {
    if (admitted.delete(req)) inFlight--;
  };
  if (o.maxInFlight > 0) {
    app.addHook('preValidation', async (req, reply) => {
      if (req.routeOptions.config?.admission !== true) return;
      if (inFlight >= o.maxInFlight) {
        void reply.header('retry-after', '1');
        throw new TriageError(
          'TRIAGE_OVERLOADED',
          `the server is scoring ${o.maxInFlight} invoices already; retry in a second`,
        );
      }
      inFlight++;
      admitted.add(req);
    });
    app.addHook('onResponse', async (req) => release(req));
    app.addHook('onRequestAbort', async (req) => release(req));
  }
  return { inFlight: () => inFlight };
}
