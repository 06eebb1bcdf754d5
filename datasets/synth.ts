/**
 * Building blocks shared by the synthetic data builders (the committed samples and the seeded
 * benchmark generator): a seeded PRNG, calendar-date arithmetic on `YYYY-MM-DD` strings, NPIs
 * with valid check digits and the abbreviations billing systems apply to CMS descriptions.
 * Pure and deterministic: the same seed gives the same draws on every platform.
 */
import {
  Invoice as InvoiceSchema,
  InvoiceLine as InvoiceLineSchema,
  Vendor as VendorSchema,
  type Invoice,
  type InvoiceLine,
} from '../core/invoice.js';
import { npiCheckDigit } from '../features/npi.js';

/** mulberry32: a tiny 32-bit PRNG. Returns a function yielding floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Helpers over a seeded PRNG (mulberry32): every draw is reproducible from the seed. */
export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const a = out[i] as T;
      out[i] = out[j] as T;
      out[j] = a;
    }
    return out;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
  /** Float in [min, max). */
  between(min: number, max: number): number {
    return min + this.next() * (max - min);
  }
  /** Float in [min, max) with a uniform logarithm (both > 0): for prices and amounts. */
  logUniform(min: number, max: number): number {
    return Math.exp(Math.log(min) + this.next() * (Math.log(max) - Math.log(min)));
  }
  /**
   * Index drawn with probability proportional to weight, given the cumulative weights
   * (`cumulative[i]` = sum of weights 0..i, increasing). Binary search: O(log n).
   */
  weightedIndex(cumulative: readonly number[]): number {
    const total = cumulative[cumulative.length - 1];
    if (total === undefined || !(total > 0)) throw new Error('weightedIndex needs positive weights');
    const x = this.next() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Cumulative sums of non-negative weights, for {@link Rng.weightedIndex}. */
export function cumulative(weights: readonly number[]): number[] {
  const out: number[] = [];
  let acc = 0;
  for (const w of weights) out.push((acc += w));
  return out;
}

/** A type-2 (organisation) NPI, `1` + 8 random digits + the Luhn check digit of the 80840 prefix. */
export function makeNpi(rng: Rng): string {
  const base = `1${rng.digits(8)}`;
  return `${base}${npiCheckDigit(base)}`;
}

/** `YYYY-MM-DD` of a UTC date. */
export function iso(d: Date): string {
  return d.toISOString().slice(0, 10);
}

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a `YYYY-MM-DD` date (UTC). */
export function dayNumber(isoDate: string): number {
  return Math.round(Date.parse(`${isoDate}T00:00:00Z`) / DAY_MS);
}

/** `YYYY-MM-DD` of a day number (days since 1970-01-01, UTC). */
export function isoOfDay(day: number): string {
  return iso(new Date(day * DAY_MS));
}

/** `isoDate` plus `days` calendar days (negative allowed), `YYYY-MM-DD`. */
export function addDays(isoDate: string, days: number): string {
  const d = new Date(`${isoDate}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return iso(d);
}

/** First day of a month (`month` 1-12), `YYYY-MM-DD`. */
export function monthStart(year: number, month: number): string {
  return iso(new Date(Date.UTC(year, month - 1, 1)));
}

/** Last day of a month (`month` 1-12), `YYYY-MM-DD`. */
export function monthEnd(year: number, month: number): string {
  return iso(new Date(Date.UTC(year, month, 0)));
}

/** `text` cut to at most `max` characters at a word boundary, trailing punctuation dropped. */
export function truncateWords(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return (space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:(-]+$/, '');
}

/** First character upper-cased. */
export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Sum of line amounts, in cents. */
export function sumLines(lines: readonly InvoiceLine[]): number {
  return lines.reduce((s, l) => s + l.amount_cents, 0);
}

/** Abbreviations suppliers' billing systems apply to CMS descriptions. */
export const ABBREVIATIONS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bwithout\b/gi, 'w/o'],
  [/\bwith\b/gi, 'w/'],
  [/\bcontinuous\b/gi, 'cont'],
  [/\bpositive airway pressure\b/gi, 'PAP'],
  [/\bpressure\b/gi, 'press'],
  [/\bdevice\b/gi, 'dev'],
  [/\bwheelchair\b/gi, 'W/C'],
  [/\boxygen\b/gi, 'O2'],
  [/\binjection\b/gi, 'inj'],
  [/\bprefabricated\b/gi, 'prefab'],
  [/\badjustable\b/gi, 'adj'],
  [/\bdisposable\b/gi, 'disp'],
  [/\bincludes\b/gi, 'incl'],
  [/\bsquare\b/gi, 'sq'],
  [/\borthosis\b/gi, 'orth'],
  [/\bnon-impregnated\b/gi, 'non-impreg'],
  [/\bsterile\b/gi, 'ster'],
  [/\beach\b/gi, 'ea'],
  [/(?<=\w)\s+per\s+/gi, '/'],
  [/\bsolution\b/gi, 'soln'],
  [/\bhospital\b/gi, 'hosp'],
  [/\bportable\b/gi, 'port'],
];

/** Applies {@link ABBREVIATIONS} to a CMS description. */
export function abbreviate(text: string): string {
  return ABBREVIATIONS.reduce((s, [re, rep]) => s.replace(re, rep), text).replace(/\s+\/\s+/g, '/');
}

/** "Oxygen concentrator, single delivery port, ..." → "Single delivery port oxygen concentrator, ...". */
export function reorder(text: string): string {
  const parts = text.split(', ');
  const [first, second, ...rest] = parts;
  if (first === undefined || second === undefined || first.split(' ').length > 3) return text;
  return capitalise([`${second} ${first.toLowerCase()}`, ...rest].join(', '));
}

// Key order of the output = property order of the TypeBox schemas (one source of truth).
const INVOICE_KEYS = Object.keys(InvoiceSchema.properties);
const VENDOR_KEYS = Object.keys(VendorSchema.properties);
const LINE_KEYS = Object.keys(InvoiceLineSchema.properties);

/** A copy of `value` holding only `keys`, in that order (undefined values dropped). */
export function pickInOrder(value: object, keys: readonly string[]): Record<string, unknown> {
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (source[k] !== undefined) out[k] = source[k];
  return out;
}

/** The invoice with its keys in schema order (stable, readable JSONL diffs). */
export function canonicalInvoice(inv: Invoice): Record<string, unknown> {
  const out = pickInOrder(inv, INVOICE_KEYS);
  out.vendor = pickInOrder(inv.vendor, VENDOR_KEYS);
  out.lines = inv.lines.map((l) => pickInOrder(l, LINE_KEYS));
  return out;
}
