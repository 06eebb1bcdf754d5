/**
 * Lookups in constant tables written as object literals. Such a table inherits
 * `Object.prototype`, so `TABLE[key]` returns the prototype's members for keys such as
 * `"constructor"`, `"toString"` or `"__proto__"`; keys read from a document, a description or a
 * request go through {@link ownValue} instead (or a `Map` of the table's own entries, where a
 * lookup per word is hot: features/text.ts).
 */

/**
 * The value `table` holds under `key` as its own property, or undefined when it holds none (keys
 * named like `Object.prototype`'s members included: `ownValue({ a: 1 }, 'constructor')` is
 * undefined).
 * @param table a constant lookup table (an object literal).
 * @param key a key taken from input; compared exactly (no case folding).
 */
export function ownValue<V>(table: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
