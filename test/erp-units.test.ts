/**
 * Units of measure through the API on both engines (core/units.ts): a fixed-count unit converts
 * by itself at ERP load and in the three-way match (2 DZ ordered, received as 1 DZ + 12 EA,
 * billed as 24 EA: fully received); a pack_qty contradicting a fixed count and a fractional
 * quantity of a count unit on a PO line or receipt are refused (422 naming the field), while an
 * invoice billing a fractional count, or a pack_qty contradicting a fixed count, is scored and
 * held for review, not refused.
 */
import { describe, expect, it } from 'vitest';
import type { ErpLoad, PurchaseOrder } from '../core/erp.js';
import type { InvoiceLine } from '../core/invoice.js';
import { engines, makeInvoice } from './fixtures.js';
import { useHarness } from './harness.js';
import { makeContract, makeDozenLine, makeLineReceipt, makePo, putErpVendor } from './erp-fixtures.js';

const dozenPo = (): PurchaseOrder => makePo({ po_number: 'PO-DZ', lines: [makeDozenLine()] });
const receipt = makeLineReceipt;
const gloves = (quantity: number): InvoiceLine => ({
  line_number: 1,
  description: 'Exam gloves nitrile medium',
  item_identifiers: ['GL-DZ-100'],
  uom: 'EA',
  quantity,
  unit_price_cents: 100,
  amount_cents: Math.round(quantity * 100),
});

describe.each(engines('erpunits'))('units of measure on $name', ({ config }) => {
  const ref = useHarness(config());
  const load = (body: ErpLoad) => ref.h.call('erp', { method: 'POST', url: '/v1/erp/load', payload: body });
  const vendor = () => putErpVendor(ref.h);
  const invoice = (id: string, lines: InvoiceLine[], poNumber = 'PO-DZ') =>
    makeInvoice({
      invoice_id: id,
      invoice_number: id,
      po_number: poNumber,
      facility_id: 'FAC-1',
      vendor: { id: 'V-100', name: 'Acme Medical Supply, Inc.' },
      lines,
      total_cents: lines.reduce((a, l) => a + l.amount_cents, 0),
    });
  const count = async (table: string) =>
    Number(
      (
        await ref.h.wired.repo.transaction((tx) =>
          tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = 'default'`),
        )
      )[0]!.n,
    );

  it('counts 2 DZ ordered, received as 1 DZ + 12 EA, as fully received by an invoice of 24 EA', async () => {
    await vendor();
    const r = await load({
      purchase_orders: [dozenPo()],
      receipts: [receipt('GR-DZ', 1, 'DZ'), receipt('GR-EA', 12, 'EA')],
    });
    expect(r.statusCode, r.body).toBe(200);
    const d = await ref.h.scoreOk(invoice('dz-24', [gloves(24)]));
    expect(d.reasons.map((x) => x.code)).toEqual([]);
    expect(d.decision).toBe('AUTO_APPROVE');
    expect(d.procurement).toMatchObject({ po_number: 'PO-DZ', amount_at_risk_cents: 0 });
    expect(d.procurement!.lines[0]).toMatchObject({ conversion: '1 DZ = 12 EA' });
    // Six each more than the 24 received (and billed) is over-billing of 600 cents.
    const over = await ref.h.scoreOk(invoice('dz-6', [gloves(6)]));
    const q = over.reasons.find((x) => x.code === 'PO_EXHAUSTED' || x.code === 'QUANTITY_ABOVE_RECEIVED');
    expect(q?.evidence).toMatchObject({ already_invoiced_base_units: 24 });
  });

  it('refuses a pack_qty contradicting a fixed-count unit (422 naming the field), accepts the count itself', async () => {
    await vendor();
    const before = await count('erp_purchase_orders');
    const po = dozenPo();
    po.lines[0]!.pack_qty = 10;
    const r = await load({ purchase_orders: [po] });
    expect(r).toBeProblem(422, 'TRIAGE_ERP_UNIT_INVALID', '/purchase_orders/0/lines/0/pack_qty');
    expect((r.json() as { detail: string }).detail).toBe(
      '/purchase_orders/0/lines/0/pack_qty: PO PO-DZ line 1: pack_qty 10 contradicts unit DZ, which holds 12 each; send pack_qty 12 or none; nothing was stored',
    );
    const pair = { ...receipt('GR-PR', 1, 'PR'), pack_qty: 1 };
    expect(await load({ purchase_orders: [dozenPo()], receipts: [pair] })).toBeProblem(
      422,
      'TRIAGE_ERP_UNIT_INVALID',
      '/receipts/0/pack_qty',
    );
    const c = makeContract();
    c.items[0] = { ...c.items[0]!, uom: 'GR', pack_qty: 100 };
    expect(await load({ contracts: [c] })).toBeProblem(
      422,
      'TRIAGE_ERP_UNIT_INVALID',
      '/contracts/0/items/0/pack_qty',
    );
    expect(await count('erp_purchase_orders')).toBe(before);
    po.lines[0]!.pack_qty = 12;
    const ok = await load({
      purchase_orders: [{ ...po, version: 2 }],
      receipts: [{ ...receipt('GR-12', 2, 'dozen'), pack_qty: 12 }],
    });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('refuses a fractional quantity of a count unit on a PO line or receipt, accepts one of a measure', async () => {
    await vendor();
    const before = await count('erp_purchase_orders');
    const po = makePo({ po_number: 'PO-FRAC' });
    po.lines[1] = { ...po.lines[1]!, quantity: 0.0001 };
    const r = await load({ purchase_orders: [po] });
    expect(r).toBeProblem(422, 'TRIAGE_ERP_UNIT_INVALID', '/purchase_orders/0/lines/1/quantity');
    expect((r.json() as { detail: string }).detail).toContain(
      'PO PO-FRAC line 2: quantity 0.0001 is not a whole number of EA',
    );
    const half = { ...receipt('GR-HALF', 2.5, 'EA'), po_number: 'PO-1001', po_line_number: 2 };
    expect(await load({ purchase_orders: [makePo()], receipts: [half] })).toBeProblem(
      422,
      'TRIAGE_ERP_UNIT_INVALID',
      '/receipts/0/quantity',
    );
    const boxes = makePo({ po_number: 'PO-BX' });
    boxes.lines[0] = { ...boxes.lines[0]!, quantity: 1.5 };
    expect(await load({ purchase_orders: [boxes] })).toBeProblem(
      422,
      'TRIAGE_ERP_UNIT_INVALID',
      '/purchase_orders/0/lines/0/quantity',
    );
    expect(await count('erp_purchase_orders')).toBe(before);
    const ml = makePo({ po_number: 'PO-ML' });
    ml.lines[1] = { ...ml.lines[1]!, uom: 'ML', quantity: 2.5 };
    const ok = await load({ purchase_orders: [ml] });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('scores an invoice billing 2.5 EA against a PO line and holds it as UOM_MISMATCH (quantity_not_whole)', async () => {
    await vendor();
    const ok = await load({
      purchase_orders: [{ ...dozenPo(), po_number: 'PO-HALF' }],
      receipts: [{ ...receipt('GR-HALF-DZ', 2, 'DZ'), po_number: 'PO-HALF' }],
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const d = await ref.h.scoreOk(invoice('ea-half', [gloves(2.5)], 'PO-HALF'));
    const u = d.reasons.find((x) => x.code === 'UOM_MISMATCH');
    expect(u?.evidence).toMatchObject({ billed_quantity: 2.5, billed_uom: 'EA', quantity_not_whole: true });
    expect(d.reasons.map((x) => x.code)).toEqual(['UOM_MISMATCH']);
    expect(d.decision).not.toBe('AUTO_APPROVE');
    expect(d.queue).toBe('procurement');
  });

  it('scores an invoice billing DZ with pack_qty 10 as 12 each and holds it as UOM_MISMATCH (pack_qty_contradicts_unit)', async () => {
    await vendor();
    const ok = await load({
      purchase_orders: [{ ...dozenPo(), po_number: 'PO-DZ10' }],
      receipts: [{ ...receipt('GR-DZ10', 2, 'DZ'), po_number: 'PO-DZ10' }],
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const line: InvoiceLine = {
      ...gloves(2),
      uom: 'DZ',
      pack_qty: 10,
      unit_price_cents: 1_200,
      amount_cents: 2_400,
    };
    const d = await ref.h.scoreOk(invoice('dz-pack10', [line], 'PO-DZ10'));
    expect(d.reasons.map((x) => x.code)).toEqual(['UOM_MISMATCH']);
    expect(d.reasons[0]!.evidence).toMatchObject({
      billed_uom: 'DZ',
      billed_quantity: 2,
      stated_pack_qty: 10,
      unit_fixed_count: 12,
      pack_qty_contradicts_unit: true,
    });
    expect(d.procurement).toMatchObject({ po_number: 'PO-DZ10', amount_at_risk_cents: 0 });
    expect(d.decision).not.toBe('AUTO_APPROVE');
    expect(d.queue).toBe('procurement');
  });
});
