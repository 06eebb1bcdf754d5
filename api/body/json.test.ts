import { describe, expect, it } from 'vitest';
import {
  invalidUtf8Offset,
  jsonKeyProblem,
  MAX_BODY_DEPTH,
  parseJsonBody,
  readsExactly,
  type InexactNumbers,
} from './json.js';

const parse = (text: string | Buffer) => () =>
  parseJsonBody(Buffer.isBuffer(text) ? text : Buffer.from(text));

/** What `f` throws (a test failure when it returns). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('parseJsonBody', () => {
  it('parses a body, escaped keys and strings included', () => {
    expect(parseJsonBody(Buffer.from('{"a":[1,{"b":"x,\\"}{"}],"c\\u0041":null}'))).toEqual({
      a: [1, { b: 'x,"}{' }],
      cA: null,
    });
  });

  it('names a repeated key by its JSON pointer, escaped spellings included', () => {
    expect(thrown(parse('{"total_cents":100,"total_cents":200}'))).toBeProblem(
      400,
      'TRIAGE_REQUEST_INVALID',
      '/total_cents',
    );
    expect(thrown(parse('{"lines":[{"a":1},{"code":"A","quantity":1,"code":"B"}]}'))).toBeProblem(
      400,
      'TRIAGE_REQUEST_INVALID',
      '/lines/1/code',
    );
    expect(thrown(parse('{"total_cents":1,"total\\u005fcents":2}'))).toBeProblem(
      400,
      'TRIAGE_REQUEST_INVALID',
      '/total_cents',
    );
    expect(thrown(parse('{"a/b":{"x~":1,"x~":2}}'))).toBeProblem(400, 'TRIAGE_REQUEST_INVALID', '/a~1b/x~0');
    // The same key in sibling objects, or as a value, is no repeat.
    expect(parseJsonBody(Buffer.from('[{"a":1},{"a":2},{"b":"a"}]'))).toEqual([
      { a: 1 },
      { a: 2 },
      { b: 'a' },
    ]);
  });

  it('ignores a UTF-8 byte-order mark before the value; says when a body ends early', () => {
    expect(parseJsonBody(Buffer.from('\ufeff{"a":1}', 'utf8'))).toEqual({ a: 1 });
    expect(() => parseJsonBody(Buffer.from('{"a":', 'utf8'))).toThrow(
      'request body is not valid JSON (it ends before the value is complete)',
    );
    // Other syntax errors do not quote the body back.
    expect(() => parseJsonBody(Buffer.from('{"secret": x}', 'utf8'))).toThrow(
      /^request body is not valid JSON$/,
    );
  });

  it('gives the byte offset of the first byte that is not UTF-8', () => {
    const body = Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xc3]), Buffer.from('"}')]);
    expect(invalidUtf8Offset(body)).toBe(12);
    expect(thrown(parse(body))).toBeProblem(400, 'TRIAGE_REQUEST_INVALID', '/');
    expect(() => parseJsonBody(body)).toThrow(/byte 12 \(0xc3\)/);
    // A real U+FFFD (EF BF BD) and 4-byte characters before the bad byte are counted in bytes.
    const after = Buffer.concat([Buffer.from('["\uFFFD😀"'), Buffer.from([0xff]), Buffer.from(']')]);
    expect(invalidUtf8Offset(after)).toBe(Buffer.byteLength('["\uFFFD😀"'));
    expect(invalidUtf8Offset(Buffer.from('{"a":"\uFFFD"}'))).toBe(-1);
  });

  it('names forbidden prototype keys and refuses deep nesting, empty and malformed bodies', () => {
    expect(thrown(parse('{"vendor":{"__proto__":{"x":1}}}'))).toBeProblem(
      400,
      'TRIAGE_REQUEST_INVALID',
      '/vendor/__proto__',
    );
    expect(thrown(parse('{"constructor":{"prototype":{"x":1}}}'))).toBeProblem(
      400,
      'TRIAGE_REQUEST_INVALID',
      '/constructor/prototype',
    );
    expect(parseJsonBody(Buffer.from('{"constructor":[{"prototype":1}]}'))).toEqual({
      constructor: [{ prototype: 1 }],
    });
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    expect(jsonKeyProblem(deep(MAX_BODY_DEPTH))).toBeUndefined();
    expect(jsonKeyProblem(deep(MAX_BODY_DEPTH + 1))?.message).toMatch(/deeper than 64/);
    expect(thrown(parse(''))).toBeProblem(400, 'TRIAGE_REQUEST_INVALID', '/');
    expect(thrown(parse('{"a":'))).toBeProblem(400, 'TRIAGE_REQUEST_INVALID', '/');
  });

  it('refuses a non-zero number read as 0 and a negative zero, naming the field; keeps the others', () => {
    expect(jsonKeyProblem('{"lines":[{"quantity":1e-400}]}')).toEqual({
      path: '/lines/0/quantity',
      message: 'is a number too small to represent (it would be read as 0); send 0 or a larger value',
    });
    expect(jsonKeyProblem('{"a":[1,0.' + '0'.repeat(400) + '1]}')?.path).toBe('/a/1');
    expect(jsonKeyProblem('{"total_cents":-0}')).toEqual({
      path: '/total_cents',
      message: 'is a negative zero; send 0',
    });
    expect(jsonKeyProblem('-0.0e5')?.path).toBe('/');
    expect(thrown(parse('{"x":1,"total_cents":-0}'))).toBeProblem(
      400,
      'TRIAGE_REQUEST_INVALID',
      '/total_cents',
    );
    for (const ok of ['{"a":0}', '{"a":0.0e-400}', '{"a":1e-9}', '{"a":-12.5e3,"b":"-0"}', '[0,-1,5e-324]'])
      expect(jsonKeyProblem(ok), ok).toBeUndefined();
  });
});

describe('numbers JSON.parse does not read as written', () => {
  it('readsExactly compares the decimal written with the double read', () => {
    for (const exact of [
      '0',
      '37.5',
      '37.50000000000000000000',
      '3.75e1',
      '0.1',
      '-12.34',
      '1e21',
      '9007199254740992',
    ])
      expect(readsExactly(exact), exact).toBe(true);
    for (const rounded of [
      '1.0000000000000001',
      '9007199254740993',
      '12345678901234567.89',
      '1e400',
      '0.1000000000000000055511151231257827',
    ])
      expect(readsExactly(rounded), rounded).toBe(false);
  });

  it('parseJsonBody reports them by pointer, without refusing the body', () => {
    const inexact: InexactNumbers = new Map();
    const text = '{"a":[1.5,{"b":1.0000000000000001}],"c/d":9007199254740993,"e":"1.0000000000000001"}';
    expect(parseJsonBody(Buffer.from(text), undefined, inexact)).toEqual({
      a: [1.5, { b: 1 }],
      'c/d': 9007199254740992,
      e: '1.0000000000000001',
    });
    expect([...inexact]).toEqual([
      ['/a/1/b', '1.0000000000000001'],
      ['/c~1d', '9007199254740993'],
    ]);
  });
});
