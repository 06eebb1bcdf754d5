/** Public probes: `GET /healthz` (liveness and store) and `GET /readyz` (ready to serve). */
import Type from 'typebox';
import { TriageError } from '../../core/errors.js';
import { problemResponses, type RoutePlugin } from './common.js';
import type { ScoringService } from '../../inference/pipeline.js';

/** What the liveness probe routes use. */
export interface HealthRoutesOptions {
  /** Store round trip; rejects when it is unreachable. */
  ping: () => Promise<void>;
  /** Store engine name. */
  engine: string;
  scoring: Pick<ScoringService, 'versions'>;
}

/** Registers the liveness probe routes. */
export const healthRoutes: RoutePlugin<HealthRoutesOptions> = async (app, deps) => {
  const ping = async (): Promise<void> => {
    try {
      await deps.ping();
    } catch (e) {
      throw new TriageError('TRIAGE_STORE_UNAVAILABLE', 'the store does not answer; retry later', [], {
        cause: e,
      });
    }
  };
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getHealth',
        summary: 'Liveness and store readiness (public)',
        response: {
          200: Type.Object({ status: Type.Literal('ok'), store: Type.String(), versions: Type.Unknown() }),
          ...problemResponses(400, 429, 500, 503),
        },
      },
    },
    async () => {
      await ping();
      return { status: 'ok' as const, store: deps.engine, versions: deps.scoring.versions };
    },
  );
};
