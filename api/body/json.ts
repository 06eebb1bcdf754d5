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
 *   as 0) and a negative zero (`-0`, `-0.0e5`: send 0), at their pointer;
 * - given the schema the value is validated with, a number written with a fraction or an
 *   exponent (`12.50`, `215.0`, `2.15e4`) where the schema declares an integer (money in cents,
 *   counts; core/integer-fields.ts), at its pointer (`/lines/2/unit_price_cents`): `JSON.parse`
 *   reads `215.00` as the integer 215, so dollars sent in a cents field would pass.
 *
 * On request (`inexact`) it also reports, without refusing them, the numbers `JSON.parse` reads as
 * another value than the decimal written (`1.0000000000000001` as 1), by pointer with their text,
 * for readers that must not take the rounded double (FHIR `Money.value`, intake/fhir.ts).
 *
 * `JSON.parse` reads the value; one linear scan of the text then checks keys, numbers and depth.
 */
import { MAX_REPORTED_ERRORS, TriageError, type FieldError } from '../../core/errors.js';
import {
  integerFieldAt,
  integerFieldsOf,
  integerNumeralMessage,
  type IntegerFields,
} from '../../core/integer-fields.js';
import { NotUtf8Error, decodeUtf8, withoutBom } from '../../core/utf8.js';
import { NEGATIVE_ZERO, describeFieldErrors } from '../../core/validate.js';

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
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

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
  if (Object.is(value, -0)) return NEGATIVE_ZERO;
  return undefined;
}

/** A JSON number literal as `<sign><digits without leading or trailing zeros>e<exponent>` ('0' for zero). */
function decimalKey(literal: string): string | undefined {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (m === null) return undefined;
  const [, sign, int = '', frac = '', exp = '0'] = m;
  const significant = (int + frac).replace(/^0+/, '');
  if (significant === '') return '0';
  const digits = significant.replace(/0+$/, '');
  return `${sign}${digits}e${Number(exp) - frac.length + (significant.length - digits.length)}`;
}

/**
 * Whether `JSON.parse` reads a JSON number literal as the decimal written: false when the
 * nearest double is another number (`1.0000000000000001` reads as 1, `9007199254740993` as
 * 9007199254740992) or out of range (`1e400`).
 */
export function readsExactly(literal: string): boolean {
  const key = decimalKey(literal);
  return key !== undefined && key === decimalKey(String(Number(literal)));
}

/**
 * Receives, by JSON pointer, the literal text of every number `JSON.parse` does not read as the
 * decimal written ({@link readsExactly}), for readers that must refuse such numbers (money in a
 * FHIR `Money.value`, intake/fhir.ts) rather than take the rounded double.
 */
export type InexactNumbers = Map<string, string>;

/** The integer place of `fields` at the scan's position, if the value there must be an integer. */
function integerPlace(fields: IntegerFields, stack: readonly Frame[]): boolean {
  let at: IntegerFields | undefined = fields;
  for (let k = 0; k < stack.length && at !== undefined; k++) {
    const f = stack[k]!;
    at = integerFieldAt(at, f.keys === null ? f.index : f.key);
  }
  return at?.integer === true;
}

/**
 * Numbers written with a fraction or an exponent in integer places, as the scan finds them:
 * the first {@link MAX_REPORTED_ERRORS} and how many in all.
 */
export interface IntegerNumeralErrors {
  errors: FieldError[];
  count: number;
}

/**
 * The first problem of the keys, numbers and nesting of a valid JSON text: a repeated key, a
 * forbidden prototype key, a number read as 0 that is not ({@link numberProblem}), or nesting
 * beyond {@link MAX_BODY_DEPTH}; undefined when there is none.
 * @param integers the integer places of the schema the value is validated with
 *   (core/integer-fields.ts): a number written with a fraction or an exponent there is added
 *   to `numerals` (the scan goes on) rather than checked by {@link numberProblem}.
 * @param numerals receives those numbers' pointers and messages.
 * @param inexact when given, receives every number not read as written (see {@link InexactNumbers}).
 */
export function jsonKeyProblem(
  text: string,
  integers?: IntegerFields,
  numerals: IntegerNumeralErrors = { errors: [], count: 0 },
  inexact?: InexactNumbers,
): FieldError | undefined {
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
      // A valid JSON number: digits, then maybe a fraction (`.`) and an exponent (`e`/`E`).
      let j = i + 1;
      let written = false;
      for (let d = text.charCodeAt(j); j < n; d = text.charCodeAt(++j)) {
        if (d === DOT || d === LOWER_E || d === UPPER_E) written = true;
        else if (!((d >= ZERO && d <= NINE) || d === MINUS || d === PLUS)) break;
      }
      if (inexact !== undefined && !readsExactly(text.slice(i, j)))
        inexact.set(valuePointer(stack), text.slice(i, j));
      if (written && integers !== undefined && integerPlace(integers, stack)) {
        if (numerals.count++ < MAX_REPORTED_ERRORS) {
          const top = stack[stack.length - 1];
          const key = top === undefined ? '' : top.keys === null ? top.index : top.key;
          numerals.errors.push({ path: valuePointer(stack), message: integerNumeralMessage(key) });
        }
      } else if (written || c === MINUS) {
        // Without a fraction or exponent, only `-0` reads as another number than written
        // (JSON has no leading zeros), so other integers skip the conversion.
        const problem = numberProblem(text.slice(i, j));
        if (problem !== undefined) return { path: valuePointer(stack), message: problem };
      }
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
 * @param schema the schema the value is then validated with (a route's body schema): numbers
 *   written with a fraction or exponent where it declares integers are refused.
 * @returns the parsed value.
 * @throws TriageError `TRIAGE_REQUEST_INVALID` for an empty body (`/`), bytes that are not
 *   UTF-8 (`/`, the byte offset in the message), and as {@link parseJsonText}.
 * @param inexact as {@link parseJsonText}'s.
 */
export function parseJsonBody(bytes: Buffer, schema?: unknown, inexact?: InexactNumbers): unknown {
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
  return parseJsonText(text, schema, inexact);
}

/**
 * Parses JSON text (a decoded body, an NDJSON or JSONL line) as strictly as a body.
 * @param schema as {@link parseJsonBody}'s.
 * @throws TriageError `TRIAGE_REQUEST_INVALID` for malformed JSON (`/`), a repeated or forbidden
 *   key (its JSON pointer), a number underflowing to 0 or a negative zero (its JSON pointer) or
 *   too deep nesting (`/`); `TRIAGE_INPUT_INVALID` naming every number written with a fraction or
 *   an exponent where `schema` declares an integer (its JSON pointer; the first
 *   `MAX_REPORTED_ERRORS`, the detail says how many), when there is no problem of the first kind.
 * @param inexact when given, receives the pointer and literal of every number `JSON.parse` did
 *   not read as written (nothing is refused for it here).
 */
export function parseJsonText(text: string, schema?: unknown, inexact?: InexactNumbers): unknown {
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
  const numerals: IntegerNumeralErrors = { errors: [], count: 0 };
  const problem = jsonKeyProblem(text, integerFieldsOf(schema), numerals, inexact);
  if (problem !== undefined)
    throw refuse(`request body invalid: ${problem.path} ${problem.message}`, problem);
  if (numerals.count > 0)
    throw new TriageError(
      'TRIAGE_INPUT_INVALID',
      numerals.count > numerals.errors.length
        ? `${numerals.count} fields invalid; the first ${numerals.errors.length} are listed: numbers in integer fields must be written without a fraction or exponent`
        : describeFieldErrors(numerals.errors),
      numerals.errors,
    );
  return value;
}

/** A record of a file or stream (a JSONL or NDJSON line) as {@link parseJsonRecord} reads it. */
export type ParsedJsonRecord =
  { value: unknown } | { value: null; parseError: string } | { value: null; fieldErrors: FieldError[] };

/**
 * A JSON record parsed as strictly as a body ({@link parseJsonText}), or why not:
 * `fieldErrors` for numbers written with a fraction or exponent where `schema` declares
 * integers (pointers within the record), else `parseError`, a predicate of the record
 * (`not valid JSON`, `/lines/0/amount_cents repeats a key of the same object`).
 */
export function parseJsonRecord(text: string, schema?: unknown): ParsedJsonRecord {
  try {
    return { value: parseJsonText(text, schema) };
  } catch (e) {
    if (!(e instanceof TriageError)) throw e;
    if (e.code === 'TRIAGE_INPUT_INVALID') return { value: null, fieldErrors: e.errors };
    const at = e.errors[0];
    return {
      value: null,
      parseError: at === undefined || at.path === '/' ? 'not valid JSON' : `${at.path} ${at.message}`,
    };
  }
}
