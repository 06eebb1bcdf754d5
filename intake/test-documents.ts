/**
 * Documents the intake tests build: sample twins, a FHIR R4 Invoice, X12 810 interchanges and a
 * UBL 2.1 invoice (shared by intake/*.test.ts).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Invoice } from '../core/invoice.js';

export const samples = join(dirname(fileURLToPath(import.meta.url)), '../datasets/samples/intake');
export const twins = (name: string): Invoice[] =>
  readFileSync(join(samples, name), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Invoice);
export const withoutSource = (xs: Invoice[]): Omit<Invoice, 'source'>[] =>
  xs.map(({ source: _s, ...rest }) => rest);

/**
 * A minimal FHIR R4 Invoice from vendor V-300: one oxygen system line (HCPCS E0431) per entry of
 * `sequences`, each with one base priceComponent of `value` in `currency` (major units), and a
 * totalGross of `total` (default: the lines' sum).
 */
export const fhirInvoice = ({
  id = 'f-1',
  date = '2025-03-01' as unknown,
  currency = 'USD',
  value = 10,
  sequences = [1],
  total = value * sequences.length,
}) => ({
  resourceType: 'Invoice',
  id,
  identifier: [{ value: id }],
  date,
  issuer: { display: 'Acme', identifier: { system: 'urn:vendor-master', value: 'V-300' } },
  lineItem: sequences.map((sequence) => ({
    sequence,
    chargeItemCodeableConcept: {
      coding: [{ system: 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code: 'E0431' }],
      text: 'Oxygen system',
    },
    priceComponent: [{ type: 'base', factor: 1, amount: { value, currency } }],
  })),
  totalGross: { value: total, currency },
});

export const ISA = (sep = '*', comp = '>', rep = '^', term = '~'): string =>
  [
    'ISA',
    '00',
    ' '.repeat(10),
    '00',
    ' '.repeat(10),
    'ZZ',
    'SENDER01       ',
    'ZZ',
    'HOSPITAL       ',
    '250301',
    '1200',
    rep,
    '00501',
    '000000042',
    '0',
    'P',
    comp,
  ].join(sep) + term;

/** A one-invoice interchange around `body` segments (SE count computed unless given). */
export function interchange(
  body: string[],
  opts: { seCount?: number; sep?: string; comp?: string; rep?: string; term?: string } = {},
): string {
  const sep = opts.sep ?? '*';
  const term = opts.term ?? '~';
  const j = (...p: string[]): string => p.join(sep) + term;
  return (
    ISA(sep, opts.comp, opts.rep, term) +
    j('GS', 'IN', 'SENDER01', 'HOSPITAL', '20250301', '1200', '7', 'X', '005010') +
    j('ST', '810', '0001') +
    body.map((b) => b.replaceAll('*', sep).replaceAll('~', '') + term).join('') +
    j('SE', String(opts.seCount ?? body.length + 2), '0001') +
    j('GE', '1', '7') +
    j('IEA', '1', '000000042')
  );
}

export const GOLDEN_X12_BODY = [
  'BIG*20250301*INV-7*20250215*PO-1**',
  'CUR*SE*USD',
  'REF*PO*PO-2',
  'N1*VN*Acme Medical Supply*92*V-100',
  'REF*TJ*12-3456789',
  'REF*HPI*1234567893',
  'N1*ST*Main campus*92*FAC-1',
  'N1*RE*Acme Remit*91*R-9',
  'ITD*01*3*2**10*20250331*30',
  'DTM*150*20250201',
  'DTM*151*20250228',
  'IT1*1*2*EA*1234.50**VC*CAT-9*HC*E0431>RR>KX*PL*4',
  'PID*F****Oxygen system*',
  'PID*F****portable',
  'DTM*472*20250203',
  'IT1*2*1*UN*15.00**N4*00002-1433-80^ALT',
  'PID*F****Drug',
  'IT1*3*10*BX*41.20**VP*010-00715-20*MG*NI-M-100*UP*012345678905*PL*1',
  'PO4*100',
  'REF*PK*PS-5531',
  'PID*F****Exam gloves',
  `SAC*C*D240***500${'*'.repeat(10)}Freight and handling`,
  'SAC*A*C310***250',
  'TDS*289850',
];

export const UBL_NS =
  'xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"';
export const ublDoc = (
  amounts: [string, string, string] = ['27.80', '1234.56', '1262.36'],
): string => `<?xml version="1.0"?>
<Invoice ${UBL_NS}>
  <cbc:ID>F-2025-9</cbc:ID><cbc:UUID>ubl-golden-1</cbc:UUID>
  <cbc:IssueDate>2025-03-01</cbc:IssueDate><cbc:DueDate>2025-03-31</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode><cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cac:InvoicePeriod><cbc:StartDate>2025-02-01</cbc:StartDate><cbc:EndDate>2025-02-28</cbc:EndDate></cac:InvoicePeriod>
  <cac:OrderReference><cbc:ID>PO-9</cbc:ID></cac:OrderReference>
  <cac:AccountingSupplierParty><cac:Party>
    <cac:PartyIdentification><cbc:ID schemeID="0088">V-200</cbc:ID></cac:PartyIdentification>
    <cac:PartyIdentification><cbc:ID schemeID="NPI">1234567893</cbc:ID></cac:PartyIdentification>
    <cac:PartyName><cbc:Name>Medizintechnik &amp; Co</cbc:Name></cac:PartyName>
    <cac:PartyTaxScheme><cbc:CompanyID>DE123456789</cbc:CompanyID></cac:PartyTaxScheme>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:Delivery><cac:DeliveryLocation><cbc:ID>FAC-2</cbc:ID></cac:DeliveryLocation></cac:Delivery>
  <cac:LegalMonetaryTotal><cbc:TaxInclusiveAmount currencyID="EUR">${amounts[2]}</cbc:TaxInclusiveAmount></cac:LegalMonetaryTotal>
  <cac:InvoiceLine><cbc:ID>1</cbc:ID><cbc:InvoicedQuantity unitCode="C62">1</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">${amounts[0]}</cbc:LineExtensionAmount>
    <cac:InvoicePeriod><cbc:StartDate>2025-02-03</cbc:StartDate></cac:InvoicePeriod>
    <cac:Item><cbc:Name>Cannula</cbc:Name><cbc:Description>Cannula, nasal</cbc:Description>
      <cac:CommodityClassification><cbc:ItemClassificationCode listID="HCPCS">A4615</cbc:ItemClassificationCode></cac:CommodityClassification>
      <cac:AdditionalItemProperty><cbc:Name>HCPCS modifier</cbc:Name><cbc:Value>NU</cbc:Value></cac:AdditionalItemProperty>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">${amounts[0]}</cbc:PriceAmount><cbc:BaseQuantity>1</cbc:BaseQuantity></cac:Price>
  </cac:InvoiceLine>
  <cac:InvoiceLine><cbc:ID>2</cbc:ID><cbc:InvoicedQuantity unitCode="XBX">1</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">${amounts[1]}</cbc:LineExtensionAmount>
    <cac:OrderLineReference><cbc:LineID>3</cbc:LineID></cac:OrderLineReference>
    <cac:DespatchLineReference><cbc:LineID>2</cbc:LineID>
      <cac:DocumentReference><cbc:ID>DN-88412</cbc:ID></cac:DocumentReference></cac:DespatchLineReference>
    <cac:Item><cbc:PackSizeNumeric>100</cbc:PackSizeNumeric><cbc:Name>Oxygen concentrator</cbc:Name>
      <cac:SellersItemIdentification><cbc:ID>010-00715-20</cbc:ID></cac:SellersItemIdentification>
      <cac:StandardItemIdentification><cbc:ID schemeID="0160">00012345678905</cbc:ID></cac:StandardItemIdentification>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">${amounts[1]}</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
</Invoice>`;
