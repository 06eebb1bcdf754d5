/**
 * Goods receipt dates in ERP loads, through app.inject() on both engines with the service's
 * clock at 2026-12-07 12:00 UTC: a receipt dated after the day of the load plus one day is a 422
 * naming the record and field and nothing of the load is stored (so the PO stays unreceived:
 * NO_RECEIPT); a receipt dated today, tomorrow (the slack) or before its PO's order date
 * (confirming orders) loads and counts as received.
 */
import { describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import type { ErpLoad, GoodsReceipt, PurchaseOrder } from '../core/erp.js';
import type { Invoice } from '../core/invoice.js';
import { engines, makeInvoice } from './fixtures.js';
import { useHarness } from './harness.js';
import { makePo, putErpVendor } from './erp-fixtures.js';

const NOW = new Date('2026-12-07T12:00:00Z');

/** A receipt of the whole of line `line` of `po` (its unit and pack), dated `date`. */
const receipt = (po: PurchaseOrder, id: string, line: number, date: string): GoodsReceipt => {
  const l = po.lines.find((x) => x.line_number === line)!;
  return {
    receipt_id: id,
    po_number: po.po_number,
    po_line_number: line,
    quantity: l.quantity,
    uom: l.uom,
    ...(l.pack_qty === undefined ? {} : { pack_qty: l.pack_qty }),
    received_date: date,
    version: 1,
  };
};

/** An invoice dated 2025-03-01 billing every line of `po` at its PO quantity and price. */
const invoiceOn = (po: PurchaseOrder, id: string): Invoice => {
  const lines = po.lines.map((l) => ({
    line_number: l.line_number,
    description: l.description,
    item_identifiers: [l.identifiers?.supplier_part ?? ''],
    uom: l.uom,
    quantity: l.quantity,
    unit_price_cents: l.unit_price_cents,
    amount_cents: l.quantity * l.unit_price_cents,
  }));
  return makeInvoice({
    invoice_id: id,
    invoice_number: id,
    invoice_date: '2025-03-01',
    po_number: po.po_number,
    facility_id: 'FAC-1',
    vendor: { id: 'V-100', name: 'Acme Medical Supply, Inc.' },
    lines,
    total_cents: lines.reduce((a, l) => a + l.amount_cents, 0),
  });
};

const codes = (d: DecisionResponse) => d.reasons.map((r) => r.code);

describe.each(engines('erpdate'))('ERP receipt dates on $name', ({ config }) => {
  const ref = useHarness(config(), { clock: () => NOW });
  const load = (body: ErpLoad) => ref.h.call('erp', { method: 'POST', url: '/v1/erp/load', payload: body });
  const sql = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) =>
    ref.h.wired.repo.transaction((tx) => tx.query<T>(text, params));
  const stored = async () =>
    (
      await sql<{ pos: number; receipts: number; audits: number }>(
        `SELECT (SELECT count(*) FROM erp_purchase_orders WHERE tenant_id = 'default')::int AS pos,
                (SELECT count(*) FROM erp_receipts WHERE tenant_id = 'default')::int AS receipts,
                (SELECT count(*) FROM audit_log WHERE tenant_id = 'default' AND kind = 'erp.loaded')::int AS audits`,
      )
    )[0];
  const vendor = () => putErpVendor(ref.h);

  it('refuses a receipt dated in the future (422 naming record and field), storing nothing of the load', async () => {
    await vendor();
    const before = await stored();
    const po = makePo({ po_number: 'PO-FUT' });
    const r = await load({
      purchase_orders: [po],
      receipts: [receipt(po, 'GR-FUT-1', 1, '2025-02-20'), receipt(po, 'GR-FUT-2', 2, '2099-02-21')],
    });
    expect(r).toBeProblem(422, 'TRIAGE_ERP_RECEIPT_DATE_FUTURE', '/receipts/1/received_date');
    expect(r.json<{ errors: unknown[] }>().errors).toEqual([
      {
        path: '/receipts/1/received_date',
        message:
          'receipt GR-FUT-2: received_date 2099-02-21 is after 2026-12-08 (the day of the load plus one day); load a receipt once the goods have arrived',
      },
    ]);
    expect(r.json<{ title: string }>().title).toBe('Goods receipt dated in the future');
    // Neither the PO nor the well-dated receipt of the same load was stored.
    expect(await stored()).toEqual(before);
    // The PO loaded alone has no receipt: its invoice is held for it, as before the refused load.
    expect((await load({ purchase_orders: [po] })).statusCode).toBe(200);
    const d = await ref.h.scoreOk(invoiceOn(po, 'fut-1'));
    expect(d.decision).toBe('HOLD');
    expect(codes(d)).toContain('NO_RECEIPT');
  });

  it('refuses the day after tomorrow and accepts tomorrow (one day of slack for time zones)', async () => {
    await vendor();
    const po = makePo({ po_number: 'PO-SLACK' });
    expect((await load({ purchase_orders: [po] })).statusCode).toBe(200);
    const before = await stored();
    const late = await load({ receipts: [receipt(po, 'GR-SLACK-2', 2, '2026-12-09')] });
    expect(late).toBeProblem(422, 'TRIAGE_ERP_RECEIPT_DATE_FUTURE', '/receipts/0/received_date');
    expect(await stored()).toEqual(before);
    const ok = await load({ receipts: [receipt(po, 'GR-SLACK-1', 2, '2026-12-08')] });
    expect(ok.statusCode).toBe(200);
    expect((await stored())!.receipts).toBe(before!.receipts + 1);
  });

  it('loads and counts a receipt dated today and one dated before the PO order date', async () => {
    await vendor();
    const po = makePo({ po_number: 'PO-CONF', order_date: '2025-02-10' });
    // The same PO without receipts: held for them (the assertions below can fail).
    const bare = makePo({ po_number: 'PO-BARE' });
    expect((await load({ purchase_orders: [bare] })).statusCode).toBe(200);
    expect(codes(await ref.h.scoreOk(invoiceOn(bare, 'bare-1')))).toContain('NO_RECEIPT');
    const r = await load({
      purchase_orders: [po],
      receipts: [
        // A confirming order: the goods came on 2025-02-03, the PO was written on 2025-02-10.
        receipt(po, 'GR-CONF-1', 1, '2025-02-03'),
        receipt(po, 'GR-CONF-2', 2, '2026-12-07'),
      ],
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json<{ receipts: { created: number } }>().receipts.created).toBe(2);
    const d = await ref.h.scoreOk(invoiceOn(po, 'conf-1'));
    expect(codes(d)).not.toContain('NO_RECEIPT');
    expect(codes(d)).not.toContain('QUANTITY_ABOVE_RECEIVED');
    expect(d.procurement).toMatchObject({ po_number: 'PO-CONF', chosen_by: 'cited' });
  });
});
