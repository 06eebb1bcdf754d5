/**
 * An invoice re-sent with its lines in another order is the same invoice: a replay of its stored
 * decision on the scoring route and a skip in a history import, never a 409. Fingerprints stored
 * before lines were put in `line_number` order (the lines hashed as sent) still replay the
 * invoice re-sent as it was stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalSha256 } from '../core/canonical.js';
import type { Invoice } from '../core/invoice.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';
import { inProcessQueue, startStack, type Stack } from './jobs-harness.js';

/** The invoice with its lines in reverse order. */
const reversed = (inv: Invoice): Invoice => ({ ...inv, lines: [...inv.lines].reverse() });

describe.each(engines('lineorder'))('lines re-sent in another order on $name', ({ config }) => {
  let h: Harness;
  const cfg = config();
  beforeAll(async () => {
    h = await startHarness(cfg);
  });
  afterAll(async () => h.close());

  const score = (inv: Invoice) =>
    h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: inv });

  it('replays the stored decision; other content under the id is still a 409', async () => {
    const inv = makeInvoice({ invoice_id: 'order-1' });
    const first = await h.scoreOk(inv);
    const again = await score(reversed(inv));
    expect(again.statusCode, again.body).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json<{ decision_id: string }>().decision_id).toBe(first.decision_id);
    const changed = reversed({
      ...inv,
      lines: inv.lines.map((l, i) => (i ? l : { ...l, description: 'Other' })),
    });
    expect((await score(changed)).statusCode).toBe(409);
  });

  it('replays a row stored with the lines hashed as sent, when re-sent as stored', async () => {
    const inv = reversed(makeInvoice({ invoice_id: 'order-legacy' }));
    const first = await h.scoreOk(inv);
    await h.wired.db.query(`UPDATE invoices SET payload_sha256 = $1 WHERE invoice_id = $2`, [
      canonicalSha256(inv),
      inv.invoice_id,
    ]);
    const again = await score(inv);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json<{ decision_id: string }>().decision_id).toBe(first.decision_id);
    expect((await score({ ...inv, total_cents: inv.total_cents + 100 })).statusCode).toBe(409);
  });

  it('skips a history record whose lines come in another order', async () => {
    const inv = makeInvoice({ invoice_id: 'order-hist', invoice_number: 'H-77' });
    const post = (records: Invoice[]) =>
      h.call('admin', { method: 'POST', url: '/v1/history', payload: records });
    const once = await post([inv]);
    expect(once.statusCode, once.body).toBe(200);
    const twice = await post([reversed(inv)]);
    expect(twice.statusCode, twice.body).toBe(200);
    expect(twice.json<{ imported: number; skipped: number }>()).toMatchObject({ imported: 0, skipped: 1 });
  });
});

describe.each(engines('lineorderb'))('a batch re-sent with lines in another order on $name', ({ config }) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack(config(), { queue: (w, m) => inProcessQueue(w, m, { autorun: false }) });
  });
  afterAll(async () => stack.close());

  it('answers a batch re-sent under its Idempotency-Key with lines in another order, also one stored hashed as sent', async () => {
    const post = (invoices: Invoice[], key: string) =>
      stack.app.inject({
        method: 'POST',
        url: '/v1/batches',
        headers: { 'idempotency-key': key },
        payload: { invoices },
      });
    const batchId = (r: { statusCode: number; body: string; json: <T>() => T }): string => {
      expect(r.statusCode, r.body).toBeLessThan(300);
      return r.json<{ batch_id: string }>().batch_id;
    };
    const inv = makeInvoice({ invoice_id: 'order-batch', invoice_number: 'B-77' });
    const first = batchId(await post([inv], 'order-batch-1'));
    expect(batchId(await post([reversed(inv)], 'order-batch-1'))).toBe(first);
    const other = reversed(makeInvoice({ invoice_id: 'order-batch-2', invoice_number: 'B-78' }));
    const legacy = batchId(await post([other], 'order-batch-2'));
    await stack.wired.db.query(`UPDATE batches SET request_sha256 = $1 WHERE id = $2`, [
      canonicalSha256([other]),
      legacy,
    ]);
    expect(batchId(await post([other], 'order-batch-2'))).toBe(legacy);
    expect((await post([{ ...other, total_cents: 1 }], 'order-batch-2')).statusCode).toBe(409);
  });
});
