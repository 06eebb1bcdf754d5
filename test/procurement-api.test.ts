/**
 * The PO match through the API on both engines: ERP data loaded with the erp role, a
 * PO-backed invoice auto-approved when every line matches, held in the procurement queue with
 * a suggested correction for a unit-of-measure error, over-billing split over two invoices
 * caught from the stored billing, a rejected invoice's billing released, and an invoice without
 * ERP data scored as before; an invoice citing no PO matched to the vendor's open PO the matcher
 * clearly prefers or held as PO_AMBIGUOUS, an unknown cited PO, and a credit memo giving back
 * billed quantity.
 */
import { describe, expect, it } from 'vitest';
import type { DecisionResponse } from '../core/decision.js';
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { engines, makeInvoice } from './fixtures.js';
import { useHarness } from './harness.js';
import type { ErpLoad } from '../core/erp.js';
import { makeErpLoad, makePo, makeReceipts, putErpVendor } from './erp-fixtures.js';

const gloves = (over: Partial<InvoiceLine> = {}): InvoiceLine => ({
  line_number: 1,
  description: 'Exam gloves nitrile medium powder free',
  item_identifiers: ['0100071520'],
  uom: 'BX',
  quantity: 10,
  unit_price_cents: 4_120,
  amount_cents: 41_200,
  ...over,
});

const poInvoice = (id: string, lines: InvoiceLine[], over: Partial<Invoice> = {}): Invoice =>
  makeInvoice({
    invoice_id: id,
    invoice_number: id,
    po_number: 'PO-1001',
    facility_id: 'FAC-1',
    vendor: { id: 'V-100', name: 'Acme Medical Supply, Inc.' },
    lines,
    total_cents: lines.reduce((a, l) => a + l.amount_cents, 0),
    ...over,
  });

describe.each(engines('procapi'))('PO match through the API on $name', ({ config }) => {
  const ref = useHarness(config());
  const setUp = async () => {
    await putErpVendor(ref.h);
    const r = await ref.h.call('erp', { method: 'POST', url: '/v1/erp/load', payload: makeErpLoad() });
    expect(r.statusCode).toBe(200);
  };
  const score = (inv: Invoice): Promise<DecisionResponse> => ref.h.scoreOk(inv);

  it('holds a unit-of-measure error in the procurement queue with the expected line', async () => {
    await setUp();
    const d = await score(poInvoice('uom-1', [gloves({ uom: 'EA', amount_cents: 41_200 })]));
    expect(d.decision).toBe('HOLD');
    expect(d.queue).toBe('procurement');
    expect(d.reasons.map((r) => r.code)).toContain('UOM_MISMATCH');
    expect(d.procurement).toMatchObject({
      po_number: 'PO-1001',
      chosen_by: 'cited',
      amount_at_risk_cents: 40_788,
    });
    expect(d.procurement!.lines[0]!.suggested).toMatchObject({
      quantity: 0.1,
      uom: 'BX',
      unit_price_cents: 4_120,
    });
    // Expected loss = the overbilled cents.
    expect(d.priority).toBeGreaterThanOrEqual(407.88);
  });

  it('catches over-billing split over two invoices, and releases a rejected invoice', async () => {
    const first = await score(poInvoice('split-1', [gloves({ quantity: 6, amount_cents: 24_720 })]));
    expect(first.reasons.filter((r) => r.code === 'QUANTITY_ABOVE_RECEIVED')).toEqual([]);
    const second = await score(poInvoice('split-2', [gloves({ quantity: 6, amount_cents: 24_720 })]));
    const q = second.reasons.find((r) => r.code === 'QUANTITY_ABOVE_RECEIVED')!;
    // 1 000 EA received; uom-1 billed 10 EA and split-1 600 EA before.
    expect(q.evidence).toMatchObject({
      across_invoices: true,
      already_invoiced_base_units: 610,
      available_base_units: 390,
      earlier_invoices: ['uom-1', 'split-1'],
    });
    // The ERP rejects the first invoice: its billing no longer counts for the next one.
    const cb = await ref.h.call('erp', {
      method: 'POST',
      url: '/v1/erp/callbacks',
      payload: { invoice_id: 'split-1', status: 'rejected', reason_code: 'OTHER', idempotency_key: 'rej-1' },
    });
    expect(cb.statusCode).toBe(200);
    // Counted now: uom-1 (10 EA) and split-2 (600 EA); 3 BX fit the 390 EA left.
    const third = await score(poInvoice('split-3', [gloves({ quantity: 3, amount_cents: 12_360 })]));
    expect(third.reasons.map((r) => r.code)).not.toContain('QUANTITY_ABOVE_RECEIVED');
  });

  it('leaves an invoice citing no PO, of a vendor without ERP data, on its path', async () => {
    const plain = await score(
      makeInvoice({
        invoice_id: 'plain-1',
        vendor: { id: 'V-NONE', name: 'Other Co' },
        po_number: undefined,
      }),
    );
    expect(plain.procurement).toBeUndefined();
    expect(plain.reasons.some((r) => r.code.startsWith('PO_') || r.code === 'ITEM_NOT_ON_PO')).toBe(false);
  });

  it('refuses an invoice line whose unit is not in the ERP unit table (400 naming it, nothing stored)', async () => {
    const bad = poInvoice('uom-unknown', [gloves({ uom: 'BOXES' })]);
    const r = await ref.h.call('workflow', { method: 'POST', url: '/v1/invoices/score', payload: bad });
    expect(r).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/lines/0/uom');
    expect(r.json<{ errors: { path: string; message: string }[] }>().errors).toEqual([
      {
        path: '/lines/0/uom',
        message: 'unit of measure BOXES is not in the unit table (EA, BX, CS, PK, ...)',
      },
    ]);
    // The same id with a spelling of the table scores: nothing of the refused request was kept.
    const d = await score(poInvoice('uom-unknown', [gloves({ uom: 'box' })]));
    expect(d.reasons.map((x) => x.code)).not.toContain('UOM_MISMATCH');
  });

  it("applies the tenant's price tolerance per unit and per line, names a bad one, and audits the change", async () => {
    // After the tests above (PO-1001's quantities are billed; only the price codes are read).
    await setUp();
    // 4 150 per box against 4 120 on PO and contract: 0.73 % per unit, 300 cents on the line.
    const pricey = (id: string) => poInvoice(id, [gloves({ unit_price_cents: 4_150, amount_cents: 41_500 })]);
    const price = (d: DecisionResponse) => d.reasons.map((r) => r.code).filter((c) => c.startsWith('PRICE_'));
    expect(price(await score(pricey('tol-1')))).toEqual(['PRICE_ABOVE_PO', 'PRICE_ABOVE_CONTRACT']);
    const policy = await ref.h.call('admin', { method: 'GET', url: '/v1/policy' });
    const doc = { ...policy.json<{ document: Record<string, unknown> }>().document };
    const bad = await ref.h.call('admin', {
      method: 'PUT',
      url: '/v1/policy',
      payload: { ...doc, procurement: { price_po: { abs: 0, percent: 1, line_cents: -1 } } },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual([
      '/procurement/price_po/line_cents',
    ]);
    const tolerance = { abs: 0, percent: 1, line_cents: 5 };
    const put = await ref.h.call('admin', {
      method: 'PUT',
      url: '/v1/policy',
      payload: { ...doc, name: 'tolerant', procurement: { price_po: tolerance, price_contract: tolerance } },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(price(await score(pricey('tol-2')))).toEqual([]);
    const audit = (await ref.h.call('auditor', { method: 'GET', url: '/v1/audit?limit=1000' })).json<{
      items: { kind: string; payload: { document: { name: string; procurement?: unknown } } }[];
    }>().items;
    const changed = audit.filter(
      (a) => a.kind === 'policy.changed' && a.payload.document.name === 'tolerant',
    );
    expect(changed).toHaveLength(1);
    expect(changed[0]!.payload.document.procurement).toEqual({
      price_po: tolerance,
      price_contract: tolerance,
    });
  });
});

describe.each(engines('procapi2'))(
  'PO choice, unknown POs and credit memos through the API on $name',
  ({ config }) => {
    const ref = useHarness(config());
    const sutures = (over: Partial<InvoiceLine> = {}): InvoiceLine => ({
      line_number: 1,
      description: 'Suture nylon 4-0 PS-2 18 inch',
      item_identifiers: ['SU-4040-PS2'],
      uom: 'EA',
      quantity: 10,
      unit_price_cents: 412,
      amount_cents: 4_120,
      ...over,
    });
    const suturePo = {
      ...makePo({ po_number: 'PO-2001', order_date: '2025-02-12' }),
      lines: [
        {
          line_number: 1,
          description: 'Suture nylon 4-0 PS-2 18 inch',
          identifiers: { supplier_part: 'SU-4040-PS2' },
          uom: 'EA',
          quantity: 10,
          unit_price_cents: 412,
        },
      ],
    };
    const load = async (payload: ErpLoad) => {
      const r = await ref.h.call('erp', { method: 'POST', url: '/v1/erp/load', payload });
      expect(r.statusCode).toBe(200);
    };
    const score = (inv: Invoice): Promise<DecisionResponse> => ref.h.scoreOk(inv);
    const codes = (d: DecisionResponse) => d.reasons.map((r) => r.code);

    it('chooses among a vendor\u2019s open POs by the matcher, or routes an ambiguous choice to procurement', async () => {
      await putErpVendor(ref.h);
      await load({
        ...makeErpLoad(),
        purchase_orders: [makePo(), suturePo],
        receipts: [
          ...makeReceipts(),
          {
            ...makeReceipts()[1]!,
            receipt_id: 'GR-21',
            po_number: 'PO-2001',
            po_line_number: 1,
            quantity: 10,
          },
        ],
      });
      const chosen = await score(
        poInvoice('choose-1', [gloves({ quantity: 2, amount_cents: 8_240 })], { po_number: undefined }),
      );
      expect(chosen.procurement).toMatchObject({ po_number: 'PO-1001', chosen_by: 'matcher' });
      expect(codes(chosen).filter((c) => c.startsWith('PO_'))).toEqual([]);
      // A second open PO ordering the same gloves: no clear choice.
      await load({ purchase_orders: [makePo({ po_number: 'PO-2002', order_date: '2025-02-14' })] });
      const amb = await score(
        poInvoice('choose-2', [gloves({ quantity: 2, amount_cents: 8_240 })], { po_number: undefined }),
      );
      expect(codes(amb)).toContain('PO_AMBIGUOUS');
      expect(amb.queue).toBe('procurement');
      expect(amb.procurement).toBeUndefined();
      const ev = amb.reasons.find((r) => r.code === 'PO_AMBIGUOUS')!.evidence as {
        candidates: { po_number: string }[];
      };
      expect(ev.candidates.map((c) => c.po_number).sort()).toEqual(['PO-1001', 'PO-2001', 'PO-2002']);
      expect(amb.priority).toBeGreaterThanOrEqual(82.4);
    });

    it('flags a cited PO the ERP data lacks for a vendor with POs; others keep the non-PO path unless the policy says tenant', async () => {
      const mine = await score(poInvoice('unknown-0', [gloves()], { po_number: 'PO-404' }));
      expect(codes(mine)).toContain('PO_UNKNOWN');
      expect(mine.queue).toBe('procurement');
      const notSynced = (id: string) =>
        poInvoice(id, [gloves()], { po_number: 'PO-404', vendor: { id: 'V-NOPO', name: 'No PO Co' } });
      const before = await score(notSynced('unknown-1'));
      expect(codes(before)).not.toContain('PO_UNKNOWN');
      expect(before.procurement).toBeUndefined();
      const policy = await ref.h.call('admin', { method: 'GET', url: '/v1/policy' });
      const doc = { ...policy.json<{ document: Record<string, unknown> }>().document };
      const put = await ref.h.call('admin', {
        method: 'PUT',
        url: '/v1/policy',
        payload: { ...doc, name: 'all-pos', procurement: { unknown_po: 'tenant' } },
      });
      expect(put.statusCode, put.body).toBe(200);
      const after = await score(notSynced('unknown-2'));
      expect(codes(after)).toContain('PO_UNKNOWN');
      expect(after.queue).toBe('procurement');
    });

    it('gives back quantity a credit memo citing the PO credits', async () => {
      const first = await score(poInvoice('su-1', [sutures()], { po_number: 'PO-2001' }));
      expect(codes(first)).not.toContain('QUANTITY_ABOVE_RECEIVED');
      const over = await score(
        poInvoice('su-2', [sutures({ quantity: 4, amount_cents: 1_648 })], { po_number: 'PO-2001' }),
      );
      expect(codes(over)).toContain('PO_EXHAUSTED');
      const cm = await score(
        poInvoice('su-cm', [sutures({ quantity: -8, amount_cents: -3_296 })], {
          po_number: 'PO-2001',
          document_type: 'credit_memo',
        }),
      );
      expect(cm.procurement).toBeUndefined();
      const rows = await ref.h.wired.repo.transaction((tx) =>
        tx.query(
          "SELECT po_line_number, base_quantity::int AS q, amount_cents::int AS c FROM erp_po_invoiced WHERE invoice_id = 'su-cm'",
        ),
      );
      expect(rows).toEqual([{ po_line_number: 1, q: -8, c: -3_296 }]);
      // su-1 (10) + su-2 (4) - 8 = 6 of the 10 EA received: 4 more fit.
      const again = await score(
        poInvoice('su-3', [sutures({ quantity: 4, amount_cents: 1_648 })], { po_number: 'PO-2001' }),
      );
      expect(codes(again)).not.toContain('QUANTITY_ABOVE_RECEIVED');
    });
  },
);
