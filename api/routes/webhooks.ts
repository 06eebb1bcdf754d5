/**
 * Webhook subscriptions of the admin's tenant (`/v1/webhooks`, role admin): create (the signing
 * secret is in that answer only), list, read, delete; the deliveries of a subscription and the
 * redelivery of a delivered or dead one. URLs are checked by events/url-safety.ts when the
 * subscription is created and again at every delivery.
 */
import { randomUUID } from 'node:crypto';
import Type from 'typebox';
import { EventNameSchema } from '../../core/events.js';
import { TriageError } from '../../core/errors.js';
import { newWebhookSecret, targetRefusal, type SecretBox, type UrlPolicy } from '../../events/index.js';
import type { DeliveryRecord, SubscriptionRecord } from '../../store/events.js';
import { principalOf } from '../auth.js';
import type { ApiStore } from '../app.js';
import { IdParam, problemResponses, PROTECTED, WITH_BODY, type RoutePlugin } from './common.js';

/** What the webhook routes need besides the store. */
export interface WebhookRoutesOptions {
  /** Which targets the operator allows. */
  policy: UrlPolicy;
  /** Encrypts the signing secrets. */
  secrets: SecretBox;
  /** Called after a redelivery was accepted (the relay then enqueues it at once). */
  onRedeliver?: () => void;
}

/** Delivery states. */
const DeliveryState = Type.Union([
  Type.Literal('pending'),
  Type.Literal('delivered'),
  Type.Literal('dead'),
  Type.Literal('cancelled'),
]);

/** A subscription as shown (never the secret). */
export const WebhookResponse = Type.Object({
  id: Type.String({ format: 'uuid' }),
  url: Type.String(),
  event_types: Type.Array(EventNameSchema),
  description: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
  created_by: Type.Union([Type.String(), Type.Null()]),
});

/** A delivery as shown. */
export const DeliveryResponse = Type.Object({
  id: Type.String({ format: 'uuid' }),
  subscription_id: Type.String({ format: 'uuid' }),
  event_id: Type.String({ format: 'uuid' }),
  event_seq: Type.Integer(),
  ordering_key: Type.String(),
  state: DeliveryState,
  attempts: Type.Integer(),
  generation: Type.Integer({ description: 'Redeliveries so far.' }),
  last_status: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  last_attempt_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  delivered_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});

const view = (s: SubscriptionRecord) => ({
  id: s.id,
  url: s.url,
  event_types: s.eventTypes,
  description: s.description,
  created_at: s.createdAt,
  created_by: s.createdBy,
});

const deliveryView = (d: DeliveryRecord) => ({
  id: d.id,
  subscription_id: d.subscriptionId,
  event_id: d.eventId,
  event_seq: d.eventSeq,
  ordering_key: d.orderingKey,
  state: d.state,
  attempts: d.attempts,
  generation: d.generation,
  last_status: d.lastStatus,
  last_error: d.lastError,
  last_attempt_at: d.lastAttemptAt,
  delivered_at: d.deliveredAt,
  created_at: d.createdAt,
});

const notFound = (id: string) => new TriageError('TRIAGE_WEBHOOK_NOT_FOUND', `no webhook subscription ${id}`);

/** Registers the webhook routes. */
export const webhookRoutes: RoutePlugin<WebhookRoutesOptions & { store: Pick<ApiStore, 'events'> }> = async (
  app,
  opts,
) => {
  const { store, policy, secrets } = opts;
  app.post(
    '/v1/webhooks',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'createWebhook',
        summary: 'Subscribe a URL to events of the tenant; the signing secret is in this response only',
        description:
          'URL: https, or http to loopback when the operator allows it; private, link-local and other ' +
          'non-public addresses are refused unless allowed. Events are CloudEvents 1.0 JSON, signed: ' +
          'webhook-signature = v1=<hex HMAC-SHA256(secret, "<webhook-timestamp>.<body>")>.',
        body: Type.Object(
          {
            url: Type.String({ minLength: 1, maxLength: 2048 }),
            event_types: Type.Array(EventNameSchema, { minItems: 1, maxItems: 5, uniqueItems: true }),
            description: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            ...WebhookResponse.properties,
            secret: Type.String({ description: 'Signing secret (whsec_...). Shown once.' }),
          }),
          ...problemResponses(PROTECTED, WITH_BODY),
        },
      },
    },
    async (req, reply) => {
      const p = principalOf(req);
      const refused = await targetRefusal(req.body.url, policy);
      if (refused)
        throw new TriageError('TRIAGE_INPUT_INVALID', `url ${refused}`, [{ path: '/url', message: refused }]);
      const id = randomUUID();
      const secret = newWebhookSecret();
      const created = await store.events.createSubscription({
        id,
        tenantId: p.tenantId,
        url: req.body.url,
        eventTypes: req.body.event_types,
        secretEnc: secrets.seal(secret, id),
        description: req.body.description ?? null,
        createdBy: p.keyId,
      });
      req.log.info({ webhook_id: id, event_types: created.eventTypes }, 'webhook subscription created');
      void reply.status(201).header('cache-control', 'no-store');
      return { ...view(created), secret };
    },
  );
  app.get(
    '/v1/webhooks',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'listWebhooks',
        summary: "The tenant's webhook subscriptions",
        response: {
          200: Type.Object({ items: Type.Array(WebhookResponse) }),
          ...problemResponses(PROTECTED),
        },
      },
    },
    async (req) => ({ items: (await store.events.listSubscriptions(principalOf(req).tenantId)).map(view) }),
  );
  app.get(
    '/v1/webhooks/:id',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'getWebhook',
        summary: 'One webhook subscription',
        params: IdParam,
        response: { 200: WebhookResponse, ...problemResponses(PROTECTED, 404) },
      },
    },
    async (req) => {
      const s = await store.events.getSubscription(principalOf(req).tenantId, req.params.id);
      if (!s) throw notFound(req.params.id);
      return view(s);
    },
  );
  app.delete(
    '/v1/webhooks/:id',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook subscription; its pending deliveries are cancelled',
        params: IdParam,
        response: { 200: WebhookResponse, ...problemResponses(PROTECTED, 404) },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const s = await store.events.deleteSubscription(p.tenantId, req.params.id, p.keyId);
      if (!s) throw notFound(req.params.id);
      req.log.info({ webhook_id: s.id }, 'webhook subscription deleted');
      return view(s);
    },
  );
  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'listWebhookDeliveries',
        summary: 'Deliveries of a subscription in event order',
        params: IdParam,
        querystring: Type.Object(
          {
            after: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
            state: Type.Optional(DeliveryState),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            items: Type.Array(DeliveryResponse),
            next_after: Type.Union([Type.Integer(), Type.Null()], {
              description: 'Pass as `after` for the next page; null on the last page.',
            }),
          }),
          ...problemResponses(PROTECTED, 404),
        },
      },
    },
    async (req) => {
      const tenantId = principalOf(req).tenantId;
      if (!(await store.events.getSubscription(tenantId, req.params.id))) throw notFound(req.params.id);
      const limit = req.query.limit ?? 100;
      const rows = await store.events.listDeliveries(tenantId, req.params.id, {
        afterSeq: req.query.after ?? 0,
        limit,
        ...(req.query.state ? { state: req.query.state } : {}),
      });
      return {
        items: rows.map(deliveryView),
        next_after: rows.length === limit ? rows[rows.length - 1]!.eventSeq : null,
      };
    },
  );
  app.post(
    '/v1/webhooks/:id/deliveries/:delivery_id/redeliver',
    {
      config: { roles: ['admin'] },
      schema: {
        operationId: 'redeliverWebhookDelivery',
        summary: 'Send a delivered or dead delivery again (attempts start over)',
        description:
          'The event keeps its id (receivers deduplicate on webhook-id). It is sent once no earlier ' +
          'event of the same ordering key is pending; events of that key already delivered are not held back.',
        params: Type.Object({
          id: Type.String({ format: 'uuid' }),
          delivery_id: Type.String({ format: 'uuid' }),
        }),
        response: { 202: DeliveryResponse, ...problemResponses(PROTECTED, 404, 409) },
      },
    },
    async (req, reply) => {
      const tenantId = principalOf(req).tenantId;
      if (!(await store.events.getSubscription(tenantId, req.params.id))) throw notFound(req.params.id);
      const before = await store.events.getDelivery(tenantId, req.params.id, req.params.delivery_id);
      if (!before)
        throw new TriageError('TRIAGE_DELIVERY_NOT_FOUND', `no delivery ${req.params.delivery_id}`);
      if (before.state !== 'delivered' && before.state !== 'dead')
        throw new TriageError(
          'TRIAGE_DELIVERY_NOT_REDELIVERABLE',
          `delivery ${before.id} is ${before.state}; only delivered or dead deliveries can be sent again`,
        );
      const d = (await store.events.redeliver(tenantId, req.params.id, req.params.delivery_id))!;
      opts.onRedeliver?.();
      void reply.status(202);
      return deliveryView(d);
    },
  );
};
