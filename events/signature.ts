/**
 * Webhook signatures, in the style of the big payment platforms: each delivery carries
 *
 * - `webhook-id`: the event id (CloudEvents `id`), the same on every retry: deduplicate on it;
 * - `webhook-timestamp`: Unix seconds when this attempt was signed;
 * - `webhook-signature`: `v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`.
 *
 * A receiver recomputes the HMAC over the raw body bytes it received, compares in constant time,
 * and refuses a timestamp more than {@link REPLAY_WINDOW_SECONDS} from its clock (replay
 * protection); ids seen within that window are duplicates.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header names of a delivery. */
export const WEBHOOK_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** Largest accepted difference between a delivery's timestamp and the receiver's clock, seconds. */
export const REPLAY_WINDOW_SECONDS = 300;

/** `v1=<hex>`: HMAC-SHA256 over `<timestampSeconds>.<body>` with the subscription's secret. */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/**
 * True when `signature` is {@link signWebhook} of the body and the timestamp is within the
 * replay window of `nowSeconds`.
 */
export function verifyWebhook(o: {
  secret: string;
  body: string;
  timestamp: string;
  signature: string;
  nowSeconds?: number;
  toleranceSeconds?: number;
}): boolean {
  const t = Number(o.timestamp);
  const now = o.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (!Number.isInteger(t) || Math.abs(now - t) > (o.toleranceSeconds ?? REPLAY_WINDOW_SECONDS)) return false;
  const expected = Buffer.from(signWebhook(o.secret, t, o.body));
  const given = Buffer.from(o.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
