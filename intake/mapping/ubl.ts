/**
 * UBL 2.1 Invoice / CreditNote (Peppol BIS Billing 3.0) to the canonical invoice: the mapping
 * as data. Paths are element paths below the root (`cac:` aggregate, `cbc:` basic components);
 * `intake/ubl.ts` streams the document and applies them. Elements not listed are passed over.
 */
import type { CodeSystem, DocumentType, SourceFormat } from '../../core/invoice.js';
import { REC20_UNITS } from '../../core/units.js';

/** The source format of a converted UBL document (`source.format`, and errors). */
export const UBL_FORMAT: SourceFormat = 'ubl-2.1';

/** Namespace URIs of UBL 2.1 and the prefix each maps to in the paths below. */
export const UBL_NAMESPACES: Readonly<Record<string, string>> = {
  'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2': '',
  'urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2': '',
  'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2': 'cac:',
  'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2': 'cbc:',
};

/** Root elements accepted, with their line element and line quantity element. */
export const UBL_ROOTS = {
  Invoice: { line: 'cac:InvoiceLine', quantity: 'cbc:InvoicedQuantity', typeCode: 'cbc:InvoiceTypeCode' },
  CreditNote: {
    line: 'cac:CreditNoteLine',
    quantity: 'cbc:CreditedQuantity',
    typeCode: 'cbc:CreditNoteTypeCode',
  },
} as const;

/**
 * UNCL1001 document type code (BT-3) -> document type. 380 commercial invoice, 383 debit
 * note, 381 credit note, 384 corrected invoice, 389 self-billed invoice, 751 invoice
 * information for accounting.
 */
export const UNCL1001_DOCUMENT_TYPE: Readonly<Record<string, DocumentType>> = {
  '380': 'invoice',
  '384': 'invoice',
  '389': 'invoice',
  '751': 'invoice',
  '383': 'debit_memo',
  '381': 'credit_memo',
  '396': 'credit_memo',
  '261': 'credit_memo',
};

/** How a mapped value is read. */
export type UblValue = 'text' | 'date' | 'money' | 'quantity' | 'integer';

/** Header element path -> canonical field (dotted for nested fields) and how it is read. */
export const UBL_HEADER: readonly (readonly [string, string, UblValue])[] = [
  ['cbc:UUID', 'invoice_id', 'text'],
  ['cbc:ID', 'invoice_number', 'text'],
  ['cbc:IssueDate', 'invoice_date', 'date'],
  ['cbc:DueDate', 'due_date', 'date'],
  ['cac:PaymentMeans/cbc:PaymentDueDate', 'due_date', 'date'],
  ['cbc:DocumentCurrencyCode', 'currency', 'text'],
  ['cac:OrderReference/cbc:ID', 'po_number', 'text'],
  ['cac:InvoicePeriod/cbc:StartDate', 'service_period.start', 'date'],
  ['cac:InvoicePeriod/cbc:EndDate', 'service_period.end', 'date'],
  ['cac:AccountingSupplierParty/cac:Party/cac:PartyName/cbc:Name', 'vendor.name', 'text'],
  [
    'cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName',
    'vendor.legal_name',
    'text',
  ],
  ['cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID', 'vendor.tax_id', 'text'],
  ['cac:Delivery/cac:DeliveryLocation/cbc:ID', 'facility_id', 'text'],
  ['cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount', 'total_cents', 'money'],
  ['cac:LegalMonetaryTotal/cbc:PayableAmount', 'payable_cents', 'money'],
  // Read only to check PayableAmount = TaxInclusiveAmount - PrepaidAmount + PayableRoundingAmount.
  ['cac:LegalMonetaryTotal/cbc:PrepaidAmount', 'prepaid_cents', 'money'],
  ['cac:LegalMonetaryTotal/cbc:PayableRoundingAmount', 'payable_rounding_cents', 'money'],
  // The document's tax total (BT-110), in the document currency; one TaxTotal is read.
  ['cac:TaxTotal/cbc:TaxAmount', 'tax_cents', 'money'],
];

/**
 * Header elements UBL 2.1 allows once (cardinality 0..1 or 1..1 below the root); a second one is
 * refused at its path rather than passed over (the first would be read, the second unseen).
 */
export const UBL_SINGLE_PATHS: ReadonlySet<string> = new Set([
  'cbc:UUID',
  'cbc:ID',
  'cbc:IssueDate',
  'cbc:DueDate',
  'cbc:InvoiceTypeCode',
  'cbc:CreditNoteTypeCode',
  'cbc:DocumentCurrencyCode',
  'cac:LegalMonetaryTotal/cbc:LineExtensionAmount',
  'cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount',
  'cac:LegalMonetaryTotal/cbc:PrepaidAmount',
  'cac:LegalMonetaryTotal/cbc:PayableRoundingAmount',
  'cac:LegalMonetaryTotal/cbc:PayableAmount',
]);

/** The document's tax total element: a second one in the document currency is refused. */
export const UBL_TAX_AMOUNT = 'cac:TaxTotal/cbc:TaxAmount';

/**
 * A document-level allowance or charge (BG-20, BG-21; a child of the root, not of a line: a
 * line's own allowances and charges are already in its LineExtensionAmount). Each becomes an
 * extra canonical line, as an X12 SAC does: quantity 1, amount and unit price `cbc:Amount`
 * (plus for a charge, `cbc:ChargeIndicator` true; minus for an allowance), description
 * `cbc:AllowanceChargeReason` (else the reason code, else `Charge`/`Allowance`), code
 * `{ system: 'OTHER', value: cbc:AllowanceChargeReasonCode }` (else `CHARGE`/`ALLOWANCE`).
 */
export const UBL_ALLOWANCE_CHARGE = {
  element: 'cac:AllowanceCharge',
  indicator: 'cbc:ChargeIndicator',
  amount: 'cbc:Amount',
  reason: 'cbc:AllowanceChargeReason',
  reasonCode: 'cbc:AllowanceChargeReasonCode',
} as const;

/** xsd:boolean lexical forms of `cbc:ChargeIndicator` -> charge (true) or allowance (false). */
export const UBL_CHARGE_INDICATOR: Readonly<Record<string, boolean>> = {
  true: true,
  '1': true,
  false: false,
  '0': false,
};

/** The header group whose every child element is an amount, checked as one (intake/ubl.ts) whether read or not. */
export const UBL_MONETARY_TOTAL = 'cac:LegalMonetaryTotal/';

/**
 * Header groups whose every amount (`currencyID`) must be in the document currency, also the
 * amounts not read (LineExtensionAmount, TaxExclusiveAmount, each TaxSubtotal's amounts, ...).
 * Every amount of a document-level {@link UBL_ALLOWANCE_CHARGE} is checked the same way.
 */
export const UBL_CURRENCY_CHECKED: readonly string[] = [UBL_MONETARY_TOTAL, 'cac:TaxTotal/'];

/**
 * Supplier identifiers (`cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID`)
 * by `schemeID`: `NPI` -> vendor NPI; any other scheme (or none) -> vendor master id (the first).
 */
export const UBL_PARTY_ID_PATH = 'cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID';
export const UBL_NPI_SCHEME = 'NPI';

/** Line element path (below the line element) -> canonical line field and how it is read. */
export const UBL_LINE: readonly (readonly [string, string, UblValue])[] = [
  ['cbc:ID', 'line_number', 'integer'],
  ['cbc:LineExtensionAmount', 'amount_cents', 'money'],
  ['cac:Item/cbc:Name', 'name', 'text'],
  ['cac:Item/cbc:Description', 'description', 'text'],
  ['cac:InvoicePeriod/cbc:StartDate', 'service_date', 'date'],
  ['cac:Price/cbc:PriceAmount', 'unit_price_cents', 'money'],
  ['cac:Price/cbc:BaseQuantity', 'base_quantity', 'quantity'],
  // The despatch advice (delivery note) the line ships under: the line's delivery reference.
  ['cac:DespatchLineReference/cac:DocumentReference/cbc:ID', 'delivery_reference', 'text'],
];

/**
 * Item numbers of a line (below the line element), read into the line's `item_identifiers` in
 * this order: the seller's, the standard one (GTIN, `schemeID` 0160), the manufacturer's, the
 * buyer's.
 */
export const UBL_ITEM_ID_PATHS: readonly string[] = [
  'cac:Item/cac:SellersItemIdentification/cbc:ID',
  'cac:Item/cac:StandardItemIdentification/cbc:ID',
  'cac:Item/cac:ManufacturersItemIdentification/cbc:ID',
  'cac:Item/cac:BuyersItemIdentification/cbc:ID',
];
/** The purchase order line billed (`po_line_number` when it is a whole number). */
export const UBL_ORDER_LINE_PATH = 'cac:OrderLineReference/cbc:LineID';
/** Units in one pack of the item (`pack_qty` when it is a whole number). */
export const UBL_PACK_SIZE_PATH = 'cac:Item/cbc:PackSizeNumeric';

/**
 * `unitCode` of the invoiced quantity (UN/ECE Recommendation 20, with the Rec 21 package codes
 * as `X` + code) -> unit of measure of the unit table (core/units.ts `REC20_UNITS`), or null for
 * `C62` ("one", the code of a plain count, written when no unit applies): no unit is stated and
 * the PO line's applies. Another code made of letters is kept upper-cased; any other leaves `uom`
 * unset.
 */
export const UBL_UNIT_CODES: Readonly<Record<string, string | null>> = { C62: null, ...REC20_UNITS };

/** Item classification (`cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode`) `listID` -> code system. */
export const UBL_CLASSIFICATION_PATH = 'cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode';
export const UBL_LIST_ID: Readonly<Record<string, CodeSystem>> = {
  HCPCS: 'HCPCS',
  CPT: 'CPT',
  NDC: 'NDC',
  UNSPSC: 'UNSPSC',
};

/** Modifiers: `cac:Item/cac:AdditionalItemProperty` whose `cbc:Name` is this, `cbc:Value` the modifier. */
export const UBL_MODIFIER_PROPERTY = 'HCPCS modifier';

/** Deepest element nesting accepted (UBL invoices nest about 6 levels). */
export const UBL_MAX_DEPTH = 32;
