import { describe, expect, it } from 'vitest';
import { tenLineInvoice } from './history.js';

const exactKey = (i: number, shape: 'uniform' | 'spread'): string => {
  const inv = tenLineInvoice(i, 'h', true, shape);
  return `${inv.vendor.id}|${inv.total_cents}|${inv.invoice_date}`;
};

describe('tenLineInvoice history shapes', () => {
  it("uniform: the earlier rounds' history (one total, 28 March dates), so exact keys repeat every 700 invoices", () => {
    const a = tenLineInvoice(3, 'h');
    expect(a.invoice_date).toBe('2025-03-04');
    expect(tenLineInvoice(3, 'h', true, 'uniform')).toEqual(a);
    expect(exactKey(3, 'uniform')).toBe(exactKey(703, 'uniform'));
    const keys = new Set(Array.from({ length: 7_000 }, (_, i) => exactKey(i, 'uniform')));
    expect(keys.size).toBe(700);
  });

  it('spread: dates over 730 days from 2024-01-01, quantities 1-8, totals the sum of the lines, exact keys nearly unique', () => {
    const invs = Array.from({ length: 7_000 }, (_, i) => tenLineInvoice(i, 'h', true, 'spread'));
    for (const inv of invs) {
      expect(inv.total_cents).toBe(inv.lines.reduce((s, l) => s + l.amount_cents, 0));
      for (const l of inv.lines) {
        expect(l.quantity).toBeGreaterThanOrEqual(1);
        expect(l.quantity).toBeLessThanOrEqual(8);
        expect(l.amount_cents).toBe(l.quantity * l.unit_price_cents);
      }
      expect(inv.invoice_date >= '2024-01-01' && inv.invoice_date <= '2025-12-30').toBe(true);
    }
    expect(new Set(invs.map((v) => v.invoice_date)).size).toBeGreaterThan(700);
    const keys = new Set(invs.map((_, i) => exactKey(i, 'spread')));
    expect(keys.size).toBeGreaterThan(6_990);
    expect(tenLineInvoice(42, 'h', true, 'spread')).toEqual(tenLineInvoice(42, 'h', true, 'spread'));
  });
});
