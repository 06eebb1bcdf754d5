/**
 * The JSON request-body parser (`application/json`). It refuses, naming the place, what
 * `JSON.parse` would silently accept or change:
 *
 * - bytes that are not UTF-8 (a decoder would replace them with U+FFFD): `/` with the byte
 *   offset of the first bad byte;
 * - a key repeated in one object (`JSON.parse` keeps the last value): the JSON pointer of the
 *   repeated key, `/lines/0/total_cents`;
 * - forbidden prototype keys (`__proto__`, `constructor.prototype`) at their pointer;
 * - nesting deeper than {@link MAX_BODY_DEPTH} (no route's schema nests half as deep);
 * - a number that is not zero but too small to represent (`1e-400`, which `JSON.parse` reads
 *   as 0) and a negative zero (`-0`, `-0.0e5`: send 0), at their pointer.
 *
 * `JSON.parse` reads the value; one linear scan of the text then checks keys and depth.
 */
import { TriageError, type FieldError } from '../../core/errors.js';
import { NotUtf8Error, decodeUtf8, withoutBom } from '../../core/utf8.js';

export { invalidUtf8Offset } from '../../core/utf8.js';

/** Deepest nesting of arrays and objects a body may have. */
export const MAX_BODY_DEPTH = 64;

/** Escapes a property name for a JSON pointer (RFC 6901). */
export const pointerToken = (k: string): string => k.replaceAll('~', '~0').replaceAll('/', '~1');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

/** A container open at a point of the scan: an object (with its keys so far) or an array. */
type Frame = { keys: Set<string>; key: string; expectKey: boolean } | { keys: null; index: number };

const pointerOf = (stack: readonly Frame[], last: string): string =>
  stack
    .slice(0, -1)
    .map((f) => `/${f.keys === null ? f.index : pointerToken(f.key)}`)
    .join('') + `/${pointerToken(last)}`;

const PROTOTYPE_MESSAGE = 'is a forbidden property name (prototype pollution)';
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const NUMBER_CHAR = /[0-9eE+.-]/;

/** The pointer of the value starting at the scan's position (`/` at the root). */
const valuePointer = (stack: readonly Frame[]): string => {
  const top = stack[stack.length - 1];
  if (top === undefined) return '/';
  return pointerOf(stack, top.keys === null ? String(top.index) : top.key);
};

/**
 * What is wrong with a JSON number literal `JSON.parse` would change: a non-zero literal read as 0
 * (underflow) or a negative zero; undefined when it reads as written.
 */
function numberProblem(token: string): string | undefined {
  const value = Number(token);
  if (value !== 0) return undefined;
  if (/[1-9]/.test(token.split(/[eE]/)[0]!))
    return 'is a number too small to represent (it would be read as 0); send 0 or a larger value';
  if (Object.is(value, -0)) return 'is a negative zero; send 0';
  return undefined;
}

/**
 * The first problem of the keys, numbers and nesting of a valid JSON text: a repeated key, a
 * forbidden prototype key, a number read as 0 that is not ({@link numberProblem}), or nesting
 * beyond {@link MAX_BODY_DEPTH}; undefined when there is none.
 */
export function jsonKeyProblem(text: string): FieldError | undefined {
  const stack: Frame[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let j = i + 1;
      let escaped = false;
      for (let d = text.charCodeAt(j); d !== QUOTE; d = text.charCodeAt(j)) {
        if (d === BACKSLASH) {
          escaped = true;
          j += 2;
        } else j++;
      }
      const top = stack[stack.length - 1];
      if (top !== undefined && top.keys !== null && top.expectKey) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (top.keys.has(key))
          return { path: pointerOf(stack, key), message: 'repeats a key of the same object' };
        if (key === '__proto__') return { path: pointerOf(stack, key), message: PROTOTYPE_MESSAGE };
        const parent = stack[stack.length - 2];
        if (
          key === 'prototype' &&
          parent !== undefined &&
          parent.keys !== null &&
          parent.key === 'constructor'
        )
          return { path: pointerOf(stack, key), message: PROTOTYPE_MESSAGE };
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (stack.length >= MAX_BODY_DEPTH)
        return { path: '/', message: `nests arrays or objects deeper than ${MAX_BODY_DEPTH} levels` };
      stack.push(
        c === OPEN_OBJECT ? { keys: new Set(), key: '', expectKey: true } : { keys: null, index: 0 },
      );
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) stack.pop();
    else if (c === MINUS || (c >= ZERO && c <= NINE)) {
      let j = i + 1;
      while (j < n && NUMBER_CHAR.test(text[j]!)) j++;
      const problem = numberProblem(text.slice(i, j));
      if (problem !== undefined) return { path: valuePointer(stack), message: problem };
      i = j - 1;
    } else if (c === COMMA) {
      const top = stack[stack.length - 1]!;
      if (top.keys === null) top.index++;
      else top.expectKey = true;
    }
  }
  return undefined;
}

const refuse = (detail: string, error: FieldError): TriageError =>
  new TriageError('TRIAGE_REQUEST_INVALID', detail, [error]);

/**
 * Parses a JSON request body.
 * @param bytes the raw body.
 * @returns the parsed value.
 * @throws TriageError `TRIAGE_REQUEST_INVALID` for an empty body (`/`), bytes that are not
 *   UTF-8 (`/`, the byte offset in the message), malformed JSON (`/`), a repeated or forbidden
 *   key (its JSON pointer), a number underflowing to 0 or a negative zero (its JSON pointer) or
 *   too deep nesting (`/`).
 */
export function parseJsonBody(bytes: Buffer): unknown {
  if (bytes.length === 0) throw refuse('request body is empty', { path: '/', message: 'is required' });
  let text: string;
  try {
    text = decodeUtf8(bytes);
  } catch (e) {
    if (!(e instanceof NotUtf8Error)) throw e;
    throw refuse(`request body is not valid UTF-8: byte ${e.offset} (${e.hex})`, {
      path: '/',
      message: `holds a byte that is not UTF-8 at byte offset ${e.offset}`,
    });
  }
  // A UTF-8 byte-order mark before the value is ignored (RFC 8259 section 8.1 allows it), as
  // on the first line of an NDJSON body.
  text = withoutBom(text);
  let value: unknown;
  try {
    // JSON.parse defines "__proto__" as an own property (never the prototype); refused below.
    value = JSON.parse(text) as unknown;
  } catch (e) {
    // V8's message quotes the body; only whether it ended early is passed on.
    const truncated = /^Unexpected end of JSON input/.test((e as Error).message);
    throw refuse(
      `request body is not valid JSON${truncated ? ' (it ends before the value is complete)' : ''}`,
      {
        path: '/',
        message: truncated ? 'is not valid JSON: it ends before the value is complete' : 'is not valid JSON',
      },
    );
  }
  const problem = jsonKeyProblem(text);
  if (problem !== undefined)
    throw refuse(`request body invalid: ${problem.path} ${problem.message}`, problem);
  return value;
}
