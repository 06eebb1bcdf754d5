/**
 * The pull feed, `GET /v1/events?after=<sequence>&limit=`: the tenant's events as CloudEvents
 * 1.0 JSON in sequence order, for systems that cannot receive webhooks. Resumable: keep the
 * last `sequence` processed and pass it as `after`. Roles: auditor (every event of the tenant)
 * and workflow (a workflow-only key reads the events of the invoices it scored).
 */
import Type from 'typebox';
import { CloudEvent, toCloudEvent } from '../../core/events.js';
import { principalOf } from '../auth.js';
import type { ApiStore } from '../app.js';
import { problemResponses, PROTECTED, type RoutePlugin } from './common.js';

/** What the event feed uses. */
export interface EventRoutesOptions {
  store: Pick<ApiStore, 'events'>;
}

/** Registers the event feed. */
export const eventRoutes: RoutePlugin<EventRoutesOptions> = async (app, deps) => {
  app.get(
    '/v1/events',
    {
      config: { roles: ['auditor', 'workflow'] },
      schema: {
        operationId: 'listEvents',
        summary: "The tenant's events (CloudEvents 1.0) after a sequence number, oldest first",
        description:
          'Events are numbered 1, 2, 3... per tenant in commit order, so paging by `after` never skips ' +
          'one. A key whose only feed role is workflow sees the events of invoices it scored.',
        querystring: Type.Object(
          {
            after: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: Number.MAX_SAFE_INTEGER,
                default: 0,
                description: 'Sequence of the last event processed (0: from the start).',
              }),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(CloudEvent),
            next_after: Type.Integer({
              description: 'Sequence of the last event returned (or `after` when none): pass it as `after`.',
            }),
            has_more: Type.Boolean(),
          }),
          ...problemResponses(PROTECTED),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const after = req.query.after ?? 0;
      const limit = req.query.limit ?? 100;
      const rows = await deps.store.events.feed(p.tenantId, {
        afterSeq: after,
        limit,
        ...(p.roles.includes('auditor') ? {} : { scopeKeyId: p.keyId }),
      });
      return {
        items: rows.map(toCloudEvent),
        next_after: rows.length > 0 ? rows[rows.length - 1]!.seq : after,
        has_more: rows.length === limit,
      };
    },
  );
};
