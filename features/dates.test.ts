import { thrownCode } from '../test/error-code.js';
import { describe, expect, it } from 'vitest';
import { isTriageError } from '../core/errors.js';
import { daysApart, epochDay, parseDate, spanOverlap } from './dates.js';

const code = thrownCode;

describe('parseDate', () => {
  it.each([
    ['14/06/2017', '2017-06-14', 'DMY'],
    ['06/14/2017', '2017-06-14', 'MDY'],
    ['14-06-17', '2017-06-14', 'DMY'],
    ['31.12.1999', '1999-12-31', 'DMY'],
    ['02 APR 2018', '2018-04-02', 'DMY'],
    ['14/JUN/2017', '2017-06-14', 'DMY'],
    ['2-Apr-18', '2018-04-02', 'DMY'],
    ['02APR2018', '2018-04-02', 'DMY'],
    ['Apr 2, 2018', '2018-04-02', 'MDY'],
    ['April 2nd, 2018', '2018-04-02', 'MDY'],
    ['Mon, 2 Apr 2018', '2018-04-02', 'DMY'],
    ['2 Sept 2018', '2018-09-02', 'DMY'],
    ['2018-04-02', '2018-04-02', 'YMD'],
    ['2018/4/2', '2018-04-02', 'YMD'],
    ['2018-04-02T23:59:00-05:00', '2018-04-02', 'YMD'],
    ['20180402', '2018-04-02', 'YMD'],
    ['12/12/2018', '2018-12-12', 'DMY'], // day = month: one date either way
    ['29/02/2024', '2024-02-29', 'DMY'],
  ] as const)('%s -> %s (%s)', (text, iso, order) => {
    expect(parseDate(text)).toEqual({ iso, original: text, order, resolvedByHint: false });
  });

  it('refuses 03/04/2018 without a hint, naming both readings, and reads it with one', () => {
    let message = '';
    try {
      parseDate('03/04/2018');
    } catch (e) {
      expect(isTriageError(e, 'TRIAGE_FEATURES_DATE_AMBIGUOUS')).toBe(true);
      message = (e as Error).message;
    }
    expect(message).toContain('2018-04-03');
    expect(message).toContain('2018-03-04');
    expect(parseDate('03/04/2018', { order: 'DMY' })).toMatchObject({
      iso: '2018-04-03',
      resolvedByHint: true,
    });
    expect(parseDate('03/04/2018', { order: 'MDY' })).toMatchObject({
      iso: '2018-03-04',
      resolvedByHint: true,
    });
    expect(code(() => parseDate('02-04-18'))).toBe('TRIAGE_FEATURES_DATE_AMBIGUOUS');
    expect(parseDate('18/04/02', { order: 'YMD' }).iso).toBe('2018-04-02');
  });

  it('reads a one-way date that way whatever the hint', () => {
    expect(parseDate('14/06/2017', { order: 'MDY' })).toMatchObject({ iso: '2017-06-14', order: 'DMY' });
  });

  it('maps two-digit years with the POSIX pivot, or the given one', () => {
    expect(parseDate('14/06/69').iso).toBe('2069-06-14');
    expect(parseDate('14/06/70').iso).toBe('1970-06-14');
    expect(parseDate('14/06/69', { twoDigitYearPivot: 50 }).iso).toBe('1969-06-14');
  });

  it.each([
    '',
    'foo',
    '31/04/2018',
    '29/02/2019',
    '14/13/2018',
    '32/01/2018',
    '2018-13-01',
    '1850-01-01',
    '02 Foo 2018',
    '02 Apr',
    '123/04/2018',
  ])('refuses %j', (text) => {
    expect(code(() => parseDate(text))).toBe('TRIAGE_FEATURES_DATE_UNPARSEABLE');
  });

  it.each(['constructor 12 2018', '12 Constructor 2018', '__proto__ 12 2018', 'toString 12 2018'])(
    'a word named like a prototype member is no month: refuses %j',
    (text) => {
      expect(() => parseDate(text)).toThrow(`Date "${text}" is not a date`);
    },
  );
});

describe('date arithmetic', () => {
  it('counts days and service-period overlap', () => {
    expect(epochDay('1970-01-02')).toBe(1);
    expect(daysApart('2025-03-01', '2025-02-27')).toBe(2);
    expect(
      spanOverlap({ start: '2025-03-01', end: '2025-03-31' }, { start: '2025-03-01', end: '2025-03-31' }),
    ).toEqual({
      days: 31,
      ratio: 1,
    });
    // Consecutive monthly rentals share no day.
    expect(
      spanOverlap({ start: '2025-03-01', end: '2025-03-31' }, { start: '2025-04-01', end: '2025-04-30' })
        .days,
    ).toBe(0);
    const half = spanOverlap(
      { start: '2025-03-01', end: '2025-03-10' },
      { start: '2025-03-06', end: '2025-03-15' },
    );
    expect(half.days).toBe(5);
    expect(half.ratio).toBeCloseTo(5 / 15, 10);
  });
});
