/**
 * ERP loads that must be refused as a whole, naming the record and field, through app.inject()
 * on both engines: a PO line whose quantity x unit price exceeds the money limit, a unit of
 * measure outside the unit table, blank text, an empty identifiers object, a quantity too small to represent, a PO line number given twice, a contract ending before it
 * starts, a receipt in another unit than its PO line without the pack quantity converting it,
 * and a new PO version that drops a line with stored receipts or changes it so that they no
 * longer convert.
 */
import { describe, expect, it } from 'vitest';
import type { ErpLoad, ErpLoadResult } from '../core/erp.js';
import { MAX_ABS_CENTS } from '../core/invoice.js';
import { engines } from './fixtures.js';
import { useHarness } from './harness.js';
import { makeContract, makePo, makeReceipts, putErpVendor } from './erp-fixtures.js';

describe.each(engines('erpbad'))('bad ERP loads on $name', ({ config }) => {
  const ref = useHarness(config());
  const load = (body: ErpLoad) => ref.h.call('erp', { method: 'POST', url: '/v1/erp/load', payload: body });
  const sql = (text: string, params: unknown[] = []) =>
    ref.h.wired.repo.transaction((tx) => tx.query(text, params));
  const stored = async () =>
    (
      await sql(
        `SELECT (SELECT count(*) FROM erp_purchase_orders WHERE tenant_id = 'default')::int AS pos,
                (SELECT count(*) FROM erp_receipts WHERE tenant_id = 'default')::int AS receipts,
                (SELECT count(*) FROM erp_contracts WHERE tenant_id = 'default')::int AS contracts`,
      )
    )[0];
  const vendor = (id: string) => putErpVendor(ref.h, id);
  const detail = (r: { json: () => unknown }) => r.json() as { detail: string; title: string };

  it('refuses a PO line whose quantity x unit price exceeds the money limit (400 naming record and field)', async () => {
    await vendor('V-100');
    const before = await stored();
    const po = makePo({ po_number: 'PO-HUGE' });
    po.lines[1] = { ...po.lines[1]!, quantity: 1_000_000, unit_price_cents: MAX_ABS_CENTS };
    const r = await load({ purchase_orders: [po] });
    expect(r).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/purchase_orders/0/lines/1/unit_price_cents');
    expect(detail(r).detail).toContain('PO PO-HUGE line 2');
    expect(await stored()).toEqual(before);
    // At the limit exactly it is accepted.
    po.lines[1] = { ...po.lines[1], quantity: 1_000, unit_price_cents: MAX_ABS_CENTS / 1_000 };
    expect((await load({ purchase_orders: [po] })).statusCode).toBe(200);
  });

  it('refuses a receipt (and a PO line or contract item) whose unit is not in the unit table', async () => {
    await vendor('V-100');
    expect((await load({ purchase_orders: [makePo({ po_number: 'PO-UOM' })] })).statusCode).toBe(200);
    const before = await stored();
    const receipt = makeReceipts({ receipt_id: 'GR-UOM', po_number: 'PO-UOM', uom: 'QQ' })[0]!;
    const r = await load({ receipts: [receipt] });
    expect(r).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/receipts/0/uom');
    expect(detail(r).detail).toContain('receipt GR-UOM: unit of measure QQ');
    const po = makePo({ po_number: 'PO-UOM2' });
    po.lines[0]!.uom = 'BOXX';
    expect(await load({ purchase_orders: [po] })).toBeProblem(
      400,
      'TRIAGE_INPUT_INVALID',
      '/purchase_orders/0/lines/0/uom',
    );
    const c = makeContract({ contract_id: 'C-UOM' });
    c.items[0]!.uom = 'ZZ';
    expect(await load({ contracts: [c] })).toBeProblem(
      400,
      'TRIAGE_INPUT_INVALID',
      '/contracts/0/items/0/uom',
    );
    expect(await stored()).toEqual(before);
    // Spellings of the table are accepted (CASE, box, ea).
    const ok = makeReceipts({ receipt_id: 'GR-UOM-OK', po_number: 'PO-UOM', uom: 'box' })[0]!;
    expect((await load({ receipts: [ok] })).statusCode).toBe(200);
  });

  it('refuses ERP dates outside 1900-01-01..2199-12-31 (400 naming each), storing nothing', async () => {
    await vendor('V-100');
    expect((await load({ purchase_orders: [makePo({ po_number: 'PO-DATE' })] })).statusCode).toBe(200);
    const before = await stored();
    const r = await load({
      purchase_orders: [makePo({ po_number: 'PO-1066', order_date: '1066-10-14' })],
      receipts: makeReceipts({
        receipt_id: 'GR-DATE',
        po_number: 'PO-DATE',
        received_date: '9999-12-31',
      }).slice(0, 1),
      contracts: [makeContract({ contract_id: 'C-DATE', effective_date: '1899-12-31' })],
    });
    expect(r).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/purchase_orders/0/order_date');
    const paths = (r.json() as { errors: { path: string; message: string }[] }).errors;
    expect(paths).toEqual(
      expect.arrayContaining([
        { path: '/purchase_orders/0/order_date', message: 'must be between 1900-01-01 and 2199-12-31' },
        { path: '/receipts/0/received_date', message: 'must be between 1900-01-01 and 2199-12-31' },
        { path: '/contracts/0/effective_date', message: 'must be between 1900-01-01 and 2199-12-31' },
      ]),
    );
    expect(await stored()).toEqual(before);
  });

  it('refuses blank text and quantities too small to represent (400 naming each), storing nothing', async () => {
    await vendor('V-100');
    expect((await load({ purchase_orders: [makePo({ po_number: 'PO-TEXT' })] })).statusCode).toBe(200);
    const before = await stored();
    const po = makePo({ po_number: 'PO-BLANK' });
    po.lines[0] = {
      ...po.lines[0]!,
      description: ' \u200B ',
      identifiers: { supplier_part: '\u2800' },
      quantity: 1e-9,
    };
    const c = makeContract({ contract_id: 'C-BLANK', tier: '  ' });
    c.items[0] = { ...c.items[0]!, description: '\u3164', identifiers: { gtin: '\t' } };
    const r = await load({
      purchase_orders: [po],
      receipts: makeReceipts({ receipt_id: 'GR-TINY', po_number: 'PO-TEXT', quantity: 1e-12 }).slice(0, 1),
      contracts: [c],
    });
    expect(r).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/purchase_orders/0/lines/0/description');
    const shown = makePo({ po_number: 'PO-BIDI' });
    shown.lines[0] = { ...shown.lines[0]!, description: 'Oxygen \u202eliated' };
    const reordered = await load({ purchase_orders: [shown] });
    expect(reordered).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/purchase_orders/0/lines/0/description');
    const blank = 'must not be blank (only spaces or invisible characters)';
    expect((r.json() as { errors: { path: string; message: string }[] }).errors).toEqual([
      { path: '/purchase_orders/0/lines/0/description', message: blank },
      { path: '/purchase_orders/0/lines/0/identifiers/supplier_part', message: blank },
      {
        path: '/purchase_orders/0/lines/0/quantity',
        message: 'PO PO-BLANK line 1: quantity must be 0 or at least 0.000001',
      },
      { path: '/receipts/0/quantity', message: 'receipt GR-TINY: quantity must be 0 or at least 0.000001' },
      { path: '/contracts/0/tier', message: blank },
      { path: '/contracts/0/items/0/description', message: blank },
      { path: '/contracts/0/items/0/identifiers/gtin', message: blank },
    ]);
    expect(await stored()).toEqual(before);
    // An empty identifiers object names no item: refused on a contract item and a PO line alike.
    const bare = makePo({ po_number: 'PO-NOIDS' });
    bare.lines[1] = { ...bare.lines[1]!, identifiers: {} };
    const noIds = makeContract({ contract_id: 'C-NOIDS' });
    noIds.items[0] = { ...noIds.items[0]!, identifiers: {} };
    const empty = await load({ purchase_orders: [bare], contracts: [noIds] });
    expect(empty).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/purchase_orders/0/lines/1/identifiers');
    const some = 'must name at least one identifier (buyer_item, supplier_part, ...)';
    expect((empty.json() as { errors: { path: string; message: string }[] }).errors).toEqual([
      { path: '/purchase_orders/0/lines/1/identifiers', message: some },
      { path: '/contracts/0/items/0/identifiers', message: some },
    ]);
    expect(await stored()).toEqual(before);
    // Without the key the PO line is accepted (its identifiers are optional).
    delete bare.lines[1]!.identifiers;
    expect((await load({ purchase_orders: [bare] })).statusCode).toBe(200);
    // A receipt of nothing (quantity 0) is still a receipt.
    const none = makeReceipts({ receipt_id: 'GR-NONE', po_number: 'PO-TEXT', quantity: 0 }).slice(0, 1);
    expect((await load({ receipts: none })).statusCode).toBe(200);
  });

  it('names a repeated PO line number and a contract ending before it starts with their own codes', async () => {
    await vendor('V-100');
    const before = await stored();
    const po = makePo({ po_number: 'PO-TWICE' });
    po.lines[1]!.line_number = 1;
    const r = await load({ purchase_orders: [po] });
    expect(r).toBeProblem(422, 'TRIAGE_ERP_LINE_NUMBER_REPEATED', '/purchase_orders/0/lines/1/line_number');
    expect(detail(r).title).toBe('PO line number repeated');
    const c = await load({
      contracts: [
        makeContract({ contract_id: 'C-BACK', effective_date: '2025-06-01', end_date: '2025-05-31' }),
      ],
    });
    expect(c).toBeProblem(422, 'TRIAGE_ERP_CONTRACT_DATES_INVALID', '/contracts/0/end_date');
    expect(detail(c).title).toBe('Contract ends before it starts');
    expect(detail(c).detail).toContain('end_date 2025-05-31 is before effective_date 2025-06-01');
    expect(await stored()).toEqual(before);
  });

  it('refuses a PO version that drops a line with receipts (409 naming them) unless the load moves them', async () => {
    await vendor('V-100');
    const v1 = makePo({ po_number: 'PO-DROP' });
    const receipts = makeReceipts().map((x) => ({
      ...x,
      receipt_id: `${x.receipt_id}-DROP`,
      po_number: 'PO-DROP',
    }));
    expect((await load({ purchase_orders: [v1], receipts })).statusCode).toBe(200);
    const before = await stored();
    const v2 = makePo({ po_number: 'PO-DROP', version: 2 });
    v2.lines = v2.lines.slice(0, 1);
    const r = await load({ purchase_orders: [v2] });
    expect(r).toBeProblem(409, 'TRIAGE_ERP_RECEIPTS_ORPHANED', '/purchase_orders/0/lines');
    expect(detail(r).detail).toContain(
      'PO PO-DROP version 2 drops line 2, which receipts GR-2-DROP were received',
    );
    expect(await stored()).toEqual(before);
    const po = (await sql("SELECT version FROM erp_purchase_orders WHERE po_number = 'PO-DROP'"))[0];
    expect(Number(po!.version)).toBe(1);
    // Moving the receipt to the kept line in the same load is accepted.
    const moved = { ...receipts[1]!, po_line_number: 1, uom: 'BX', pack_qty: 100, quantity: 0, version: 2 };
    const ok = await load({ purchase_orders: [v2], receipts: [moved] });
    expect(ok.statusCode).toBe(200);
    expect(ok.json<ErpLoadResult>().purchase_orders.updated).toBe(1);
    expect(ok.json<ErpLoadResult>().receipts.updated).toBe(1);
  });

  it('refuses a receipt in another unit than its PO line without the pack_qty converting it (422 naming the field)', async () => {
    await vendor('V-100');
    const before = await stored();
    const po = makePo({ po_number: 'PO-CS' });
    po.lines.push({
      line_number: 3,
      description: 'Gauze sponges 4x4',
      uom: 'CS',
      quantity: 2,
      unit_price_cents: 900,
    });
    // A case against the EA line 2, no pack_qty: one case would count as one each.
    const cs = { ...makeReceipts()[1]!, receipt_id: 'GR-CS', po_number: 'PO-CS', uom: 'CS', quantity: 1 };
    const r = await load({ purchase_orders: [po], receipts: [cs] });
    expect(r).toBeProblem(422, 'TRIAGE_ERP_RECEIPT_UNIT_UNCONVERTIBLE', '/receipts/0/pack_qty');
    expect(detail(r).detail).toBe(
      '/receipts/0/pack_qty: receipt GR-CS is in CS against PO PO-CS line 2 in EA: without pack_qty the each count of one CS is unknown; send pack_qty or receive in EA; nothing was stored',
    );
    expect(await stored()).toEqual(before);
    // Each against the CS line 3, which has no pack_qty: named at the receipt's unit.
    const ea = { ...cs, receipt_id: 'GR-EA', po_line_number: 3, uom: 'EA', quantity: 24 };
    const e = await load({ purchase_orders: [po], receipts: [ea] });
    expect(e).toBeProblem(422, 'TRIAGE_ERP_RECEIPT_UNIT_UNCONVERTIBLE', '/receipts/0/uom');
    expect(detail(e).detail).toContain('line 3 in CS, which has no pack_qty');
    expect(await stored()).toEqual(before);
    // With pack_qty, or in the line's own unit, the receipts load (the PO from the store now).
    expect((await load({ purchase_orders: [po] })).statusCode).toBe(200);
    const ok = await load({
      receipts: [
        { ...cs, pack_qty: 12 },
        { ...ea, uom: 'CS', quantity: 2 },
        { ...cs, receipt_id: 'GR-EACH', uom: 'each', quantity: 5 },
      ],
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<ErpLoadResult>().receipts.created).toBe(3);
  });

  it("refuses a receipt in its PO line's unit with another pack_qty than the line's (422 naming the field)", async () => {
    await vendor('V-100');
    const po = makePo({ po_number: 'PO-PACK' });
    po.lines.push({
      line_number: 3,
      description: 'Gauze sponges 4x4',
      uom: 'CS',
      quantity: 10,
      unit_price_cents: 900,
    });
    expect((await load({ purchase_orders: [po] })).statusCode).toBe(200);
    const before = await stored();
    // One CS of 10 against line 3 (10 CS, no pack_qty) would count as all 10 cases received.
    const cs = { ...makeReceipts()[1]!, receipt_id: 'GR-PK', po_number: 'PO-PACK', po_line_number: 3 };
    const r = await load({ receipts: [{ ...cs, uom: 'CS', quantity: 1, pack_qty: 10 }] });
    expect(r).toBeProblem(422, 'TRIAGE_ERP_RECEIPT_UNIT_UNCONVERTIBLE', '/receipts/0/pack_qty');
    expect(detail(r).detail).toBe(
      "/receipts/0/pack_qty: receipt GR-PK is in CS like PO PO-PACK line 3, but with pack_qty 10 against the line's 1: send the line's pack_qty or none; nothing was stored",
    );
    // An each with pack_qty 5 (contradicting the unit itself: core/units.ts) against the EA line
    // 2, and a box of 10 against line 1's boxes of 100.
    const ea = await load({ receipts: [{ ...cs, po_line_number: 2, uom: 'EA', quantity: 1, pack_qty: 5 }] });
    expect(ea).toBeProblem(422, 'TRIAGE_ERP_UNIT_INVALID', '/receipts/0/pack_qty');
    const bx = await load({ receipts: [{ ...cs, po_line_number: 1, uom: 'BX', quantity: 1, pack_qty: 10 }] });
    expect(bx).toBeProblem(422, 'TRIAGE_ERP_RECEIPT_UNIT_UNCONVERTIBLE', '/receipts/0/pack_qty');
    expect(await stored()).toEqual(before);
    // The line's own pack_qty, or none, loads.
    const ok = await load({
      receipts: [
        { ...cs, uom: 'CS', quantity: 1 },
        { ...cs, receipt_id: 'GR-PK-1', po_line_number: 1, uom: 'BX', quantity: 1, pack_qty: 100 },
      ],
    });
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('refuses a PO version that changes a line so that its stored receipts no longer convert (422 naming the line)', async () => {
    await vendor('V-100');
    const v1 = makePo({ po_number: 'PO-REPACK' });
    const receipts = makeReceipts().map((x) => ({
      ...x,
      receipt_id: `${x.receipt_id}-REPACK`,
      po_number: 'PO-REPACK',
    }));
    expect((await load({ purchase_orders: [v1], receipts })).statusCode).toBe(200);
    const before = await stored();
    // Line 1 (10 BX of 100 each, received as 10 BX of 100) sent again without its pack_qty: the
    // stored receipt's 1,000 each would count as 10 boxes of one against a line of 10 boxes.
    const v2 = makePo({ po_number: 'PO-REPACK', version: 2 });
    delete v2.lines[0]!.pack_qty;
    const r = await load({ purchase_orders: [v2] });
    expect(r).toBeProblem(422, 'TRIAGE_ERP_RECEIPT_UNIT_UNCONVERTIBLE', '/purchase_orders/0/lines/0');
    expect(detail(r).detail).toBe(
      "/purchase_orders/0/lines/0: PO PO-REPACK version 2 changes line 1 so that stored receipt GR-1-REPACK is in BX like PO PO-REPACK line 1, but with pack_qty 100 against the line's 1; keep the line's unit and pack_qty or send the receipt again with a higher version; nothing was stored",
    );
    expect(await stored()).toEqual(before);
    const po = (await sql("SELECT version FROM erp_purchase_orders WHERE po_number = 'PO-REPACK'"))[0];
    expect(Number(po!.version)).toBe(1);
    // Sending the receipt again in the line's new terms in the same load is accepted, and so is
    // a version keeping the line's unit and pack_qty.
    const again = { ...receipts[0]!, version: 2 };
    delete again.pack_qty;
    const moved = await load({ purchase_orders: [v2], receipts: [again] });
    expect(moved.statusCode, moved.body).toBe(200);
    const v3 = makePo({ po_number: 'PO-REPACK', version: 3 });
    expect((await load({ purchase_orders: [v3] })).statusCode).toBe(200);
  });

  it('refuses a load over the body limit (413 saying the limit and pointing to the CLI), storing nothing', async () => {
    const before = await stored();
    const po = makePo({ po_number: 'PO-BIG' });
    const lines = Array.from({ length: 400 }, (_, i) => ({
      ...po.lines[0]!,
      line_number: i + 1,
      description: 'Exam gloves nitrile medium powder free '.repeat(5),
    }));
    const payload = JSON.stringify({ purchase_orders: [{ ...po, lines }] });
    expect(payload.length).toBeGreaterThan(64 * 1024);
    const r = await ref.h.call('erp', {
      method: 'POST',
      url: '/v1/erp/load',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    expect(r).toBeProblem(413, 'TRIAGE_PAYLOAD_TOO_LARGE', '/');
    expect(detail(r).detail).toBe(
      'an ERP load body is limited to 65536 bytes (BODY_LIMIT_BYTES); send a larger load in several requests, or from a file with npm run cli -- erp load FILE --tenant T',
    );
    expect(await stored()).toEqual(before);
  });
});
