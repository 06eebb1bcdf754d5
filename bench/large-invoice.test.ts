/**
 * One large invoice from a vendor with history (700 earlier two-line invoices): `POST
 * /v1/invoices/score` with N lines (300-character descriptions, five codes, 1 x 100 cents each),
 * timed. A measurement, not a test: runs only with `BENCH_LARGE_INVOICE=1`; `SIZES` (default
 * 50,200) and `ENGINE` (pglite, postgres or both). Figures: BENCHMARKS.md, "One large invoice".
 */
import { describe, expect, it } from 'vitest';
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { engines, invoiceOfLines } from '../test/fixtures.js';
import { startHarness, type Harness } from '../test/harness.js';
import { afterAll, beforeAll } from 'vitest';

const CODES = ['E0570', 'K0001', 'A4253', 'E1390', 'A7003'];
const desc = (i: number) =>
  (`Item ${i} ` + 'supply description text for durable medical equipment '.repeat(6)).slice(0, 300);
const mkLines = (n: number, seed: number, date: string): InvoiceLine[] =>
  Array.from({ length: n }, (_, i) => ({
    line_number: i + 1,
    description: desc(i + seed),
    code: { system: 'HCPCS', value: CODES[(i + seed) % 5]! },
    quantity: 1,
    unit_price_cents: 100,
    amount_cents: 100,
    service_date: date,
  }));
const inv = (id: string, lines: InvoiceLine[], date: string): Invoice =>
  invoiceOfLines(id, { id: 'V-100', name: 'Vendor Hundred' }, date, lines);
const SIZES = (process.env.SIZES ?? '50,200').split(',').map(Number);
describe
  .skipIf(process.env.BENCH_LARGE_INVOICE !== '1')
  .each(
    engines('repro').filter(
      (e) => e.name === (process.env.ENGINE ?? 'pglite') || (process.env.ENGINE ?? 'pglite') === 'both',
    ),
  )('repro $name', ({ config }) => {
  const ref = {} as { h: Harness };
  beforeAll(async () => {
    ref.h = await startHarness(config(), { bodyLimitBytes: 4 << 20 });
  }, 600_000);
  afterAll(async () => {
    await ref.h.close();
  });
  it('big invoice', async () => {
    const hist: Invoice[] = [];
    for (let k = 0; k < 700; k++) {
      const d = new Date(Date.UTC(2024, 0, 1) + k * 86400000).toISOString().slice(0, 10);
      hist.push(inv(`h-${k}`, mkLines(2, k, d), d));
    }
    for (let s = 0; s < hist.length; s += 200) {
      const r = await ref.h.call('admin', {
        method: 'POST',
        url: '/v1/history',
        payload: hist.slice(s, s + 200),
      });
      expect(r.statusCode, r.body).toBeLessThan(300);
    }
    for (const n of SIZES) {
      const t0 = performance.now();
      const r = await ref.h.call('workflow', {
        method: 'POST',
        url: '/v1/invoices/score',
        payload: inv(`big-${n}`, mkLines(n, 3, '2026-01-10'), '2026-01-12'),
      });
      console.log(
        `large-invoice ${process.env.ENGINE ?? 'pglite'} n=${n} status=${r.statusCode} ms=${(performance.now() - t0).toFixed(0)}`,
      );
    }
  }, 1_800_000);
});
