/**
 * FHIR R4 `Invoice` to the canonical invoice: the mapping as data (`intake/fhir.ts` applies it).
 * R4 Invoice has no due date, purchase order, service period or line service date, and no
 * HCPCS modifier field: those travel in the extensions of {@link FHIR_EXTENSIONS}.
 */
import type { CodeSystem, DocumentType } from '../../core/invoice.js';

/** `chargeItemCodeableConcept.coding[].system` -> code system (HL7 terminology URIs). */
export const FHIR_CODE_SYSTEMS: Readonly<Record<string, CodeSystem>> = {
  'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets': 'HCPCS',
  'http://www.ama-assn.org/go/cpt': 'CPT',
  'http://hl7.org/fhir/sid/ndc': 'NDC',
  'http://www.unspsc.org': 'UNSPSC',
};

/** Identifier systems of the issuer (`Organization.identifier[].system`) -> vendor field; others: vendor master id. */
export const FHIR_VENDOR_IDENTIFIERS: Readonly<Record<string, 'npi' | 'tax_id'>> = {
  'http://hl7.org/fhir/sid/us-npi': 'npi',
  'urn:oid:2.16.840.1.113883.4.4': 'tax_id', // US Employer Identification Number (EIN)
};

/** `Invoice.type.coding[].code` -> document type (absent: invoice). UNCL1001 codes are accepted too. */
export const FHIR_DOCUMENT_TYPES: Readonly<Record<string, DocumentType>> = {
  invoice: 'invoice',
  'credit-memo': 'credit_memo',
  'debit-memo': 'debit_memo',
  '380': 'invoice',
  '381': 'credit_memo',
  '383': 'debit_memo',
};

/**
 * `Invoice.status` (FHIR R4 InvoiceStatus) -> whether an invoice of that status is scored. A
 * cancelled invoice, or one entered in error, is not a bill to pay: it is refused, not scored.
 * Absent: scored (as `issued`).
 */
export const FHIR_INVOICE_STATUS: Readonly<Record<string, boolean>> = {
  draft: true,
  issued: true,
  balanced: true,
  cancelled: false,
  'entered-in-error': false,
};

/** Extension URLs (on `Invoice` or on a `lineItem`) -> canonical field and the `value[x]` read. */
export const FHIR_EXTENSIONS: Readonly<
  Record<string, { field: string; value: 'valueDate' | 'valueString' | 'valuePeriod' | 'valueCode' }>
> = {
  'urn:invoice-triage:fhir:due-date': { field: 'due_date', value: 'valueDate' },
  'urn:invoice-triage:fhir:po-number': { field: 'po_number', value: 'valueString' },
  'urn:invoice-triage:fhir:service-period': { field: 'service_period', value: 'valuePeriod' },
  'urn:invoice-triage:fhir:service-date': { field: 'service_date', value: 'valueDate' },
  'urn:invoice-triage:fhir:hcpcs-modifier': { field: 'modifiers', value: 'valueCode' },
};

/**
 * `lineItem.priceComponent[].type` -> how the component enters the line: `base` (factor =
 * quantity), `surcharge` adds to the line amount, `deduction` and `discount` subtract from it
 * (unit price = that amount / factor), `tax` adds to the invoice's `tax_cents` (intake/fhir.ts),
 * `informational` is passed over.
 */
export const FHIR_PRICE_COMPONENTS: Readonly<Record<string, 'base' | 1 | -1 | 0>> = {
  base: 'base',
  surcharge: 1,
  tax: 1,
  deduction: -1,
  discount: -1,
  informational: 0,
};
