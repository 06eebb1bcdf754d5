/**
 * Rows in PostgreSQL's binary COPY format (`COPY ... FROM STDIN (FORMAT binary)`), for bulk
 * writes of the history import (store/history.ts). Each value is written in its type's binary
 * wire form, so neither side formats or parses decimal text: a 128-dimension embedding is 516
 * bytes read as is, where its text literal is about 2,600 characters parsed by `strtof`.
 *
 * Format (PostgreSQL docs, "COPY: Binary Format"): an 11-byte signature, a flags word and a
 * header-extension length; then per row a 16-bit field count and, per field, a 32-bit byte
 * length (-1 for NULL) and the bytes; then a 16-bit -1. Every column written must be declared
 * in the COPY's column list in the same order, and each value must be of the column's exact
 * type (the server calls the type's receive function, no casts).
 */
import { writeBinaryVector } from './sql.js';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Days from 1970-01-01 to PostgreSQL's date epoch, 2000-01-01. */
const PG_EPOCH_DAYS = 10_957;
/** Element type of `text[]` (pg_type oid of `text`). */
const TEXT_OID = 25;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i;

/**
 * Writes rows of one COPY in the binary format into a growing buffer. Call {@link row} with the
 * field count, then one value method per field in column order, then {@link finish}.
 */
export class CopyBinaryWriter {
  private buf: Buffer;
  private at = 0;

  /** @param initialBytes first buffer size; it doubles as needed. */
  constructor(initialBytes = 1 << 16) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initialBytes));
    SIGNATURE.copy(this.buf, 0);
    this.buf.writeInt32BE(0, 11);
    this.buf.writeInt32BE(0, 15);
    this.at = 19;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.at + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  /** Starts a row of `fields` values. */
  row(fields: number): this {
    this.room(2);
    this.buf.writeInt16BE(fields, this.at);
    this.at += 2;
    return this;
  }

  /** A NULL of any type. */
  null(): this {
    this.room(4);
    this.buf.writeInt32BE(-1, this.at);
    this.at += 4;
    return this;
  }

  /** `text`, `varchar` or `char(n)` (UTF-8); null or undefined writes NULL. */
  text(s: string | null | undefined): this {
    if (s === null || s === undefined) return this.null();
    const max = s.length * 3;
    this.room(4 + max);
    const n = this.buf.write(s, this.at + 4, max, 'utf8');
    this.buf.writeInt32BE(n, this.at);
    this.at += 4 + n;
    return this;
  }

  /** `jsonb` from JSON text (format version 1, then the text). */
  jsonb(json: string): this {
    const max = json.length * 3;
    this.room(5 + max);
    const n = this.buf.write(json, this.at + 5, max, 'utf8');
    this.buf.writeInt32BE(n + 1, this.at);
    this.buf[this.at + 4] = 1;
    this.at += 5 + n;
    return this;
  }

  /**
   * `uuid` from its text form (`8-4-4-4-12` hex digits).
   * @throws RangeError when it is not a UUID.
   */
  uuid(id: string): this {
    const hex = id.replace(/-/g, '');
    if (!/^[0-9a-f]{32}$/i.test(hex)) throw new RangeError(`not a UUID: ${JSON.stringify(id)}`);
    this.room(20);
    this.buf.writeInt32BE(16, this.at);
    this.buf.write(hex, this.at + 4, 16, 'hex');
    this.at += 20;
    return this;
  }

  /** `integer` (int4). @throws RangeError when not a 32-bit integer. */
  int4(v: number): this {
    if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) throw new RangeError(`not an int4: ${v}`);
    this.room(8);
    this.buf.writeInt32BE(4, this.at);
    this.buf.writeInt32BE(v, this.at + 4);
    this.at += 8;
    return this;
  }

  /** `bigint` (int8) from a safe integer (cents). @throws RangeError when not a safe integer. */
  int8(v: number): this {
    if (!Number.isSafeInteger(v)) throw new RangeError(`not a safe integer: ${v}`);
    this.room(12);
    const hi = Math.floor(v / 2 ** 32);
    this.buf.writeInt32BE(8, this.at);
    this.buf.writeInt32BE(hi, this.at + 4);
    this.buf.writeUInt32BE(v - hi * 2 ** 32, this.at + 8);
    this.at += 12;
    return this;
  }

  /**
   * `date` from `YYYY-MM-DD` (days since 2000-01-01); null or undefined writes NULL.
   * @throws RangeError when not an ISO calendar date.
   */
  date(iso: string | null | undefined): this {
    if (iso === null || iso === undefined) return this.null();
    const m = ISO_DATE.exec(iso);
    if (!m) throw new RangeError(`not an ISO date: ${JSON.stringify(iso)}`);
    const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    this.room(8);
    this.buf.writeInt32BE(4, this.at);
    this.buf.writeInt32BE(Math.round(ms / 86_400_000) - PG_EPOCH_DAYS, this.at + 4);
    this.at += 8;
    return this;
  }

  /**
   * `numeric` of a finite number, exactly as its shortest decimal form (`String(v)`, so 0.1 is
   * 0.1 as the text protocol would store it).
   * @throws RangeError when not finite.
   */
  numeric(v: number): this {
    if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
    const { digits, weight, negative, dscale } = numericParts(String(v));
    this.room(12 + digits.length * 2);
    this.buf.writeInt32BE(8 + digits.length * 2, this.at);
    this.buf.writeInt16BE(digits.length, this.at + 4);
    this.buf.writeInt16BE(weight, this.at + 6);
    this.buf.writeUInt16BE(negative ? 0x4000 : 0, this.at + 8);
    this.buf.writeInt16BE(dscale, this.at + 10);
    let at = this.at + 12;
    for (const d of digits) {
      this.buf.writeInt16BE(d, at);
      at += 2;
    }
    this.at = at;
    return this;
  }

  /** One-dimensional `text[]` (no NULL elements); an empty list is the empty array. */
  textArray(items: readonly string[]): this {
    if (items.length === 0) {
      this.room(16);
      this.buf.writeInt32BE(12, this.at);
      this.buf.writeInt32BE(0, this.at + 4);
      this.buf.writeInt32BE(0, this.at + 8);
      this.buf.writeInt32BE(TEXT_OID, this.at + 12);
      this.at += 16;
      return this;
    }
    const lenAt = this.at;
    this.room(24);
    this.buf.writeInt32BE(1, this.at + 4);
    this.buf.writeInt32BE(0, this.at + 8);
    this.buf.writeInt32BE(TEXT_OID, this.at + 12);
    this.buf.writeInt32BE(items.length, this.at + 16);
    this.buf.writeInt32BE(1, this.at + 20);
    this.at += 24;
    for (const s of items) this.text(s);
    this.buf.writeInt32BE(this.at - lenAt - 4, lenAt);
    return this;
  }

  /**
   * pgvector `vector` (its receive format: 16-bit dimensions, 16 unused bits, float4 values),
   * components rounded to float4 as pgvector stores them.
   * @throws RangeError when a component is not finite as float4.
   */
  vector(v: ArrayLike<number>): this {
    const dim = v.length;
    this.room(8 + dim * 4);
    this.buf.writeInt32BE(4 + dim * 4, this.at);
    this.at = writeBinaryVector(this.buf, this.at + 4, v);
    return this;
  }

  /**
   * Appends rows encoded by another writer, byte for byte ({@link rowsSince} there, e.g. in a
   * worker thread): the rows must have this COPY's column list.
   */
  raw(rows: Uint8Array): this {
    this.room(rows.length);
    this.buf.set(rows, this.at);
    this.at += rows.length;
    return this;
  }

  /** Bytes written so far, the 19-byte header included: an offset for {@link rowsSince}. */
  get offset(): number {
    return this.at;
  }

  /**
   * A copy of the rows written from byte `from` ({@link offset}) on, in a fresh ArrayBuffer of
   * its own (transferable to another thread; no header, no trailer).
   */
  rowsSince(from: number): Uint8Array {
    return new Uint8Array(this.buf.subarray(from, this.at));
  }

  /** Ends the data and returns it (the writer must not be used afterwards). */
  finish(): Buffer {
    this.room(2);
    this.buf.writeInt16BE(-1, this.at);
    this.at += 2;
    return this.buf.subarray(0, this.at);
  }
}

/**
 * PostgreSQL's `numeric` parts of a decimal string (`-12.5`, `1e-7`): base-10000 digits, the
 * weight of the first digit (its power of 10000), the sign and the display scale (digits after
 * the point).
 * @throws RangeError when `s` is not a decimal number.
 */
export function numericParts(s: string): {
  digits: number[];
  weight: number;
  negative: boolean;
  dscale: number;
} {
  const m = DECIMAL.exec(s);
  if (!m) throw new RangeError(`not a decimal number: ${JSON.stringify(s)}`);
  const negative = m[1] === '-';
  let intPart = m[2]!;
  let frac = m[3] ?? '';
  const exp = m[4] ? Number(m[4]) : 0;
  if (exp > 0) {
    frac = frac.padEnd(exp, '0');
    intPart += frac.slice(0, exp);
    frac = frac.slice(exp);
  } else if (exp < 0) {
    intPart = intPart.padStart(-exp + 1, '0');
    frac = intPart.slice(exp) + frac;
    intPart = intPart.slice(0, exp);
  }
  intPart = intPart.replace(/^0+/, '');
  const dscale = frac.length;
  // Groups of four decimal digits aligned on the point.
  const intPadded = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0');
  const fracPadded = frac.padEnd(Math.ceil(frac.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intPadded.length; i += 4) groups.push(Number(intPadded.slice(i, i + 4)));
  for (let i = 0; i < fracPadded.length; i += 4) groups.push(Number(fracPadded.slice(i, i + 4)));
  let weight = intPadded.length / 4 - 1;
  // Leading and trailing zero groups are not stored.
  let first = 0;
  while (first < groups.length && groups[first] === 0) {
    first++;
    weight--;
  }
  let last = groups.length;
  while (last > first && groups[last - 1] === 0) last--;
  const digits = groups.slice(first, last);
  if (digits.length === 0) return { digits: [], weight: 0, negative: false, dscale };
  return { digits, weight, negative, dscale };
}
