/**
 * UBL totals: PayableAmount must equal TaxInclusiveAmount - PrepaidAmount + PayableRoundingAmount
 * (UBL 2.1, absent parts 0), and every amount of LegalMonetaryTotal and TaxTotal, read or not,
 * must be in the DocumentCurrencyCode; otherwise a 400 naming the element.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isTriageError } from '../core/errors.js';
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
