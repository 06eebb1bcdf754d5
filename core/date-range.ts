/**
 * The calendar dates the service accepts, in bodies and query parameters: one range, since a
 * date PostgreSQL cannot hold (year 0000) would fail the statement that reads it.
 */
import { TriageError, type FieldError } from './errors.js';

/** Earliest and latest calendar dates accepted (PostgreSQL has no year 0; invoices are modern). */
export const DATE_RANGE = { min: '1900-01-01', max: '2199-12-31' } as const;

/**
 * Field error for a `YYYY-MM-DD` date outside {@link DATE_RANGE}.
 * @returns `{ path, message }`, or undefined when `date` is absent or within the range.
 */
export function dateRangeError(path: string, date: string | undefined): FieldError | undefined {
  if (date === undefined || (date >= DATE_RANGE.min && date <= DATE_RANGE.max)) return undefined;
  return { path, message: `must be between ${DATE_RANGE.min} and ${DATE_RANGE.max}` };
}

/**
 * Refuses the query's dates (by parameter name; absent ones pass) outside {@link DATE_RANGE},
 * naming each (`/querystring/from`): a year such as 0000 is a valid `format: date` but not a
 * PostgreSQL date, which would fail the query.
 * @throws TriageError `TRIAGE_REQUEST_INVALID` (400) naming every date out of range.
 */
export function checkQueryDates(dates: Readonly<Record<string, string | undefined>>): void {
  const errors = Object.entries(dates).flatMap(([name, date]) => {
    const e = dateRangeError(`/querystring/${name}`, date);
    return e ? [e] : [];
  });
  if (errors.length > 0)
    throw new TriageError(
      'TRIAGE_REQUEST_INVALID',
      errors.map((e) => `${e.path.slice('/querystring/'.length)} ${e.message}`).join('; '),
      errors,
    );
}
