/**
 * `GET /v1/worklist?queue=coding|ap|compliance|procurement` (reviewer): open exceptions of the key's
 * tenant, highest priority first (expected cost in the invoice currency's minor units / 100 as of
 * today, see inference/priority.ts),
 * paginated with an opaque cursor.
 */
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { Queue } from '../../core/decision.js';
import { TriageError } from '../../core/errors.js';
import { checkQueryDates, dateRangeError } from '../../core/date-range.js';
import type { WorklistCursor } from '../../store/worklist.js';
import { principalOf } from '../auth.js';
import {
  decodeCursor,
  encodeCursor,
  problemResponses,
  PROTECTED,
  nowOf,
  type ClockOption,
  type RoutePlugin,
} from './common.js';
import type { ApiStore } from '../app.js';

const MajorUnits = Type.Number({
  description:
    "The invoice currency's minor units / 100 (2 decimals; dollars for USD). Never converted between currencies.",
});

/** One worklist item. */
export const WorklistItem = Type.Object({
  decision_id: Type.String({ format: 'uuid' }),
  invoice_id: Type.String(),
  decision: Type.Union([Type.Literal('REVIEW'), Type.Literal('HOLD'), Type.Literal('AUTO_APPROVE')], {
    description:
      'AUTO_APPROVE only for an auto-approved invoice the ERP then rejected (POST /v1/erp/callbacks).',
  }),
  queue: Queue,
  priority: {
    ...MajorUnits,
    description:
      "Expected cost as of as_of, in the invoice currency's minor units / 100: priorities of invoices in different currencies do not compare.",
  },
  priority_components: Type.Object({
    expected_loss: MajorUnits,
    discount: MajorUnits,
    sla_age: MajorUnits,
  }),
  vendor: Type.Object({ id: Type.String(), name: Type.String() }),
  facility_id: Type.Union([Type.String(), Type.Null()]),
  invoice_number: Type.String(),
  invoice_date: Type.String({ format: 'date' }),
  received_date: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
  discount_deadline: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
  days_open: Type.Integer({ minimum: 0 }),
  total_cents: Type.Integer(),
  currency: Type.String(),
  reason_codes: Type.Array(Type.String()),
  duplicate_of: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});

/** A real calendar date (`2026-02-30` is not), as the `as_of` query parameter's format checks. */
const calendarDate = Compile(Type.String({ format: 'date' }));

/**
 * Whether a decoded cursor has the shape this route encodes: `a` the as-of date (a calendar date
 * within {@link dateRangeError}'s range, as `as_of` must be), `p` the priority in cents as a
 * decimal string, `i` the decision id; a forged one is refused rather than reach the store.
 */
const isCursor = (x: unknown): x is { a: string; p: string; i: string } =>
  typeof x === 'object' &&
  x !== null &&
  typeof (x as { a?: unknown }).a === 'string' &&
  calendarDate.Check((x as { a: string }).a) &&
  dateRangeError('', (x as { a: string }).a) === undefined &&
  typeof (x as { p?: unknown }).p === 'string' &&
  /^-?\d+(\.\d+)?$/.test((x as { p: string }).p) &&
  typeof (x as { i?: unknown }).i === 'string' &&
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test((x as { i: string }).i);

/** What the worklist routes use. */
export interface WorklistRoutesOptions extends ClockOption {
  store: Pick<ApiStore, 'worklist'>;
}

/** Registers the worklist routes. */
export const worklistRoutes: RoutePlugin<WorklistRoutesOptions> = async (app, deps) => {
  app.get(
    '/v1/worklist',
    {
      config: { roles: ['reviewer'] },
      schema: {
        operationId: 'getWorklist',
        summary: 'Open exceptions by priority (expected cost), paginated',
        description:
          'priority = expected_loss + discount_cents / (1 + days to the discount deadline) + ' +
          "sla_cents_per_day x days since received, in the invoice currency's minor units / 100 (not converted: a worklist mixing " +
          'currencies ranks numbers that do not compare), as of as_of (default today, UTC). ' +
          'Follow next_cursor for the next page; the cursor keeps the as_of date.',
        querystring: Type.Object(
          {
            queue: Type.Optional(Queue),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
            cursor: Type.Optional(Type.String({ maxLength: 400 })),
            as_of: Type.Optional(Type.String({ format: 'date' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            as_of: Type.String({ format: 'date' }),
            items: Type.Array(WorklistItem),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...problemResponses(PROTECTED),
        },
      },
    },
    async (req) => {
      const p = principalOf(req);
      let after: WorklistCursor | undefined;
      if (req.query.cursor !== undefined) {
        const c = decodeCursor(req.query.cursor);
        if (!isCursor(c))
          throw new TriageError('TRIAGE_REQUEST_INVALID', 'cursor is not a worklist cursor', [
            { path: '/querystring/cursor', message: 'is not a cursor returned by this endpoint' },
          ]);
        after = { asOf: c.a, priorityCents: c.p, decisionId: c.i };
      }
      checkQueryDates({ as_of: req.query.as_of });
      const asOf = after?.asOf ?? req.query.as_of ?? nowOf(deps).toISOString().slice(0, 10);
      const page = await deps.store.worklist({
        tenantId: p.tenantId,
        ...(req.query.queue ? { queue: req.query.queue } : {}),
        asOf,
        limit: req.query.limit ?? 50,
        ...(after ? { after } : {}),
      });
      return {
        as_of: asOf,
        items: page.items,
        next_cursor: page.next
          ? encodeCursor({ a: page.next.asOf, p: page.next.priorityCents, i: page.next.decisionId })
          : null,
      };
    },
  );
};
