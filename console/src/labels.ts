/**
 * Reviewer labels: each label gets an idempotency key and is kept in localStorage until the
 * service acknowledges it (201, or 200 replayed), so a failed post is shown, can be retried with
 * the same key (never stored twice), and survives a reload.
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api.js';
import type { StoredReview } from './types.js';

/** The body of POST /v1/reviews. */
export interface ReviewBody {
  decision_id: string;
  outcome: 'confirmed' | 'false_positive' | 'corrected_code';
  task?: 'coding-mismatch' | 'duplicate' | 'other';
  line_number?: number;
  corrected_code?: { system: 'HCPCS'; value: string };
  idempotency_key: string;
}

/** A label not yet acknowledged, with the last error. */
export interface PendingLabel {
  body: ReviewBody;
  invoice_number: string;
  error: string | null;
}

const STORE = 'invoice-triage.pending-labels';
const CHANGED = 'invoice-triage:labels-changed';

/** Labels not yet acknowledged by the service. */
export function pendingLabels(): PendingLabel[] {
  try {
    return JSON.parse(localStorage.getItem(STORE) ?? '[]') as PendingLabel[];
  } catch {
    return [];
  }
}

function save(list: PendingLabel[]): void {
  localStorage.setItem(STORE, JSON.stringify(list));
  dispatchEvent(new Event(CHANGED));
}

/**
 * Sends a label (kept as pending first). Resolves with the stored review when the service
 * stored it (or had stored it under the same idempotency key).
 * @throws ApiError when the post failed; the label stays pending with the error.
 */
export async function submitLabel(body: ReviewBody, invoiceNumber: string): Promise<StoredReview> {
  // A retried label keeps its last error (and its place in the banner) until the service acknowledges it.
  if (!pendingLabels().some((p) => p.body.idempotency_key === body.idempotency_key))
    save([...pendingLabels(), { body, invoice_number: invoiceNumber, error: null }]);
  try {
    const stored = await api<StoredReview>('/v1/reviews', { method: 'POST', body });
    save(pendingLabels().filter((p) => p.body.idempotency_key !== body.idempotency_key));
    return stored;
  } catch (e) {
    const message = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e);
    save(
      pendingLabels().map((p) =>
        p.body.idempotency_key === body.idempotency_key ? { ...p, error: message } : p,
      ),
    );
    throw e;
  }
}

/** Banner listing labels not yet stored, each with Retry and Discard. */
export function PendingLabels() {
  const [list, setList] = useState(pendingLabels());
  useEffect(() => {
    const on = () => setList(pendingLabels());
    addEventListener(CHANGED, on);
    addEventListener('storage', on);
    return () => {
      removeEventListener(CHANGED, on);
      removeEventListener('storage', on);
    };
  }, []);
  const failed = list.filter((p) => p.error !== null);
  if (failed.length === 0) return null;
  return html`<section class="pending" aria-labelledby="pending-title" role="region">
    <h2 id="pending-title">Labels not yet stored (${failed.length})</h2>
    <ul>
      ${failed.map(
        (p) =>
          html`<li>
            Invoice ${p.invoice_number}: ${p.body.outcome.replace('_', ' ')} —
            <span class="error">${p.error}</span>
            <button
              type="button"
              onClick=${() => submitLabel(p.body, p.invoice_number).catch(() => undefined)}
            >
              Retry
            </button>
            <button
              type="button"
              class="secondary"
              onClick=${() => save(pendingLabels().filter((x) => x.body.idempotency_key !== p.body.idempotency_key))}
            >
              Discard
            </button>
          </li>`,
      )}
    </ul>
  </section>`;
}
