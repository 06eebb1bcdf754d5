/**
 * Events out: webhook secrets (AES-256-GCM), signatures, URL safety, the HTTP poster, the
 * `deliver-webhook` processor and the delivery relay. Event schemas are in core/events.ts; the
 * outbox, subscriptions and deliveries in store/events.ts.
 */
export * from './secrets.js';
export * from './signature.js';
export * from './url-safety.js';
export * from './http.js';
export * from './delivery.js';
