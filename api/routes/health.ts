/** Public probes: `GET /healthz` (liveness and store) and `GET /readyz` (ready to serve). */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { TriageError } from '../../core/errors.js';
import { Problem } from '../problem.js';
import type { RouteOptions } from './common.js';

/** Registers the probes. */
export default async function healthRoutes(root: FastifyInstance, { deps }: RouteOptions): Promise<void> {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
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
        summary: 'Liveness and store readiness (public)',
        response: {
          200: Type.Object({ status: Type.Literal('ok'), store: Type.String(), versions: Type.Unknown() }),
          503: Problem,
        },
      },
    },
    async () => {
      await ping();
      return { status: 'ok' as const, store: deps.engine, versions: deps.scoring.versions };
    },
  );
}
