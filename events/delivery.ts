/**
 * Webhook delivery: the `deliver-webhook` processor (run by BullMQ workers, or by the in-process
 * queue of the embedded default) and the delivery relay that enqueues deliveries from the
 * outbox. Delivery is at least once: a worker killed after the receiver answered but before the
 * row was marked delivered sends the event again (same `webhook-id`).
 *
 * Ordering per invoice: the relay enqueues only the head of each lane (subscription + ordering
 * key, see store/events.ts), and the processor re-checks it, so a later event of an invoice is
 * never sent before an earlier one is delivered or dead.
 *
 * Retries: a failed attempt (non-2xx, redirect, timeout, refused address) is recorded on the
 * delivery and thrown, so the queue retries it with its exponential backoff
 * (`WEBHOOK_BACKOFF_MS` × 2^(n−1)); the attempt that reaches `WEBHOOK_ATTEMPTS` marks the delivery
 * dead instead, and the lane moves on.
 */
import { toCloudEvent } from '../core/events.js';
import type { EventStore } from '../store/events.js';
import { LIVE_STATES, type JobQueue, type Processor } from '../jobs/types.js';
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
  /** Called when a delivery settles (delivered or dead): the next one of its lane may go. */
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

/** A failed attempt the queue retries after its backoff. */
class AttemptFailed extends Error {
  constructor(readonly reason: string) {
    super(`webhook attempt failed: ${reason}`);
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
    if (outcome === 'retry') throw new AttemptFailed(reason);
    if (outcome === 'dead') o.onSettled?.();
    return {
      outcome: outcome === 'dead' ? 'dead' : 'skipped',
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
 * Moves deliveries from the outbox to the queue: each pass reads the lane heads (pending
 * deliveries with no earlier pending one in their lane) and adds a `deliver-webhook` job with
 * the deterministic id {@link deliveryJobId}; a job already waiting, delayed or active is left
 * alone, a finished one (blocked earlier, or failed while the store was down) is replaced. Runs
 * in every worker and in the embedded server; several relays never duplicate a job.
 */
export function createDeliveryRelay(o: RelayOptions): DeliveryRelay {
  const limit = o.limit ?? 200;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<number> | null = null;
  let again = false;

  async function pass(): Promise<number> {
    let added = 0;
    for (const d of await o.events.heads(limit)) {
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
