/**
 * The vendor's history kept incrementally (store/vendor-stats.ts), on both engines: the counts
 * equal the aggregate over the stored lines after scoring writes, replays and rejected writes.
 */
import { describe, expect, it } from 'vitest';
import type { TriageRepository } from '../store/index.js';
import type { Invoice } from '../core/invoice.js';
import { decisionFor, engines, keysOf, makeInvoice } from './fixtures.js';
import { useHarness, useStore } from './harness.js';

/** The vendor's code counts as an aggregate over every stored line (the definition). */
async function aggregateCounts(repo: TriageRepository, tenantId: string, vendorId: string) {
  const rows = await repo.transaction((tx) =>
    tx.query<{ code: string; n: number }>(
      `SELECT upper(l.code) AS code, count(*)::int AS n
         FROM invoices i JOIN invoice_lines l ON l.invoice_pk = i.pk
        WHERE i.tenant_id = $1 AND i.vendor_id = $2 AND l.code_system = 'HCPCS' AND l.code IS NOT NULL
        GROUP BY upper(l.code)`,
      [tenantId, vendorId],
    ),
  );
  return new Map(rows.map((r) => [r.code, r.n]));
}

function invoiceWithCodes(id: string, codes: (string | null)[], vendorId = 'V-100'): Invoice {
  const base = makeInvoice();
  return makeInvoice({
    invoice_id: id,
    vendor: { ...base.vendor, id: vendorId },
    lines: codes.map((c, i) => ({
      line_number: i + 1,
      description: `Supply item ${i + 1}`,
      ...(c === null
        ? {}
        : { code: { system: c.startsWith('NDC:') ? 'NDC' : 'HCPCS', value: c.replace('NDC:', '') } }),
      quantity: 1,
      unit_price_cents: 100,
      amount_cents: 100,
    })),
    total_cents: codes.length * 100,
  } as Partial<Invoice>);
}

describe.each(engines('vendorhist'))('vendor history on $name', ({ config }) => {
  const store = useStore(config());

  it('keeps per-vendor code counts equal to the aggregate over stored lines', async () => {
    const invoices = [
      invoiceWithCodes('c-1', ['E1390', 'e1390', 'A4253']),
      invoiceWithCodes('c-2', ['A4253', null, 'NDC:12345-678-90']),
      invoiceWithCodes('c-3', ['E1390'], 'V-200'),
    ];
    expect(await store.repo.vendors.codeCounts('t1', 'V-100')).toEqual(new Map());
    for (const inv of invoices)
      await store.repo.saveDecision('t1', inv, `h-${inv.invoice_id}`, keysOf(inv), decisionFor(inv));
    // A replay writes nothing; a conflicting payload is refused and writes nothing either.
    await store.repo.saveDecision(
      't1',
      invoices[0]!,
      'h-c-1',
      keysOf(invoices[0]!),
      decisionFor(invoices[0]!),
    );
    await expect(
      store.repo.saveDecision('t1', invoices[1]!, 'other', keysOf(invoices[1]!), decisionFor(invoices[1]!)),
    ).rejects.toThrow();
    const counts = await store.repo.vendors.codeCounts('t1', 'V-100');
    expect(counts).toEqual(
      new Map([
        ['E1390', 2],
        ['A4253', 2],
      ]),
    );
    expect(counts).toEqual(await aggregateCounts(store.repo, 't1', 'V-100'));
    expect(await store.repo.vendors.codeCounts('t1', 'V-200')).toEqual(new Map([['E1390', 1]]));
    expect(await store.repo.vendors.codeCounts('t2', 'V-100')).toEqual(new Map());
  });
});

describe.each(engines('baselines'))('tenant-adaptive baselines on $name', ({ config }) => {
  const ref = useHarness(config());
  /** A nebulizer billed at a contract price far above the CMS fee schedule. */
  const contract = (id: string, vendorId: string, day: number): Invoice => {
    const base = makeInvoice();
    const line = { ...base.lines[1]!, line_number: 1, unit_price_cents: 90_000, amount_cents: 90_000 };
    return makeInvoice({
      invoice_id: id,
      invoice_number: `C-${id}`,
      vendor: { id: vendorId, name: `Contract Supplier ${vendorId}` },
      invoice_date: `2024-${String(1 + (day % 12)).padStart(2, '0')}-${String(1 + (day % 27)).padStart(2, '0')}`,
      due_date: undefined,
      total_cents: 90_000,
      lines: [line],
      po_number: undefined,
    } as Partial<Invoice>);
  };
  const priceReason = (d: { lines: { reasons: { code: string; evidence: Record<string, unknown> }[] }[] }) =>
    d.lines[0]!.reasons.find((r) => r.code === 'PRICE_ABOVE_FEE_SCHEDULE');
  const importHistory = async (invs: Invoice[]) => {
    const r = await ref.h.call('admin', { method: 'POST', url: '/v1/history', payload: invs });
    expect(r.statusCode).toBe(200);
  };

  it("a vendor's usual contract price is no longer flagged once its history holds it", async () => {
    const first = await ref.h.scoreOk(contract('deep-0', 'V-DEEP', 0));
    expect(priceReason(first)?.evidence.unit_price_baseline).toEqual({
      source: 'reference',
      observations: 0,
    });
    await importHistory(Array.from({ length: 8 }, (_, i) => contract(`deep-h${i}`, 'V-DEEP', i + 1)));
    const later = await ref.h.scoreOk(contract('deep-9', 'V-DEEP', 20));
    expect(priceReason(later)).toBeUndefined();
    // Far above the vendor's own usual price it is flagged again, against its own baseline.
    const higher = contract('deep-10', 'V-DEEP', 21);
    higher.lines[0] = { ...higher.lines[0]!, unit_price_cents: 300_000, amount_cents: 300_000 };
    const over = await ref.h.scoreOk({ ...higher, total_cents: 300_000 });
    expect(priceReason(over)).toBeDefined();
  });

  it('learns from reviews: prices a reviewer closed as false positives become the baseline', async () => {
    for (let i = 0; i < 8; i++) {
      const d = await ref.h.scoreOk(contract(`rev-${i}`, 'V-REV', i + 1));
      expect(priceReason(d)).toBeDefined();
      const r = await ref.h.call('reviewer', {
        method: 'POST',
        url: '/v1/reviews',
        headers: { 'idempotency-key': `rev-fp-${i}` },
        payload: { decision_id: d.decision_id, outcome: 'false_positive', line_number: 1 },
      });
      expect(r.statusCode, r.body).toBe(201);
    }
    const d = await ref.h.scoreOk(contract('rev-9', 'V-REV', 20));
    expect(priceReason(d)).toBeUndefined();
  });

  it('a thin history falls back to the fee schedule and says so', async () => {
    await importHistory(Array.from({ length: 3 }, (_, i) => contract(`thin-h${i}`, 'V-THIN', i + 1)));
    const d = await ref.h.scoreOk(contract('thin-9', 'V-THIN', 20));
    expect(priceReason(d)?.evidence.unit_price_baseline).toEqual({ source: 'reference', observations: 3 });
  });
});
