import { describe, expect, it } from 'vitest';
import { convertDocument } from './index.js';
import { refusal } from './refusal.js';
import { interchange, ublDoc } from './test-documents.js';

/** The UBL test document with the first line's quantity written as `quantity`. */
const withQuantity = (quantity: string): string =>
  ublDoc().replace(/(<cbc:InvoicedQuantity[^>]*>)1</, `$1${quantity}<`);

describe('numbers valid in their format are read, not refused', () => {
  it('UBL: an xsd:decimal with a leading + or a trailing point is the same amount and quantity', async () => {
    const [plain] = await convertDocument('ubl-2.1', Buffer.from(ublDoc(['27.80', '1234.56', '1262.36'])));
    for (const amounts of [
      ['+27.80', '1234.56', '1262.36'],
      ['27.80', '+1234.56', '+1262.36'],
      ['27.', '1234.56', '1261.56'],
      ['+27.', '1234.56', '1261.56'],
    ] as const) {
      const [inv] = await convertDocument('ubl-2.1', Buffer.from(ublDoc([...amounts])));
      const cents = (t: string): number => Math.round(Number(t) * 100);
      expect(
        inv!.lines.map((l) => l.amount_cents),
        amounts.join('|'),
      ).toEqual([cents(amounts[0]), cents(amounts[1])]);
      expect(inv!.total_cents).toBe(cents(amounts[2]));
    }
    for (const q of ['+1', '1.', '+1.'])
      expect((await convertDocument('ubl-2.1', Buffer.from(withQuantity(q))))[0]!.lines[0], q).toMatchObject({
        quantity: 1,
        unit_price_cents: plain!.lines[0]!.unit_price_cents,
      });
  });

  it('X12: an R element with a trailing point (IT102, IT104) is read', async () => {
    const body = (qty: string, price: string): string[] => [
      'BIG*20250301*INV-7',
      'N1*VN*Acme*92*V-100',
      `IT1*1*${qty}*EA*${price}**HC*E0431`,
      'PID*F****Oxygen',
      'TDS*3700',
    ];
    const [inv] = await convertDocument('x12-810', Buffer.from(interchange(body('2.', '18.'))));
    expect(inv!.lines[0]).toMatchObject({ quantity: 2, unit_price_cents: 1800, amount_cents: 3600 });
  });

  it('still refuses what the forms do not allow, and says what a quantity may be', async () => {
    for (const q of ['+', '.', '1..', '++1', '1.+'])
      expect((await refusal('ubl-2.1', withQuantity(q)))[0], q).toEqual({
        path: '/Invoice/cac:InvoiceLine[1]/cbc:InvoicedQuantity',
        message: expect.stringContaining('is not an xsd:decimal'),
      });
    expect((await refusal('ubl-2.1', withQuantity('12345678')))[0]!.message).toContain(
      'is not a quantity (at most 7 digits before the decimal separator and 6 after it)',
    );
  });
});
