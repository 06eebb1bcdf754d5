import { describe, expect, it } from 'vitest';
import { money, priorityMoney } from './format.js';

describe('console money formats', () => {
  it('formats a priority as money of the invoice currency, like the total beside it', () => {
    expect(priorityMoney(60000000018.89, 'USD')).toBe('$60,000,000,018.89');
    expect(priorityMoney(210.12, 'USD')).toBe(money(21012, 'USD'));
    // Minor units / 100 whatever the currency: 10.00 on a JPY invoice is JPY 1,000.
    expect(priorityMoney(10, 'JPY')).toBe(money(1000, 'JPY'));
    expect(priorityMoney(123.45, 'KWD')).toBe(money(12345, 'KWD'));
    expect(priorityMoney(0, 'USD')).toBe('$0.00');
  });
});
