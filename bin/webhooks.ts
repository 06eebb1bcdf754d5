/**
 * Wiring of events out for the server and the worker: the secret box (key from
 * `WEBHOOK_SECRET_KEY` or the key file), the URL policy, the HTTP poster, the `deliver-webhook`
 * processor and the delivery relay over a queue.
 */
import type { WebhookRoutesOptions } from '../api/routes/webhooks.js';
import {
  createDeliverProcessor,
  createDeliveryRelay,
  createPoster,
  loadSecretKey,
  secretBox,
  type DeliveryRelay,
} from '../events/index.js';
import type { JobOptionsInput, JobQueue, Processor } from '../jobs/index.js';
import type { EventStore } from '../store/events.js';
import type { WebhooksConfig } from './config.js';

/** What the job wiring needs to deliver webhooks. */
export interface WebhookJobs {
  processor: Processor<'deliver-webhook'>;
  /** Attempts and backoff of `deliver-webhook` jobs. */
  options: JobOptionsInput;
  /** Creates the relay over the queue (one per process). */
  relay(queue: JobQueue, onError: (e: unknown) => void): DeliveryRelay;
}

/** Events-out wiring of one process. */
export interface WiredWebhooks {
  jobs: WebhookJobs;
  /** Options of the /v1/webhooks routes. */
  routes: WebhookRoutesOptions;
  /** Closes the HTTP connections. */
  close(): Promise<void>;
}

/**
 * Wires webhooks from configuration over the event store.
 * @throws TriageError `TRIAGE_CONFIG_INVALID` when the secret key is not 32 bytes.
 */
export function wireWebhooks(cfg: WebhooksConfig, events: EventStore): WiredWebhooks {
  const secrets = secretBox(loadSecretKey({ keyBase64: cfg.secretKey, file: cfg.secretKeyFile }));
  const policy = { allowLoopback: cfg.allowLoopback, allowPrivate: cfg.allowPrivate };
  const poster = createPoster({ policy, timeoutMs: cfg.timeoutMs });
  let relay: DeliveryRelay | undefined;
  const processor = createDeliverProcessor({
    events,
    poster,
    secrets,
    maxAttempts: cfg.attempts,
    onSettled: () => relay?.kick(),
  });
  return {
    jobs: {
      processor,
      options: { attempts: cfg.attempts, backoff: { type: 'exponential', delayMs: cfg.backoffMs } },
      relay(queue, onError) {
        relay = createDeliveryRelay({
          events,
          queue,
          intervalMs: cfg.relayMs,
          onError,
          retry: {
            attempts: cfg.attempts,
            backoff: { type: 'exponential', delayMs: cfg.backoffMs, jitter: 0 },
          },
        });
        return relay;
      },
    },
    routes: { policy, secrets, onRedeliver: () => relay?.kick() },
    close: () => poster.close(),
  };
}
