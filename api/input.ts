/**
 * Guards every route's input before its schema and handler see it, so that routes added later
 * are covered too:
 *
 * - the JSON body parser refuses forbidden prototype keys (`__proto__`, `constructor.prototype`)
 *   naming their path (`/vendor/__proto__`), instead of the whole body, and bodies nested
 *   deeper than any schema (which the checks below would have to recurse through);
 * - a `preValidation` hook refuses text PostgreSQL cannot store (NUL characters, unpaired
 *   surrogates) in the body, the path parameters and the query string, naming the field as
 *   schema errors do (`/name`, `/params/vendor_id`, `/querystring/subject_id`), before any
 *   store access.
 */
import type { FastifyInstance } from 'fastify';
import { TriageError, type FieldError } from '../core/errors.js';
import { checkStrings } from '../core/validate.js';

/** Most field errors one guard reports. */
const MAX_ERRORS = 20;

/** Escapes a property name for a JSON pointer (RFC 6901). */
const escape = (k: string): string => k.replaceAll('~', '~0').replaceAll('/', '~1');

/** Deepest nesting of arrays and objects a body may have (no route's schema nests half as deep). */
export const MAX_BODY_DEPTH = 64;

/**
 * The first problem of a parsed body's shape, walked without recursion: a forbidden prototype
 * key (`/vendor/__proto__`, `/constructor/prototype`) or nesting beyond {@link MAX_BODY_DEPTH}.
 */
export function bodyShapeError(root: unknown): FieldError | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: root, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH)
      return { path: '/', message: `nests arrays or objects deeper than ${MAX_BODY_DEPTH} levels` };
    const entries: [string, unknown][] = Array.isArray(v)
      ? v.map((x, i): [string, unknown] => [String(i), x])
      : Object.entries(v);
    for (const [k, x] of entries) {
      if (!Array.isArray(v)) {
        if (k === '__proto__')
          return { path: `${path}/__proto__`, message: 'is a forbidden property name (prototype pollution)' };
        if (k === 'constructor' && x !== null && typeof x === 'object' && Object.hasOwn(x, 'prototype'))
          return {
            path: `${path}/constructor/prototype`,
            message: 'is a forbidden property name (prototype pollution)',
          };
      }
      stack.push({ v: x, path: `${path}/${escape(k)}`, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * Parses a JSON request body.
 * @throws TriageError `TRIAGE_REQUEST_INVALID` for an empty, malformed or too deeply nested
 *   body, or one holding a forbidden prototype key (named by its path).
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0)
    throw new TriageError('TRIAGE_REQUEST_INVALID', 'request body is empty', [
      { path: '/', message: 'is required' },
    ]);
  let value: unknown;
  try {
    // JSON.parse defines "__proto__" as an own property (never the prototype); refused below.
    value = JSON.parse(text) as unknown;
  } catch {
    throw new TriageError('TRIAGE_REQUEST_INVALID', 'request body is not valid JSON', [
      { path: '/', message: 'is not valid JSON' },
    ]);
  }
  const bad = bodyShapeError(value);
  if (bad !== undefined)
    throw new TriageError('TRIAGE_REQUEST_INVALID', `request body invalid: ${bad.path} ${bad.message}`, [
      bad,
    ]);
  return value;
}

/** Installs the JSON body parser and the storable-text hook on `app` (before any route). */
export function installInputGuards(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  app.addHook('preValidation', async (req) => {
    const request: FieldError[] = [];
    checkStrings(req.params, '/params', request, MAX_ERRORS);
    checkStrings(req.query, '/querystring', request, MAX_ERRORS);
    const body: FieldError[] = [];
    checkStrings(req.body, '', body, MAX_ERRORS);
    const errors = [...request, ...body.map((e) => (e.path === '' ? { ...e, path: '/' } : e))];
    if (errors.length === 0) return;
    const head = errors
      .slice(0, 3)
      .map((e) => `${e.path} ${e.message}`)
      .join('; ');
    throw new TriageError(
      request.length > 0 ? 'TRIAGE_REQUEST_INVALID' : 'TRIAGE_INPUT_INVALID',
      `${errors.length} field${errors.length === 1 ? '' : 's'} invalid: ${head}`,
      errors,
    );
  });
}
