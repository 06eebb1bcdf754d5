/**
 * A batch with several bad invoices: the 400 names every bad invoice (a pointer under
 * `/invoices/<i>/` for each), whether its fault is one the schema finds or a rule, and stores
 * nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engines, makeInvoice } from './fixtures.js';
import { inProcessQueue, startStack, type Stack } from './jobs-harness.js';

describe.each(engines('batcherr'))('batch errors on $name', ({ config }) => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack(config(), { queue: (w, m) => inProcessQueue(w, m, { autorun: false }) });
  });
  afterAll(async () => {
    await s.close();
  });

  it('names every bad invoice of a batch, schema and rule faults alike, and stores nothing', async () => {
    const invoices: Record<string, unknown>[] = Array.from({ length: 7 }, (_, i) =>
      makeInvoice({ invoice_id: `be-${i}` }),
    );
    const at = (i: number) => invoices[i]!;
    // Schema faults: 0, 3 and 6; rule faults (which the schema cannot express): 2, 4 and 5.
    delete at(0).vendor;
    at(2).currency = 'ZZZ';
    at(3).currency = 'usd';
    at(4).due_date = '2000-01-01';
    at(5).invoice_id = 'be-1';
    (at(6).lines as Record<string, unknown>[])[0]!.amount_cents = 'x';
    const before = await s.counts();
    const r = await s.app.inject({ method: 'POST', url: '/v1/batches', payload: { invoices } });
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    const paths = r.json<{ errors: { path: string }[] }>().errors.map((e) => e.path);
    const named = [...new Set(paths.map((p) => Number(/^\/invoices\/(\d+)\//.exec(p)?.[1])))].sort(
      (a, b) => a - b,
    );
    expect(named).toEqual([0, 2, 3, 4, 5, 6]);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/invoices/0/vendor',
        '/invoices/2/currency',
        '/invoices/3/currency',
        '/invoices/4/due_date',
        '/invoices/5/invoice_id',
        '/invoices/6/lines/0/amount_cents',
      ]),
    );
    expect(await s.counts()).toEqual(before);
  });

  it('names each of more than 8 invoices the schema refuses, with the rule faults of the others', async () => {
    const post = async (invoices: Record<string, unknown>[]) => {
      const r = await s.app.inject({ method: 'POST', url: '/v1/batches', payload: { invoices } });
      expect(r.statusCode).toBe(400);
      const paths = r.json<{ errors: { path: string }[] }>().errors.map((e) => e.path);
      return [...new Set(paths.map((p) => Number(/^\/invoices\/(\d+)\//.exec(p)?.[1])))].sort(
        (a, b) => a - b,
      );
    };
    const twelve: Record<string, unknown>[] = Array.from({ length: 12 }, (_, i) =>
      makeInvoice({ invoice_id: `bt-${i}`, total_cents: 'x' as unknown as number }),
    );
    expect(await post(twelve)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    // 30 invoices: bad totals (schema) at 0, 3, ..., 27 and unknown currencies (rule) at 1, 4, ..., 28.
    const thirty: Record<string, unknown>[] = Array.from({ length: 30 }, (_, i) =>
      makeInvoice({ invoice_id: `bh-${i}` }),
    );
    const bad: number[] = [];
    thirty.forEach((inv, i) => {
      if (i % 3 === 0) inv.total_cents = 'x';
      if (i % 3 === 1) inv.currency = 'ZZZ';
      if (i % 3 !== 2) bad.push(i);
    });
    expect(await post(thirty)).toEqual(bad);
  });
});
