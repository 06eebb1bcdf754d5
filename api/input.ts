/**
 * Guards every route's input before its schema and handler see it, so that routes added later
 * are covered too (the body parsers in api/body/ refuse what cannot be parsed faithfully):
 * - text PostgreSQL cannot store (NUL characters, unpaired surrogates) and other C0 control
 *   characters but tab, line feed and carriage return are refused before any store access,
 *   naming the field as schema errors do (`/name`, `/params/vendor_id`,
 *   `/querystring/subject_id`): in the path parameters and the query string at once
 *   (`preValidation`); in the body together with the body's schema and rule errors, in one 400
 *   ({@link withBodyTextErrors}), or before the handler of a route whose body passed its schema
 *   (`preHandler`), unless the route's own rules report such text (`config.bodyTextInRules`);
 * - {@link validatorCompiler} refuses a query-string or path integer written other than as an
 *   integer numeral (`after_seq=1e3`, `after=1.5`: the body's rule, core/integer-fields.ts), a
 *   number TypeBox's conversion would change, and a scalar query parameter given twice;
 * - a `/v1/` route that declares no query string takes none: `?x=1` is refused naming
 *   `/querystring/x`, as routes with a query schema refuse a parameter they do not declare.
 */
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type {
  FastifyInstance,
  FastifyRequest,
  FastifySchemaCompiler,
  FastifySchemaValidationError,
  RouteOptions,
} from 'fastify';
import { Type, type TSchema } from 'typebox';
import { TriageError, type FieldError } from '../core/errors.js';
import { integerFieldAt, integerFieldsOf, integerNumeralMessage } from '../core/integer-fields.js';
import { checkStrings, describeFieldErrors, printable } from '../core/validate.js';
import { bodySchemaOf } from './body/index.js';
import { pointerToken } from './body/json.js';
import { BODY_INVALID, capped } from './problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The handler's rules report unstorable text anywhere in a body that passed the schema (as
     * `checkInvoiceRules` does), before anything is written, so the guard leaves such a body to
     * them and adds its errors to theirs.
     */
    bodyTextInRules?: boolean;
  }
}

/** Most field errors one guard reports. */
const MAX_ERRORS = 20;

/** Unstorable-text errors of each request's body, until a 400 reports them. */
const bodyTextErrors = new WeakMap<FastifyRequest, FieldError[]>();

/** Longest path parameter the router matches (fastify's `maxParamLength`, its default). */
export const MAX_PARAM_LENGTH = 100;

/**
 * The path parameters of a request the router refused for a parameter longer than
 * {@link MAX_PARAM_LENGTH}, as field errors (`/params/vendor_id`): the route is found again
 * with each over-long segment replaced by a short stand-in, and the parameters holding a
 * stand-in are named. `/url` when no route matches even so.
 * @param app the instance whose routes are searched.
 * @param method the request method; @param url the request URL (path and query).
 */
export function longParamErrors(app: FastifyInstance, method: string, url: string): FieldError[] {
  const message = `is longer than ${MAX_PARAM_LENGTH} characters`;
  const stand = (i: number): string => `~long-parameter-${i}~`;
  const decodedLength = (segment: string): number => {
    try {
      return decodeURIComponent(segment).length;
    } catch {
      return segment.length;
    }
  };
  const path = url.split('?')[0]!;
  const shortened = path
    .split('/')
    .map((segment, i) => (decodedLength(segment) > MAX_PARAM_LENGTH ? stand(i) : segment))
    .join('/');
  const route = app.findRoute({ method: method as 'GET', url: shortened });
  const named = Object.entries((route?.params ?? {}) as Record<string, string>)
    .filter(([, value]) => /^~long-parameter-\d+~$/.test(value))
    .map(([name]) => ({ path: `/params/${name}`, message }));
  return named.length > 0 ? named : [{ path: '/url', message }];
}

/** Methods whose body fastify parses, so a route without a body schema must refuse one itself. */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Field errors of a body sent to a route that declares none (`POST /v1/worklist/:id/claim` takes
 * `ttl_seconds` in its query string), which the route would otherwise ignore without a word:
 * each property of an object, naming the query parameter of the same name, or `/` for any other
 * value. Nothing for no body or an empty object `{}` (what many clients send by default).
 * @param body the parsed body; @param query the route's query-string schema, if any.
 */
export function unexpectedBodyErrors(body: unknown, query: unknown): FieldError[] {
  if (body === undefined) return [];
  const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
  if (!isObject) return [{ path: '/', message: 'is not allowed: this route takes no request body' }];
  const queryParams = (query as { properties?: Record<string, unknown> } | undefined)?.properties ?? {};
  return Object.keys(body)
    .slice(0, MAX_ERRORS)
    .map((k) => ({
      path: `/${pointerToken(k)}`,
      message: Object.hasOwn(queryParams, k)
        ? `is not allowed in the body: this route takes no request body (${k} is a query parameter, ?${k}=...)`
        : 'is not allowed: this route takes no request body',
    }));
}

/**
 * Field errors of the query-string parameters of `url` whose name or value is not valid
 * percent-encoded UTF-8 (`?subject_id=%FF`, `?q=%`, `?q=%ED%A0%80`): the query parser keeps such
 * text as written, so the route would read `%FF` literally where the path router refuses it.
 * Each parameter named once (`/querystring/subject_id`; an undecodable name as written).
 * @param url the request URL (path and query).
 */
export function badQueryEncodingErrors(url: string): FieldError[] {
  const at = url.indexOf('?');
  if (at < 0) return [];
  const decode = (text: string): string | undefined => {
    try {
      return decodeURIComponent(text.replaceAll('+', ' '));
    } catch {
      return undefined;
    }
  };
  const errors = new Map<string, FieldError>();
  for (const pair of url.slice(at + 1).split('&')) {
    if (errors.size >= MAX_ERRORS) break;
    const eq = pair.indexOf('=');
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const name = decode(rawName);
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    if (name !== undefined && value !== undefined) continue;
    const path = `/querystring/${printable(name ?? rawName)}`;
    errors.set(path, { path, message: 'is not valid percent-encoded UTF-8' });
  }
  return [...errors.values()];
}

/** The query string of a route that takes no parameter. */
const NO_QUERY = Type.Object({}, { additionalProperties: false });

/** Installs the storable-text, bodyless-route and no-query hooks on `app` (before any route). */
export function installInputGuards(app: FastifyInstance): void {
  app.addHook('onRoute', (o: RouteOptions) => {
    if (o.url.startsWith('/v1/') && o.schema?.querystring === undefined)
      o.schema = { ...o.schema, querystring: NO_QUERY };
  });
  app.addHook('preValidation', async (req) => {
    const schema = req.routeOptions.schema;
    // A route declares its body by `schema.body` or `config.bodySchema` (bodySchemaOf: the
    // history import, whose NDJSON stream is read by the handler).
    if (BODY_METHODS.has(req.method) && schema !== undefined && bodySchemaOf(req) === undefined) {
      const unexpected = unexpectedBodyErrors(req.body, schema.querystring);
      if (unexpected.length > 0)
        throw new TriageError(BODY_INVALID, describeFieldErrors(unexpected), unexpected);
    }
    const request: FieldError[] = badQueryEncodingErrors(req.url);
    checkStrings(req.params, '/params', request, MAX_ERRORS);
    checkStrings(req.query, '/querystring', request, MAX_ERRORS);
    if (request.length > 0)
      throw new TriageError('TRIAGE_REQUEST_INVALID', describeFieldErrors(request), request);
    const body: FieldError[] = [];
    checkStrings(req.body, '', body, MAX_ERRORS);
    if (body.length > 0)
      bodyTextErrors.set(
        req,
        body.map((e) => (e.path === '' ? { ...e, path: '/' } : e)),
      );
  });
  app.addHook('preHandler', async (req) => {
    if (req.validationError !== undefined || req.routeOptions.config.bodyTextInRules === true) return;
    const text = bodyTextErrors.get(req);
    if (text !== undefined) throw new TriageError(BODY_INVALID, describeFieldErrors(text), text);
  });
}

/**
 * `te` with the unstorable-text errors the guard found in the request's body, when `te` is a
 * body error (`TRIAGE_INPUT_INVALID`): added after its own, without repeats, at most
 * `MAX_REPORTED_ERRORS` in all (`capped`). Each request's errors are added once; `te` itself
 * when there are none to add.
 */
export function withBodyTextErrors(req: FastifyRequest, te: TriageError): TriageError {
  const text = bodyTextErrors.get(req);
  if (text === undefined || te.code !== BODY_INVALID) return te;
  bodyTextErrors.delete(req);
  const seen = new Set(te.errors.map((e) => `${e.path}\u0000${e.message}`));
  const added = text.filter((e) => !seen.has(`${e.path}\u0000${e.message}`));
  if (added.length === 0) return te;
  const errors = [...te.errors, ...added];
  return capped(new TriageError(te.code, describeFieldErrors(errors), errors, { cause: te }));
}

/** How a query-string or path integer is written: digits after an optional minus sign. */
const INTEGER_NUMERAL = /^-?\d+$/;

/**
 * The TypeBox validator compiler of `@fastify/type-provider-typebox`, except that, in a query
 * string, path or headers:
 * - a value where the schema declares an integer (core/integer-fields.ts) must be written as an
 *   integer numeral ({@link INTEGER_NUMERAL}), as in a JSON body: `"1e3"` or `"2.0"` is an error
 *   at that property (`integerNumeralMessage`), not read as 1000 or 2;
 * - a value whose conversion changed the number it spells is an error at that property ("must be
 *   an integer"), not a silent truncation.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = (route) => {
  const inner = TypeBoxValidatorCompiler(route) as (value: unknown) => ValidationResult;
  if (route.httpPart === 'body') return inner;
  const properties = (route.schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  const integers = integerFieldsOf(route.schema);
  return (value: unknown): ValidationResult => {
    // A copy: the conversion may write the converted values into `value`.
    const raw: Record<string, unknown> = isRecord(value) ? { ...value } : {};
    // A parameter given twice (`limit=1&limit=2`) arrives as an array: say so, rather than
    // "must be integer" about a value the client never wrote.
    const repeated: FastifySchemaValidationError[] = Object.entries(raw)
      .filter(
        ([key, v]) => Array.isArray(v) && Object.hasOwn(properties, key) && properties[key]!.type !== 'array',
      )
      .map(([key, v]) => ({
        keyword: 'type',
        instancePath: `/${key}`,
        schemaPath: `#/properties/${key}`,
        params: {},
        message: `is given ${(v as unknown[]).length} times; give it once`,
      }));
    if (repeated.length > 0) return { error: repeated };
    const result = inner(value);
    if (result.error !== undefined || !isRecord(result.value)) return result;
    const errors: FastifySchemaValidationError[] = [];
    for (const [key, converted] of Object.entries(result.value)) {
      const text = raw[key];
      if (typeof converted !== 'number' || typeof text !== 'string') continue;
      const integer = integers !== undefined && integerFieldAt(integers, key)?.integer === true;
      const message =
        integer && !INTEGER_NUMERAL.test(text)
          ? integerNumeralMessage(key)
          : Number(text) !== converted
            ? 'must be an integer'
            : undefined;
      if (message !== undefined)
        errors.push({
          keyword: 'type',
          instancePath: `/${key}`,
          schemaPath: `#/properties/${key}`,
          params: {},
          message,
        });
    }
    return errors.length > 0 ? { error: errors } : result;
  };
};

interface ValidationResult {
  value?: unknown;
  error?: Error | FastifySchemaValidationError[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object';
}
