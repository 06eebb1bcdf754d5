/**
 * What `POST /v1/history` says when it refuses an NDJSON body: a declared charset other than
 * UTF-8 is a 415 naming the charset (as on the score route), and a refused record is named once
 * in the detail, its errors at paths within the record. On both store engines.
 */
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { engines, makeInvoice } from './fixtures.js';
import { useHarness } from './harness.js';
import './problem-matcher.js';

function past(i: number, over: Partial<Invoice> = {}): Invoice {
  return makeInvoice({ invoice_id: `histmsg-${i}`, invoice_number: `HM-${i}`, due_date: undefined, ...over });
}
const ndjson = (invs: unknown[]): string => invs.map((x) => JSON.stringify(x)).join('\n') + '\n';

describe.each(engines('histmsg'))('history import refusals on $name', ({ config }) => {
  const ref = useHarness(config());
  const post = (payload: string, type: string) =>
    ref.h.call('admin', { method: 'POST', url: '/v1/history', headers: { 'content-type': type }, payload });
  const storedIds = async (): Promise<string[]> =>
    (
      await ref.h.wired.repo.transaction((tx) =>
        tx.query<{ invoice_id: string }>("SELECT invoice_id FROM invoices WHERE tenant_id = 'default'"),
      )
    ).map((r) => r.invoice_id);

  it('answers an NDJSON body declared in another charset with a 415 naming the charset', async () => {
    const r = await post(ndjson([past(41)]), 'application/x-ndjson; charset=iso-8859-1');
    expect(r).toBeProblem(415, 'TRIAGE_MEDIA_TYPE_UNSUPPORTED', '/headers/content-type');
    expect(r.json<{ detail: string }>().detail).toBe(
      'charset iso-8859-1 is not supported; send application/x-ndjson as UTF-8',
    );
    expect(await storedIds()).not.toContain('histmsg-41');
  });

  it('names a refused NDJSON record once in the detail', async () => {
    const body = `${JSON.stringify(past(42))}\n{"broken"\n`;
    const r = await post(body, 'application/x-ndjson');
    expect(r.statusCode, r.body).toBe(400);
    expect(r.json<{ detail: string }>().detail).toMatch(
      /^\/1 \(line 2\) is not valid JSON \(0 records before/,
    );
    // A record holding a byte that is not UTF-8 is named with its own predicate (no "is holds").
    const latin1 = Buffer.concat([
      Buffer.from(`${JSON.stringify(past(44))}\n{"invoice_id": "caf`),
      Buffer.from([0xe9]),
      Buffer.from('"}\n'),
    ]);
    const u = await ref.h.call('admin', {
      method: 'POST',
      url: '/v1/history',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: latin1,
    });
    expect(u.statusCode, u.body).toBe(400);
    expect(u.json<{ detail: string }>().detail).toMatch(
      /^\/1 \(line 2\) holds a byte that is not UTF-8 at byte offset/,
    );
    const bad = await post(
      `${JSON.stringify({ ...past(43), received_date: '1900-01-01' })}\n`,
      'application/x-ndjson',
    );
    expect(bad.json<{ detail: string }>().detail).toMatch(
      /^\/0 \(line 1\): 1 field invalid: \/received_date must not be before invoice_date \(0 records/,
    );
  });
});
