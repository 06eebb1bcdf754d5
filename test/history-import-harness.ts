/**
 * What the history import test files share (test/history-import.test.ts: the route's answers;
 * test/history-import-store.test.ts: the stored rows, concurrent and failing chunks, the CLI):
 * past invoices, NDJSON bodies, and the calls to `POST /v1/history` and the stored history.
 */
import type { Invoice } from '../core/invoice.js';
import { validateInvoice } from '../core/validate.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { indexKeysOf, payloadSha256 } from '../inference/stages/prepare.js';
import { makeInvoice } from './fixtures.js';
import type { Harness } from './harness.js';

/** Past invoice `i`: id `hist-i`, number `H-(1000+i)`, a 2024 date, no due date; `over` replaces fields. */
export function past(i: number, over: Partial<Invoice> = {}): Invoice {
  return makeInvoice({
    invoice_id: `hist-${i}`,
    invoice_number: `H-${1000 + i}`,
    invoice_date: `2024-0${1 + (i % 9)}-1${i % 10}`,
    due_date: undefined,
    ...over,
  } as Partial<Invoice>);
}

/**
 * The past invoices `ids` as one chunk of `history.importChunk` records: validated, located at
 * `/<id>`, with their payload hash and index keys.
 */
export function chunkRecords(ids: number[]) {
  return ids.map((i) => {
    const invoice = validateInvoice(past(i));
    return {
      location: `/${i}`,
      invoice,
      payloadSha256: payloadSha256(invoice),
      keys: indexKeysOf(extractInvoiceFeatures(invoice)),
    };
  });
}

/** `invs` as NDJSON, one JSON value a line, with a final newline. */
export const ndjson = (invs: unknown[]): string => invs.map((x) => JSON.stringify(x)).join('\n') + '\n';

/**
 * The calls on the harness of `ref` (read when called, inside tests):
 * - `post`: `POST /v1/history` with `payload` (a string as is, records as JSON) as `type`, by `key`;
 * - `storedIds`: the invoice ids of tenant `default` indexed as history, in id order.
 */
export function historyCalls(ref: { readonly h: Harness }) {
  const post = (
    payload: string | unknown[],
    type = 'application/json',
    key: 'admin' | 'workflow' = 'admin',
  ) =>
    ref.h.call(key, {
      method: 'POST',
      url: '/v1/history',
      headers: { 'content-type': type },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  const storedIds = async (): Promise<string[]> =>
    (
      await ref.h.wired.repo.transaction((tx) =>
        tx.query<{ invoice_id: string }>(
          `SELECT invoice_id FROM invoices WHERE tenant_id = 'default' AND indexed_as = 'history' ORDER BY invoice_id`,
        ),
      )
    ).map((r) => r.invoice_id);
  return { post, storedIds };
}
