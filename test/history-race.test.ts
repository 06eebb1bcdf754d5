/**
 * Two history writers at once (`POST /v1/history`, `cli import`): an invoice id another writer
 * stored with other content between this writer's read of the stored ids and its transaction is
 * found by the store inside the transaction, and refused by record and file line like every other
 * record error (`/1/invoice_id`, `line 3: ...`, detail `/1 (line 3): ...`).
 */
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import type { ApiStore } from '../api/app.js';
import type { HistoryStore } from '../store/history.js';
import { engines, makeInvoice } from './fixtures.js';
import { useHarness } from './harness.js';
import './problem-matcher.js';

const past = (i: number, over: Partial<Invoice> = {}): Invoice =>
  makeInvoice({ invoice_id: `race-${i}`, invoice_number: `R-${i}`, ...over } as Partial<Invoice>);
const ndjson = (invs: unknown[]): string => invs.map((x) => JSON.stringify(x)).join('\n') + '\n';

/**
 * `repo` whose history store reads every id as not yet stored: the window in which another
 * writer commits, after this writer's read and before its transaction.
 */
function readingBeforeTheOtherWriter(repo: ApiStore): ApiStore {
  const history: HistoryStore = { ...repo.history, stored: async () => new Map() };
  return new Proxy(repo, {
    get: (target, key) => {
      if (key === 'history') return history;
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe.each(engines('histrace'))('history writers racing on $name', ({ config }) => {
  const ref = useHarness(config(), {
    app: (wired) => ({ store: readingBeforeTheOtherWriter(wired.repo) }),
  });
  const post = (body: string) =>
    ref.h.call('admin', {
      method: 'POST',
      url: '/v1/history',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: body,
    });

  it('names the record and its file line of an id the other writer stored with other content', async () => {
    // The other writer's import (the store itself).
    expect((await post(ndjson([past(1)]))).json()).toEqual({ records: 1, imported: 1, skipped: 0 });
    const clash = await post(`\n${ndjson([past(2), past(1, { total_cents: 5 })])}`);
    expect(clash).toBeProblem(409, 'TRIAGE_INVOICE_CONFLICT', '/1/invoice_id');
    expect(clash.json<{ detail: string; errors: { path: string; message: string }[] }>()).toMatchObject({
      detail: expect.stringMatching(
        /^\/1 \(line 3\): \/invoice_id "race-1" is already stored with different content/,
      ),
      errors: [{ path: '/1/invoice_id', message: 'line 3: is already stored with different content' }],
    });
    // Nothing of the chunk was written; the same content is a skip.
    expect((await post(ndjson([past(2), past(1)]))).json()).toEqual({ records: 2, imported: 1, skipped: 1 });
  });
});
