/**
 * Array parameters as PostgreSQL array literals, written once per parameter: the text the `pg`
 * driver writes for them (its `prepareValue`: `{"a","b\"c",NULL}`, every element quoted, `\` and
 * `"` escaped with a backslash), built as one flat string. The driver builds it by appending to a
 * string element by element and runs two regular-expression replacements on every element, about
 * 90 KB of garbage per scored invoice of a batch (the scoring write's, audit's, events' and line
 * block's column arrays), and its rope is flattened again when the driver counts its bytes.
 */

/** An element the driver's literal would escape. */
const NEEDS_ESCAPE = /["\\]/;
/** What it escapes, each with a backslash before it (the driver's two replacements in one pass). */
const ESCAPED = /["\\]/g;

/**
 * The array literal the `pg` driver sends for `values` (one dimension), or `values` itself when an
 * element is other than a string, a finite or non-finite number, a bigint, a boolean, `null` or
 * `undefined` (a nested array, a Date, a Buffer, an object): the driver then writes it as before.
 * Strings are written as they are (no Unicode normalisation, lone surrogates included: the driver
 * encodes the whole literal to UTF-8 as it did).
 */
export function arrayLiteral(values: readonly unknown[]): string | readonly unknown[] {
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x === null || x === undefined) parts[i] = 'NULL';
    else if (typeof x === 'string')
      parts[i] = NEEDS_ESCAPE.test(x) ? `"${x.replace(ESCAPED, '\\$&')}"` : `"${x}"`;
    else if (typeof x === 'number' || typeof x === 'bigint' || typeof x === 'boolean')
      parts[i] = `"${String(x)}"`;
    else return values;
  }
  return `{${parts.join(',')}}`;
}

/** `values` with each array parameter as its {@link arrayLiteral}; the others as they are. */
export function withArrayLiterals(values: readonly unknown[]): unknown[] {
  return values.map((v) => (Array.isArray(v) ? arrayLiteral(v) : v));
}
