/**
 * Unstorable text (a NUL character, an unpaired surrogate) in a body is named in the same 400
 * as the body's schema and rule errors, on the scoring, batch and history (JSON array) routes,
 * and nothing is stored; a property name holding such text is echoed escaped (`\u0000`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { engines, makeInvoice } from './fixtures.js';
import { inProcessQueue, startStack, type Stack } from './jobs-harness.js';

interface Problem {
  code: string;
  detail: string;
  errors: { path: string; message: string }[];
}

const BAD_TEXT = [
  { name: 'a NUL character', text: 'Acme\u0000', message: 'contains a NUL character' },
  {
    name: 'an unpaired surrogate',
    text: 'Acme\ud800',
    message: 'contains an unpaired surrogate (invalid Unicode)',
  },
];

describe.each(engines('badtext'))('unstorable text with other errors on $name', ({ config }) => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack(config(), { queue: (w, m) => inProcessQueue(w, m, { autorun: false }) });
  });
  afterAll(async () => s.close());

  /** Sends `opts`; expects one 400 body problem with exactly `errors` (in any order), nothing stored. */
  async function refused(opts: InjectOptions, errors: { path: string; message: string }[]): Promise<Problem> {
    const before = await s.counts();
    const r = await s.app.inject(opts);
    expect(r.statusCode, r.body).toBe(400);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    const p = r.json<Problem>();
    expect(p.code).toBe('TRIAGE_INPUT_INVALID');
    expect(p.errors).toEqual(expect.arrayContaining(errors));
    expect(p.errors).toHaveLength(errors.length);
    expect(p.detail).toMatch(new RegExp(`^${errors.length} fields invalid: `));
    expect(await s.counts()).toEqual(before);
    return p;
  }

  describe.each(BAD_TEXT)('$name', ({ text, message }) => {
    it('is named with the schema error of the same invoice (POST /v1/invoices/score)', async () => {
      const inv = makeInvoice({ invoice_id: 'bt-single', total_cents: 'x' as unknown as number });
      (inv.vendor as { name: string }).name = text;
      await refused({ method: 'POST', url: '/v1/invoices/score', payload: inv }, [
        { path: '/total_cents', message: 'must be integer' },
        { path: '/vendor/name', message },
      ]);
    });

    it('is named with the schema and rule errors of the other invoices (POST /v1/batches)', async () => {
      const invoices = [0, 1, 2].map((i) => makeInvoice({ invoice_id: `bt-batch-${i}` }));
      (invoices[0] as Record<string, unknown>).total_cents = 'x';
      invoices[1]!.currency = 'DEM';
      (invoices[2]!.vendor as { name: string }).name = text;
      const p = await refused({ method: 'POST', url: '/v1/batches', payload: { invoices } }, [
        { path: '/invoices/0/total_cents', message: 'must be integer' },
        { path: '/invoices/1/currency', message: expect.any(String) as unknown as string },
        { path: '/invoices/2/vendor/name', message },
      ]);
      expect(p.detail).toContain('/invoices/0/total_cents must be integer');
    });

    it('is named with the schema and rule errors of the other records (POST /v1/history, JSON array)', async () => {
      const records = [0, 1, 2, 3].map((i) => makeInvoice({ invoice_id: `bt-history-${i}` }));
      (records[0] as Record<string, unknown>).total_cents = 'x';
      records[1]!.currency = 'DEM';
      (records[2]!.vendor as { name: string }).name = text;
      (records[3] as Record<string, unknown>).total_cents = 'x';
      (records[3]!.vendor as { name: string }).name = text;
      const p = await refused({ method: 'POST', url: '/v1/history', payload: records }, [
        { path: '/0/total_cents', message: 'must be integer' },
        { path: '/1/currency', message: expect.any(String) as unknown as string },
        { path: '/2/vendor/name', message },
        { path: '/3/total_cents', message: 'must be integer' },
        { path: '/3/vendor/name', message },
      ]);
      expect(p.detail).toContain('/0/total_cents must be integer');
    });
  });

  it('echoes a property name holding a NUL escaped, in the path and the detail', async () => {
    const inv = { ...makeInvoice({ invoice_id: 'bt-key' }), 'colour\u0000': 'red' };
    const p = await refused({ method: 'POST', url: '/v1/invoices/score', payload: inv }, [
      { path: '/colour\\u0000', message: 'is not an allowed property' },
      { path: '/colour\\u0000', message: 'property name contains a NUL character' },
    ]);
    expect(p.detail).toContain('/colour\\u0000 ');
    expect(p.detail).not.toContain('\u0000');
  });
});
