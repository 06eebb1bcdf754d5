/**
 * The one strict UTF-8 decoding of outside bytes: API bodies (JSON, NDJSON, FHIR), intake
 * documents (X12, UBL) and the CLI's JSONL and CSV files. A byte that is not part of valid
 * UTF-8 is refused with its offset, never replaced with U+FFFD (a replacing decoder would
 * store altered text). Each reader turns {@link NotUtf8Error} into its own refusal, naming the
 * place it knows (segment, line, file).
 */
import { isUtf8 } from 'node:buffer';

/** Names of UTF-8 a `charset` parameter or an XML `encoding` may give, lower case (US-ASCII is a subset). */
export const UTF8_NAMES: ReadonlySet<string> = new Set(['utf-8', 'utf8', 'us-ascii']);

/**
 * Bytes that are not UTF-8: `offset` of the first bad byte (0-based), `hex` its value (`0xe9`);
 * the message, `holds a byte that is not UTF-8 at byte offset 12 (0xe9)`, follows a place.
 */
export class NotUtf8Error extends Error {
  readonly hex: string;
  constructor(
    readonly offset: number,
    byte: number,
  ) {
    const hex = `0x${byte.toString(16).padStart(2, '0')}`;
    super(`holds a byte that is not UTF-8 at byte offset ${offset} (${hex})`);
    this.name = 'NotUtf8Error';
    this.hex = hex;
  }
}

/** The first byte of `bytes` that is not part of valid UTF-8, or undefined when they all are. */
export function notUtf8(bytes: Uint8Array): NotUtf8Error | undefined {
  const bad = invalidUtf8Offset(bytes);
  return bad < 0 ? undefined : new NotUtf8Error(bad, bytes[bad]!);
}

/** Byte offset of the first byte of `bytes` that is not part of valid UTF-8, or -1. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Decoding replaces each invalid sequence with U+FFFD; the first U+FFFD not encoded in the
  // input (EF BF BD) marks it, and everything before it decoded as is.
  const text = buf.toString('utf8');
  let offset = 0;
  let from = 0;
  for (let at = text.indexOf('\uFFFD'); at >= 0; at = text.indexOf('\uFFFD', at + 1)) {
    offset += Buffer.byteLength(text.slice(from, at));
    if (buf[offset] !== 0xef || buf[offset + 1] !== 0xbf || buf[offset + 2] !== 0xbd) return offset;
    offset += 3;
    from = at + 1;
  }
  return -1;
}

/**
 * The text of UTF-8 bytes, a byte-order mark kept as U+FEFF (readers that allow one skip it).
 * @throws NotUtf8Error at the first byte that is not part of valid UTF-8.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  const bad = notUtf8(bytes);
  if (bad !== undefined) throw bad;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/**
 * `text` without its leading byte-order mark (U+FEFF), if any: the readers that allow one (JSON
 * bodies, the CLI's JSON, JSONL and CSV files) read what follows it.
 */
export function withoutBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** 1-based line of byte `offset` in `bytes` (lines end at LF). */
export function lineOfOffset(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < offset; i = bytes.indexOf(0x0a, i + 1)) line++;
  return line;
}
