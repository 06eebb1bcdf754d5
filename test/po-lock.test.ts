/**
 * Invoices billing one PO, scored at the same time. Only the PO's own vendor bills against it
 * (an invoice of another vendor citing it is held as PO_OTHER_VENDOR and bills nothing), and the
 * vendor id is a scoring-lock key: two invoices of the PO's vendor, even sent under different
 * vendor names, are scored in turn, so the second one's three-way match counts what the first
 * billed. Without that lock both would read the PO's billing before either committed and neither
 * would be caught over-billing the goods receipt.
 */
import { describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import type { InvoiceLine } from '../core/invoice.js';
import { engines, makeInvoice } from './fixtures.js';
import { useHarness } from './harness.js';
import { makeErpLoad, putErpVendor } from './erp-fixtures.js';

const gloves: InvoiceLine = {
  line_number: 1,
  description: 'Exam gloves nitrile medium powder free',
  item_identifiers: ['0100071520'],
  uom: 'BX',
  quantity: 6,
  unit_price_cents: 4_120,
  amount_cents: 24_720,
};

describe.each(engines('polock'))('one PO billed by two invoices at once on $name', ({ config }) => {
  const ref = useHarness(config());

  it('scores two of its vendor in turn: exactly one is over the goods receipt, counting the other', async () => {
    await putErpVendor(ref.h);
    const r = await ref.h.call('erp', { method: 'POST', url: '/v1/erp/load', payload: makeErpLoad() });
    expect(r.statusCode).toBe(200);
    const vendors = [
      { id: 'V-100', name: 'Acme Medical Supply, Inc.' },
      { id: 'V-100', name: 'Acme Surgical Distribution East' },
    ];
    for (let round = 0; round < 3; round++) {
      const ids = vendors.map((_, i) => `po-lock-${round}-${i}`);
      const invoices = vendors.map((vendor, i) =>
        makeInvoice({
          invoice_id: ids[i]!,
          invoice_number: ids[i]!,
          po_number: 'PO-1001',
          facility_id: 'FAC-1',
          vendor,
          lines: [gloves],
          total_cents: gloves.amount_cents,
        }),
      );
      const decisions: DecisionResponse[] = await Promise.all(invoices.map((inv) => ref.h.scoreOk(inv)));
      // Base units (EA) the PO already carried when each invoice was matched: 0 for the first
      // invoice of all (no reason), else on its QUANTITY_ABOVE_RECEIVED (1 000 EA received) or,
      // once the 1 000 EA ordered are billed, its PO_EXHAUSTED. In turn means 1 200 per earlier
      // round, and 600 more for the second of the round.
      const already = decisions.map((d) => {
        const r = d.reasons.find((x) => x.code === 'QUANTITY_ABOVE_RECEIVED' || x.code === 'PO_EXHAUSTED');
        return r ? r.evidence['already_invoiced_base_units'] : 0;
      });
      expect(already.sort((a, b) => Number(a) - Number(b))).toEqual([1_200 * round, 1_200 * round + 600]);
      const held = decisions.filter((d) => d.decision === 'HOLD');
      expect(held).toHaveLength(round === 0 ? 1 : 2);
      if (round === 0) {
        expect(held[0]!.reasons.map((x) => x.code)).toEqual(['QUANTITY_ABOVE_RECEIVED']);
        expect(held[0]!.reasons[0]!.evidence).toMatchObject({
          across_invoices: true,
          earlier_invoices: ids.filter((id) => id !== held[0]!.invoice_id),
        });
      }
    }
    const other = await ref.h.scoreOk(
      makeInvoice({
        invoice_id: 'po-lock-other',
        po_number: 'PO-1001',
        facility_id: 'FAC-1',
        vendor: { id: 'V-300', name: 'Northwind Clinical Distribution' },
        lines: [gloves],
        total_cents: gloves.amount_cents,
      }),
    );
    expect(other.reasons.map((x) => x.code)).toEqual(['PO_OTHER_VENDOR']);
    expect(other.decision).toBe('HOLD');
  });
});
