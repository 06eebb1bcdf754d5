/**
 * ERP reference data a tenant syncs into the service (`POST /v1/erp/load`, `npm run cli -- erp
 * load FILE`): purchase orders with their lines, goods receipts, contracts / price lists, and
 * the ERP's status callbacks on scored invoices (`POST /v1/erp/callbacks`). The ERP stays the
 * system of record; every record carries the ERP's `version` (a positive integer that grows
 * with each change, e.g. its change counter or `updated_at` in epoch seconds). Money is integer
 * cents, dates `YYYY-MM-DD`, quantities in the record's unit of measure (`uom`), where one
 * `uom` holds `pack_qty` base units (`BX` with `pack_qty` 100 = 100 `EA`).
 */
import Type, { type Static } from 'typebox';
import { IsoDate } from './invoice.js';
import { fixedCountOf } from './units.js';

const Id = (description: string) =>
  Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7E]+$', description });
const Version = Type.Integer({
  minimum: 1,
  maximum: 9_007_199_254_740_991,
  description: "The ERP's version of the record; a higher version replaces a stored one.",
});
const UnitPrice = Type.Integer({
  minimum: 0,
  maximum: 10_000_000_000_000,
  description: 'Price of one unit of `uom`, integer cents.',
});
/**
 * Unit of measure code as the ERP writes it (`EA`, `BX`, `CS`, `PK`...), upper-cased when
 * compared; one of the codes or spellings of the unit table in core/units.ts (ANSI X12 355).
 */
export const Uom = Type.String({
  pattern: '^[A-Za-z]{1,8}$',
  description:
    'Unit of measure, e.g. EA, DZ, BX, CS: an ANSI X12 355 code or spelling of the unit table (core/units.ts); another is a 400.',
});
const PackQty = Type.Integer({
  minimum: 1,
  maximum: 1_000_000,
  description:
    'Base units (each) in one `uom`: BX of 100 = 100. Default 1; a fixed-count unit (EA 1, PR 2, DZ 12, GR 144, HD 100, TH 1000) has its count, another pack_qty is a 422.',
});

/** Identifiers of an item; any subset. Compared after normalisation (case, separators, leading zeros). */
export const ItemIdentifiers = Type.Object(
  {
    buyer_item: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "The hospital's item number." }),
    ),
    supplier_part: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Supplier part number.' }),
    ),
    manufacturer_part: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Manufacturer part number.' }),
    ),
    ndc: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'National Drug Code.' })),
    gtin: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'GTIN (GS1).' })),
    hcpcs: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'HCPCS Level II code.' })),
  },
  { additionalProperties: false },
);
export type ItemIdentifiers = Static<typeof ItemIdentifiers>;

/** One line of a purchase order. */
export const PoLine = Type.Object(
  {
    line_number: Type.Integer({ minimum: 1, maximum: 100_000 }),
    description: Type.String({ minLength: 1, maxLength: 1000 }),
    identifiers: Type.Optional(ItemIdentifiers),
    uom: Uom,
    pack_qty: Type.Optional(PackQty),
    quantity: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1_000_000,
      description: 'Quantity ordered, in `uom`.',
    }),
    unit_price_cents: UnitPrice,
    contract_id: Type.Optional(Id('Contract the line is priced under.')),
  },
  { additionalProperties: false },
);
export type PoLine = Static<typeof PoLine>;

/** A purchase order header with its lines. */
export const PurchaseOrder = Type.Object(
  {
    po_number: Id('PO number as the ERP issues it (invoices cite it in `po_number`).'),
    vendor_id: Id('Vendor master id; must have a vendor profile (PUT /v1/vendors/:vendor_id).'),
    facility_id: Type.Optional(Id('Ordering facility.')),
    status: Type.Union([Type.Literal('open'), Type.Literal('closed')], { description: 'open | closed' }),
    order_date: IsoDate,
    version: Version,
    lines: Type.Array(PoLine, { minItems: 1, maxItems: 2000 }),
  },
  { additionalProperties: false },
);
export type PurchaseOrder = Static<typeof PurchaseOrder>;

/** A goods receipt: a quantity of one PO line received on a date. */
export const GoodsReceipt = Type.Object(
  {
    receipt_id: Id('Receipt id in the ERP.'),
    po_number: Id('The PO received against.'),
    po_line_number: Type.Integer({ minimum: 1, maximum: 100_000 }),
    quantity: Type.Number({ minimum: 0, maximum: 1_000_000, description: 'Quantity received, in `uom`.' }),
    uom: Uom,
    pack_qty: Type.Optional(PackQty),
    received_date: IsoDate,
    version: Version,
  },
  { additionalProperties: false },
);
export type GoodsReceipt = Static<typeof GoodsReceipt>;

/** One priced item of a contract. */
export const ContractItem = Type.Object(
  {
    identifiers: ItemIdentifiers,
    description: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
    uom: Uom,
    pack_qty: Type.Optional(PackQty),
    price_cents: UnitPrice,
  },
  { additionalProperties: false },
);
export type ContractItem = Static<typeof ContractItem>;

/** A contract or price list (GPO or local) of a vendor. */
export const Contract = Type.Object(
  {
    contract_id: Id('Contract id.'),
    vendor_id: Id('Vendor master id; must have a vendor profile.'),
    kind: Type.Optional(
      Type.Union([Type.Literal('gpo'), Type.Literal('local')], { description: 'gpo | local' }),
    ),
    tier: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Price tier, e.g. T1.' })),
    effective_date: IsoDate,
    end_date: IsoDate,
    facilities: Type.Array(Id('Eligible facility id.'), {
      maxItems: 1000,
      description: 'Eligible facilities; empty: every facility of the tenant.',
    }),
    items: Type.Array(ContractItem, { minItems: 1, maxItems: 10_000 }),
    version: Version,
  },
  { additionalProperties: false },
);
export type Contract = Static<typeof Contract>;

/** A bulk load: any of the three record kinds; all stored or none. */
export const ErpLoad = Type.Object(
  {
    purchase_orders: Type.Optional(Type.Array(PurchaseOrder, { maxItems: 5000 })),
    receipts: Type.Optional(Type.Array(GoodsReceipt, { maxItems: 50_000 })),
    contracts: Type.Optional(Type.Array(Contract, { maxItems: 1000 })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ErpLoad = Static<typeof ErpLoad>;

/** Per kind: records written (new or a higher version), unchanged (same version and content), stale (an older version, ignored). */
export const ErpLoadCounts = Type.Object({
  created: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  stale: Type.Integer(),
});
export type ErpLoadCounts = Static<typeof ErpLoadCounts>;

/** Answer of a bulk load. */
export const ErpLoadResult = Type.Object({
  purchase_orders: ErpLoadCounts,
  receipts: ErpLoadCounts,
  contracts: ErpLoadCounts,
  audit_seq: Type.Union([Type.Integer(), Type.Null()], {
    description: 'Audit entry of the load (null: nothing changed).',
  }),
});
export type ErpLoadResult = Static<typeof ErpLoadResult>;

/** ERP statuses of a scored invoice. */
export const ErpStatus = Type.Union(
  [Type.Literal('posted'), Type.Literal('rejected'), Type.Literal('paid')],
  {
    description: 'posted | rejected | paid',
  },
);
export type ErpStatus = Static<typeof ErpStatus>;

/**
 * An ERP status callback: the invoice was posted, rejected (with the ERP's reason) or paid.
 * Posted and paid close the decision's worklist item; rejected reopens it.
 */
export const ErpCallback = Type.Object(
  {
    invoice_id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7E]+$' }),
    status: ErpStatus,
    reason_code: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description:
          "The ERP's rejection reason; a reason code of this service (e.g. PRICE_ABOVE_PO) confirms that flag.",
      }),
    ),
    reason_text: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    idempotency_key: Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7E]+$' }),
  },
  { additionalProperties: false },
);
export type ErpCallback = Static<typeof ErpCallback>;

/** Answer of a callback. */
export const ErpCallbackResult = Type.Object({
  decision_id: Type.String(),
  invoice_id: Type.String(),
  erp_status: ErpStatus,
  review_status: Type.Union([Type.Literal('open'), Type.Literal('closed'), Type.Null()]),
  confirms_flag: Type.Union([Type.Boolean(), Type.Null()], {
    description: 'For a rejection: whether its reason code is one the decision raised (null otherwise).',
  }),
  replayed: Type.Boolean(),
});
export type ErpCallbackResult = Static<typeof ErpCallbackResult>;

/**
 * Base units (each) in one `uom` of a record: the count of a fixed-count unit (core/units.ts:
 * `DZ` 12, `PR` 2, `EA` 1...), else the record's `pack_qty`, else 1. The ERP load refuses a
 * `pack_qty` contradicting a fixed count, so for loaded records the two agree.
 */
export const packOf = (r: { uom: string; pack_qty?: number | undefined }): number =>
  fixedCountOf(r.uom) ?? r.pack_qty ?? 1;

/** What one PO line had billed against it by earlier invoices: base units (each) and cents. */
export interface InvoicedSoFar {
  baseQuantity: number;
  amountCents: number;
  /** Invoices that billed it, oldest first. */
  invoiceIds: string[];
}

/**
 * The ERP data one invoice is matched against, read in its scoring transaction: the PO it cites
 * (or the vendor's one open PO), that PO's receipts, what earlier invoices billed against each
 * of its lines, and the vendor's contracts.
 */
export interface ProcurementContext {
  po: PurchaseOrder;
  /**
   * `cited`: the invoice's `po_number`; `only_open_po`: the vendor's one open PO (the invoice
   * cites none); `matcher`: the open PO of the vendor the line matcher clearly preferred
   * (inference/procurement/choose.ts).
   */
  chosenBy: 'cited' | 'only_open_po' | 'matcher';
  receipts: GoodsReceipt[];
  /** By PO line number; absent lines have had nothing billed. */
  invoiced: Map<number, InvoicedSoFar>;
  contracts: Contract[];
}

/**
 * Answer of the context read: a context; nothing to match (the tenant has no ERP data, or the
 * invoice cites no PO and its vendor has no open one); a cited PO the ERP does not have (the
 * tenant has POs loaded; `vendorHasPos`: the invoice's vendor has some); or, when the invoice cites none, the vendor's open POs to choose from
 * (several), or a choice the matcher could not make (`po_ambiguous`, with each candidate's score).
 */
export type ProcurementLookup =
  | { kind: 'context'; context: ProcurementContext }
  | { kind: 'none' }
  | { kind: 'po_unknown'; poNumber: string; vendorHasPos: boolean }
  | { kind: 'po_choice'; candidates: PurchaseOrder[] }
  | { kind: 'po_ambiguous'; candidates: { po_number: string; score: number }[] };
