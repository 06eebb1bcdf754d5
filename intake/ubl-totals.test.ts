/**
 * UBL totals: PayableAmount must equal TaxInclusiveAmount - PrepaidAmount + PayableRoundingAmount
 * (UBL 2.1, absent parts 0), and every amount of LegalMonetaryTotal and TaxTotal, read or not,
 * must be in the DocumentCurrencyCode; otherwise a 400 naming the element. The tax total
 * (TaxTotal/TaxAmount) is the invoice's tax_cents and each document-level AllowanceCharge an
 * extra line, so consistent totals pass the total check and inconsistent ones do not.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isTriageError } from '../core/errors.js';
import { totalCheck } from '../inference/stages/rules.js';
import { convertDocument } from './index.js';

const sample = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), '../datasets/samples/intake/ubl/hc-2025-0004.xml'),
  'utf8',
);
const TOTAL =
  '<cbc:TaxInclusiveAmount currencyID="USD">62.46</cbc:TaxInclusiveAmount><cbc:PayableAmount currencyID="USD">62.46</cbc:PayableAmount>';

/** The sample with its TaxInclusiveAmount and PayableAmount replaced by `totals`. */
const withTotals = (totals: string): Buffer => {
  expect(sample).toContain(TOTAL);
  return Buffer.from(sample.replace(TOTAL, totals), 'utf8');
};

async function refusal(doc: Buffer): Promise<{ path: string; message: string }[]> {
  try {
    await convertDocument('ubl-2.1', doc);
  } catch (e) {
    if (isTriageError(e) && e.status === 400) return e.errors;
    throw e;
  }
  throw new Error('converted without error');
}

const amount = (name: string, value: string, currency = 'USD'): string =>
  `<cbc:${name} currencyID="${currency}">${value}</cbc:${name}>`;

describe('UBL LegalMonetaryTotal', () => {
  it('refuses a PayableAmount that is not TaxInclusiveAmount - PrepaidAmount + PayableRoundingAmount', async () => {
    const wrong = withTotals(amount('TaxInclusiveAmount', '62.46') + amount('PayableAmount', '99.00'));
    expect(await refusal(wrong)).toEqual([
      {
        path: '/Invoice/cac:LegalMonetaryTotal/cbc:PayableAmount',
        message: 'is 9900 cents, not TaxInclusiveAmount - PrepaidAmount + PayableRoundingAmount = 6246 cents',
      },
    ]);
  });

  it('accepts a PayableAmount net of prepaid amount and rounding; the total stays TaxInclusiveAmount', async () => {
    const [inv] = await convertDocument(
      'ubl-2.1',
      withTotals(
        amount('TaxInclusiveAmount', '62.46') +
          amount('PrepaidAmount', '10.00') +
          amount('PayableRoundingAmount', '-0.46') +
          amount('PayableAmount', '52.00'),
      ),
    );
    expect(inv!.total_cents).toBe(6246);
    const [unchanged] = await convertDocument('ubl-2.1', Buffer.from(sample, 'utf8'));
    expect(unchanged!.total_cents).toBe(6246);
  });

  it('refuses an amount in another currency that the adapter does not read, naming it', async () => {
    const lineExtension = Buffer.from(
      sample.replace(
        '<cbc:LineExtensionAmount currencyID="USD">62.46</cbc:LineExtensionAmount><cbc:TaxInclusiveAmount',
        '<cbc:LineExtensionAmount currencyID="EUR">62.46</cbc:LineExtensionAmount><cbc:TaxInclusiveAmount',
      ),
      'utf8',
    );
    expect(await refusal(lineExtension)).toEqual([
      {
        path: '/Invoice/cac:LegalMonetaryTotal/cbc:LineExtensionAmount',
        message: 'has currencyID EUR, not the document currency USD',
      },
    ]);
    const taxTotal = Buffer.from(
      sample.replace(
        '<cac:LegalMonetaryTotal>',
        `<cac:TaxTotal>${amount('TaxAmount', '0.00')}</cac:TaxTotal><cac:TaxTotal>${amount('TaxAmount', '0.00', 'EUR')}</cac:TaxTotal><cac:LegalMonetaryTotal>`,
      ),
      'utf8',
    );
    expect((await refusal(taxTotal))[0]).toEqual({
      path: '/Invoice/cac:TaxTotal/cbc:TaxAmount',
      message: 'has currencyID EUR, not the document currency USD',
    });
  });

  it('checks every LegalMonetaryTotal amount, also LineExtensionAmount, which is not read', async () => {
    const at = '/Invoice/cac:LegalMonetaryTotal/cbc:LineExtensionAmount';
    for (const bad of ['abc', '12345678901234567890123456', '116.405']) {
      const doc = Buffer.from(
        sample.replace(amount('LineExtensionAmount', '62.46'), amount('LineExtensionAmount', bad)),
        'utf8',
      );
      expect(sample).toContain(amount('LineExtensionAmount', '62.46'));
      const errors = await refusal(doc);
      expect(
        errors.map((e) => e.path),
        bad,
      ).toEqual([at]);
    }
  });
});

/** The sample with `extra` before its LegalMonetaryTotal and its two totals set to `total`. */
const withExtra = (extra: string, total: string): Buffer => {
  const doc = withTotals(amount('TaxInclusiveAmount', total) + amount('PayableAmount', total)).toString(
    'utf8',
  );
  return Buffer.from(doc.replace('<cac:LegalMonetaryTotal>', `${extra}<cac:LegalMonetaryTotal>`), 'utf8');
};
const allowanceCharge = (charge: string, value: string, reason = ''): string =>
  `<cac:AllowanceCharge><cbc:ChargeIndicator>${charge}</cbc:ChargeIndicator>${reason}${amount('Amount', value)}</cac:AllowanceCharge>`;

describe('UBL TaxTotal and document-level AllowanceCharge', () => {
  it('reads TaxTotal/TaxAmount into tax_cents: a total of lines + tax is not TOTAL_MISMATCH', async () => {
    const tax = `<cac:TaxTotal>${amount('TaxAmount', '5.00')}<cac:TaxSubtotal>${amount('TaxableAmount', '62.46')}${amount('TaxAmount', '5.00')}</cac:TaxSubtotal></cac:TaxTotal>`;
    const [inv] = await convertDocument('ubl-2.1', withExtra(tax, '67.46'));
    expect(inv).toMatchObject({ total_cents: 6746, tax_cents: 500 });
    expect(totalCheck(inv!)?.code).toBe('TOTAL_INCLUDES_TAX');
    const [wrong] = await convertDocument('ubl-2.1', withExtra(tax, '69.46'));
    expect(totalCheck(wrong!)).toMatchObject({ code: 'TOTAL_MISMATCH', evidence: { gap_cents: 200 } });
  });

  it('takes charges and allowances into the total check as lines; inconsistent totals stay TOTAL_MISMATCH', async () => {
    const freight = allowanceCharge(
      'true',
      '10.00',
      '<cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode><cbc:AllowanceChargeReason>Freight</cbc:AllowanceChargeReason>',
    );
    const [charged] = await convertDocument('ubl-2.1', withExtra(freight, '72.46'));
    expect(charged!.lines.slice(2)).toEqual([
      {
        line_number: 3,
        description: 'Freight',
        code: { system: 'OTHER', value: 'FC' },
        quantity: 1,
        unit_price_cents: 1000,
        amount_cents: 1000,
      },
    ]);
    expect(totalCheck(charged!)).toBeNull();
    const [discounted] = await convertDocument(
      'ubl-2.1',
      withExtra(allowanceCharge('false', '2.46'), '60.00'),
    );
    expect(discounted!.lines[2]).toMatchObject({ description: 'Allowance', amount_cents: -246 });
    expect(totalCheck(discounted!)).toBeNull();
    const [both] = await convertDocument(
      'ubl-2.1',
      withExtra(
        allowanceCharge('1', '10.00') +
          allowanceCharge('0', '2.46') +
          `<cac:TaxTotal>${amount('TaxAmount', '5.00')}</cac:TaxTotal>`,
        '75.00',
      ),
    );
    expect(both!.lines.map((l) => l.amount_cents)).toEqual([4766, 1480, 1000, -246]);
    expect(totalCheck(both!)?.code).toBe('TOTAL_INCLUDES_TAX');
    const [inconsistent] = await convertDocument('ubl-2.1', withExtra(freight, '62.46'));
    expect(totalCheck(inconsistent!)).toMatchObject({
      code: 'TOTAL_MISMATCH',
      evidence: { gap_cents: -1000 },
    });
  });

  it('refuses, naming the element, a bad ChargeIndicator or Amount and a second TaxTotal', async () => {
    expect(await refusal(withExtra(allowanceCharge('yes', '10.00'), '72.46'))).toEqual([
      {
        path: '/Invoice/cac:AllowanceCharge[1]/cbc:ChargeIndicator',
        message: "is 'yes', not true (a charge) or false (an allowance)",
      },
    ]);
    for (const bad of ['10.001', '1O.00', '-10.00'])
      expect(
        (
          await refusal(withExtra(allowanceCharge('false', '2.46') + allowanceCharge('true', bad), '72.46'))
        )[0]!.path,
        bad,
      ).toBe('/Invoice/cac:AllowanceCharge[2]/cbc:Amount');
    expect(
      (await refusal(withExtra(allowanceCharge('true', '10.00').replace('USD', 'EUR'), '72.46')))[0],
    ).toEqual({
      path: '/Invoice/cac:AllowanceCharge[1]/cbc:Amount',
      message: 'has currencyID EUR, not the document currency USD',
    });
    const twice = `<cac:TaxTotal>${amount('TaxAmount', '5.00')}</cac:TaxTotal><cac:TaxTotal>${amount('TaxAmount', '5.00')}</cac:TaxTotal>`;
    expect((await refusal(withExtra(twice, '67.46')))[0]!.path).toBe(
      '/Invoice/cac:TaxTotal[2]/cbc:TaxAmount',
    );
  });
});

describe('UBL CreditNote with a tax total and document-level charges', () => {
  const creditNote = (doc: Buffer): Buffer =>
    Buffer.from(
      doc
        .toString('utf8')
        .replaceAll('Invoice-2', 'CreditNote-2')
        .replace('<Invoice ', '<CreditNote ')
        .replace('</Invoice>', '</CreditNote>')
        .replaceAll('cac:InvoiceLine', 'cac:CreditNoteLine')
        .replaceAll('cbc:InvoicedQuantity', 'cbc:CreditedQuantity')
        .replace('<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>', ''),
      'utf8',
    );

  it('signs the tax and a charge like the lines; refuses an allowance naming it', async () => {
    const extra =
      allowanceCharge('true', '10.00') + `<cac:TaxTotal>${amount('TaxAmount', '5.00')}</cac:TaxTotal>`;
    const [cn] = await convertDocument('ubl-2.1', creditNote(withExtra(extra, '77.46')));
    expect(cn).toMatchObject({ document_type: 'credit_memo', total_cents: -7746, tax_cents: -500 });
    expect(cn!.lines.map((l) => l.amount_cents)).toEqual([-4766, -1480, -1000]);
    expect(totalCheck(cn!)?.code).toBe('TOTAL_INCLUDES_TAX');
    expect((await refusal(creditNote(withExtra(allowanceCharge('false', '2.46'), '60.00'))))[0]).toEqual({
      path: '/CreditNote/cac:AllowanceCharge[1]/cbc:ChargeIndicator',
      message: expect.stringContaining('is an allowance on a credit memo'),
    });
  });
});

describe('UBL CDATA', () => {
  it('keeps the text of CDATA sections', async () => {
    const name = '<cbc:Name>Continuous positive airway pressure (cpap) device</cbc:Name>';
    expect(sample).toContain(name);
    const cdata = (text: string): string => sample.replace(name, `<cbc:Name>${text}</cbc:Name>`);
    const [mixed] = await convertDocument('ubl-2.1', Buffer.from(cdata('CPAP <![CDATA[<device>]]> unit')));
    expect(mixed!.lines[0]!.description).toBe('CPAP <device> unit');
    const [only] = await convertDocument('ubl-2.1', Buffer.from(cdata('<![CDATA[CPAP & humidifier]]>')));
    expect(only!.lines[0]!.description).toBe('CPAP & humidifier');
  });
});
