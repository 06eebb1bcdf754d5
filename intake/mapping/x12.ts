/**
 * ASC X12 810 (Invoice, version 004010/005010) to the canonical invoice: the mapping as data.
 * `intake/x12.ts` walks the segments and applies these tables; README "Intake formats" prints
 * them. A qualifier missing from its table is refused (400 naming the element), so a code the
 * mapping does not know is never silently dropped; codes listed as `ignore` are known and
 * carry nothing the canonical invoice holds.
 */
import type { CodeSystem, DocumentType } from '../../core/invoice.js';

/** ISA element widths (ISA01..ISA16): the ISA is fixed-length, 106 characters with its terminator. */
export const ISA_WIDTHS = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1] as const;

/** Length of the ISA segment including the segment terminator. */
export const ISA_LENGTH = 106;

/** Functional identifier code (GS01) of an invoice group. */
export const GS01_INVOICE = 'IN';

/** Transaction set identifier (ST01) of an invoice. */
export const ST01_INVOICE = '810';

/** BIG07 transaction type code -> document type (absent: invoice). */
export const BIG07_DOCUMENT_TYPE: Readonly<Record<string, DocumentType>> = {
  CR: 'credit_memo',
  DR: 'debit_memo',
  DI: 'invoice',
  PR: 'invoice',
  FE: 'invoice',
};

/** Where a value of a header segment goes: element position (1-based) -> canonical field. */
export const HEADER_ELEMENTS = {
  /** BIG01 invoice date (CCYYMMDD), BIG02 invoice number, BIG04 purchase order number. */
  BIG: { 1: 'invoice_date', 2: 'invoice_number', 4: 'po_number' },
  /** CUR02 currency code (CUR01 entity: SE selling party / BY buying party). */
  CUR: { 2: 'currency' },
  /** ITD03 discount %, ITD05 discount days, ITD06 net due date, ITD07 net days. */
  ITD: {
    3: 'payment_terms.discount_percent',
    5: 'payment_terms.discount_days',
    6: 'due_date',
    7: 'payment_terms.net_days',
  },
  /** TDS01 total invoice amount (N2: implied two decimals, i.e. cents). */
  TDS: { 1: 'total_cents' },
} as const;

/** Role of an N1 loop by entity identifier code (N101). */
export const N101_ROLE: Readonly<Record<string, 'vendor' | 'facility' | 'ignore'>> = {
  VN: 'vendor',
  SE: 'vendor',
  SU: 'vendor',
  ST: 'facility',
  BY: 'facility',
  BT: 'ignore',
  RE: 'ignore',
  PE: 'ignore',
  RI: 'ignore',
};

/**
 * N103 identification code qualifier -> vendor field of N104 (in a vendor N1 loop), or the
 * facility id (in a ship-to / buying-party loop: any known qualifier).
 */
export const N103_VENDOR_FIELD: Readonly<Record<string, 'id' | 'npi' | 'tax_id' | 'ignore'>> = {
  '92': 'id', // assigned by buyer: the hospital's vendor master id
  '91': 'ignore', // assigned by seller
  XX: 'npi', // CMS National Provider Identifier
  FI: 'tax_id', // federal taxpayer identification number
  '1': 'ignore', // D-U-N-S
  '9': 'ignore', // D-U-N-S + 4
  UL: 'ignore', // GLN
};

/**
 * REF01 reference identification qualifier -> field (header: PO; vendor N1 loop: TJ, HPI; IT1
 * loop: PK, the packing list of the delivery the line bills, read as its `delivery_reference`; a
 * PK outside an IT1 loop names no line and is not read).
 */
export const REF01_FIELD: Readonly<
  Record<string, 'po_number' | 'vendor.tax_id' | 'vendor.npi' | 'delivery_reference' | 'ignore'>
> = {
  PO: 'po_number',
  TJ: 'vendor.tax_id',
  HPI: 'vendor.npi',
  IV: 'ignore', // seller's invoice number (BIG02 holds it)
  VR: 'ignore', // vendor id number
  IA: 'ignore', // internal vendor number
  CT: 'ignore', // contract number
  BM: 'ignore', // bill of lading
  PK: 'delivery_reference', // packing list (IT1 loop)
};

/** DTM01 date/time qualifier -> field (header: 150/151; IT1 loop: 472). */
export const DTM01_FIELD: Readonly<
  Record<string, 'service_period.start' | 'service_period.end' | 'service_date' | 'ignore'>
> = {
  '150': 'service_period.start',
  '151': 'service_period.end',
  '472': 'service_date',
  '011': 'ignore', // shipped
  '003': 'ignore', // invoice
  '004': 'ignore', // purchase order
  '035': 'ignore', // delivered
};

/**
 * IT1 product/service ID qualifier (IT106, IT108, ...) -> what the following product ID is: a
 * code system of the line's billing code (for HC the components after the first are HCPCS
 * modifiers, `E0431>RR`, with the component separator of ISA16), an item number printed on the
 * line (`item`: the line's `item_identifiers`, compared with the PO's identifiers; an NDC is
 * both), or the purchase order line billed (`po_line`: `po_line_number`). Codes of X12 element
 * 235.
 */
export const IT1_PRODUCT_QUALIFIER: Readonly<Record<string, CodeSystem | 'item' | 'po_line' | 'ignore'>> = {
  HC: 'HCPCS', // Healthcare Common Procedure Coding System (HCPCS) codes; CPT_UNDER_HC for Level I
  CJ: 'CPT', // Current Procedural Terminology (CPT) codes
  N4: 'NDC', // National Drug Code in 5-4-2 format
  VN: 'item', // vendor's item number
  VC: 'item', // vendor's catalog number
  VP: 'item', // vendor's part number
  BP: 'item', // buyer's part number
  IN: 'item', // buyer's item number
  MG: 'item', // manufacturer's part number
  UP: 'item', // UPC
  UK: 'item', // GTIN-14
  EN: 'item', // EAN
  SK: 'item', // SKU
  PL: 'po_line', // purchaser's order line number
};

/**
 * A code sent under `HC` that is CPT, HCPCS Level I: four digits and a digit (Category I,
 * `99213`), `F` (Category II, `3074F`) or `T` (Category III, `0042T`). HIPAA's 810 and 837 guides
 * send CPT under `HC`, since HCPCS takes CPT as its Level I; HCPCS Level II codes begin with a
 * letter (`E0431`) and stay `HCPCS`.
 */
export const CPT_UNDER_HC = /^\d{4}[\dFT]$/;

/**
 * IT103 unit codes (X12 355) that state no unit: `UN` ("unit", a plain count); the line's `uom`
 * stays unset so the PO line's unit applies. Any other code of letters is the line's `uom`.
 */
export const IT103_NO_UNIT: ReadonlySet<string> = new Set(['UN']);

/** Product ID qualifiers whose value is an item identifier besides being the line's code. */
export const IT1_CODE_IS_ITEM: ReadonlySet<string> = new Set(['N4']);

/**
 * PID01 item description type: F free-form (PID05 is the line description); S structured (PID04
 * is a code of the list PID03 names, read when {@link PID03_LINE_CODE} knows it).
 */
export const PID01_TYPE: Readonly<Record<string, 'description' | 'structured' | 'ignore'>> = {
  F: 'description',
  S: 'structured',
  X: 'ignore', // semi-structured
};

/**
 * PID03 agency qualifier code (X12 559) of a structured PID -> the code system of its PID04 code,
 * the line's code when its IT1 gives none. X12 element 235 (the IT1 qualifiers) has no UNSPSC
 * code: a UNSPSC commodity code is sent as `PID*S**UA*42271700` (UA: UN/SPSC, the United Nations
 * Standard Products and Services Code). A structured PID of another agency (a colour, a size) is
 * not read.
 */
export const PID03_LINE_CODE: Readonly<Record<string, CodeSystem>> = {
  UA: 'UNSPSC',
};

/**
 * SAC01 allowance or charge indicator -> sign of the SAC05 amount on the canonical line (of an
 * invoice or debit memo; a credit memo credits a charge like its lines and refuses an allowance,
 * intake/x12.ts).
 */
export const SAC01_SIGN: Readonly<Record<string, 1 | -1 | 0>> = { C: 1, A: -1, N: 0 };

/**
 * SAC02 service, promotion, allowance or charge code -> description of the canonical line a
 * SAC becomes (no billing code; the code is kept as `{ system: 'OTHER', value: SAC02 }`).
 */
export const SAC02_DESCRIPTION: Readonly<Record<string, string>> = {
  D240: 'Freight',
  D500: 'Handling',
  C310: 'Discount',
  F050: 'Other (see description)',
  G740: 'Service charge',
  H090: 'Special handling',
  H850: 'Tax',
  B720: 'Cooperative advertising',
  I530: 'Fuel surcharge',
};

/** Segments read in a transaction set; any other segment inside ST..SE is passed over. */
export const MAPPED_SEGMENTS = [
  'BIG',
  'CUR',
  'REF',
  'N1',
  'ITD',
  'DTM',
  'IT1',
  'PID',
  'PO4',
  'SAC',
  'TDS',
] as const;
