import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { isTriageError } from '../core/errors.js';
import { buildIntakeSamples } from '../datasets/samples/build-intake-samples.js';
import { writeX12 } from '../datasets/intake-writers.js';
import { lineAmountCheck, totalCheck } from '../inference/stages/rules.js';
import { documentNumbers } from './document.js';
import { convertDocument } from './index.js';
import { refusal } from './refusal.js';
import { readIsa } from './x12.js';

const samples = join(dirname(fileURLToPath(import.meta.url)), '../datasets/samples/intake');
const twins = (name: string): Invoice[] =>
  readFileSync(join(samples, name), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Invoice);
const withoutSource = (xs: Invoice[]): Omit<Invoice, 'source'>[] => xs.map(({ source: _s, ...rest }) => rest);

/**
 * A minimal FHIR R4 Invoice from vendor V-300: one oxygen system line (HCPCS E0431) per entry of
 * `sequences`, each with one base priceComponent of `value` in `currency` (major units), and a
 * totalGross of `total` (default: the lines' sum).
 */
const fhirInvoice = ({
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

const ISA = (sep = '*', comp = '>', rep = '^', term = '~'): string =>
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
function interchange(
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

const GOLDEN_X12_BODY = [
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
  'IT1*1*2*EA*1,234.50**VC*CAT-9*HC*E0431>RR>KX*PL*4',
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

describe('X12 810 golden mapping (segment by segment)', () => {
  it('maps BIG, CUR, REF (PO/TJ/HPI), N1 (VN/ST/RE), ITD, DTM (150/151/472), IT1 (+composites, repetition), PID, SAC, TDS', async () => {
    const [inv] = await convertDocument('x12-810', Buffer.from(interchange(GOLDEN_X12_BODY)));
    expect(inv).toEqual({
      invoice_id: 'SENDER01-000000042-0001',
      vendor: { id: 'V-100', name: 'Acme Medical Supply', tax_id: '12-3456789', npi: '1234567893' },
      invoice_number: 'INV-7', // BIG02
      invoice_date: '2025-03-01', // BIG01
      due_date: '2025-03-31', // ITD06
      currency: 'USD', // CUR02
      total_cents: 289850, // TDS01 (N2)
      document_type: 'invoice', // BIG07 absent
      po_number: 'PO-2', // REF*PO overrides BIG04
      facility_id: 'FAC-1', // N1*ST N104
      service_period: { start: '2025-02-01', end: '2025-02-28' }, // DTM*150 / DTM*151
      payment_terms: { discount_percent: 2, discount_days: 10, net_days: 30 }, // ITD03/05/07
      lines: [
        {
          line_number: 1, // IT101
          quantity: 2, // IT102
          unit_price_cents: 123450, // IT104 "1,234.50"
          amount_cents: 246900,
          code: { system: 'HCPCS', value: 'E0431' }, // IT108 HC / IT109 first component
          modifiers: ['RR', 'KX'], // IT109 further components (ISA16 '>')
          uom: 'EA', // IT103
          item_identifiers: ['CAT-9'], // IT106 VC / IT107
          po_line_number: 4, // IT110 PL / IT111
          description: 'Oxygen system portable', // PID05, joined
          service_date: '2025-02-03', // DTM*472 in the IT1 loop
        },
        {
          line_number: 2,
          quantity: 1,
          unit_price_cents: 1500,
          amount_cents: 1500,
          code: { system: 'NDC', value: '00002-1433-80' }, // N4, first repetition (ISA11 '^')
          item_identifiers: ['00002-1433-80'], // an NDC is an item number too; IT103 UN states no unit
          description: 'Drug',
        },
        {
          line_number: 3,
          quantity: 10,
          unit_price_cents: 4120,
          amount_cents: 41200,
          uom: 'BX',
          pack_qty: 100, // PO401
          item_identifiers: ['010-00715-20', 'NI-M-100', '012345678905'], // VP, MG, UP
          po_line_number: 1, // PL
          delivery_reference: 'PS-5531', // REF*PK in the IT1 loop
          description: 'Exam gloves',
        },
        {
          line_number: 4, // SAC after the last IT1
          description: 'Freight and handling', // SAC15
          code: { system: 'OTHER', value: 'D240' },
          quantity: 1,
          unit_price_cents: 500, // SAC05 (N2), C = charge
          amount_cents: 500,
        },
        {
          line_number: 5,
          description: 'Discount', // SAC02 C310 named from the table
          code: { system: 'OTHER', value: 'C310' },
          quantity: 1,
          unit_price_cents: -250, // A = allowance
          amount_cents: -250,
        },
      ],
      source: expect.objectContaining({ format: 'x12-810', document_ref: 'ISA13 000000042 / ST02 0001' }),
    });
    expect(inv!.source!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads the separators from the ISA (element, component, repetition, terminator)', async () => {
    const body = GOLDEN_X12_BODY.map((s) => s.replaceAll('>', ':').replaceAll('^', '+'));
    const a = await convertDocument('x12-810', Buffer.from(interchange(GOLDEN_X12_BODY)));
    const b = await convertDocument(
      'x12-810',
      Buffer.from(interchange(body, { sep: '|', comp: ':', rep: '+', term: '\n' })),
    );
    expect(withoutSource(b)).toEqual(withoutSource(a));
    expect(readIsa(ISA('|', ':', '+', '\n'))).toEqual({
      element: '|',
      component: ':',
      repetition: '+',
      segment: '\n',
    });
  });

  it('maps BIG07 CR to a credit memo with negative total, amounts and quantities', async () => {
    const body = [
      'BIG*20250301*CM-7**PO-1***CR',
      'N1*VN*Acme*92*V-100',
      'IT1*1*2*EA*10.00**HC*E0431',
      'PID*F****Oxygen',
      'TDS*2000',
    ];
    const [inv] = await convertDocument('x12-810', Buffer.from(interchange(body)));
    expect(inv).toMatchObject({
      document_type: 'credit_memo',
      total_cents: -2000,
      lines: [{ quantity: -2, unit_price_cents: 1000, amount_cents: -2000 }],
    });
  });

  it('credits a SAC charge on a credit memo like its lines, in either sign convention; refuses an allowance', async () => {
    // An 810 credit memo: 2 x 50.00 credited plus a 10.00 freight charge, TDS 110.00.
    const creditMemo = (it1Quantity: string, sac: string, tds: string): string[] => [
      'BIG*20250301*CM-8**PO-1***CR',
      'N1*VN*Acme*92*V-100',
      `IT1*1*${it1Quantity}*EA*50.00**HC*E0431`,
      'PID*F****Oxygen',
      sac,
      `TDS*${tds}`,
    ];
    for (const [quantity, tds] of [
      ['2', '11000'],
      ['-2', '-11000'],
    ]) {
      const [inv] = await convertDocument(
        'x12-810',
        Buffer.from(interchange(creditMemo(quantity!, 'SAC*C*D240***1000', tds!))),
      );
      expect(inv, tds).toMatchObject({
        document_type: 'credit_memo',
        total_cents: -11000,
        lines: [
          { quantity: -2, unit_price_cents: 5000, amount_cents: -10000 },
          { line_number: 2, quantity: -1, unit_price_cents: 1000, amount_cents: -1000 },
        ],
      });
      expect(totalCheck(inv!), tds).toBeNull();
    }
    // A 10.00 allowance (TDS 90.00) would be a positive line: refused at its SAC01, in either convention.
    for (const [quantity, tds] of [
      ['2', '9000'],
      ['-2', '-9000'],
    ])
      expect(await refusal('x12-810', interchange(creditMemo(quantity!, 'SAC*A*C310***1000', tds!)))).toEqual(
        [{ path: '/segments/8/SAC01', message: expect.stringContaining('is an allowance on a credit memo') }],
      );
  });

  it('refuses malformed envelopes naming the segment and element', async () => {
    const good = interchange(GOLDEN_X12_BODY);
    expect(await refusal('x12-810', good.slice(0, 80))).toEqual([
      { path: '/segments/1/ISA', message: expect.stringContaining('truncated') },
    ]);
    expect((await refusal('x12-810', interchange(GOLDEN_X12_BODY, { seCount: 9 })))[0]).toEqual({
      path: `/segments/${GOLDEN_X12_BODY.length + 4}/SE01`,
      message: `says 9 segments; the transaction set has ${GOLDEN_X12_BODY.length + 2} (ST to SE)`,
    });
    expect((await refusal('x12-810', good.slice(0, good.indexOf('GE*')))).at(0)!.path).toBe(
      `/segments/${GOLDEN_X12_BODY.length + 5}/IEA`,
    );
    expect((await refusal('x12-810', good.replace('ST*810', 'ST*850')))[0]!.path).toBe('/segments/3/ST01');
    expect((await refusal('x12-810', good.replace('GE*1*7', 'GE*2*7')))[0]!.path).toBe(
      `/segments/${GOLDEN_X12_BODY.length + 5}/GE01`,
    );
  });

  it('refuses unknown qualifiers naming the element', async () => {
    const cases: [string, string, string][] = [
      ['N1*VN*', 'N1*ZQ*', 'N101'],
      ['*92*V-100', '*ZZZ*V-100', 'N103'],
      ['REF*TJ', 'REF*Q9', 'REF01'],
      ['DTM*150', 'DTM*999', 'DTM01'],
      ['*HC*E0431', '*QQ*E0431', 'IT108'],
      ['SAC*C*D240', 'SAC*C*Z999', 'SAC02'],
      ['SAC*A', 'SAC*Q', 'SAC01'],
      ['PID*F****Drug', 'PID*Z****Drug', 'PID01'],
      ['*PL*1', '*PL*A1', 'IT113'],
      ['PO4*100', 'PO4*0', 'PO401'],
    ];
    for (const [from, to, element] of cases) {
      const errors = await refusal('x12-810', interchange(GOLDEN_X12_BODY.map((s) => s.replace(from, to))));
      expect(errors[0]!.path, `${from} -> ${to}`).toMatch(new RegExp(`^/segments/\\d+/${element}$`));
    }
  });
});

const UBL_NS =
  'xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"';
const ublDoc = (
  amounts: [string, string, string] = ['27,80', '1.234,56', '1.262,36'],
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

describe('UBL 2.1 golden mapping (element by element)', () => {
  it('maps header, supplier party, delivery, totals and lines', async () => {
    const [inv] = await convertDocument('ubl-2.1', Buffer.from(ublDoc()));
    expect(inv).toEqual({
      invoice_id: 'ubl-golden-1', // cbc:UUID
      vendor: { id: 'V-200', name: 'Medizintechnik & Co', tax_id: 'DE123456789', npi: '1234567893' },
      invoice_number: 'F-2025-9', // cbc:ID
      invoice_date: '2025-03-01',
      due_date: '2025-03-31',
      currency: 'EUR',
      total_cents: 126236, // "1.262,36" in a comma document
      document_type: 'invoice', // 380
      po_number: 'PO-9',
      facility_id: 'FAC-2',
      service_period: { start: '2025-02-01', end: '2025-02-28' },
      lines: [
        {
          line_number: 1,
          description: 'Cannula, nasal', // cbc:Description before cbc:Name
          code: { system: 'HCPCS', value: 'A4615' },
          modifiers: ['NU'],
          quantity: 1,
          unit_price_cents: 2780, // "27,80"
          amount_cents: 2780,
          service_date: '2025-02-03',
        },
        {
          line_number: 2,
          description: 'Oxygen concentrator',
          quantity: 1,
          unit_price_cents: 123456, // "1.234,56"
          amount_cents: 123456,
          uom: 'BX', // InvoicedQuantity@unitCode XBX (Rec 21 box); C62 on line 1 states no unit
          pack_qty: 100, // cac:Item/cbc:PackSizeNumeric
          item_identifiers: ['010-00715-20', '00012345678905'], // Sellers..., Standard...Identification
          po_line_number: 3, // cac:OrderLineReference/cbc:LineID
          delivery_reference: 'DN-88412', // cac:DespatchLineReference/cac:DocumentReference/cbc:ID
        },
      ],
      source: expect.objectContaining({ format: 'ubl-2.1', document_ref: 'UBL Invoice' }),
    });
  });

  it('reads "1,234.56" in a dot document and a CreditNote as a credit memo', async () => {
    const [dot] = await convertDocument('ubl-2.1', Buffer.from(ublDoc(['27.80', '1,234.56', '1,262.36'])));
    expect(dot!.lines.map((l) => l.amount_cents)).toEqual([2780, 123456]);
    const credit = ublDoc()
      .replaceAll('Invoice-2', 'CreditNote-2')
      .replace('<Invoice ', '<CreditNote ')
      .replace('</Invoice>', '</CreditNote>')
      .replaceAll('cac:InvoiceLine', 'cac:CreditNoteLine')
      .replaceAll('cbc:InvoicedQuantity', 'cbc:CreditedQuantity')
      .replace(
        '<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>',
        '<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>',
      );
    const [cn] = await convertDocument('ubl-2.1', Buffer.from(credit));
    expect(cn).toMatchObject({ document_type: 'credit_memo', total_cents: -126236 });
    expect(cn!.lines.map((l) => [l.quantity, l.unit_price_cents, l.amount_cents])).toEqual([
      [-1, 2780, -2780],
      [-1, 123456, -123456],
    ]);
  });

  it('refuses DTDs, entity expansion, unknown codes and wrong roots naming the element', async () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Invoice ${UBL_NS}><cbc:ID>&b;</cbc:ID></Invoice>`;
    expect(await refusal('ubl-2.1', bomb)).toEqual([
      { path: '/', message: expect.stringContaining('DOCTYPE') },
    ]);
    const xxe = `<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><Invoice ${UBL_NS}/>`;
    expect((await refusal('ubl-2.1', xxe))[0]!.path).toBe('/');
    const entity = ublDoc().replace('F-2025-9', '&undefined;');
    expect((await refusal('ubl-2.1', entity))[0]!.path).toBe('/Invoice/cbc:ID');
    expect((await refusal('ubl-2.1', ublDoc().replace('380', '999')))[0]!.path).toBe(
      '/Invoice/cbc:InvoiceTypeCode',
    );
    expect((await refusal('ubl-2.1', ublDoc().replace('listID="HCPCS"', 'listID="XYZ"')))[0]!.path).toBe(
      '/Invoice/cac:InvoiceLine[1]/cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode',
    );
    expect((await refusal('ubl-2.1', ublDoc().replace('>1.234,56<', '>12x<')))[0]!.path).toBe(
      '/Invoice/cac:InvoiceLine[2]/cbc:LineExtensionAmount',
    );
    const usd = ublDoc().replace('>EUR</cbc:DocumentCurrencyCode>', '>USD</cbc:DocumentCurrencyCode>');
    expect(await refusal('ubl-2.1', usd)).toEqual([
      {
        path: expect.stringContaining('cbc:TaxInclusiveAmount'),
        message: 'has currencyID EUR, not the document currency USD',
      },
    ]);
    // PayableAmount is checked like the other amounts even when TaxInclusiveAmount gives the total.
    const payable = (amount: string, currency = 'EUR') =>
      ublDoc().replace(
        '</cbc:TaxInclusiveAmount>',
        `</cbc:TaxInclusiveAmount><cbc:PayableAmount currencyID="${currency}">${amount}</cbc:PayableAmount>`,
      );
    expect(await refusal('ubl-2.1', payable('1.262,36', 'USD'))).toEqual([
      {
        path: expect.stringContaining('cbc:PayableAmount'),
        message: 'has currencyID USD, not the document currency EUR',
      },
    ]);
    for (const bad of ['1.262,365', '-1e3'])
      expect((await refusal('ubl-2.1', payable(bad)))[0]!.path, bad).toContain('cbc:PayableAmount');
    expect((await refusal('ubl-2.1', '<Order xmlns="urn:x"/>'))[0]!.path).toBe('/Order');
    expect((await refusal('ubl-2.1', `<Invoice ${UBL_NS}>${'<a>'.repeat(40)}`))[0]!.message).toContain(
      'deeper',
    );
  });
});

describe('FHIR R4 Invoice golden mapping', () => {
  const fhir = {
    resourceType: 'Invoice',
    id: 'fhir-golden-1',
    extension: [
      { url: 'urn:invoice-triage:fhir:due-date', valueDate: '2025-03-31' },
      { url: 'urn:invoice-triage:fhir:po-number', valueString: 'PO-3' },
      { url: 'http://example.org/other', valueString: 'ignored' },
    ],
    identifier: [{ value: 'SECOND' }, { use: 'official', value: 'INV-FHIR-1' }],
    type: { coding: [{ code: 'invoice' }] },
    recipient: { identifier: { value: 'FAC-3' } },
    date: '2025-03-01T10:00:00Z',
    issuer: { display: 'Acme Medical Supply', identifier: { system: 'urn:vendor-master', value: 'V-300' } },
    lineItem: [
      {
        sequence: 1,
        extension: [
          { url: 'urn:invoice-triage:fhir:service-date', valueDate: '2025-02-03' },
          { url: 'urn:invoice-triage:fhir:hcpcs-modifier', valueCode: 'RR' },
        ],
        chargeItemCodeableConcept: {
          coding: [{ system: 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code: 'E0431' }],
          text: 'Oxygen system',
        },
        priceComponent: [
          { type: 'base', factor: 2, amount: { value: 37.5, currency: 'USD' } },
          { type: 'surcharge', amount: { value: 1.25, currency: 'USD' } },
          { type: 'discount', amount: { value: 0.5, currency: 'USD' } },
          { type: 'informational', amount: { value: 99, currency: 'USD' } },
        ],
      },
    ],
    totalGross: { value: 38.25, currency: 'USD' },
  };

  it('maps identifier, issuer, recipient, totals, lineItem and priceComponent', async () => {
    const [inv] = await convertDocument('fhir-r4', Buffer.from(JSON.stringify(fhir)));
    expect(inv).toEqual({
      invoice_id: 'fhir-golden-1',
      vendor: { id: 'V-300', name: 'Acme Medical Supply' },
      invoice_number: 'INV-FHIR-1', // identifier with use official
      invoice_date: '2025-03-01',
      due_date: '2025-03-31',
      currency: 'USD',
      total_cents: 3825,
      document_type: 'invoice',
      po_number: 'PO-3',
      facility_id: 'FAC-3',
      lines: [
        {
          line_number: 1,
          description: 'Oxygen system',
          code: { system: 'HCPCS', value: 'E0431' },
          modifiers: ['RR'],
          quantity: 2, // base factor
          unit_price_cents: 1913, // (base + surcharge - discount) / factor, 1912.5 rounded
          amount_cents: 3825, // base + surcharge - discount
          service_date: '2025-02-03',
        },
      ],
      source: expect.objectContaining({ format: 'fhir-r4', document_ref: 'FHIR Invoice' }),
    });
  });

  it('refuses a resource of the wrong type, unknown systems and bad money naming the JSON pointer', async () => {
    expect(await refusal('fhir-r4', JSON.stringify({ resourceType: 'Claim' }))).toEqual([
      { path: '/resourceType', message: expect.stringContaining('"Claim"') },
    ]);
    const bundle = {
      resourceType: 'Bundle',
      entry: [{ resource: fhir }, { resource: { resourceType: 'Patient' } }],
    };
    expect((await refusal('fhir-r4', JSON.stringify(bundle)))[0]!.path).toBe(
      '/entry/1/resource/resourceType',
    );
    const patient = { resource: { resourceType: 'Patient' } };
    const several = {
      resourceType: 'Bundle',
      entry: [0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
        i % 2 === 1 && i > 1 ? patient : { resource: { ...fhir, id: `fhir-golden-${i}` } },
      ),
    };
    expect((await refusal('fhir-r4', JSON.stringify(several))).map((e) => e.path)).toEqual([
      '/entry/3/resource/resourceType',
      '/entry/5/resource/resourceType',
      '/entry/7/resource/resourceType',
    ]);
    const badSystem = structuredClone(fhir);
    badSystem.lineItem[0]!.chargeItemCodeableConcept.coding[0]!.system = 'urn:nope';
    expect((await refusal('fhir-r4', JSON.stringify(badSystem)))[0]!.path).toBe(
      '/lineItem/0/chargeItemCodeableConcept/coding/0/system',
    );
    const subCent = JSON.stringify(fhir).replace('"value":37.5', '"value":0.001');
    expect(await refusal('fhir-r4', subCent)).toEqual([
      {
        path: '/lineItem/0/priceComponent/0/amount/value',
        message: expect.stringContaining('below the minor unit of USD (2 decimals'),
      },
    ]);
    const badMoney = JSON.stringify(fhir).replace('"value":37.5', '"value":"37,5"');
    expect((await refusal('fhir-r4', badMoney))[0]!.path).toBe('/lineItem/0/priceComponent/0/amount/value');
  });

  it('a tax component goes to tax_cents (totalGross), so a consistent line and total pass the amount checks', async () => {
    const taxed = structuredClone(fhir);
    taxed.lineItem[0]!.priceComponent.push({ type: 'tax', amount: { value: 0.54, currency: 'USD' } });
    taxed.totalGross.value = 38.79;
    const [inv] = await convertDocument('fhir-r4', Buffer.from(JSON.stringify(taxed)));
    expect(inv).toMatchObject({ total_cents: 3879, tax_cents: 54 });
    expect(inv!.lines[0]).toMatchObject({ quantity: 2, unit_price_cents: 1913, amount_cents: 3825 });
    expect(lineAmountCheck(inv!.lines[0]!)).toBeNull();
    expect(totalCheck(inv!)?.code).toBe('TOTAL_INCLUDES_TAX');
    // The trial's line: base 6.72 for 6, tax 0.54.
    const six = structuredClone(taxed);
    six.lineItem[0]!.priceComponent = [
      { type: 'base', factor: 6, amount: { value: 6.72, currency: 'USD' } },
      { type: 'tax', amount: { value: 0.54, currency: 'USD' } },
    ];
    six.totalGross.value = 7.26;
    const [trial] = await convertDocument('fhir-r4', Buffer.from(JSON.stringify(six)));
    expect(trial!.lines[0]).toMatchObject({ quantity: 6, unit_price_cents: 112, amount_cents: 672 });
    expect(lineAmountCheck(trial!.lines[0]!)).toBeNull();
    expect(totalCheck(trial!)?.code).toBe('TOTAL_INCLUDES_TAX');
    // totalNet excludes tax: no tax_cents, the total is the net lines.
    const net = structuredClone(six) as Record<string, unknown>;
    delete net.totalGross;
    net.totalNet = { value: 6.72, currency: 'USD' };
    const [netInv] = await convertDocument('fhir-r4', Buffer.from(JSON.stringify(net)));
    expect(netInv!.tax_cents).toBeUndefined();
    expect(totalCheck(netInv!)).toBeNull();
  });

  it('refuses a base factor <= 0 on an invoice, naming it; a credit memo keeps its negative factors', async () => {
    for (const factor of [-1, 0]) {
      const bad = structuredClone(fhir);
      bad.lineItem[0]!.priceComponent[0]!.factor = factor;
      expect(await refusal('fhir-r4', JSON.stringify(bad)), String(factor)).toEqual([
        {
          path: '/lineItem/0/priceComponent/0/factor',
          message: expect.stringMatching(/must (not be 0|be greater than 0)/),
        },
      ]);
    }
    const credit = structuredClone(fhir);
    credit.type.coding[0]!.code = 'credit-memo';
    credit.lineItem[0]!.priceComponent = [
      { type: 'base', factor: -2, amount: { value: -37.5, currency: 'USD' } },
    ];
    credit.totalGross.value = -37.5;
    const [cm] = await convertDocument('fhir-r4', Buffer.from(JSON.stringify(credit)));
    expect(cm!.lines[0]).toMatchObject({ quantity: -2, unit_price_cents: 1875, amount_cents: -3750 });
  });
});

describe('money per document: integer cents without floats', () => {
  it.each([
    ['27,80', ['27,80'], 2780, 'EUR'],
    ['1.234,56', ['1.234,56'], 123456, 'EUR'],
    ['1,234.56', ['1,234.56'], 123456, 'USD'],
    ['1,234 in a comma document (1.234 dinars = 1234 fils)', ['1,234', '27,80'], 1234, 'KWD'],
    ['1,234 in a dot document', ['1,234', '27.80'], 123400, 'USD'],
    ['0.1 + 0.2 style values', ['0.29'], 29, null],
  ])('%s', (_name, texts, cents, currency) => {
    expect(documentNumbers('ubl-2.1', texts, currency).cents(texts[0]!, '/x')).toBe(cents);
  });

  it('calls a text in exponent form not an amount, not one with digits below the minor unit', () => {
    for (const text of ['1.875E1', '2e3', '12.5x']) {
      expect(() => documentNumbers('x12-810', [text], 'USD').cents(text, '/x'), text).toThrow(
        /is not an amount/,
      );
    }
  });

  it('refuses digits below the minor unit instead of rounding them (1,234 in a comma EUR document)', () => {
    expect(() => documentNumbers('ubl-2.1', ['1,234', '27,80'], 'EUR').cents('1,234', '/x')).toThrow(
      /below the minor unit of EUR/,
    );
  });
});

describe('samples', () => {
  it('the committed intake samples equal a rebuild', () => {
    for (const [name, content] of buildIntakeSamples())
      expect(readFileSync(join(samples, name), 'utf8'), name).toBe(content);
    expect(readdirSync(join(samples, 'ubl'))).toHaveLength(61);
  });

  it('each format converts to its JSON twins (61 invoices, one credit note)', async () => {
    const x12 = await convertDocument('x12-810', readFileSync(join(samples, 'hcpcs_invoices.x12')));
    expect(withoutSource(x12)).toEqual(twins('hcpcs_invoices.x12.twin.jsonl'));
    const twin = twins('hcpcs_invoices.twin.jsonl');
    const fhir = await convertDocument('fhir-r4', readFileSync(join(samples, 'hcpcs_invoices.fhir.json')));
    expect(withoutSource(fhir)).toEqual(twin);
    const ubl: Invoice[] = [];
    for (const t of twin)
      ubl.push(
        ...(await convertDocument('ubl-2.1', readFileSync(join(samples, 'ubl', `${t.invoice_id}.xml`)))),
      );
    expect(withoutSource(ubl)).toEqual(twin);
    expect(twin.filter((t) => t.document_type === 'credit_memo')).toHaveLength(1);
    expect(new Set(x12.map((i) => i.source!.sha256)).size).toBe(1);
  });

  it('the writer refuses a value holding a separator', () => {
    const [inv] = twins('hcpcs_invoices.twin.jsonl');
    expect(() => writeX12([{ ...inv!, invoice_number: 'A~B' }], { sender: 'S', control: 1 })).toThrow(
      /separator/,
    );
  });
});

describe('a converted invoice that fails validation is named by its source location', () => {
  /** An interchange of one transaction set per body (control numbers given or 0001, 0002...). */
  const interchangeOf = (bodies: string[][], controls = bodies.map((_, i) => `000${i + 1}`)): string =>
    ISA() +
    'GS*IN*SENDER01*HOSPITAL*20250301*1200*7*X*005010~' +
    bodies
      .map((b, i) => [`ST*810*${controls[i]}`, ...b, `SE*${b.length + 2}*${controls[i]}`].join('~') + '~')
      .join('') +
    `GE*${bodies.length}*7~IEA*1*000000042~`;
  const GOOD = [
    'BIG*20250301*INV-7',
    'N1*VN*Acme*92*V-100',
    'IT1*1*2*EA*10.00**HC*E0431',
    'PID*F****Oxygen',
    'TDS*2000',
  ];

  it('X12: segment position and element, and which transaction set of the interchange', async () => {
    // ISA 1, GS 2, ST 3..SE 9; second set: ST 10, BIG 11, CUR 12, N1 13, IT1 14, PID 15, IT1 16, PID 17, DTM 18, TDS 19.
    const bad = [
      'BIG*18990101*INV-8',
      'CUR*SE*USD',
      'N1*VN*Acme*92*V-100',
      'IT1*1*2*EA*10.00**HC*E0431',
      'PID*F****Oxygen',
      'IT1*1*1*EA*5.00**HC*A4253',
      'PID*F****Strips',
      'DTM*472*22000101',
      'TDS*2500',
    ];
    const errors = await refusal('x12-810', interchangeOf([GOOD, bad]));
    expect(errors.map((e) => e.path).sort()).toEqual([
      '/segments/11/BIG01',
      '/segments/16/IT101',
      '/segments/18/DTM02',
    ]);
    for (const e of errors) expect(e.message).toMatch(/^invoice 2 of 2 \(ST02 0002 \(segment 10\)\), \/\w/);
    expect(errors.find((e) => e.path === '/segments/16/IT101')!.message).toContain('/lines/1/line_number');
    // The same ST02 twice gives the same invoice id: the second set's ST02 is named.
    const twice = await refusal('x12-810', interchangeOf([GOOD, GOOD], ['0001', '0001']));
    expect(twice).toEqual([
      {
        path: '/segments/10/ST02',
        message: expect.stringContaining('repeats the invoice_id of invoice 1 of 2 (ST02 0001 (segment 3))'),
      },
    ]);
  });

  it('X12: an element-level error names the invoice as rule-level errors do', async () => {
    // Three sets of 7 segments: ST 3, 10, 17; the second set's IT1 is segment 13.
    const it104 = (v: string): string[] =>
      GOOD.map((g) => (g.startsWith('IT1') ? `IT1*1*2*EA*${v}**HC*E0431` : g));
    for (const v of ['abc', '1.125']) {
      let error: unknown;
      await convertDocument('x12-810', Buffer.from(interchangeOf([GOOD, it104(v), GOOD]))).catch(
        (e) => (error = e),
      );
      expect(isTriageError(error), v).toBe(true);
      const e = error as { message: string; errors: { path: string; message: string }[] };
      expect(e.errors).toEqual([
        {
          path: '/segments/13/IT104',
          message: expect.stringMatching(/^invoice 2 of 3 \(ST02 0002 \(segment 10\)\): /),
        },
      ]);
      expect(e.message).toContain('invoice 2 of 3 (ST02 0002 (segment 10)), /segments/13/IT104 ');
    }
  });

  it('FHIR: the JSON pointer of the element in its Bundle entry', async () => {
    const inv = (id: string, date: string, currency: string, sequences: number[]) =>
      fhirInvoice({ id, date, currency, sequences });
    const bundle = {
      resourceType: 'Bundle',
      entry: [
        { resource: inv('f-1', '2025-03-01', 'USD', [1]) },
        { resource: inv('f-2', '1800-01-01', 'USD', [1, 1]) },
      ],
    };
    const errors = await refusal('fhir-r4', JSON.stringify(bundle));
    expect(errors.map((e) => e.path).sort()).toEqual([
      '/entry/1/resource/date',
      '/entry/1/resource/lineItem/1/sequence',
    ]);
    for (const e of errors) expect(e.message).toMatch(/^invoice 2 of 2 \(\/entry\/1\/resource\), \/\w/);
  });

  it('FHIR: an element-level error names the invoice of its Bundle as rule-level errors do', async () => {
    const inv = (id: string, date: unknown, value: number) => fhirInvoice({ id, date, value, total: 10 });
    // Entry 1: a date that is not a string; entry 2: an amount below the minor unit.
    const bundle = {
      resourceType: 'Bundle',
      entry: [inv('f-1', '2025-03-01', 10), inv('f-2', 20250301, 10), inv('f-3', '2025-03-01', 0.001)].map(
        (resource) => ({ resource }),
      ),
    };
    let error: unknown;
    await convertDocument('fhir-r4', Buffer.from(JSON.stringify(bundle))).catch((e) => (error = e));
    expect(isTriageError(error)).toBe(true);
    const e = error as { message: string; errors: { path: string; message: string }[] };
    expect(e.errors).toEqual([
      { path: '/entry/1/resource/date', message: 'invoice 2 of 3 (/entry/1/resource): must be a string' },
      {
        path: '/entry/2/resource/lineItem/0/priceComponent/0/amount/value',
        message: expect.stringMatching(
          /^invoice 3 of 3 \(\/entry\/2\/resource\): has digits below the minor unit of USD/,
        ),
      },
    ]);
    expect(e.message).toContain(
      'fhir-r4 document invalid: invoice 2 of 3 (/entry/1/resource), /entry/1/resource/date must be a string; invoice 3 of 3 (/entry/2/resource), /entry/2/resource/lineItem/0/priceComponent/0/amount/value has digits',
    );
  });

  it('FHIR: a refused currency and a repeated resource id name the field and the invoice of their Bundle', async () => {
    // The total in XAU (no minor unit) and the line in USD: XAU is named, not the line's currency.
    const xau = fhirInvoice({ id: 'f-2', currency: 'XAU' });
    xau.lineItem[0]!.priceComponent[0]!.amount.currency = 'USD';
    const withXau = {
      resourceType: 'Bundle',
      entry: [fhirInvoice({ id: 'f-1' }), xau].map((resource) => ({ resource })),
    };
    expect(await refusal('fhir-r4', JSON.stringify(withXau))).toEqual([
      {
        path: '/entry/1/resource/totalGross/currency',
        message: expect.stringMatching(
          /^invoice 2 of 2 \(\/entry\/1\/resource\): \(XAU\) is an ISO 4217 code without a minor unit/,
        ),
      },
    ]);
    const repeated = {
      resourceType: 'Bundle',
      entry: ['f-1', 'f-2', 'f-1'].map((id) => ({ resource: fhirInvoice({ id }) })),
    };
    let error: unknown;
    await convertDocument('fhir-r4', Buffer.from(JSON.stringify(repeated))).catch((e) => (error = e));
    const e = error as { message: string; errors: { path: string; message: string }[] };
    expect(e.errors).toEqual([
      {
        path: '/entry/2/resource/id',
        message: 'invoice 3 of 3 (/entry/2/resource): repeats the id of invoice 1 of 3 (/entry/0/resource)',
      },
    ]);
    expect(e.message).toBe(
      'fhir-r4 document invalid: invoice 3 of 3 (/entry/2/resource), /entry/2/resource/id repeats the id of invoice 1 of 3 (/entry/0/resource)',
    );
  });

  it('UBL: the element path', async () => {
    const doc = ublDoc()
      .replace('<cbc:IssueDate>2025-03-01', '<cbc:IssueDate>1800-01-01')
      .replace('<cbc:ID>2</cbc:ID>', '<cbc:ID>1</cbc:ID>');
    const errors = await refusal('ubl-2.1', doc);
    expect(errors.map((e) => e.path).sort()).toEqual([
      '/Invoice/cac:InvoiceLine[2]/cbc:ID',
      '/Invoice/cbc:IssueDate',
    ]);
    for (const e of errors) expect(e.message).toMatch(/^invoice 1 of 1 \(\/Invoice\), \/\w/);
  });
});

describe('amounts in minor units of the currency (ISO 4217: JPY 0 decimals, KWD 3)', () => {
  it('X12: IT104 and the N2 TDS01/SAC05 read in the CUR02 currency', async () => {
    const body = (cur: string, price: string, total: string) => [
      'BIG*20250301*INV-7',
      `CUR*SE*${cur}`,
      'N1*VN*Acme*92*V-100',
      `IT1*1*2*EA*${price}**HC*E0431`,
      'PID*F****Oxygen',
      'SAC*C*D240***100',
      `TDS*${total}`,
    ];
    const [jpy] = await convertDocument('x12-810', Buffer.from(interchange(body('JPY', '1200', '240100'))));
    expect(jpy).toMatchObject({ currency: 'JPY', total_cents: 2401 });
    expect(jpy!.lines.map((l) => [l.unit_price_cents, l.amount_cents])).toEqual([
      [1200, 2400],
      [1, 1],
    ]);
    const [kwd] = await convertDocument('x12-810', Buffer.from(interchange(body('KWD', '12.345', '2470'))));
    expect(kwd).toMatchObject({ total_cents: 24700 });
    expect(kwd!.lines.map((l) => [l.unit_price_cents, l.amount_cents])).toEqual([
      [12345, 24690],
      [1000, 1000], // SAC05 100 (N2) = 1.00 KWD = 1000 fils
    ]);
    // BIG 4, CUR 5, N1 6, IT1 7, PID 8, SAC 9, TDS 10
    expect(await refusal('x12-810', interchange(body('JPY', '1200.5', '240100')))).toEqual([
      {
        path: '/segments/7/IT104',
        message: expect.stringContaining('below the minor unit of JPY (0 decimals'),
      },
    ]);
    expect((await refusal('x12-810', interchange(body('JPY', '1200', '240150'))))[0]!.path).toBe(
      '/segments/10/TDS01',
    );
    expect((await refusal('x12-810', interchange(body('USD', '12.345', '2470'))))[0]!.path).toBe(
      '/segments/7/IT104',
    );
  });

  it('X12: IT102 x IT104 must be whole cents (IT1 has no line amount; never rounded)', async () => {
    const body = (quantity: string, total: string) => [
      'BIG*20250301*INV-7',
      'N1*VN*Acme*92*V-100',
      `IT1*1*${quantity}*EA*18.75**HC*E0431`,
      'PID*F****Oxygen',
      `TDS*${total}`,
    ];
    // BIG 4, N1 5, IT1 6, PID 7, TDS 8
    expect(await refusal('x12-810', interchange(body('1.5', '2813')))).toEqual([
      {
        path: '/segments/6/IT1',
        message: expect.stringContaining('x unit price 18.75 is 28.125, not whole cents'),
      },
    ]);
    const [half] = await convertDocument('x12-810', Buffer.from(interchange(body('2.4', '4500'))));
    expect(half!.lines[0]).toMatchObject({ quantity: 2.4, unit_price_cents: 1875, amount_cents: 4500 });
  });

  it('X12: every CUR02 is ISO 4217, read before the amounts, and one currency per transaction set', async () => {
    const body = (curs: string[], price = '1200', total = '120000') => [
      'BIG*20250301*INV-7',
      ...curs.map((c) => `CUR*SE*${c}`),
      'N1*VN*Acme*92*V-100',
      `IT1*1*1*EA*${price}**HC*E0431`,
      'PID*F****Oxygen',
      `TDS*${total}`,
    ];
    // BIG 4, CUR 5, CUR 6
    const one = 'invoice 1 of 1 (ST02 0001 (segment 3)): ';
    expect(await refusal('x12-810', interchange(body(['JPY', 'KWD'])))).toEqual([
      {
        path: '/segments/6/CUR02',
        message: expect.stringContaining('(KWD) differs from CUR02 JPY (segment 5)'),
      },
    ]);
    expect(await refusal('x12-810', interchange(body(['ZZQ', 'USD'])))).toEqual([
      {
        path: '/segments/5/CUR02',
        message: `${one}(ZZQ) is not an active ISO 4217 currency code (list one of 2024-06-25; withdrawn codes such as DEM are refused)`,
      },
    ]);
    expect(await refusal('x12-810', interchange(body(['USD', 'ZZQ'])))).toEqual([
      {
        path: '/segments/6/CUR02',
        message: `${one}(ZZQ) is not an active ISO 4217 currency code (list one of 2024-06-25; withdrawn codes such as DEM are refused)`,
      },
    ]);
    expect(await refusal('x12-810', interchange(body(['XXX'], '1.12', '112')))).toEqual([
      {
        path: '/segments/5/CUR02',
        message: expect.stringMatching(
          /^invoice 1 of 1 .*: \(XXX\) is an ISO 4217 code without a minor unit/,
        ),
      },
    ]);
    const [same] = await convertDocument('x12-810', Buffer.from(interchange(body(['JPY', 'JPY']))));
    expect(same).toMatchObject({ currency: 'JPY', total_cents: 1200 });
  });

  it('X12: an N2 element (TDS01, SAC05) is digits with an optional minus sign, nothing else', async () => {
    const body = (total: string, sac = '100') => [
      'BIG*20250301*INV-7',
      'N1*VN*Acme*92*V-100',
      'IT1*1*1*EA*111.50**HC*E0431',
      'PID*F****Oxygen',
      `SAC*C*D240***${sac}`,
      `TDS*${total}`,
    ];
    // BIG 4, N1 5, IT1 6, PID 7, SAC 8, TDS 9
    const [ok] = await convertDocument('x12-810', Buffer.from(interchange(body('11250'))));
    expect(ok).toMatchObject({ total_cents: 11250 });
    expect(ok!.lines[1]).toMatchObject({ amount_cents: 100 });
    for (const t of ['112.5', '112.50', '1,12', '+11250', '1 12', '']) {
      expect(await refusal('x12-810', interchange(body(t))), t).toEqual([
        { path: '/segments/9/TDS01', message: expect.stringContaining('is not an N2 number') },
      ]);
    }
    for (const t of ['1.00', '1,00']) {
      expect(await refusal('x12-810', interchange(body('11250', t))), t).toEqual([
        { path: '/segments/8/SAC05', message: expect.stringContaining('is not an N2 number') },
      ]);
    }
  });

  it('UBL: amounts in the DocumentCurrencyCode', async () => {
    const inCurrency = (cur: string, amounts: [string, string, string]): string =>
      ublDoc(amounts).replaceAll('EUR', cur);
    const [jpy] = await convertDocument(
      'ubl-2.1',
      Buffer.from(inCurrency('JPY', ['2780', '123456', '126236'])),
    );
    expect([jpy!.total_cents, ...jpy!.lines.map((l) => l.amount_cents)]).toEqual([126236, 2780, 123456]);
    const [kwd] = await convertDocument(
      'ubl-2.1',
      Buffer.from(inCurrency('KWD', ['27.805', '1,234.560', '1,262.365'])),
    );
    expect([kwd!.total_cents, ...kwd!.lines.map((l) => l.amount_cents)]).toEqual([1262365, 27805, 1234560]);
    expect((await refusal('ubl-2.1', inCurrency('USD', ['27.805', '1,234.56', '1,262.365'])))[0]!.path).toBe(
      '/Invoice/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount',
    );
    expect(
      (await refusal('ubl-2.1', inCurrency('JPY', ['2780.5', '123456', '126236.5'])))[0]!.message,
    ).toContain('below the minor unit of JPY');
  });

  it('FHIR: Money.value in Money.currency', async () => {
    const doc = (value: number, currency: string) => fhirInvoice({ id: 'f-cur', value, currency });
    const convert = async (value: number, currency: string) =>
      (await convertDocument('fhir-r4', Buffer.from(JSON.stringify(doc(value, currency)))))[0]!.total_cents;
    expect(await convert(1200, 'JPY')).toBe(1200);
    expect(await convert(1.234, 'KWD')).toBe(1234);
    expect(await convert(12.5, 'USD')).toBe(1250);
    expect((await refusal('fhir-r4', JSON.stringify(doc(1200.5, 'JPY'))))[0]!).toEqual({
      path: '/totalGross/value',
      message: expect.stringContaining('below the minor unit of JPY (0 decimals'),
    });
    expect((await refusal('fhir-r4', JSON.stringify(doc(1.2345, 'KWD'))))[0]!.path).toBe('/totalGross/value');
    // A line amount without currency is in the total's currency; one in another currency is refused.
    const noLineCurrency = doc(1200, 'JPY');
    delete (noLineCurrency.lineItem[0]!.priceComponent[0]!.amount as { currency?: string }).currency;
    const [yen] = await convertDocument('fhir-r4', Buffer.from(JSON.stringify(noLineCurrency)));
    expect(yen!.lines.map((l) => [l.unit_price_cents, l.amount_cents])).toEqual([[1200, 1200]]);
    const euroLine = doc(12.5, 'USD');
    euroLine.lineItem[0]!.priceComponent[0]!.amount.currency = 'EUR';
    expect(await refusal('fhir-r4', JSON.stringify(euroLine))).toEqual([
      {
        path: '/lineItem/0/priceComponent/0/amount/currency',
        message: 'is EUR, not the invoice currency USD (of its total)',
      },
    ]);
  });
});
