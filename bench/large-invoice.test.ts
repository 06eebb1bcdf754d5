/**
 * One large invoice from a vendor with history (700 earlier two-line invoices): `POST
 * /v1/invoices/score` with N lines (300-character descriptions, five codes, 1 x 100 cents each),
 * timed. A measurement, not a test: runs only with `BENCH_LARGE_INVOICE=1`; `SIZES` (default
 * 50,200) and `ENGINE` (pglite, postgres or both). `MODELS=shipped` serves the shipped champions
 * as the server does (default: the heuristic scorers, the harness's). With `DEADLINE_MS`, scoring gives up after
 * that many milliseconds (as the server's `SCORE_DEADLINE_MS`), `/healthz` is called every 50 ms
 * while the request runs (each answer's wait is reported), and after the answer the invoice id is
 * read back (how long until the store answers, and whether a decision was stored) and sent again.
 * The longest event-loop block until the answer (`monitorEventLoopDelay`) is printed with it.
 * Figures: BENCHMARKS.md, "One large invoice".
 */
import { describe, expect, it } from 'vitest';
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { engines, invoiceOfLines } from '../test/fixtures.js';
import { startHarness, type Harness } from '../test/harness.js';
import { withDeadline } from '../api/limits.js';
import { afterAll, beforeAll } from 'vitest';
import { monitorEventLoopDelay } from 'node:perf_hooks';

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
const DEADLINE_MS = process.env.DEADLINE_MS ? Number(process.env.DEADLINE_MS) : null;

/**
 * Calls `/healthz` 50 ms after each answer until `done` settles; returns each answer's status and
 * wait, ms, counted from when the call was due (so a blocked event loop counts as waiting).
 */
async function probeHealth(h: Harness, done: Promise<unknown>): Promise<{ status: number; ms: number }[]> {
  const out: { status: number; ms: number }[] = [];
  let over = false;
  void done.finally(() => (over = true));
  let due = performance.now();
  while (!over) {
    const r = await h.app.inject({ method: 'GET', url: '/healthz' });
    const t = performance.now();
    out.push({ status: r.statusCode, ms: t - due });
    due = t + 50;
    await new Promise((res) => setTimeout(res, 50));
  }
  return out;
}

/** Reads the invoice id every 100 ms until a decision is stored or `ms` pass; ms until stored, or null. */
async function storedAfter(h: Harness, invoiceId: string, ms: number, t0: number): Promise<number | null> {
  while (performance.now() - t0 < ms) {
    if (await h.wired.repo.findByInvoiceId('default', invoiceId)) return performance.now() - t0;
    await new Promise((res) => setTimeout(res, 100));
  }
  return null;
}
describe
  .skipIf(process.env.BENCH_LARGE_INVOICE !== '1')
  .each(
    engines('repro').filter(
      (e) => e.name === (process.env.ENGINE ?? 'pglite') || (process.env.ENGINE ?? 'pglite') === 'both',
    ),
  )('repro $name', ({ config }) => {
  const ref = {} as { h: Harness };
  beforeAll(async () => {
    ref.h = await startHarness(config(), {
      bodyLimitBytes: 4 << 20,
      ...(process.env.MODELS === 'shipped' ? { wire: { models: {} } } : {}),
      ...(DEADLINE_MS !== null ? { app: (w) => ({ scoring: withDeadline(w.scoring, DEADLINE_MS) }) } : {}),
    });
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
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const t0 = performance.now();
      const payload = inv(`big-${n}`, mkLines(n, 3, '2026-01-10'), '2026-01-12');
      const send = () => ref.h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload });
      const pending = send();
      // After a 503, until the decision is stored (or 15 s pass): the work may go on without the client.
      const settled = pending.then((x) =>
        DEADLINE_MS !== null && x.statusCode === 503
          ? storedAfter(ref.h, payload.invoice_id, 15_000, t0)
          : null,
      );
      const health = DEADLINE_MS !== null ? probeHealth(ref.h, settled) : Promise.resolve([]);
      const r = await pending;
      const answered = performance.now() - t0;
      // A block ending with the answer is recorded by the histogram's next timer tick.
      await new Promise((res) => setTimeout(res, 20));
      loop.disable();
      console.log(
        `large-invoice ${process.env.ENGINE ?? 'pglite'} n=${n} status=${r.statusCode} ms=${answered.toFixed(0)} ` +
          `event-loop block max=${(loop.max / 1e6).toFixed(0)} ms`,
      );
      if (DEADLINE_MS === null) continue;
      const waits = (await health).map((x) => x.ms).sort((a, b) => a - b);
      const storedAt = await settled;
      const t1 = performance.now();
      const retry = await send();
      console.log(
        `  deadline ${DEADLINE_MS} ms: healthz n=${waits.length} max=${(waits.at(-1) ?? 0).toFixed(0)} ms ` +
          `median=${(waits[waits.length >> 1] ?? 0).toFixed(0)} ms; ` +
          (r.statusCode !== 503
            ? 'answered; '
            : `${storedAt === null ? 'nothing stored within 15 s' : `decision stored ${storedAt.toFixed(0)} ms after the request`}; `) +
          `retry status=${retry.statusCode} in ${(performance.now() - t1).toFixed(0)} ms`,
      );
    }
  }, 1_800_000);
});
