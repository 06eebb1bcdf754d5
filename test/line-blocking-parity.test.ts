/**
 * Line-blocking parity: the store's SQL rendering of `BLOCKING_SPEC.lines` (store/line-rebills.ts)
 * and training's in-memory evaluation (`lineCandidates`, core/blocking.ts) find the same earlier
 * lines, in the same order, with the same description cosine, for every line of one seeded
 * fixture, on both engines. The fixture has two vendors of one name under different ids, a third
 * vendor, coded lines, lines without codes under reworded descriptions (abbreviated, re-cased),
 * repeated items (more than `perLine` earlier lines of one code) and invoices older than the
 * window, so every rule and the per-line bound are exercised. Credit-memo reversal is left to
 * test/line-rebills.test.ts (the fixture holds no memos).
 */
import { describe, expect, it } from 'vitest';
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { BLOCKING_SPEC, lineCandidates, type LineBlockingInvoice } from '../core/blocking.js';
import { lineRebillQuery } from '../inference/stages/line-rebills.js';
import { prepare } from '../inference/stages/prepare.js';
import { lineBlockingInvoiceOf } from '../training/line-pairs.js';
import { mulberry32 } from '../training/rng.js';
import { decisionFor, engines, invoiceOfLines, keysOf } from './fixtures.js';
import { useStore } from './harness.js';

const ITEMS: [string | null, string][] = [
  ['E1390', 'Oxygen concentrator, single delivery port, capable of delivering 85 percent or greater'],
  ['A4253', 'Blood glucose test or reagent strips for home blood glucose monitor, per 50 strips'],
  ['A6196', 'Alginate or other fiber gelling dressing, wound cover, sterile, pad size 16 sq. in. or less'],
  ['E0143', 'Walker, folding, wheeled, adjustable or fixed height'],
  [null, 'Gradient compression stocking, below knee, 18-30 mmHg, each'],
  [null, 'Enteral feeding supply kit; pump fed, per day, includes but not limited to feeding bags'],
];

/** A reworded description: abbreviated words and other casing (what a re-keyed line looks like). */
const reword = (d: string): string =>
  d
    .replace(/compression/i, 'compr')
    .replace(/including|includes/i, 'incl')
    .replace(/, each$/, '')
    .toUpperCase();

function fixture(): Invoice[] {
  const rng = mulberry32(20261205);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const vendors = [
    { id: 'LV-1', name: 'Harbor Home Medical' },
    { id: 'LV-2', name: 'Harbor Home Medical, LLC' },
    { id: 'LV-3', name: 'Summit Respiratory Care' },
  ];
  const out: Invoice[] = [];
  for (let i = 0; i < 70; i++) {
    const date = new Date(Date.UTC(2024, 0, 1) + Math.floor(rng() * 600) * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const lines: InvoiceLine[] = [1, 2, 3].slice(0, 1 + Math.floor(rng() * 3)).map((n) => {
      const [code, text] = pick(ITEMS);
      const cents = pick([1_250, 4_800, 9_900]);
      const q = pick([1, 2]);
      return {
        line_number: n,
        description: rng() < 0.3 ? reword(text) : text,
        ...(code && rng() < 0.8 ? { code: { system: 'HCPCS' as const, value: code } } : {}),
        quantity: q,
        unit_price_cents: cents,
        amount_cents: q * cents,
        ...(rng() < 0.7 ? { service_date: date } : {}),
      };
    });
    out.push(
      invoiceOfLines(`lp-${String(i).padStart(3, '0')}`, pick(vendors), date, lines, {
        invoice_number: `H-${1000 + i}`,
      }),
    );
  }
  return out;
}

describe.each(engines('lblock'))('line-blocking parity on $name', ({ config }) => {
  const store = useStore(config());

  it('the store and training find the same earlier lines in the same order', async () => {
    const invoices = fixture();
    const stored: LineBlockingInvoice[] = [];
    const seen = { code: 0, description: 0, bounded: 0, outside: 0 };
    for (const inv of invoices) {
      const q = lineBlockingInvoiceOf(inv);
      const memo = lineCandidates(BLOCKING_SPEC.lines, q, stored);
      const served = await store.repo.withScoringLock('lblock', [], (tx) =>
        tx.findEarlierLines(lineRebillQuery(prepare(inv))!),
      );
      expect(served.map((c) => [c.lineNumber, c.invoiceId, c.earlierLineNumber])).toEqual(
        memo.map((c) => [c.lineNumber, c.invoiceId, c.earlierLineNumber]),
      );
      served.forEach((c, i) => expect(c.cosine).toBeCloseTo(memo[i]!.cosine, 5));
      for (const c of memo) {
        const l = q.lines.find((x) => x.lineNumber === c.lineNumber)!;
        const e = stored
          .find((s) => s.invoiceId === c.invoiceId)!
          .lines.find((x) => x.lineNumber === c.earlierLineNumber)!;
        if (l.code !== null && l.code === e.code) seen.code++;
        else seen.description++;
      }
      const unbounded = lineCandidates({ ...BLOCKING_SPEC.lines, perLine: 1_000 }, q, stored);
      if (unbounded.length > memo.length) seen.bounded++;
      if (
        stored.some(
          (s) =>
            s.vendorId === q.vendorId &&
            s.invoiceDate < q.invoiceDate &&
            Date.parse(q.invoiceDate) - Date.parse(s.invoiceDate) > 365 * 86_400_000,
        )
      )
        seen.outside++;
      await store.repo.saveDecision('lblock', inv, `h-${inv.invoice_id}`, keysOf(inv), decisionFor(inv));
      stored.push(q);
    }
    // Every rule was exercised: same code, near description without a code, the per-line bound, the window.
    expect(seen.code).toBeGreaterThan(50);
    expect(seen.description).toBeGreaterThan(10);
    expect(seen.bounded).toBeGreaterThan(3);
    expect(seen.outside).toBeGreaterThan(3);
  }, 120_000);
});
