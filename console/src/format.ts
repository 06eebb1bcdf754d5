/** Display formats: money from integer cents, percentages, dates. */

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** `12345` -> `$123.45` (other currencies keep their code). */
export function money(cents: number, currency = 'USD'): string {
  if (currency === 'USD') return usd.format(cents / 100);
  return `${(cents / 100).toFixed(2)} ${currency}`;
}

/** `0.4567` -> `45.7%`; null -> `n/a`. */
export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(digits)}%`;
}

/** A value of any JSON type as short text. */
export function text(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}
