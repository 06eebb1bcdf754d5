/**
 * An invoice number typed in full-width form on an East Asian IME ("ＩＮＶ－００１２３") is
 * accepted at intake as the NFKC-equivalent of "INV-00123" and stored as given; one without any
 * letter or digit, even after NFKC (control characters only, ideographic spaces only), is still a
 * 400 naming `/invoice_number`. On both store engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { engines, makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

const FULL_WIDTH = 'ＩＮＶ－００１２３';

describe.each(engines('fullwidth'))('a full-width invoice number on $name', ({ config }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(config());
  });
  afterAll(async () => h?.close());

  const score = (payload: Invoice) =>
    h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload });

  it('is scored, stored unchanged and read as its ASCII twin by the duplicate check', async () => {
    const first = await score(makeInvoice({ invoice_id: 'fw-1', invoice_number: FULL_WIDTH }));
    expect(first.statusCode, first.body).toBe(200);
    const decision = first.json<DecisionResponse>();
    const stored = await h.call('reviewer', {
      method: 'GET',
      url: `/v1/decisions/${decision.decision_id}/invoice`,
    });
    expect(stored.statusCode, stored.body).toBe(200);
    expect(stored.json<Invoice>().invoice_number).toBe(FULL_WIDTH);

    // The same invoice keyed again in ASCII is the same number: held as its duplicate.
    const again = await score(makeInvoice({ invoice_id: 'fw-2', invoice_number: 'INV-00123' }));
    expect(again.statusCode, again.body).toBe(200);
    const copy = again.json<DecisionResponse>();
    expect(copy.decision).toBe('HOLD');
    expect(copy.duplicates[0]?.invoice_id).toBe('fw-1');
  });

  it.each([
    ['control characters only', '\u0007\u001b'],
    ['ideographic spaces only', '\u3000\u3000'],
    ['full-width punctuation only', '－／＃'],
  ])('refuses a number of %s with a 400 naming /invoice_number', async (_what, number) => {
    const r = await score(makeInvoice({ invoice_id: 'fw-bad', invoice_number: number }));
    expect(r.statusCode, r.body).toBe(400);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect([...new Set(r.json<{ errors: { path: string }[] }>().errors.map((e) => e.path))]).toEqual([
      '/invoice_number',
    ]);
  });
});
