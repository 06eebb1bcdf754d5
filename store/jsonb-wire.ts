/**
 * JSON documents as statement parameters in jsonb's binary form, the form a multi-row write
 * sends its documents in (store/scoring-write.ts): one `$n::jsonb` parameter holding a JSON array
 * of them, split by `jsonb_array_elements` beside the other columns.
 */

/** OID of the built-in `jsonb` type (fixed in every PostgreSQL database). */
export const JSONB_OID = 3802;

/** The byte `[`, `,` and `]` in UTF-8. */
const OPEN = 0x5b;
const COMMA = 0x2c;
const CLOSE = 0x5d;

/**
 * `docs` as one JSON array in jsonb's binary form (`jsonb_recv`: the version byte 1, then the
 * UTF-8 text), for a `$n::jsonb` parameter: the bytes of `JSON.stringify(docs.map((d) => d ?? null))`
 * after the version byte (a document that JSON has no text for, such as `undefined`, is `null`
 * there too), so PostgreSQL parses the same text and stores the same values as from that
 * string sent as text. Each document is stringified alone and encoded straight into one buffer:
 * the array's text is never one string (for a group of scored invoices it is hundreds of KB,
 * which V8 builds as a rope and flattens again when the driver counts and encodes it).
 * A document's `toJSON` sees the key `""` here, its index in the array's `JSON.stringify`: the
 * documents written this way (invoices, decision responses, explanations, versions) are plain
 * data with no `toJSON` that reads its key.
 * Both engines take it (PGlite through the serializer store/pglite.ts installs for `jsonb`).
 */
export function jsonbArrayValue(docs: readonly unknown[]): Buffer {
  const texts = docs.map((d) => JSON.stringify(d ?? null) ?? 'null');
  const lengths = texts.map((t) => Buffer.byteLength(t));
  // Version, `[`, the documents with a comma between two, `]`.
  let bytes = 3 + Math.max(texts.length - 1, 0);
  for (const n of lengths) bytes += n;
  const buf = Buffer.allocUnsafe(bytes);
  buf[0] = 1;
  buf[1] = OPEN;
  let at = 2;
  for (let i = 0; i < texts.length; i++) {
    if (i > 0) buf[at++] = COMMA;
    at += buf.write(texts[i]!, at, lengths[i]!, 'utf8');
  }
  buf[at] = CLOSE;
  return buf;
}
