/**
 * Webhook delivery: the `deliver-webhook` processor (run by BullMQ workers, or by the in-process
 * queue of the embedded default) and the delivery relay that enqueues deliveries from the
 * outbox. Delivery is at least once: a worker killed after the receiver answered but before the
 * row was marked delivered sends the event again (same `webhook-id`).
 *
 * Fair share: the relay is the scheduler. It keeps at most `slots` ÷ (subscriptions with work
 * due), at least 1, deliveries of one subscription enqueued or in flight, and enqueues in rounds
 * over subscriptions (the oldest due delivery of each, then the second, ...). A receiver that
 * hangs therefore holds at most its share of the slots, while a subscription alone with work
 * gets all of them.
 *
 * Ordering per invoice: the relay enqueues only the head of each lane (subscription + ordering
 * key, see store/events.ts), and the processor re-checks it, so a later event of an invoice is
 * never sent before an earlier one is delivered or dead.
 *
 * Retries: a failed attempt (non-2xx, redirect, timeout, refused address) is recorded on the
 * delivery (attempts, `last_attempt_at`) and the job ends; the relay enqueues the delivery again
 * once its backoff (`WEBHOOK_BACKOFF_MS` × 2^(n−1) after n failed attempts) has passed since the
 * stored last attempt, so the wait survives a restart. The attempt that reaches
 * `WEBHOOK_ATTEMPTS` marks the delivery dead instead, and the lane moves on. A store error is
 * thrown and retried by the queue.
 */
import { toCloudEvent } from '../core/events.js';
import type { EventStore } from '../store/events.js';
import {
  backoffDelayMs,
  DELIVER_WEBHOOK_CONCURRENCY,
  LIVE_STATES,
  type JobOptions,
  type JobQueue,
  type Processor,
} from '../jobs/types.js';
import type { Poster, PostResult } from './http.js';
import type { SecretBox } from './secrets.js';
import { signWebhook, WEBHOOK_HEADERS } from './signature.js';

/** Options of {@link createDeliverProcessor}. */
export interface DeliverOptions {
  events: EventStore;
  poster: Poster;
  secrets: SecretBox;
  /** Attempts per delivery before it is dead; the same as the queue's attempts of `deliver-webhook`. */
  maxAttempts: number;
  /**
   * Called when an attempt ends (delivered, dead, or failed and waiting for its backoff): a slot
   * is free and the next delivery of its lane or subscription may go.
   */
  onSettled?: () => void;
  /** Clock of the signature timestamps. */
  now?: () => Date;
}

/** Job id of a delivery in one generation (BullMQ ids may not contain ':'). */
export function deliveryJobId(deliveryId: string, generation: number): string {
  return `wh.${deliveryId}.${generation}`;
}

function openSecret(box: SecretBox, sealed: string, subscriptionId: string): string | null {
  try {
    return box.open(sealed, subscriptionId);
  } catch {
    return null;
  }
}

/** The `deliver-webhook` processor. */
export function createDeliverProcessor(o: DeliverOptions): Processor<'deliver-webhook'> {
  const now = o.now ?? (() => new Date());
  return async (data) => {
    const work = await o.events.work(data.deliveryId);
    if (!work || work.delivery.state !== 'pending' || work.delivery.generation !== data.generation)
      return { outcome: 'skipped' };
    if (!(await o.events.isHead(data.deliveryId))) return { outcome: 'blocked' };
    const { delivery, subscription, event } = work;
    const secret = openSecret(o.secrets, subscription.secretEnc, subscription.id);
    const body = JSON.stringify(toCloudEvent(event));
    const ts = Math.floor(now().getTime() / 1000);
    // A secret this process cannot decrypt (another key) is a failed attempt, never an unsigned send.
    const res: PostResult =
      secret === null
        ? {
            ok: false,
            status: null,
            error: 'signing secret cannot be decrypted with this WEBHOOK_SECRET_KEY',
          }
        : await o.poster.post(subscription.url, body, {
            'content-type': 'application/cloudevents+json; charset=utf-8',
            'user-agent': 'invoice-triage-webhooks/1',
            [WEBHOOK_HEADERS.id]: event.id,
            [WEBHOOK_HEADERS.timestamp]: String(ts),
            [WEBHOOK_HEADERS.signature]: signWebhook(secret, ts, body),
          });
    if (res.ok) {
      await o.events.markDelivered(delivery.id, delivery.generation, res.status ?? 200);
      o.onSettled?.();
      return { outcome: 'delivered', status: res.status ?? 200 };
    }
    const reason = res.error ?? 'failed';
    const outcome = await o.events.recordFailure(
      delivery.id,
      delivery.generation,
      { status: res.status, error: reason },
      o.maxAttempts,
    );
    if (outcome !== 'stale') o.onSettled?.();
    return {
      outcome: outcome === 'stale' ? 'skipped' : outcome,
      ...(res.status !== null ? { status: res.status } : {}),
    };
  };
}

/** Options of {@link createDeliveryRelay}. */
export interface RelayOptions {
  events: EventStore;
  queue: JobQueue;
  /** Time between relay passes, ms (`WEBHOOK_RELAY_MS`). */
  intervalMs: number;
  /** Lane heads looked at per pass; default 200. */
  limit?: number;
  /**
   * `deliver-webhook` jobs this process runs at once (its queue's concurrency), shared fairly
   * among the subscriptions with work due; default {@link DELIVER_WEBHOOK_CONCURRENCY}.
   */
  slots?: number;
  /** Attempts and backoff of a delivery: the relay enqueues a failed one again after its backoff. */
  retry?: { attempts: number; backoff: JobOptions['backoff'] };
  /** A pass that could not finish (store or queue down); the next one tries again. */
  onError?: (e: unknown) => void;
}

/** The delivery relay. */
export interface DeliveryRelay {
  /** One pass now: enqueues every lane head without a live job; resolves to the jobs added. */
  runOnce(): Promise<number>;
  /** A pass soon (coalesced), e.g. after a delivery settled. */
  kick(): void;
  start(): void;
  stop(): Promise<void>;
}

/**
 * The backoff of a delivery, ms, after 1, 2, ... `attempts` − 1 failed attempts (the queue's
 * {@link backoffDelayMs} without jitter).
 */
export function retryDelaysMs(retry: { attempts: number; backoff: JobOptions['backoff'] }): number[] {
  const fixed = { ...retry.backoff, jitter: 0 };
  return Array.from({ length: Math.max(1, retry.attempts - 1) }, (_, i) => backoffDelayMs(fixed, i + 1));
}

/**
 * The fair share of one subscription: `slots` split evenly over the subscriptions with work due,
 * at least 1 (so with more subscriptions than slots each has one job in the queue).
 */
export function fairShare(slots: number, subscriptions: number): number {
  return Math.max(1, Math.floor(slots / Math.max(1, subscriptions)));
}

/**
 * Moves deliveries from the outbox to the queue: each pass reads the due lane heads (pending
 * deliveries with no earlier pending one in their lane and their backoff passed, at most `slots`
 * per subscription, in rounds over subscriptions), keeps the first {@link fairShare} of each
 * subscription and adds a `deliver-webhook` job with
 * the deterministic id {@link deliveryJobId}; a job already waiting, delayed or active is left
 * alone, a finished one (blocked earlier, or failed while the store was down) is replaced. Runs
 * in every worker and in the embedded server; several relays never duplicate a job.
 */
export function createDeliveryRelay(o: RelayOptions): DeliveryRelay {
  const limit = o.limit ?? 200;
  const slots = o.slots ?? DELIVER_WEBHOOK_CONCURRENCY;
  const delays = o.retry ? retryDelaysMs(o.retry) : [];
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<number> | null = null;
  let again = false;

  async function pass(): Promise<number> {
    let added = 0;
    const heads = await o.events.heads(limit, { perSubscription: slots, retryDelaysMs: delays });
    const share = fairShare(slots, new Set(heads.map((d) => d.subscriptionId)).size);
    const taken = new Map<string, number>();
    for (const d of heads) {
      const n = (taken.get(d.subscriptionId) ?? 0) + 1;
      taken.set(d.subscriptionId, n);
      if (n > share) continue;
      const id = deliveryJobId(d.id, d.generation);
      const existing = await o.queue.getJob('deliver-webhook', id);
      if (existing && LIVE_STATES.has(existing.state)) continue;
      if (existing) await o.queue.remove('deliver-webhook', id);
      await o.queue.add(
        'deliver-webhook',
        { tenantId: d.tenantId, deliveryId: d.id, generation: d.generation },
        { jobId: id },
      );
      added++;
    }
    return added;
  }

  const runOnce = (): Promise<number> => {
    if (current) {
      again = true;
      return current;
    }
    current = pass().finally(() => {
      current = null;
      if (again) {
        again = false;
        kick();
      }
    });
    return current;
  };
  const kick = (): void => {
    runOnce().catch((e: unknown) => o.onError?.(e));
  };

  return {
    runOnce,
    kick,
    start() {
      if (timer) return;
      kick();
      timer = setInterval(kick, o.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      again = false;
      await current?.catch(() => undefined);
    },
  };
}
