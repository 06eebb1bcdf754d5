/** Calendar arithmetic on ISO `YYYY-MM-DD` dates (UTC, no time zone). */

/** Days since 1970-01-01 of an ISO date. */
export function epochDay(isoDate: string): number {
  return Math.floor(Date.parse(`${isoDate}T00:00:00Z`) / 86_400_000);
}

/** Absolute number of days between two ISO dates. */
export function daysApart(a: string, b: string): number {
  return Math.abs(epochDay(a) - epochDay(b));
}
