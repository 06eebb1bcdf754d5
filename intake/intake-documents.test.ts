import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { isTriageError } from '../core/errors.js';
import { buildIntakeSamples } from '../datasets/samples/build-intake-samples.js';
import { writeX12 } from '../datasets/intake-writers.js';
import { documentNumbers, X12_NUMERAL, XSD_DECIMAL } from './document.js';
import { convertDocument } from './index.js';
import { refusal } from './refusal.js';
import { samples, twins, withoutSource, fhirInvoice, ISA, interchange, ublDoc } from './test-documents.js';

describe('money per document: integer cents without floats', () => {
  it.each([
    ['27.80 EUR', '27.80', 2780, 'EUR'],
    ['1234.56 USD', '1234.56', 123456, 'USD'],
    ['-8.20 USD', '-8.20', -820, 'USD'],
    ['.5 USD', '.5', 50, 'USD'],
    ['1.234 KWD (three decimals: 1234 fils)', '1.234', 1234, 'KWD'],
    ['1200 JPY (no decimals)', '1200', 1200, 'JPY'],
    ['0.1 + 0.2 style values', '0.29', 29, null],
  ])('%s', (_name, text, cents, currency) => {
    expect(documentNumbers('ubl-2.1', currency, XSD_DECIMAL).cents(text, '/x')).toBe(cents);
    expect(documentNumbers('x12-810', currency, X12_NUMERAL).cents(text, '/x')).toBe(cents);
  });

  it('refuses a text outside the format form (exponents, grouping, decimal comma) at its path', () => {
    for (const text of ['1.875E1', '2e3', '12.5x', '1,234.56', '27,80', '1.234,56']) {
      expect(() => documentNumbers('x12-810', 'USD', X12_NUMERAL).cents(text, '/x'), text).toThrow(
        /is not an X12 R number/,
      );
      expect(() => documentNumbers('ubl-2.1', 'USD', XSD_DECIMAL).cents(text, '/x'), text).toThrow(
        /is not an xsd:decimal/,
      );
    }
  });

  it('refuses digits below the minor unit instead of rounding them', () => {
    expect(() => documentNumbers('ubl-2.1', 'EUR', XSD_DECIMAL).cents('12.345', '/x')).toThrow(
      /below the minor unit of EUR/,
    );
    expect(() => documentNumbers('x12-810', 'JPY', X12_NUMERAL).cents('1200.5', '/x')).toThrow(
      /below the minor unit of JPY/,
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

  it('X12: an IT101 of 0 is refused at its element, not renumbered like a SAC line', async () => {
    const body = (it101: string) => [
      'BIG*20250301*INV-7',
      'N1*VN*Acme*92*V-100',
      `IT1*${it101}*2*EA*10.00**HC*E0431`,
      'PID*F****Oxygen',
      'IT1*2*1*EA*5.00**HC*A4253',
      'PID*F****Strips',
      'TDS*2500',
    ];
    // BIG 4, N1 5, IT1 6
    for (const zero of ['0', '000'])
      expect(await refusal('x12-810', interchange(body(zero))), zero).toEqual([
        { path: '/segments/6/IT101', message: expect.stringContaining('must be the line number') },
      ]);
    const [inv] = await convertDocument('x12-810', Buffer.from(interchange(body('01'))));
    expect(inv!.lines.map((l) => l.line_number)).toEqual([1, 2]);
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

describe('UBL: a header element that UBL 2.1 allows once', () => {
  it.each([
    [
      'invoice number',
      '<cbc:ID>F-2025-9</cbc:ID>',
      '<cbc:ID>F-2025-9</cbc:ID><cbc:ID>F-2025-10</cbc:ID>',
      '/Invoice/cbc:ID',
    ],
    [
      'UUID',
      '<cbc:UUID>ubl-golden-1</cbc:UUID>',
      '<cbc:UUID>ubl-golden-1</cbc:UUID><cbc:UUID>other</cbc:UUID>',
      '/Invoice/cbc:UUID',
    ],
    [
      'total',
      '</cbc:TaxInclusiveAmount>',
      '</cbc:TaxInclusiveAmount><cbc:TaxInclusiveAmount currencyID="EUR">1.00</cbc:TaxInclusiveAmount>',
      '/Invoice/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount',
    ],
  ])(
    'is refused at its path when it appears twice (%s), not passed over',
    async (_name, once, twice, path) => {
      expect(ublDoc()).toContain(once);
      const errors = await refusal('ubl-2.1', ublDoc().replace(once, twice));
      expect(errors).toEqual([
        { path, message: expect.stringContaining('appears twice; UBL 2.1 allows one') },
      ]);
    },
  );
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

  it('X12: an R element (IT102, IT104, ITD03) is digits, one point and a leading minus only; a leading point is an R value', async () => {
    const num = (t: string): number => Number(t.trim().replace(',', '.'));
    const body = (qty: string, price: string, discount = '2') => [
      'BIG*20250301*INV-7',
      'N1*VN*Acme*92*V-100',
      `ITD*01*3*${discount}**10**30`,
      `IT1*1*${qty}*EA*${price}**HC*E0431`,
      'PID*F****Oxygen',
      `TDS*${Math.round(num(qty) * num(price.replace(',', '')) * 100)}`,
    ];
    // BIG 4, N1 5, ITD 6, IT1 7, PID 8, TDS 9
    const [ok] = await convertDocument('x12-810', Buffer.from(interchange(body('.5', '18.76', '.5'))));
    expect(ok!.lines[0]).toMatchObject({ quantity: 0.5, unit_price_cents: 1876, amount_cents: 938 });
    expect(ok!.payment_terms).toMatchObject({ discount_percent: 0.5 });
    for (const [qty, price, discount, path] of [
      ['1', ' 18.75', '2', '/segments/7/IT104'],
      ['1', '18.75 ', '2', '/segments/7/IT104'],
      [' 2', '18.75', '2', '/segments/7/IT102'],
      ['2', '18.75', ' 2', '/segments/6/ITD03'],
      // Digit grouping and a decimal comma are not X12: never read with a detected separator.
      ['2', '1,234.50', '2', '/segments/7/IT104'],
      ['1', '18,75', '2', '/segments/7/IT104'],
      ['1,5', '18.76', '2', '/segments/7/IT102'],
      ['+2', '18.75', '2', '/segments/7/IT102'],
    ] as const)
      expect(
        await refusal('x12-810', interchange(body(qty, price, discount))),
        `${qty}|${price}|${discount}`,
      ).toEqual([{ path, message: expect.stringContaining('is not an X12 R number') }]);
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
      Buffer.from(inCurrency('KWD', ['27.805', '1234.560', '1262.365'])),
    );
    expect([kwd!.total_cents, ...kwd!.lines.map((l) => l.amount_cents)]).toEqual([1262365, 27805, 1234560]);
    expect((await refusal('ubl-2.1', inCurrency('USD', ['27.805', '1234.56', '1262.365'])))[0]!.path).toBe(
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
