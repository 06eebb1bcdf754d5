import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { convertDocument } from './index.js';
import { refusal } from './refusal.js';

/**
 * Codes and qualifiers named like `Object.prototype`'s members are unknown codes: each mapping
 * table is read by its own keys only (core/own.ts).
 */
const KEYS = ['constructor', '__proto__', 'toString'] as const;

const samples = join(dirname(fileURLToPath(import.meta.url)), '../datasets/samples/intake');
const sample = (name: string): string => readFileSync(join(samples, name), 'utf8');

/** The interchange's first transaction set (ISA, GS, ST .. SE, GE, IEA) with `from` replaced by `to`. */
function x12With(from: string, to: string): string {
  const segments = sample('hcpcs_invoices.x12').trim().split('\n');
  const se = segments.findIndex((s) => s.startsWith('SE*'));
  const body = segments.slice(2, se + 1).map((s) => s.replace(from, to));
  expect(body.join('\n')).toContain(to);
  return [...segments.slice(0, 2), ...body, 'GE*1*17~', 'IEA*1*000000017~'].join('\n');
}

describe('X12 810: a qualifier named like a prototype member is unknown', () => {
  const cases: [string, (k: string) => string, string, string][] = [
    ['PO-4500755303~', (k) => `PO-4500755303***${k}~`, 'BIG07', 'transaction type code'],
    ['N1*VN*', (k) => `N1*${k}*`, 'N101', 'entity identifier code'],
    ['*92*V-100587', (k) => `*${k}*V-100587`, 'N103', 'identification code qualifier'],
    ['REF*TJ*', (k) => `REF*${k}*`, 'REF01', 'reference identification qualifier'],
    ['DTM*150*', (k) => `DTM*${k}*`, 'DTM01', 'date/time qualifier'],
    ['**HC*E0431', (k) => `**${k}*E0431`, 'IT106', 'product/service ID qualifier'],
    ['PID*F*', (k) => `PID*${k}*`, 'PID01', 'item description type'],
    ['DTM*472*20250101~', (k) => `SAC*${k}*D240***100~`, 'SAC01', 'allowance or charge indicator'],
    [
      'DTM*472*20250101~',
      (k) => `SAC*C*${k}***100~`,
      'SAC02',
      'service, promotion, allowance or charge code',
    ],
  ];
  it.each(KEYS)('%s', async (key) => {
    for (const [from, to, element, what] of cases) {
      const errors = await refusal('x12-810', x12With(from, to(key)));
      expect(errors[0], element).toEqual({
        path: expect.stringMatching(new RegExp(`^/segments/\\d+/${element}$`)),
        message: expect.stringMatching(new RegExp(`unknown ${what.replace('/', '\\/')} ${key}$`)),
      });
    }
  });
});

describe('UBL 2.1: a code or root named like a prototype member is unknown', () => {
  const ubl = sample(`ubl/${readdirSync(join(samples, 'ubl')).sort()[0]!}`);
  const replaced = (from: RegExp, to: string): string => {
    expect(ubl).toMatch(from);
    return ubl.replace(from, to);
  };

  it.each(KEYS)('%s', async (key) => {
    const typeCode = replaced(/(<cbc:InvoiceTypeCode>)[^<]*/, `$1${key}`);
    expect(await refusal('ubl-2.1', typeCode)).toEqual([
      { path: '/Invoice/cbc:InvoiceTypeCode', message: `has the unknown document type code ${key}` },
    ]);
    const listId = replaced(/listID="[^"]*"/, `listID="${key}"`);
    expect(await refusal('ubl-2.1', listId)).toEqual([
      {
        path: expect.stringMatching(/^\/Invoice\/cac:InvoiceLine\[1\]\/.*cbc:ItemClassificationCode$/),
        message: expect.stringContaining(`has the unknown listID '${key}'`),
      },
    ]);
    const root = replaced(/<Invoice\b/, `<${key}`).replace('</Invoice>', `</${key}>`);
    expect((await refusal('ubl-2.1', root))[0]!.path).toBe(`/${key}`);
  });

  it.each(KEYS)('a ChargeIndicator of %s is neither true nor false', async (key) => {
    const charge = `<cac:AllowanceCharge><cbc:ChargeIndicator>${key}</cbc:ChargeIndicator><cbc:Amount currencyID="USD">1.00</cbc:Amount></cac:AllowanceCharge>`;
    const doc = replaced(/(<cac:LegalMonetaryTotal>)/, `${charge}$1`);
    expect(await refusal('ubl-2.1', doc)).toEqual([
      {
        path: '/Invoice/cac:AllowanceCharge[1]/cbc:ChargeIndicator',
        message: `is '${key}', not true (a charge) or false (an allowance)`,
      },
    ]);
  });
});

describe('FHIR R4: a system, type or code named like a prototype member is unknown', () => {
  type Json = Record<string, unknown> & { [k: string]: Json | Json[] };
  const invoice = (): Json => {
    const bundle = JSON.parse(sample('hcpcs_invoices.fhir.json')) as { entry: { resource: Json }[] };
    return bundle.entry[0]!.resource;
  };
  const line0 = (inv: Json): Json => (inv.lineItem as Json[])[0]!;

  it.each(KEYS)('%s', async (key) => {
    const system = invoice();
    ((line0(system).chargeItemCodeableConcept as Json).coding as Json[])[0]!.system = key as never;
    expect(await refusal('fhir-r4', JSON.stringify(system))).toEqual([
      {
        path: '/lineItem/0/chargeItemCodeableConcept/coding/0/system',
        message: `is an unknown code system '${key}'`,
      },
    ]);
    const price = invoice();
    (line0(price).priceComponent as Json[])[0]!.type = key as never;
    expect(await refusal('fhir-r4', JSON.stringify(price))).toEqual([
      { path: '/lineItem/0/priceComponent/0/type', message: `is an unknown price component type '${key}'` },
    ]);
    const type = invoice();
    type.type = { coding: [{ code: key }] } as never;
    expect(await refusal('fhir-r4', JSON.stringify(type))).toEqual([
      { path: '/type/coding/0/code', message: `is an unknown invoice type '${key}'` },
    ]);
  });

  it.each(KEYS)('an extension url or identifier system of %s carries nothing', async (key) => {
    const plain = (await convertDocument('fhir-r4', Buffer.from(JSON.stringify(invoice()))))[0]!;
    const inv = invoice();
    (inv.extension as Json[]).push({ url: key, valueString: 'x' } as never);
    const vendor = (inv.contained as Json[])[0]!;
    (vendor.identifier as Json[]).push({ system: key, value: 'V-9' } as never);
    const [got] = await convertDocument('fhir-r4', Buffer.from(JSON.stringify(inv)));
    expect(got!.vendor).toEqual(plain.vendor);
    expect(got!.due_date).toBe(plain.due_date);
  });
});
