import { describe, expect, it } from 'vitest';
import { lineAmountCheck, totalCheck } from '../inference/stages/rules.js';
import { convertDocument } from './index.js';
import { refusal } from './refusal.js';

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

  it('refuses a Money.value the JSON parser would round (read as written, as UBL and X12 amounts are)', async () => {
    const doc = JSON.stringify(fhir);
    const lossy = (value: string) => doc.replace('"value":37.5', `"value":${value}`);
    const DOUBLE = /more significant digits than a JSON number read as a double keeps/;
    // Digits below the cent a double drops: read as 37.5 and 100000000000 (10^13 cents).
    for (const value of ['37.5000000000000001', '99999999999.999999999'])
      expect(await refusal('fhir-r4', lossy(value)), value).toEqual([
        {
          path: '/lineItem/0/priceComponent/0/amount/value',
          message: expect.stringMatching(new RegExp(`below the minor unit of USD .*${DOUBLE.source}`)),
        },
      ]);
    // Beyond 10^13 cents, worded as UBL and X12 amounts are, and said to be inexact.
    for (const value of ['12345678901234567.89', '9007199254740993'])
      expect(await refusal('fhir-r4', lossy(value)), value).toEqual([
        {
          path: '/lineItem/0/priceComponent/0/amount/value',
          message: expect.stringMatching(
            new RegExp(`^is not an amount \\(Amount .* is too large\\); it has ${DOUBLE.source}`),
          ),
        },
      ]);
    // In a Bundle the pointer names the entry.
    const bundle = JSON.stringify({ resourceType: 'Bundle', entry: [{ resource: fhir }] }).replace(
      '"value":38.25',
      '"value":38.250000000000000001',
    );
    expect(await refusal('fhir-r4', bundle)).toEqual([
      { path: '/entry/0/resource/totalGross/value', message: expect.stringMatching(DOUBLE) },
    ]);
    // What a double holds exactly is read as before, trailing zeros and exponents included.
    for (const value of ['37.50000000000000000000', '3.75e1', '37.5']) {
      const [inv] = await convertDocument('fhir-r4', Buffer.from(lossy(value)));
      expect(inv!.lines[0]!.amount_cents, value).toBe(3825); // base + surcharge - discount
    }
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

  it('refuses a cancelled or entered-in-error invoice and an unknown status at /status; scores the others', async () => {
    for (const status of ['cancelled', 'entered-in-error', 'void']) {
      expect(await refusal('fhir-r4', JSON.stringify({ ...fhir, status })), status).toEqual([
        {
          path: '/status',
          message: expect.stringMatching(status === 'void' ? /unknown invoice status 'void'/ : /not scored/),
        },
      ]);
    }
    for (const status of ['draft', 'issued', 'balanced']) {
      const [inv] = await convertDocument('fhir-r4', Buffer.from(JSON.stringify({ ...fhir, status })));
      expect(inv!.invoice_id).toBe('fhir-golden-1');
    }
  });

  it('refuses two contained resources with the id the issuer names, at the second one', async () => {
    const org = (name: string) => ({
      resourceType: 'Organization',
      id: 'vendor',
      name,
      identifier: [{ system: 'urn:vendor-master', value: 'V-300' }],
    });
    const doc = {
      ...fhir,
      contained: [org('Acme Medical Supply'), { resourceType: 'Organization', id: 'x' }, org('Other Vendor')],
      issuer: { reference: '#vendor' },
    };
    expect(await refusal('fhir-r4', JSON.stringify(doc))).toEqual([
      { path: '/contained/2/id', message: expect.stringContaining('repeats the id of /contained/0') },
    ]);
    const [one] = await convertDocument(
      'fhir-r4',
      Buffer.from(JSON.stringify({ ...doc, contained: doc.contained.slice(0, 2) })),
    );
    expect(one!.vendor.name).toBe('Acme Medical Supply');
  });
});
