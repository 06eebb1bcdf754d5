/**
 * The cases of test/bad-input.test.ts: the write route shape, the fixed-seed generators of
 * mutated and raw requests (fast-check), and the boundary values they draw from.
 */
import fc from 'fast-check';
import { MAX_ABS_CENTS } from '../core/invoice.js';
import type { RowCounts } from './jobs-harness.js';

/** Rows per table of the write routes. */
export type Counts = RowCounts & {
  api_keys: number;
  vendors: number;
  reviews: number;
  policies: number;
  webhook_subscriptions: number;
};

/** A write route under test. */
export interface WriteRoute {
  name: string;
  method?: 'POST' | 'PUT';
  /** The URL; `id` makes it unique (`bad-v-0` in a valid request). */
  url: string | ((id: string) => string);
  /** A path parameter the route stores: its name and the URL with `value` in it. */
  param?: { name: string; url: (value: string) => string };
  /** Extra request headers (a tenant of its own). */
  headers?: Record<string, string>;
  /** A valid body; `n` makes its ids unique (`bad-<x>-0` strings are renumbered per case). */
  valid: (n: number) => unknown;
  /** Rows a 2xx adds for `body`. */
  stores: (body: unknown) => Partial<Counts>;
  /** Fraction of {@link RUNS} for this route (cheap routes that only add text need fewer). */
  share?: number;
}

/** Renumbers the `bad-<x>-0` ids of a valid request for case `n`. */
export const renumber = (text: string, n: number | string): string =>
  text.replaceAll(/\bbad-([a-z]+)-0(?=[-" ]|$)/g, `bad-$1-${n}`);

/** The URL of a route for case `n`. */
export const urlOf = (route: WriteRoute, n: number | string): string =>
  typeof route.url === 'string' ? route.url : route.url(renumber('bad-v-0', n));

/** Fixed seed: the same cases on every run. */
export const SEED = 20_250_701;
/** Generated cases per route and property on PGlite; PostgreSQL runs a fifth (same generator). */
export const RUNS = { mutation: 700, raw: 200 };

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every JSON pointer inside `v` (root excluded), with the value there. */
export function pointers(v: Json, base = ''): { path: string; value: Json }[] {
  const out: { path: string; value: Json }[] = [];
  if (Array.isArray(v)) {
    v.forEach((x, i) => out.push({ path: `${base}/${i}`, value: x }, ...pointers(x, `${base}/${i}`)));
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v))
      out.push({ path: `${base}/${k}`, value: x }, ...pointers(x, `${base}/${k}`));
  }
  return out;
}

/** Applies `f` to the parent of `path` (a deep copy of `root`). */
export function edit(
  root: Json,
  path: string,
  f: (parent: Json[] | Record<string, Json>, key: string) => void,
): Json {
  const copy = structuredClone(root);
  const parts = path.split('/').slice(1);
  let node = copy as Json[] | Record<string, Json>;
  for (const p of parts.slice(0, -1))
    node = (node as Record<string, Json>)[p] as Json[] | Record<string, Json>;
  f(node, parts[parts.length - 1]!);
  return copy;
}

/** `root` with `value` at `path` (a copy). */
export const put = (root: Json, path: string, value: Json): Json =>
  edit(root, path, (o, k) => void ((o as Record<string, Json>)[k] = value));

export const typeOf = (v: Json): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
export const WRONG_TYPES: Json[] = [null, true, false, 0, -1.5, '', 'x', '12.50', [], [1], {}, { a: 1 }];

/** Strings that break naive text handling. Some are valid text (accepted), some are not. */
export const HOSTILE_STRINGS: string[] = [
  '\uD800', // lone high surrogate
  'ab\uDFFFcd', // lone low surrogate
  'nul\u0000byte',
  '\u202Egnp.exe', // right-to-left override
  '\u2066isolate\u2069',
  'zero\u200Bwidth\u200Djoiner',
  '💉🩺🧾', // 4-byte emoji
  '👩‍⚕️', // ZWJ sequence
  'Cafe\u0301', // NFD
  'Café', // NFC
  'ﬁ ligature Ａ fullwidth',
  '\uFEFFbom',
  ' ',
  '\t\n\r',
  'a'.repeat(1001),
  'x'.repeat(20_000),
  "'; DROP TABLE invoices; --",
  '%00%0d%0a',
  '${jndi:ldap://x}',
  '\u0007\u001B[31mred',
];

/**
 * Strings no field accepts: invalid Unicode, NUL or another C0 control character but tab, line
 * feed and carriage return, or longer than the longest field (1000).
 */
export const isUnstorable = (v: string): boolean =>
  // eslint-disable-next-line no-control-regex -- the control characters refused
  !v.isWellFormed() || /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(v) || v.length > 1000;

export const BOUNDARY_NUMBERS: number[] = [
  MAX_ABS_CENTS,
  MAX_ABS_CENTS + 1,
  -MAX_ABS_CENTS - 1,
  Number.MAX_SAFE_INTEGER,
  2 ** 53 + 2,
  1e308,
  -0,
  0,
  -1,
  1,
  0.5,
  1.5,
  100_001,
  1_000_001,
  -1_000_001,
  1e-7,
  // Beyond PostgreSQL's bigint (and numeric(p, s) columns): never stored, always refused.
  2 ** 63,
  -(2 ** 63) - 4096,
  1e23,
];

export const BOUNDARY_DATES = [
  '1899-12-31',
  '1900-01-01',
  '2199-12-31',
  '2200-01-01',
  '2025-02-29',
  '2024-02-29',
  '2025-13-01',
  '2025-1-1',
  '20250301',
  '2025-03-01T00:00:00Z',
];

/** One generated request. */
export interface Case {
  label: string;
  /** A string is sent as UTF-8; bytes as they are. */
  body: string | Buffer | undefined;
  contentType: string;
  /**
   * `strict`: must be refused naming one of `paths`; `any`: refused naming them, or accepted;
   * `refuse`: not a JSON invoice document at all: must be refused (a 400 names some field).
   */
  expect: 'strict' | 'any' | 'refuse';
  /** Acceptable error paths (a refusal must name at least one, or a descendant). */
  paths: string[];
  /** The parsed body when it is JSON (for the rows a 2xx stores). */
  parsed?: unknown;
}

/**
 * Cross-field rules: a change to one field may be reported on its partner (a due date before
 * the changed invoice date), or on a sibling (the later of two equal line numbers or invoice
 * ids). `*` matches one path segment.
 */
export const COUPLED: [RegExp, string][] = [
  [/\/invoice_date$/, '/due_date'],
  [/\/service_period\/start$/, '/service_period/end'],
  [/\/lines\/\d+\/line_number$/, '/lines/*/line_number'],
  [/^\/invoices\/\d+\/invoice_id$/, '/invoices/*/invoice_id'],
  // quantity x unit_price_cents beyond the money limit is named at unit_price_cents.
  [/(\/lines\/\d+)\/quantity$/, '$1/unit_price_cents'],
  // Policy: AP hold_at must not be below review_at, also in overrides that inherit one of them.
  [/^\/queues\/ap\/review_at$/, '/queues/ap/hold_at'],
  [/^\/queues\/ap\/(review_at|hold_at)$/, '/overrides/*/queues/ap'],
  [/^(\/overrides\/\d+\/queues\/ap)\/(review_at|hold_at)$/, '$1'],
];

export function relatedPaths(path: string): string[] {
  const out = [path];
  for (const [re, partner] of COUPLED) if (re.test(path)) out.push(path.replace(re, partner));
  return out;
}

/** True when `named` is `want` or inside it (`*` in `want` matches one segment). */
export function names(named: string, want: string): boolean {
  const a = named.split('/');
  const b = want.split('/');
  return a.length >= b.length && b.every((seg, i) => seg === '*' || seg === a[i]);
}

/** Mutations of one valid body at one pointer. */
export function mutationArb(route: WriteRoute): fc.Arbitrary<Case> {
  const base = route.valid(0) as Json;
  const all = pointers(base);
  const strings = all.filter((p) => typeof p.value === 'string');
  const numbers = all.filter((p) => typeof p.value === 'number');
  const objects = all.filter((p) => typeOf(p.value) === 'object');
  const json = (label: string, body: Json, expectKind: Case['expect'], paths: string[]): Case => ({
    label,
    body: JSON.stringify(body),
    contentType: 'application/json',
    expect: expectKind,
    paths,
    parsed: body,
  });
  // Refusals are cheap and accepted requests run the whole pipeline: weight towards the former.
  // Each kind of mutation needs some pointers (`need`); a route without dates gets no date ones.
  const dates = strings.filter((p) => /date|start|end/.test(p.path));
  const prices = numbers.filter((p) => p.path.endsWith('/unit_price_cents'));
  const kinds: { weight: number; need: unknown[]; arbitrary: () => fc.Arbitrary<Case> }[] = [
    // A value of another JSON type: always invalid (no field is nullable or polymorphic).
    {
      weight: 6,
      need: all,
      arbitrary: () =>
        fc
          .tuple(fc.constantFrom(...all), fc.constantFrom(...WRONG_TYPES))
          .filter(
            ([p, v]) =>
              typeOf(v) !== typeOf(p.value) && !(typeOf(p.value) === 'number' && typeOf(v) === 'number'),
          )
          .map(([p, v]) =>
            json(`wrong type ${JSON.stringify(v)} at ${p.path}`, put(base, p.path, v), 'strict', [p.path]),
          ),
    },
    // A removed field or array element: invalid when required, else accepted.
    {
      weight: 2,
      need: all,
      arbitrary: () =>
        fc.constantFrom(...all).map((p) =>
          json(
            `removed ${p.path}`,
            edit(base, p.path, (o, k) => (Array.isArray(o) ? o.splice(Number(k), 1) : delete o[k])),
            'any',
            [p.path, p.path.replace(/\/[^/]+$/, '')].filter((x) => x !== ''),
          ),
        ),
    },
    // Hostile text in any string field.
    {
      weight: 3,
      need: strings,
      arbitrary: () =>
        fc
          .tuple(fc.constantFrom(...strings), fc.constantFrom(...HOSTILE_STRINGS))
          .map(([p, v]) =>
            json(
              `hostile string ${JSON.stringify(v.slice(0, 20))} at ${p.path}`,
              put(base, p.path, v),
              isUnstorable(v) ? 'strict' : 'any',
              relatedPaths(p.path),
            ),
          ),
    },
    // Random full-Unicode text, including unpaired surrogates.
    {
      weight: 2,
      need: strings,
      arbitrary: () =>
        fc
          .tuple(fc.constantFrom(...strings), fc.string({ unit: 'binary', maxLength: 40 }))
          .map(([p, v]) =>
            json(`random string at ${p.path}`, put(base, p.path, v), 'any', relatedPaths(p.path)),
          ),
    },
    // Boundary numbers.
    {
      weight: 2,
      need: numbers,
      arbitrary: () =>
        fc
          .tuple(fc.constantFrom(...numbers), fc.constantFrom(...BOUNDARY_NUMBERS))
          .map(([p, v]) =>
            json(
              `boundary ${v} at ${p.path}`,
              put(base, p.path, v),
              Math.abs(v) > MAX_ABS_CENTS ? 'strict' : 'any',
              relatedPaths(p.path),
            ),
          ),
    },
    // Random integers and doubles.
    {
      weight: 2,
      need: numbers,
      arbitrary: () =>
        fc
          .tuple(
            fc.constantFrom(...numbers),
            fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
          )
          .map(([p, v]) =>
            json(`number ${v} at ${p.path}`, put(base, p.path, v), 'any', relatedPaths(p.path)),
          ),
    },
    // Boundary and malformed dates in date fields.
    {
      weight: 2,
      need: dates,
      arbitrary: () =>
        fc
          .tuple(fc.constantFrom(...dates), fc.constantFrom(...BOUNDARY_DATES))
          .map(([p, v]) => json(`date ${v} at ${p.path}`, put(base, p.path, v), 'any', relatedPaths(p.path))),
    },
    // A line whose quantity x unit price is beyond the money limit (each within its own).
    {
      weight: 1,
      need: prices,
      arbitrary: () =>
        fc
          .tuple(
            fc.constantFrom(...prices),
            fc.constantFrom(1_000_000, -1_000_000, 1000.5, 2),
            fc.integer({ min: -MAX_ABS_CENTS, max: MAX_ABS_CENTS }),
          )
          .map(([p, quantity, unit]) => {
            const line = p.path.replace(/\/unit_price_cents$/, '');
            const body = put(put(base, `${line}/quantity`, quantity), p.path, unit);
            return json(
              `quantity ${quantity} x unit price ${unit} at ${line}`,
              body,
              Math.abs(quantity * unit) > MAX_ABS_CENTS ? 'strict' : 'any',
              relatedPaths(p.path),
            );
          }),
    },
    // Unknown properties (a misspelt field is reported, never ignored).
    {
      weight: 3,
      need: all,
      arbitrary: () =>
        fc
          .tuple(
            fc.constantFrom({ path: '', value: base }, ...objects),
            fc.constantFrom('colour', 'constructor', 'Total_cents', 'ÿ', 'a'.repeat(300)),
          )
          .map(([p, key]) =>
            json(
              `extra property ${key.slice(0, 20)} at ${p.path || '/'}`,
              p.path === '' ? { ...(base as object), [key]: 1 } : put(base, `${p.path}/${key}`, 1),
              'strict',
              [`${p.path}/${key}`],
            ),
          ),
    },
  ];
  return fc.oneof(
    ...kinds.filter((k) => k.need.length > 0).map((k) => ({ weight: k.weight, arbitrary: k.arbitrary() })),
  );
}

/** Requests that are not a JSON document of the right kind at all. */
export function rawArb(route: WriteRoute): fc.Arbitrary<Case> {
  const text = JSON.stringify(route.valid(0));
  const raw = (label: string, body: string | undefined, contentType = 'application/json'): Case => ({
    label,
    body,
    contentType,
    expect: 'refuse',
    paths: ['/'],
  });
  return fc.oneof(
    fc.integer({ min: 1, max: text.length - 1 }).map((n) => raw(`truncated at ${n}`, text.slice(0, n))),
    fc.string({ unit: 'binary', maxLength: 200 }).map((s) => raw('random text', s)),
    fc.uint8Array({ maxLength: 200 }).map((b) => raw('random bytes', Buffer.from(b).toString('latin1'))),
    fc
      .constantFrom('null', 'true', '0', '"x"', '[]', '[{}]', '{}', '""', '1e999', '{"invoices":null}')
      .map((b) => raw(`scalar ${b}`, b)),
    fc.integer({ min: 1000, max: 5000 }).map((d) => raw(`nesting depth ${d}`, '['.repeat(d) + ']'.repeat(d))),
    fc
      .constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}')
      .map((b) => raw('prototype poisoning', b)),
    fc
      .constantFrom(
        'text/plain',
        'application/xml',
        'multipart/form-data; boundary=x',
        'application/x-www-form-urlencoded',
      )
      .map((ct) => raw(`content type ${ct}`, text, ct)),
    fc.constant(raw('empty body', undefined)),
    fc.constant(raw('oversized body', JSON.stringify({ pad: 'x'.repeat(300 * 1024) }))),
    // Refused naming the place, never read as U+FFFD or as the last of two values.
    fc
      .tuple(
        fc.integer({ min: 0, max: text.length }),
        fc.constantFrom([0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf]),
      )
      .map(([at, bad]): Case => ({
        ...raw(`bytes ${bad.map((b) => b.toString(16)).join(' ')} at ${at}`, undefined),
        body: Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bad), Buffer.from(text.slice(at))]),
        expect: 'strict',
      })),
    fc.constantFrom(...Object.keys(route.valid(0) as object)).map((key): Case => ({
      ...raw(`repeated key ${key}`, `{${JSON.stringify(key)}:null,${text.slice(1)}`),
      expect: 'strict',
      paths: [`/${key}`],
    })),
  );
}
