import { describe, expect, it } from 'vitest';
import { totalCheck } from '../inference/stages/rules.js';
import { convertDocument } from './index.js';
import { refusal } from './refusal.js';
import { readIsa } from './x12.js';
import { withoutSource, ISA, interchange, GOLDEN_X12_BODY, UBL_NS, ublDoc } from './test-documents.js';

/**
 * The first error of each X12 edit of the golden body (`from` replaced by `to`, the element named
 * last): at that element of some segment, its message containing `message` when given.
 */
async function expectX12Refusals(
  cases: readonly [string, string, string][],
  message?: string,
): Promise<void> {
  for (const [from, to, element] of cases) {
    const errors = await refusal('x12-810', interchange(GOLDEN_X12_BODY.map((s) => s.replace(from, to))));
    expect(errors[0], `${from} -> ${to}`).toEqual({
      path: expect.stringMatching(new RegExp(`^/segments/\\d+/${element}$`)),
      message: message === undefined ? expect.any(String) : expect.stringContaining(message),
    });
  }
}

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
          unit_price_cents: 123450, // IT104 "1234.50"
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
    await expectX12Refusals(cases);
  });
});

describe('X12 810: nothing a line bills is dropped unseen', () => {
  it('refuses an ISA element holding a character outside printable ASCII at that element', async () => {
    for (const [from, to, element] of [
      ['SENDER01       ', 'SENDÉR01       ', 'ISA06'],
      ['HOSPITAL       ', 'HOSPITAL\u200b      ', 'ISA08'],
      ['SENDER01       ', 'SENDER01\t      ', 'ISA06'],
    ]) {
      const errors = await refusal('x12-810', interchange(GOLDEN_X12_BODY).replace(from!, to!));
      expect(errors[0], to).toEqual({
        path: `/segments/1/${element}`,
        message: expect.stringContaining('ISA elements are printable ASCII'),
      });
    }
  });

  it('refuses a product/service ID qualifier without its ID at the ID element', async () => {
    const cases: [string, string, string][] = [
      ['*HC*E0431>RR>KX', '*HC*>RR>KX', 'IT109'], // the modifiers without their code
      ['*HC*E0431>RR>KX', '*HC*', 'IT109'],
      ['*VC*CAT-9', '*VC*', 'IT107'],
      ['*N4*00002-1433-80^ALT', '*N4*^ALT', 'IT107'],
    ];
    await expectX12Refusals(cases, 'requires its product/service ID');
  });
});

describe('X12 810: a product/service ID without its qualifier, a negative zero', () => {
  it('refuses an ID without its qualifier at the qualifier element', async () => {
    const cases: [string, string, string][] = [
      ['IT1*2*1*UN*15.00**N4*00002-1433-80^ALT', 'IT1*2*1*UN*15.00***E0431', 'IT106'],
      ['*HC*E0431>RR>KX', '**E0431>RR>KX', 'IT108'],
      ['*HC*E0431>RR>KX', '**>RR', 'IT108'], // modifiers alone
    ];
    await expectX12Refusals(cases, 'requires its product/service ID qualifier');
  });

  it('reads a UNSPSC code of a structured PID (agency UA) when the IT1 gives no code', async () => {
    const body = GOLDEN_X12_BODY.flatMap((s) =>
      s === 'PID*F****Exam gloves' ? [s, 'PID*S**UA*42132203'] : [s],
    );
    const [inv] = await convertDocument('x12-810', Buffer.from(interchange(body)));
    expect(inv!.lines[2]!.code).toEqual({ system: 'UNSPSC', value: '42132203' });
    // Beside the IT1's own code it is a classification, not what the line bills.
    const both = GOLDEN_X12_BODY.flatMap((s) => (s === 'PID*F****Drug' ? [s, 'PID*S**UA*51000000'] : [s]));
    const [other] = await convertDocument('x12-810', Buffer.from(interchange(both)));
    expect(other!.lines[1]!.code).toEqual({ system: 'NDC', value: '00002-1433-80' });
  });

  it('reads a CPT code under HC (HCPCS Level I) as CPT, a Level II code under HC as HCPCS', async () => {
    const codes = ['99213', '3074F', '0042T', 'E0431', 'G0008'];
    const body = [
      'BIG*20250301*INV-HC**PO-1',
      'N1*VN*Acme*92*V-100',
      ...codes.flatMap((c, i) => [`IT1*${i + 1}*1*UN*10.00**HC*${c}`, `PID*F****Service ${c}`]),
      `TDS*${codes.length * 1000}`,
    ];
    const [inv] = await convertDocument('x12-810', Buffer.from(interchange(body)));
    expect(inv!.lines.map((l) => l.code)).toEqual([
      { system: 'CPT', value: '99213' },
      { system: 'CPT', value: '3074F' },
      { system: 'CPT', value: '0042T' },
      { system: 'HCPCS', value: 'E0431' },
      { system: 'HCPCS', value: 'G0008' },
    ]);
  });

  it('refuses a quantity, unit price or total written as a negative zero, as JSON refuses -0', async () => {
    const cases: [string, string, string][] = [
      ['IT1*2*1*UN', 'IT1*2*-0*UN', 'IT102'],
      ['IT1*2*1*UN', 'IT1*2*-0.000*UN', 'IT102'],
      ['IT1*2*1*UN', 'IT1*2*-.0*UN', 'IT102'],
      ['*UN*15.00*', '*UN*-0.00*', 'IT104'],
      ['TDS*289850', 'TDS*-000', 'TDS01'],
    ];
    await expectX12Refusals(cases, 'is a negative zero; send 0');
  });
});

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
      total_cents: 126236, // "1262.36"
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
          unit_price_cents: 2780, // "27.80"
          amount_cents: 2780,
          service_date: '2025-02-03',
        },
        {
          line_number: 2,
          description: 'Oxygen concentrator',
          quantity: 1,
          unit_price_cents: 123456, // "1234.56"
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

  it('refuses amounts that are not xsd:decimal at the element and reads a CreditNote as a credit memo', async () => {
    const comma = await refusal('ubl-2.1', ublDoc(['27,80', '1234.56', '1262.36']));
    expect(comma[0]).toEqual({
      path: '/Invoice/cac:InvoiceLine[1]/cac:Price/cbc:PriceAmount',
      message: expect.stringContaining('is not an xsd:decimal'),
    });
    const grouped = await refusal('ubl-2.1', ublDoc(['27.80', '1,234.56', '1262.36']));
    expect(grouped[0]!.path).toBe('/Invoice/cac:InvoiceLine[2]/cac:Price/cbc:PriceAmount');
    const quantity = ublDoc().replace(/(<cbc:InvoicedQuantity[^>]*>)1</, '$11,5<');
    expect((await refusal('ubl-2.1', quantity))[0]!.path).toBe(
      '/Invoice/cac:InvoiceLine[1]/cbc:InvoicedQuantity',
    );
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
    expect((await refusal('ubl-2.1', ublDoc().replace('>1234.56<', '>12x<')))[0]!.path).toBe(
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
    expect(await refusal('ubl-2.1', payable('1262.36', 'USD'))).toEqual([
      {
        path: expect.stringContaining('cbc:PayableAmount'),
        message: 'has currencyID USD, not the document currency EUR',
      },
    ]);
    for (const bad of ['1262.365', '1.262,36', '-1e3'])
      expect((await refusal('ubl-2.1', payable(bad)))[0]!.path, bad).toContain('cbc:PayableAmount');
    expect((await refusal('ubl-2.1', '<Order xmlns="urn:x"/>'))[0]!.path).toBe('/Order');
    expect((await refusal('ubl-2.1', `<Invoice ${UBL_NS}>${'<a>'.repeat(40)}`))[0]!.message).toContain(
      'deeper',
    );
  });
});
