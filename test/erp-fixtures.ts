/** ERP reference data for the procurement tests: one vendor's PO, its receipt and a contract. */
import { expect } from 'vitest';
import type { Contract, ErpLoad, GoodsReceipt, PoLine, PurchaseOrder } from '../core/erp.js';
import type { Harness } from './harness.js';

/** PO-1001 of vendor V-100: 10 BX (100 EA each) of gloves at 4 120 cents a box, and 5 EA of catheters. */
export function makePo(over: Partial<PurchaseOrder> = {}): PurchaseOrder {
  return {
    po_number: 'PO-1001',
    vendor_id: 'V-100',
    facility_id: 'FAC-1',
    status: 'open',
    order_date: '2025-02-10',
    version: 1,
    lines: [
      {
        line_number: 1,
        description: 'Exam gloves nitrile medium powder free',
        identifiers: { supplier_part: '010-00715-20', manufacturer_part: 'NI-M-100' },
        uom: 'BX',
        pack_qty: 100,
        quantity: 10,
        unit_price_cents: 4_120,
        contract_id: 'GPO-7',
      },
      {
        line_number: 2,
        description: 'Foley catheter 16 Fr silicone 5 ml balloon',
        identifiers: { supplier_part: 'FC-16-S' },
        uom: 'EA',
        quantity: 5,
        unit_price_cents: 1_850,
      },
    ],
    ...over,
  };
}

/** Receipt of the whole PO line 1 (10 BX) and 5 EA of line 2. */
export function makeReceipts(over: Partial<GoodsReceipt> = {}): GoodsReceipt[] {
  return [
    {
      receipt_id: 'GR-1',
      po_number: 'PO-1001',
      po_line_number: 1,
      quantity: 10,
      uom: 'BX',
      pack_qty: 100,
      received_date: '2025-02-20',
      version: 1,
      ...over,
    },
    {
      receipt_id: 'GR-2',
      po_number: 'PO-1001',
      po_line_number: 2,
      quantity: 5,
      uom: 'EA',
      received_date: '2025-02-20',
      version: 1,
    },
  ];
}

/** GPO-7: the gloves at 4 120 cents a box for FAC-1 during 2025. */
export function makeContract(over: Partial<Contract> = {}): Contract {
  return {
    contract_id: 'GPO-7',
    vendor_id: 'V-100',
    kind: 'gpo',
    tier: 'T1',
    effective_date: '2025-01-01',
    end_date: '2025-12-31',
    facilities: ['FAC-1'],
    items: [{ identifiers: { supplier_part: '0100071520' }, uom: 'BX', pack_qty: 100, price_cents: 4_120 }],
    version: 1,
    ...over,
  };
}

/** The three together. */
export function makeErpLoad(): ErpLoad {
  return { purchase_orders: [makePo()], receipts: makeReceipts(), contracts: [makeContract()] };
}

/** Line 1 of PO-DZ: 2 DZ of gloves at 1 200 cents a dozen, no pack_qty (a dozen is 12 each). */
export function makeDozenLine(): PoLine {
  return {
    line_number: 1,
    description: 'Exam gloves nitrile medium',
    identifiers: { supplier_part: 'GL-DZ-100' },
    uom: 'DZ',
    quantity: 2,
    unit_price_cents: 1_200,
  };
}

/** A receipt of `quantity` `uom` against line 1 of `poNumber` (PO-DZ), received 2025-02-20. */
export function makeLineReceipt(id: string, quantity: number, uom: string, poNumber = 'PO-DZ'): GoodsReceipt {
  return {
    receipt_id: id,
    po_number: poNumber,
    po_line_number: 1,
    quantity,
    uom,
    received_date: '2025-02-20',
    version: 1,
  };
}

/**
 * Stores the profile of vendor `id` (HCPCS prefixes A and E approved, no BETOS) with the harness's
 * admin key, as an ERP load needs its vendors known; asserts 200 or 201.
 */
export async function putErpVendor(h: Harness, id = 'V-100'): Promise<void> {
  const r = await h.call('admin', {
    method: 'PUT',
    url: `/v1/vendors/${id}`,
    payload: { approved_betos: [], approved_hcpcs_prefixes: ['A', 'E'] },
  });
  expect([200, 201]).toContain(r.statusCode);
}
