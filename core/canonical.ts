/**
 * Canonical JSON and its sha256: the one definition behind the audit chain's row and payload
 * hashes, idempotency fingerprints (invoices, batches, reviews) and policy hashes. Canonical
 * JSON is `safe-stable-stringify` output: keys sorted, no whitespace, `undefined` members
 * dropped. The audit chain's existing hashes depend on these bytes: never change them.
 */
import { createHash } from 'node:crypto';
import stringify from 'safe-stable-stringify';

/**
 * Canonical JSON (keys sorted, no whitespace) of a value.
 * @throws TypeError when the value has no JSON form (`undefined`, a function).
 */
export function canonicalJson(value: unknown): string {
  const s = stringify(value);
  if (s === undefined) throw new TypeError('value is not JSON-serialisable');
  return s;
}

/** Hex sha256 of text (as UTF-8) or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex sha256 of the canonical JSON of a value. @throws TypeError as {@link canonicalJson}. */
export function canonicalSha256(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
