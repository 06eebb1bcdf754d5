/**
 * Events out: the versioned event types the service emits, their data schemas (TypeBox, also
 * served in OpenAPI) and the CloudEvents 1.0 JSON envelope they travel in, both in webhook
 * deliveries and in the pull feed (`GET /v1/events`).
 *
 * Data carries ids, codes and scores only, never invoice contents (no descriptions, amounts,
 * vendor names, tax ids or NPIs): the same facts an auditor reads in the audit log.
 */
import Type, { type Static } from 'typebox';
import { Queue } from './decision.js';

/** Short names of the event types a subscription lists. */
export const EVENT_NAMES = [
  'decision.created',
  'decision.reviewed',
  'decision.released',
  'decision.confirmed',
  'model.promoted',
] as const;
/** A short event name, e.g. `decision.created`. */
export type EventName = (typeof EVENT_NAMES)[number];

/** Version of every data schema; a breaking change adds `.v2` types beside the `.v1` ones. */
export const EVENT_SCHEMA_VERSION = 'v1';
/** Prefix of the CloudEvents `type` attribute (reverse-DNS, as CloudEvents recommends). */
export const EVENT_TYPE_PREFIX = 'com.invoice-triage.';

/** The CloudEvents `type` of a short name: `com.invoice-triage.decision.created.v1`. */
export function cloudEventType(name: EventName): string {
  return `${EVENT_TYPE_PREFIX}${name}.${EVENT_SCHEMA_VERSION}`;
}

/** Schema of an event name (subscriptions list these). */
export const EventNameSchema = Type.Union(
  [
    Type.Literal('decision.created'),
    Type.Literal('decision.reviewed'),
    Type.Literal('decision.released'),
    Type.Literal('decision.confirmed'),
    Type.Literal('model.promoted'),
  ],
  { description: 'Event type (short name); the CloudEvents type is com.invoice-triage.<name>.v1.' },
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** Data of `decision.created`: the routing of a newly scored invoice. */
export const DecisionCreatedData = Type.Object({
  decision_id: Type.String({ format: 'uuid' }),
  invoice_id: Type.String({
    description: "The client's invoice id (the scoring request's idempotency key).",
  }),
  decision: Type.Union([Type.Literal('AUTO_APPROVE'), Type.Literal('REVIEW'), Type.Literal('HOLD')]),
  queue: Nullable(Queue),
  reason_codes: Type.Array(Type.String()),
  scores: Type.Object({
    coding_mismatch: Type.Number({ minimum: 0, maximum: 1 }),
    duplicate: Type.Number({ minimum: 0, maximum: 1 }),
  }),
  duplicate_of: Type.Array(Type.String(), { description: 'Invoice ids of the earlier invoices duplicated.' }),
  policy: Type.String({ description: 'Routing policy label, e.g. policy-default@1.' }),
  models: Type.Record(Type.String(), Type.String(), { description: 'Model version per task.' }),
});
export type DecisionCreatedData = Static<typeof DecisionCreatedData>;

/** Data of `decision.reviewed`: a reviewer's outcome (a training label). */
export const DecisionReviewedData = Type.Object({
  decision_id: Type.String({ format: 'uuid' }),
  invoice_id: Type.String(),
  review_id: Type.String({ format: 'uuid' }),
  task: Type.Union([Type.Literal('coding-mismatch'), Type.Literal('duplicate'), Type.Literal('other')]),
  outcome: Type.Union([
    Type.Literal('confirmed'),
    Type.Literal('false_positive'),
    Type.Literal('corrected_code'),
  ]),
  label: Nullable(Type.Union([Type.Literal(0), Type.Literal(1)])),
  line_number: Nullable(Type.Integer()),
  corrected_code: Nullable(Type.Object({ system: Type.String(), value: Type.String() })),
  duplicate_of_invoice_id: Nullable(Type.String()),
  reviewer: Type.Object({
    key_id: Type.String(),
    roles: Type.Array(Type.String(), { description: "Roles of the reviewer's API key." }),
  }),
  item_status: Nullable(Type.Union([Type.Literal('open'), Type.Literal('closed')])),
});
export type DecisionReviewedData = Static<typeof DecisionReviewedData>;

/**
 * Data of `decision.released` and `decision.confirmed`: a review that closed a HOLD. The
 * service has no separate release action: a `false_positive` review that closes a held
 * decision's worklist item releases the hold (the invoice may be paid); a `confirmed` or
 * `corrected_code` review that closes it confirms the hold (do not pay as billed). A
 * `false_positive` closing it while a line's latest review is an exception does not release it:
 * `decision.confirmed` then names that line's review (`review_id`, `outcome`, `task`).
 */
export const HoldSettledData = Type.Object({
  decision_id: Type.String({ format: 'uuid' }),
  invoice_id: Type.String(),
  review_id: Type.String({ format: 'uuid' }),
  queue: Nullable(Type.String()),
  outcome: DecisionReviewedData.properties.outcome,
  task: DecisionReviewedData.properties.task,
  duplicate_of_invoice_id: Nullable(Type.String()),
  /**
   * Present when this review reverses an earlier settlement of the same HOLD (a `confirmed`
   * after a `false_positive` release, or the other way): the review it supersedes.
   */
  supersedes: Type.Optional(
    Type.Object({
      review_id: Type.String({ format: 'uuid' }),
      outcome: DecisionReviewedData.properties.outcome,
    }),
  ),
});
export type HoldSettledData = Static<typeof HoldSettledData>;

/** Data of `model.promoted`: a registry promotion through the API (also audited). */
export const ModelPromotedData = Type.Object({
  name: Type.String(),
  version: Type.String(),
  previous_champion: Nullable(Type.String()),
  forced: Type.Boolean(),
  actor: Type.String({ description: 'API key id (or CLI user) that promoted.' }),
});
export type ModelPromotedData = Static<typeof ModelPromotedData>;

/** Data schema of each event name. */
export const EVENT_DATA_SCHEMAS = {
  'decision.created': DecisionCreatedData,
  'decision.reviewed': DecisionReviewedData,
  'decision.released': HoldSettledData,
  'decision.confirmed': HoldSettledData,
  'model.promoted': ModelPromotedData,
} as const satisfies Record<EventName, unknown>;

/** Data of each event name. */
export interface EventDataMap {
  'decision.created': DecisionCreatedData;
  'decision.reviewed': DecisionReviewedData;
  'decision.released': HoldSettledData;
  'decision.confirmed': HoldSettledData;
  'model.promoted': ModelPromotedData;
}

/**
 * The CloudEvents 1.0 JSON envelope (structured mode). `sequence` (CloudEvents sequence
 * extension) is the tenant's event number, the pull feed's cursor; `partitionkey` (partitioning
 * extension) is the ordering key: `invoice:<invoice_id>` or `model:<name>`.
 */
export const CloudEvent = Type.Object({
  specversion: Type.Literal('1.0'),
  id: Type.String({ format: 'uuid', description: 'Unique per event: deduplicate on it.' }),
  source: Type.String({
    description: 'URI reference of the emitting tenant: /invoice-triage/tenants/<tenant>.',
  }),
  type: Type.String({ description: 'com.invoice-triage.<name>.v1' }),
  time: Type.String({ format: 'date-time' }),
  subject: Type.String({ description: 'Invoice id (decision events) or <model>@<version>.' }),
  datacontenttype: Type.Literal('application/json'),
  sequence: Type.String({ pattern: '^[0-9]+$' }),
  partitionkey: Type.String(),
  data: Type.Union([DecisionCreatedData, DecisionReviewedData, HoldSettledData, ModelPromotedData], {
    description: 'Schema by type: see the component schemas DecisionCreatedData etc.',
  }),
});
export type CloudEvent = Static<typeof CloudEvent>;

/** An event to append to the outbox. */
export interface EventInput<N extends EventName = EventName> {
  tenantId: string;
  name: N;
  subject: string;
  orderingKey: string;
  data: EventDataMap[N];
  /** Decision the event is about: its scoring key may read it in the pull feed. */
  decisionId?: string;
}

/** A stored event (one outbox row). `seq` is per tenant, from 1, in commit order. */
export interface StoredEvent {
  tenantId: string;
  seq: number;
  id: string;
  name: EventName;
  subject: string;
  orderingKey: string;
  /** ISO 8601 UTC with milliseconds. */
  time: string;
  data: unknown;
}

/** The `source` attribute of a tenant's events. */
export function eventSource(tenantId: string): string {
  return `/invoice-triage/tenants/${encodeURIComponent(tenantId)}`;
}

/** The CloudEvents envelope of a stored event. */
export function toCloudEvent(e: StoredEvent): CloudEvent {
  return {
    specversion: '1.0',
    id: e.id,
    source: eventSource(e.tenantId),
    type: cloudEventType(e.name),
    time: e.time,
    subject: e.subject,
    datacontenttype: 'application/json',
    sequence: String(e.seq),
    partitionkey: e.orderingKey,
    data: e.data as CloudEvent['data'],
  };
}

/** The ordering key of an invoice's events. */
export const invoiceOrderingKey = (invoiceId: string): string => `invoice:${invoiceId}`;
