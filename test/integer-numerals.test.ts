/**
 * Money in cents (and every other field a schema declares an integer) written with a fraction or
 * an exponent is refused on every JSON entry point, through app.inject() on both engines:
 * `JSON.parse` reads `215.00` and `2.15e4` as integers, so a client sending dollars in a cents
 * field (`12.50` for $12.50) would have passed. Each refusal is a 400 problem+json naming the
 * field's pointer and storing nothing; `215` and `-215` pass, and so do fractions in number
 * fields (quantity, confidences) and cents-looking text inside strings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { engines, makeInvoice } from './fixtures.js';
import { inProcessQueue, startStack, type Stack } from './jobs-harness.js';
import { makePo } from './erp-fixtures.js';

interface Problem {
  code: string;
  detail: string;
  errors: { path: string; message: string }[];
}

const CENTS_MESSAGE =
  'is in cents and must be written as an integer numeral (e.g. 1250, not 12.50 or 1.25e3)';

/**
 * `value` as JSON text with each `@N` string replaced by `raws[N]` written as is (a numeral as
 * the client wrote it, which `JSON.stringify` cannot produce).
 */
function jsonWith(value: unknown, raws: readonly string[]): string {
  return JSON.stringify(value).replace(/"@(\d+)"/g, (_, n: string) => raws[Number(n)]!);
}

describe.each(engines('numerals'))('integer numerals on $name', ({ config }) => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack(config(), { queue: (w, m) => inProcessQueue(w, m, { autorun: false }) });
  });
  afterAll(async () => s.close());

  /** Rows of every table an entry point below writes. */
  async function stored(): Promise<Record<string, number>> {
    const erp = (
      await s.wired.repo.transaction((tx) =>
        tx.query<{ pos: number; reviews: number }>(
          `SELECT (SELECT count(*) FROM erp_purchase_orders)::int AS pos,
                  (SELECT count(*) FROM reviews)::int AS reviews`,
        ),
      )
    )[0]!;
    return { ...(await s.counts()), ...erp };
  }

  const json = (method: 'POST' | 'PUT', url: string, payload: string, type = 'application/json') =>
    ({ method, url, headers: { 'content-type': type }, payload }) satisfies InjectOptions;

  /** Sends the request; expects a 400 problem+json naming exactly `paths`, and nothing stored. */
  async function refused(opts: InjectOptions, paths: string[]): Promise<Problem> {
    const before = await stored();
    const r = await s.app.inject(opts);
    const where = `${opts.method} ${opts.url} -> ${r.statusCode} ${r.body.slice(0, 400)}`;
    expect(r.statusCode, where).toBe(400);
    expect(r.headers['content-type'], where).toMatch(/^application\/problem\+json/);
    const p = r.json<Problem>();
    expect(p.code, where).toBe('TRIAGE_INPUT_INVALID');
    expect(
      p.errors.map((e) => e.path),
      where,
    ).toEqual(paths);
    expect(await stored(), `${where}: stored something`).toEqual(before);
    return p;
  }

  const invoice = (id: string) => makeInvoice({ invoice_id: id, invoice_number: id.toUpperCase() });

  it('POST /v1/invoices/score refuses cents with a decimal point or exponent, naming each field', async () => {
    for (const raw of ['21500.00', '21500.0', '2.15e4', '2.15E+4']) {
      const p = await refused(
        json('POST', '/v1/invoices/score', jsonWith({ ...invoice('n-1'), total_cents: '@0' }, [raw])),
        ['/total_cents'],
      );
      expect(p.errors[0]!.message).toBe(CENTS_MESSAGE);
      expect(p.detail).toBe(`1 field invalid: /total_cents ${CENTS_MESSAGE}`);
    }
    // Dollars with a decimal point in two line fields: both named, by line.
    const inv = invoice('n-2');
    inv.lines[1] = { ...inv.lines[1]!, unit_price_cents: '@0' as never, amount_cents: '@1' as never };
    await refused(json('POST', '/v1/invoices/score', jsonWith(inv, ['15.00', '15.5'])), [
      '/lines/1/unit_price_cents',
      '/lines/1/amount_cents',
    ]);
    // 2E2, and a negative zero written with a fraction.
    await refused(
      json('POST', '/v1/invoices/score', jsonWith({ ...invoice('n-3'), tax_cents: '@0' }, ['2E2'])),
      ['/tax_cents'],
    );
    await refused(
      json('POST', '/v1/invoices/score', jsonWith({ ...invoice('n-4'), tax_cents: '@0' }, ['-0.0'])),
      ['/tax_cents'],
    );
    // An integer field that is not money is named with its own wording.
    const counted = invoice('n-5');
    counted.lines[0] = { ...counted.lines[0]!, line_number: '@0' as never };
    const p = await refused(json('POST', '/v1/invoices/score', jsonWith(counted, ['1.0'])), [
      '/lines/0/line_number',
    ]);
    expect(p.errors[0]!.message).toBe('must be written as an integer numeral (e.g. 2, not 2.0 or 2e0)');
  });

  it('POST /v1/invoices/score accepts integer cents, negative ones, fractions in number fields and cents text in strings', async () => {
    const base = invoice('n-ok-1');
    const ok = {
      ...base,
      lines: [
        { ...base.lines[0]!, quantity: '@0', unit_price_cents: 8000, amount_cents: 20_000 },
        {
          ...base.lines[1]!,
          description: 'Nebulizer "unit_price_cents":15.00, 2.15e4',
          unit_price_cents: '@1',
          amount_cents: 1500,
        },
      ],
      extraction: {
        extractor: { name: 'ocr', version: '1' },
        fields: { total_cents: '@2' },
        lines: [{ line_number: 1, unit_price_cents: 0.93 }],
      },
    };
    const r = await s.app.inject(json('POST', '/v1/invoices/score', jsonWith(ok, ['2.5', '1500', '0.93'])));
    expect(r.statusCode, r.body).toBe(200);
    // A credit memo's negative cents.
    const credit = makeInvoice({
      invoice_id: 'n-ok-2',
      invoice_number: 'N-OK-2',
      document_type: 'credit_memo',
      total_cents: -215,
      lines: [
        {
          line_number: 1,
          description: 'Gauze, returned',
          quantity: -1,
          unit_price_cents: 215,
          amount_cents: -215,
        },
      ],
    });
    const c = await s.app.inject(json('POST', '/v1/invoices/score', JSON.stringify(credit)));
    expect(c.statusCode, c.body).toBe(200);
  });

  it('POST /v1/batches names the invoice and field, and stores no batch', async () => {
    const second = invoice('nb-2');
    second.lines[0] = { ...second.lines[0]!, unit_price_cents: '@0' as never };
    const body = jsonWith({ invoices: [invoice('nb-1'), second] }, ['200.00']);
    const p = await refused(json('POST', '/v1/batches', body), ['/invoices/1/lines/0/unit_price_cents']);
    expect(p.errors[0]!.message).toBe(CENTS_MESSAGE);
    const r = await s.app.inject(json('POST', '/v1/batches', body.replace('200.00', '20000')));
    expect(r.statusCode, r.body).toBe(202);
  });

  it('POST /v1/history names the record and field of a JSON array and of an NDJSON line', async () => {
    const body = jsonWith([invoice('nh-1'), { ...invoice('nh-2'), total_cents: '@0' }], ['21500.00']);
    const a = await refused(json('POST', '/v1/history', body), ['/1/total_cents']);
    expect(a.errors[0]!.message).toBe(CENTS_MESSAGE);
    const bad = { ...invoice('nh-4'), lines: [{ ...invoice('nh-4').lines[0]!, amount_cents: '@0' }] };
    const ndjson = `${JSON.stringify(invoice('nh-3'))}\n${jsonWith(bad, ['2e4'])}\n`;
    const p = await refused(json('POST', '/v1/history', ndjson, 'application/x-ndjson'), [
      '/1/lines/0/amount_cents',
    ]);
    expect(p.errors[0]!.message).toBe(`line 2: ${CENTS_MESSAGE}`);
    expect(p.detail).toMatch(/^\/1 \(line 2\): 1 field invalid: \/lines\/0\/amount_cents is in cents/);
  });

  it('POST /v1/erp/load and POST /v1/reviews name the field', async () => {
    const po = makePo({ po_number: 'PO-NUM' });
    po.lines[0] = { ...po.lines[0]!, unit_price_cents: '@0' as never };
    const e = await refused(json('POST', '/v1/erp/load', jsonWith({ purchase_orders: [po] }, ['1250.00'])), [
      '/purchase_orders/0/lines/0/unit_price_cents',
    ]);
    expect(e.errors[0]!.message).toBe(CENTS_MESSAGE);
    const d = await s.app.inject(json('POST', '/v1/invoices/score', JSON.stringify(invoice('nr-1'))));
    expect(d.statusCode, d.body).toBe(200);
    const review = {
      decision_id: d.json<{ decision_id: string }>().decision_id,
      outcome: 'confirmed',
      line_number: '@0',
    };
    const r = await refused(json('POST', '/v1/reviews', jsonWith(review, ['1.0'])), ['/line_number']);
    expect(r.errors[0]!.message).toMatch(/^must be written as an integer numeral/);
  });
});
