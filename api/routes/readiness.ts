/**
 * `GET /readyz`: readiness for load balancers and orchestrators. 200 when the store and the job
 * queue answer; otherwise 503 problem+json (`TRIAGE_STORE_UNAVAILABLE` or
 * `TRIAGE_QUEUE_UNAVAILABLE`) with `Retry-After` and the state of each check. Each check is
 * time-limited so a hung dependency cannot hang the probe. A store that does not answer in time
 * because the embedded engine is running other work (a long scoring transaction) is `busy`
 * rather than `down`. (`/healthz` stays a liveness probe and never waits for the store.)
 */
import Type from 'typebox';
import { TriageError } from '../../core/errors.js';
import { withTimeout } from '../../core/timeout.js';
import { Problem, problemOf } from '../problem.js';
import { problemResponses, type RoutePlugin } from './common.js';
import type { StorePing } from './health.js';

/** Options of the readiness route. */
export interface ReadinessOptions {
  /** Store round trip; rejects when the database is unreachable. */
  pingStore: StorePing;
  /** Queue round trip (Redis); absent when jobs run in-process. */
  pingQueue?: () => Promise<void>;
  /** Time limit of each check, milliseconds; default 2000. */
  timeoutMs?: number;
  /** Seconds a client should wait before retrying; default 5. */
  retryAfterSeconds?: number;
}

const CheckState = Type.Union([Type.Literal('ok'), Type.Literal('down'), Type.Literal('not_used')]);
const StoreState = Type.Union([Type.Literal('ok'), Type.Literal('busy'), Type.Literal('down')], {
  description: '`busy`: the embedded store ran other work (a scoring transaction) for the whole time limit.',
});
const Checks = Type.Object({ store: StoreState, queue: CheckState });

async function check(
  f: (() => Promise<unknown>) | undefined,
  ms: number,
): Promise<'ok' | 'down' | 'not_used'> {
  if (!f) return 'not_used';
  try {
    await withTimeout(f(), ms, () => new Error('timed out'));
    return 'ok';
  } catch {
    return 'down';
  }
}

/**
 * The store check, each round trip limited to `ms`: `busy` when the store was busy at first and
 * the round trip queued behind that work did not finish in time.
 */
async function checkStore(ping: StorePing, ms: number): Promise<'ok' | 'busy' | 'down'> {
  let first: 'ok' | 'busy' | void;
  try {
    first = await withTimeout(ping({ ifIdle: true }), ms, () => new Error('timed out'));
  } catch {
    return 'down';
  }
  if (first !== 'busy') return 'ok';
  return (await check(() => ping(), ms)) === 'ok' ? 'ok' : 'busy';
}

/** The readiness route. */
export const readinessRoutes: RoutePlugin<ReadinessOptions> = async (app, opts) => {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const retryAfter = String(opts.retryAfterSeconds ?? 5);
  app.get(
    '/readyz',
    {
      config: { rateLimit: false },
      schema: {
        operationId: 'getReadiness',
        summary: 'Readiness: the store and the job queue answer',
        response: {
          200: Type.Object({ status: Type.Literal('ready'), checks: Checks }),
          ...problemResponses(400, 500),
          503: Type.Object(
            { ...Problem.properties, checks: Checks },
            { description: 'Not ready: a check is down' },
          ),
        },
      },
    },
    async (req, reply) => {
      const [store, queue] = await Promise.all([
        checkStore(opts.pingStore, timeoutMs),
        check(opts.pingQueue, timeoutMs),
      ]);
      const checks = { store, queue };
      if (store === 'ok' && queue !== 'down') return { status: 'ready' as const, checks };
      const te =
        store === 'busy'
          ? new TriageError(
              'TRIAGE_STORE_UNAVAILABLE',
              'the store is busy with a scoring transaction; retry later',
            )
          : store !== 'ok'
            ? new TriageError('TRIAGE_STORE_UNAVAILABLE', 'the store does not answer; retry later')
            : new TriageError(
                'TRIAGE_QUEUE_UNAVAILABLE',
                'the job queue (Redis) does not answer; retry later',
              );
      void reply.status(503).type('application/problem+json').header('retry-after', retryAfter);
      return { ...problemOf(te, String(req.id)), checks };
    },
  );
};
