/** Public probes: `GET /healthz` (liveness and store) and `GET /readyz` (ready to serve). */
import Type from 'typebox';
import { TriageError } from '../../core/errors.js';
import { problemResponses, type RoutePlugin } from './common.js';
import type { ScoringService } from '../../inference/pipeline.js';

/**
 * The store's round trip (`TriageRepository.ping`): rejects when the store is unreachable; with
 * `ifIdle`, answers `busy` at once, without a statement, when the embedded engine is running other
 * work (a statement sent then would wait behind it). `void` counts as `ok`.
 */
export type StorePing = (opts?: { ifIdle?: boolean }) => Promise<'ok' | 'busy' | void>;

/** What the liveness probe routes use. */
export interface HealthRoutesOptions {
  /** Store round trip. */
  ping: StorePing;
  /** Store engine name. */
  engine: string;
  scoring: Pick<ScoringService, 'versions'>;
}

/**
 * Registers the liveness probe routes. `/healthz` answers without a key, so it names no tenant's
 * policy: only the default one new tenants get (`default_policy`), beside the served versions.
 */
export const healthRoutes: RoutePlugin<HealthRoutesOptions> = async (app, deps) => {
  // Liveness never queues behind the store: a busy embedded store is alive (it runs in this
  // process, which is answering); an unreachable one is a 503.
  const ping = async (): Promise<'ok' | 'busy'> => {
    try {
      return (await deps.ping({ ifIdle: true })) ?? 'ok';
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
        summary: 'Liveness and store check (public); never waits behind a running scoring transaction',
        description:
          'Public and tenant-free: the served model, feature-schema and reference-data versions, and ' +
          "`default_policy`, the policy a tenant is scored under until it stores its own. A tenant's " +
          'policy is `GET /v1/policy` (with its key); every decision names the policy it was routed by.',
        response: {
          200: Type.Object({
            status: Type.Literal('ok'),
            store: Type.String({ description: 'Store engine: `postgres` or `pglite`.' }),
            store_state: Type.Union([Type.Literal('ok'), Type.Literal('busy')], {
              description:
                '`ok`: the store answered a round trip. `busy`: the embedded store (PGlite) is running ' +
                'other work, such as a scoring transaction, and this answer did not wait for it.',
            }),
            versions: Type.Object({
              models: Type.Record(Type.String(), Type.String()),
              feature_schema: Type.String(),
              reference_data: Type.String(),
            }),
            default_policy: Type.String({
              description:
                "The policy (`name@version`) of tenants without their own; not any one tenant's policy.",
            }),
          }),
          ...problemResponses(400, 429, 500, 503),
        },
      },
    },
    async () => {
      const state = await ping();
      const { policy, models, feature_schema, reference_data } = deps.scoring.versions;
      return {
        status: 'ok' as const,
        store: deps.engine,
        store_state: state,
        versions: { models, feature_schema, reference_data },
        default_policy: policy,
      };
    },
  );
};
