-- 030_events: the transactional outbox of events (CloudEvents 1.0, see core/events.ts), webhook
-- subscriptions per tenant and one delivery row per (subscription, event).
-- An event row is inserted in the transaction of the change it reports (store/events.ts
-- appendEvents), together with a pending delivery for every live subscription to its type, so a
-- rolled-back change leaves neither an event nor a delivery.

-- Events of one tenant, numbered 1, 2, 3... in commit order: `event_heads` is locked by the
-- appending transaction until it commits, so a reader paging by seq never skips a row that
-- commits later with a smaller number.
CREATE TABLE events (
  tenant_id     text NOT NULL,
  seq           bigint NOT NULL,
  id            uuid NOT NULL UNIQUE,
  type          text NOT NULL,
  subject       text NOT NULL,
  -- Events with the same key are delivered in seq order to each subscription (invoice:<id>, model:<name>).
  ordering_key  text NOT NULL,
  time          text NOT NULL,
  data          jsonb NOT NULL,
  -- API key whose callers may read this event in the pull feed when their only role is workflow
  -- (the key that scored the invoice); NULL: auditors only.
  scope_key_id  text,
  PRIMARY KEY (tenant_id, seq)
);

CREATE TABLE event_heads (
  tenant_id  text PRIMARY KEY,
  seq        bigint NOT NULL
);

-- Webhook subscriptions. The signing secret is stored encrypted (AES-256-GCM, events/secrets.ts);
-- it is shown once, when the subscription is created.
CREATE TABLE webhook_subscriptions (
  id           uuid PRIMARY KEY,
  tenant_id    text NOT NULL,
  url          text NOT NULL,
  event_types  text[] NOT NULL CHECK (cardinality(event_types) > 0),
  secret_enc   text NOT NULL,
  description  text,
  created_at   timestamptz NOT NULL,
  created_by   text,
  deleted_at   timestamptz,
  deleted_by   text
);
CREATE INDEX webhook_subscriptions_tenant ON webhook_subscriptions (tenant_id) WHERE deleted_at IS NULL;

-- One delivery per subscription and event. pending -> delivered | dead (after the last attempt)
-- | cancelled (subscription deleted); POST .../redeliver puts a delivered or dead one back to
-- pending with a new generation (its job id changes with it).
CREATE TABLE webhook_deliveries (
  id               uuid PRIMARY KEY,
  tenant_id        text NOT NULL,
  subscription_id  uuid NOT NULL REFERENCES webhook_subscriptions (id),
  event_seq        bigint NOT NULL,
  event_id         uuid NOT NULL,
  ordering_key     text NOT NULL,
  state            text NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'delivered', 'dead', 'cancelled')),
  attempts         integer NOT NULL DEFAULT 0,
  generation       integer NOT NULL DEFAULT 0,
  last_status      integer,
  last_error       text,
  last_attempt_at  timestamptz,
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL,
  UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (subscription_id, ordering_key, event_seq)
  WHERE state = 'pending';
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (subscription_id, event_seq);
