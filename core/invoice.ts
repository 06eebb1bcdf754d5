/**
 * Domain schema of an incoming invoice, as the workflow systems send it to
 * `POST /v1/invoices/score`. JSON, snake_case, money in integer minor units (cents).
 *
 * The TypeBox schemas below are the single source of truth: the API validates with them,
 * the OpenAPI document is generated from them and the CLI validates file rows with them.
 */
import Type, { type Static } from 'typebox';

/**
 * Largest absolute money value accepted, in cents (USD 100 billion): for each amount and for the
 * sum of an invoice's |line amounts| (core/validate.ts). Keeps sums inside 2^53.
 */
export const MAX_ABS_CENTS = 10_000_000_000_000;

/**
 * Smallest non-zero |quantity| a line may bill (0 itself is accepted). Real billing units are
 * far coarser (NCPDP quantities carry 3 decimals, HCPCS units are whole or fractions of a
 * dose); a smaller quantity is a mistake that would only skew the per-vendor quantity baseline,
 * which bins ln(quantity) (features/baselines.ts).
 */
export const MIN_ABS_QUANTITY = 1e-6;

/** Integer amount in minor units (cents). Negative values are allowed (credit memos). */
export const Cents = Type.Integer({
  minimum: -MAX_ABS_CENTS,
  maximum: MAX_ABS_CENTS,
  description: 'Amount in integer minor units of the invoice currency (cents).',
});

/** Calendar date `YYYY-MM-DD` (ISO 8601, no time zone). Impossible dates (2025-02-30) are rejected. */
export const IsoDate = Type.String({ format: 'date', description: 'Calendar date, YYYY-MM-DD.' });

/** Document kinds an AP system receives. A credit memo reverses (part of) an earlier invoice. */
export const DocumentType = Type.Union(
  [Type.Literal('invoice'), Type.Literal('credit_memo'), Type.Literal('debit_memo')],
  { description: 'invoice | credit_memo | debit_memo' },
);
export type DocumentType = Static<typeof DocumentType>;

/** Code systems a line may be billed under. Only HCPCS Level II is checked against reference data today. */
export const CodeSystem = Type.Union(
  [
    Type.Literal('HCPCS'),
    Type.Literal('CPT'),
    Type.Literal('NDC'),
    Type.Literal('UNSPSC'),
    Type.Literal('OTHER'),
  ],
  { description: 'Code system of the billed code: HCPCS (Level II), CPT, NDC, UNSPSC or OTHER.' },
);
export type CodeSystem = Static<typeof CodeSystem>;

/**
 * A vendor master id in the client system: 1 to 64 characters, and not blank
 * (`vendorIdErrors` in core/validate.ts); the one rule of an invoice's `vendor.id` and of the
 * vendor profile routes' `vendor_id`.
 */
export const VendorId = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'Vendor master id in the client system.',
});

/** The billing vendor (supplier). `id` is the client's vendor master id ({@link VendorId}). */
export const Vendor = Type.Object(
  {
    id: VendorId,
    name: Type.String({ minLength: 1, maxLength: 200, description: 'Vendor name as printed / extracted.' }),
    tax_id: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'Tax id (EIN, GST...).' })),
    npi: Type.Optional(
      Type.String({ pattern: '^[0-9]{10}$', description: 'National Provider Identifier, 10 digits.' }),
    ),
  },
  { additionalProperties: false },
);

/** Billed code of a line, e.g. `{ system: 'HCPCS', value: 'E0601' }`. */
export const CodeRef = Type.Object(
  {
    system: CodeSystem,
    value: Type.String({ pattern: '^[A-Za-z0-9.\\-]{1,20}$', description: 'The code, e.g. E0601.' }),
  },
  { additionalProperties: false },
);

/** A service or supply line. `amount_cents` is the extended amount the vendor billed for the line. */
export const InvoiceLine = Type.Object(
  {
    line_number: Type.Integer({ minimum: 1, maximum: 100_000 }),
    description: Type.String({ minLength: 1, maxLength: 1000 }),
    code: Type.Optional(CodeRef),
    modifiers: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z0-9]{2}$' }), {
        maxItems: 4,
        description: 'HCPCS/CPT modifiers, 2 characters each (e.g. NU, RR).',
      }),
    ),
    quantity: Type.Number({
      minimum: -1_000_000,
      maximum: 1_000_000,
      description:
        'Billed units (HCPCS billing units for drugs). Negative on credit lines. 0 or at least 1e-6 in absolute value.',
    }),
    unit_price_cents: Cents,
    amount_cents: Cents,
    service_date: Type.Optional(IsoDate),
    uom: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z]{1,8}$',
        description:
          "Unit of measure of quantity and unit price: a code or spelling of the unit table (EA, BX, CS, BOX, EACH...; core/units.ts, ANSI X12 355), another is a 400; default the PO line's.",
      }),
    ),
    pack_qty: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000,
        description: 'Base units (each) in one `uom`, as billed.',
      }),
    ),
    item_identifiers: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        maxItems: 8,
        description:
          'Item numbers as printed: supplier or manufacturer part number, NDC, GTIN, buyer item number.',
      }),
    ),
    po_line_number: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100_000,
        description: 'The PO line the vendor bills against, when printed.',
      }),
    ),
    delivery_reference: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description:
          'The packing-slip or delivery-note number of the shipment the line bills, when printed (UBL cac:DespatchLineReference/cac:DocumentReference/cbc:ID; X12 810 REF*PK in the IT1 loop). Compared for equality after trimming, collapsing spaces and upper-casing; never logged.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type InvoiceLine = Static<typeof InvoiceLine>;

/** Service period the invoice covers (recurring services, rentals). */
export const ServicePeriod = Type.Object({ start: IsoDate, end: IsoDate }, { additionalProperties: false });

/**
 * Payment terms as printed on the invoice, e.g. `2/10 net 30` =
 * `{ discount_percent: 2, discount_days: 10, net_days: 30 }`: 2 % off when paid within 10 days
 * of the invoice date, otherwise the full amount is due within 30 days.
 */
export const PaymentTerms = Type.Object(
  {
    discount_percent: Type.Optional(
      Type.Number({ minimum: 0, maximum: 100, description: 'Early-payment discount, percent of the total.' }),
    ),
    discount_days: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 365,
        description: 'Days after the invoice date the discount stays available.',
      }),
    ),
    net_days: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 365, description: 'Days after the invoice date payment is due.' }),
    ),
  },
  { additionalProperties: false },
);
export type PaymentTerms = Static<typeof PaymentTerms>;

/** Formats an invoice can arrive in (see `intake/`). */
export const SourceFormat = Type.Union(
  [Type.Literal('json'), Type.Literal('x12-810'), Type.Literal('ubl-2.1'), Type.Literal('fhir-r4')],
  {
    description:
      'json | x12-810 (ASC X12 810) | ubl-2.1 (UBL 2.1 / Peppol BIS 3.0) | fhir-r4 (FHIR R4 Invoice)',
  },
);
export type SourceFormat = Static<typeof SourceFormat>;

/**
 * The document an invoice was converted from, set by the intake adapters (`intake/`) and copied
 * onto the decision. `sha256` is the hash of the whole source document as received (an X12
 * interchange carrying many invoices gives each of them the interchange's hash).
 */
export const InvoiceSource = Type.Object(
  {
    format: SourceFormat,
    sha256: Type.String({
      pattern: '^[0-9a-f]{64}$',
      description: 'sha256 (hex) of the source document bytes.',
    }),
    document_ref: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description:
          'Where in the document: `ISA13 000000001 / ST02 0001`, `UBL Invoice`, `/entry/3/resource`.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type InvoiceSource = Static<typeof InvoiceSource>;

/** Extraction confidence in [0, 1] (1: certain). */
const Confidence = Type.Number({ minimum: 0, maximum: 1 });

/** Confidence of the invoice-level fields an extractor read. */
export const FieldConfidence = Type.Object(
  {
    invoice_number: Type.Optional(Confidence),
    invoice_date: Type.Optional(Confidence),
    due_date: Type.Optional(Confidence),
    currency: Type.Optional(Confidence),
    total_cents: Type.Optional(Confidence),
    po_number: Type.Optional(Confidence),
    vendor_id: Type.Optional(Confidence),
    vendor_name: Type.Optional(Confidence),
    vendor_tax_id: Type.Optional(Confidence),
    vendor_npi: Type.Optional(Confidence),
  },
  { additionalProperties: false },
);
export type FieldConfidence = Static<typeof FieldConfidence>;

/** Confidence of one line's fields; `line` applies to every field of the line (the lower one counts). */
export const LineConfidence = Type.Object(
  {
    line_number: Type.Integer({ minimum: 1, maximum: 100_000, description: 'The line it describes.' }),
    line: Type.Optional(Confidence),
    description: Type.Optional(Confidence),
    code: Type.Optional(Confidence),
    modifiers: Type.Optional(Confidence),
    quantity: Type.Optional(Confidence),
    unit_price_cents: Type.Optional(Confidence),
    amount_cents: Type.Optional(Confidence),
    service_date: Type.Optional(Confidence),
  },
  { additionalProperties: false },
);
export type LineConfidence = Static<typeof LineConfidence>;

/**
 * What an OCR/AI extractor reported about the invoice: its name and version and its
 * confidence (0..1) per field and per line. Absent fields mean "not reported" (treated as
 * certain). Low confidence on amounts, invoice number, vendor or codes raises
 * `LOW_EXTRACTION_CONFIDENCE` (thresholds: the policy's `extraction.min_confidence`).
 */
export const Extraction = Type.Object(
  {
    extractor: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 64 }),
        version: Type.String({ minLength: 1, maxLength: 64 }),
      },
      { additionalProperties: false },
    ),
    fields: Type.Optional(FieldConfidence),
    lines: Type.Optional(Type.Array(LineConfidence, { maxItems: 2000 })),
  },
  { additionalProperties: false },
);
export type Extraction = Static<typeof Extraction>;

/** Maximum number of lines on one invoice. */
export const MAX_LINES = 2000;

/**
 * Prefix of the invoice number of a document that prints none (a till receipt): send
 * `NONUM-<any id of yours>`. Duplicate detection then treats the number as unknown: each pair
 * with such a number on either side is scored as if the numbers agreed (as for a misread
 * number), so a made-up number cannot hide a duplicate.
 */
export const UNPRINTED_NUMBER_PREFIX = 'NONUM-';

/** True when an invoice number says the document prints none ({@link UNPRINTED_NUMBER_PREFIX}). */
export function isUnprintedNumber(invoiceNumber: string | undefined): boolean {
  return (
    invoiceNumber !== undefined && invoiceNumber.trim().toUpperCase().startsWith(UNPRINTED_NUMBER_PREFIX)
  );
}

/** An invoice submitted for scoring. `invoice_id` is the client's id and the idempotency key. */
export const Invoice = Type.Object(
  {
    invoice_id: Type.String({
      minLength: 1,
      maxLength: 128,
      pattern: '^[\\x21-\\x7E]+$',
      description: 'Client id of the invoice (printable ASCII, no spaces); the idempotency key.',
    }),
    vendor: Vendor,
    invoice_number: Type.String({
      minLength: 1,
      maxLength: 64,
      description:
        'As printed by the vendor, stored as given; `NONUM-<id>` when the document prints none. Must hold a letter or digit A-Z, a-z, 0-9 once NFKC-normalised (full-width "ＩＮＶ－００１２３" counts as "INV-00123").',
    }),
    invoice_date: IsoDate,
    due_date: Type.Optional(IsoDate),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. USD.' }),
    total_cents: Cents,
    tax_cents: Type.Optional({
      ...Cents,
      description:
        'Tax amount printed on the invoice (sales tax, GST/VAT) in cents, included in total_cents and not itemised as a line; total_cents must equal the lines plus this amount. Not negative on an invoice or debit memo, not positive on a credit memo (400 otherwise).',
    }),
    document_type: DocumentType,
    po_number: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    facility_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    service_period: Type.Optional(ServicePeriod),
    payment_terms: Type.Optional(PaymentTerms),
    received_date: Type.Optional(
      Type.String({
        format: 'date',
        description:
          "Date AP received the invoice (starts the SLA clock); not before invoice_date, not after the service's today plus one day; default: the day it is scored (so an invoice_date after the service's today plus one day is then refused).",
      }),
    ),
    lines: Type.Array(InvoiceLine, { minItems: 1, maxItems: MAX_LINES }),
    source: Type.Optional(InvoiceSource),
    extraction: Type.Optional(Extraction),
  },
  { additionalProperties: false },
);
/** Static type of {@link Invoice}. */
export type Invoice = Static<typeof Invoice>;
