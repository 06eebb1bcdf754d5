/**
 * Dates: calendar arithmetic on ISO `YYYY-MM-DD` dates (UTC, no time zone), and a parser for
 * the mixed formats found on invoices and receipts (`dd/mm/yyyy`, `dd-mm-yy`, `02 APR 2018`,
 * `14/JUN/2017`, ISO) that keeps the original text and refuses to guess: `03/04/2018` needs an
 * ordering hint.
 */
import { ownValue } from '../core/own.js';
import { TriageError } from '../core/errors.js';

/** Days since 1970-01-01 of an ISO date. */
export function epochDay(isoDate: string): number {
  return Math.floor(Date.parse(`${isoDate}T00:00:00Z`) / 86_400_000);
}

/** Absolute number of days between two ISO dates. */
export function daysApart(a: string, b: string): number {
  return Math.abs(epochDay(a) - epochDay(b));
}

/** An inclusive span of ISO dates (a service period). */
export interface DateSpan {
  start: string;
  end: string;
}

/**
 * Overlap of two inclusive date spans.
 * @returns `days`: shared calendar days (0 when disjoint); `ratio`: shared days / days covered
 *   by either span (Jaccard of the day sets, in [0, 1]).
 */
export function spanOverlap(a: DateSpan, b: DateSpan): { days: number; ratio: number } {
  const [as, ae, bs, be] = [epochDay(a.start), epochDay(a.end), epochDay(b.start), epochDay(b.end)];
  const days = Math.max(0, Math.min(ae, be) - Math.max(as, bs) + 1);
  const union = ae - as + 1 + (be - bs + 1) - days;
  return { days, ratio: union > 0 ? days / union : 0 };
}

/** Order of day, month and year in an all-numeric date. */
export type DateOrder = 'DMY' | 'MDY' | 'YMD';

/** Hints for {@link parseDate}. */
export interface DateHint {
  /** Field order the document uses; resolves `03/04/2018`. */
  order?: DateOrder;
  /**
   * Two-digit years `yy` below this become 20yy, the others 19yy. Default 70 (POSIX
   * `strptime`: 00-69 -> 2000-2069, 70-99 -> 1970-1999).
   */
  twoDigitYearPivot?: number;
}

/** A date text read as a calendar date. */
export interface ParsedDate {
  /** `YYYY-MM-DD`. */
  iso: string;
  /** The text exactly as given. */
  original: string;
  /** How the fields were read. Month-name dates report where the day and year stood. */
  order: DateOrder;
  /** True when the text read two ways and `hint.order` chose between them. */
  resolvedByHint: boolean;
}

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  january: 1,
  feb: 2,
  february: 2,
  mar: 3,
  march: 3,
  apr: 4,
  april: 4,
  may: 5,
  jun: 6,
  june: 6,
  jul: 7,
  july: 7,
  aug: 8,
  august: 8,
  sep: 9,
  sept: 9,
  september: 9,
  oct: 10,
  october: 10,
  nov: 11,
  november: 11,
  dec: 12,
  december: 12,
};

/** Tokens ignored beside a month name: ordinal suffixes and weekday names ("Mon, 2nd Apr 2018"). */
const ORDINALS_AND_WEEKDAYS = new Set(
  'st nd rd th mon tue tues wed thu thur thurs fri sat sun monday tuesday wednesday thursday friday saturday sunday'.split(
    ' ',
  ),
);

/** Earliest and latest years accepted (as in core's DATE_RANGE). */
const YEAR_MIN = 1900;
const YEAR_MAX = 2199;

function unparseable(text: string, why: string): never {
  throw new TriageError('TRIAGE_FEATURES_DATE_UNPARSEABLE', `Date "${text}" ${why}`);
}

/** `YYYY-MM-DD` of a valid calendar date, or null (31 April, 29 Feb 2019, year out of range). */
export function isoOf(year: number, month: number, day: number): string | null {
  if (!Number.isInteger(year) || year < YEAR_MIN || year > YEAR_MAX) return null;
  if (month < 1 || month > 12 || day < 1) return null;
  const dim = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > dim) return null;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function fullYear(y: string, pivot: number): number {
  if (y.length === 4) return Number(y);
  if (y.length === 2) {
    const n = Number(y);
    return n < pivot ? 2000 + n : 1900 + n;
  }
  return NaN;
}

/**
 * Parses a date in the mixed formats of invoices and receipts.
 *
 * Accepted: ISO `2018-04-02` (also with a time, `2018-04-02T10:00Z`, whose date part is kept),
 * `2018/04/02`, `20180402`; numeric `d/m/y`, `m/d/y` with `/ - . ` or space, 2- or 4-digit years;
 * month names or three-letter abbreviations in any position (`02 APR 2018`, `14/JUN/2017`,
 * `Apr 2, 2018`, `2-Apr-18`, `02APR2018`), case-insensitive.
 *
 * A numeric date whose day and month are both 12 or less and differ (`03/04/2018`) is
 * ambiguous: `hint.order` decides it. A date that reads only one way (`14/06/2017`) is read that
 * way whatever the hint says (`order` reports how).
 *
 * @throws TriageError `TRIAGE_FEATURES_DATE_AMBIGUOUS` naming both readings when no hint resolves it.
 * @throws TriageError `TRIAGE_FEATURES_DATE_UNPARSEABLE` when the text is no date, is an
 *   impossible date (`31/04/2018`), or its year is outside 1900-2199.
 */
export function parseDate(text: string, hint: DateHint = {}): ParsedDate {
  const original = text;
  const pivot = hint.twoDigitYearPivot ?? 70;
  const s = text.normalize('NFKC').trim().toLowerCase();
  if (s === '') unparseable(original, 'is empty');
  const done = (y: number, m: number, d: number, order: DateOrder, resolvedByHint = false): ParsedDate => {
    const iso = isoOf(y, m, d);
    if (iso === null)
      unparseable(original, `is not a valid calendar date between ${YEAR_MIN} and ${YEAR_MAX}`);
    return { iso, original, order, resolvedByHint };
  };

  // ISO, possibly with a time part.
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[t\s].*)?$/.exec(s);
  if (m) return done(Number(m[1]), Number(m[2]), Number(m[3]), 'YMD');

  // Month names: split into word and number tokens ("02apr2018" -> 02, apr, 2018).
  const monthWord = /[a-z]+/.exec(s);
  if (monthWord) {
    const tokens = s.match(/[a-z]+|\d+/g) ?? [];
    const words = tokens.filter((t) => /[a-z]/.test(t) && !ORDINALS_AND_WEEKDAYS.has(t));
    const nums = tokens.filter((t) => /^\d+$/.test(t));
    const month = words.length === 1 ? ownValue(MONTHS, words[0]!) : undefined;
    if (month === undefined || nums.length !== 2 || !/^[a-z0-9\s,./-]+$/.test(s))
      unparseable(original, 'is not a date');
    const [a, b] = nums as [string, string];
    const monthFirst = s.indexOf(words[0]!) < s.indexOf(a);
    if (a.length === 4 && b.length <= 2) return done(Number(a), month, Number(b), 'YMD'); // 2018 Apr 02
    if (b.length === 4 || b.length === 2) {
      // 02 APR 2018, 14/JUN/2017, 2-Apr-18, Apr 2, 2018
      if (a.length > 2) unparseable(original, 'has a day of more than two digits');
      return done(fullYear(b, pivot), month, Number(a), monthFirst ? 'MDY' : 'DMY');
    }
    unparseable(original, 'has no recognisable year');
  }

  // Compact 8 digits: YYYYMMDD when it starts with a plausible year, else DDMMYYYY / MMDDYYYY.
  m = /^(\d{8})$/.exec(s);
  if (m) {
    const t = m[1]!;
    const y4 = Number(t.slice(0, 4));
    if (y4 >= YEAR_MIN && y4 <= YEAR_MAX)
      return done(y4, Number(t.slice(4, 6)), Number(t.slice(6, 8)), 'YMD');
    return numeric(t.slice(0, 2), t.slice(2, 4), t.slice(4), hint, original, pivot, done);
  }

  // Numeric with separators.
  m = /^(\d{1,4})\s*[-/. ]\s*(\d{1,2})\s*[-/. ]\s*(\d{2}|\d{4})$/.exec(s);
  if (m) {
    if (m[1]!.length === 4) return done(Number(m[1]), Number(m[2]), Number(m[3]), 'YMD');
    if (m[1]!.length === 3) unparseable(original, 'has a three-digit field');
    return numeric(m[1]!, m[2]!, m[3]!, hint, original, pivot, done);
  }
  return unparseable(original, 'is not a date');
}

/** Reads `a/b/y` as DMY or MDY (or `yy/mm/dd` under a YMD hint). */
function numeric(
  a: string,
  b: string,
  y: string,
  hint: DateHint,
  original: string,
  pivot: number,
  done: (y: number, m: number, d: number, order: DateOrder, byHint?: boolean) => ParsedDate,
): ParsedDate {
  if (hint.order === 'YMD' && a.length === 2 && y.length === 2) {
    return done(fullYear(a, pivot), Number(b), Number(y), 'YMD', true);
  }
  const year = fullYear(y, pivot);
  const [na, nb] = [Number(a), Number(b)];
  const dmy = isoOf(year, nb, na);
  const mdy = isoOf(year, na, nb);
  if (dmy !== null && mdy !== null && dmy !== mdy) {
    if (hint.order === 'DMY') return done(year, nb, na, 'DMY', true);
    if (hint.order === 'MDY') return done(year, na, nb, 'MDY', true);
    throw new TriageError(
      'TRIAGE_FEATURES_DATE_AMBIGUOUS',
      `Date "${original}" reads as ${dmy} (day/month/year) or ${mdy} (month/day/year); ` +
        `pass the document's date order ('DMY' or 'MDY') as a hint`,
    );
  }
  if (dmy !== null) return done(year, nb, na, 'DMY');
  if (mdy !== null) return done(year, na, nb, 'MDY');
  return unparseable(original, `is not a valid calendar date between ${YEAR_MIN} and ${YEAR_MAX}`);
}
