/**
 * Guards every route's input before its schema and handler see it, so that routes added later
 * are covered too (the body parsers in api/body/ refuse what cannot be parsed faithfully):
 * a `preValidation` hook refuses text PostgreSQL cannot store (NUL characters, unpaired
 *   surrogates) in the body, the path parameters and the query string, naming the field as
 *   schema errors do (`/name`, `/params/vendor_id`, `/querystring/subject_id`), before any
 *   store access;
 * - {@link validatorCompiler} refuses a query string or path number that TypeBox's conversion
 *   would silently truncate (`after=1.5` read as 1), and a scalar query parameter given twice.
 */
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify';
import type { TSchema } from 'typebox';
import { TriageError, type FieldError } from '../core/errors.js';
import { checkStrings, describeFieldErrors } from '../core/validate.js';
import { BODY_INVALID } from './problem.js';

/** Most field errors one guard reports. */
const MAX_ERRORS = 20;

/** Installs the storable-text hook on `app` (before any route). */
export function installInputGuards(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    const request: FieldError[] = [];
    checkStrings(req.params, '/params', request, MAX_ERRORS);
    checkStrings(req.query, '/querystring', request, MAX_ERRORS);
    const body: FieldError[] = [];
    checkStrings(req.body, '', body, MAX_ERRORS);
    const errors = [...request, ...body.map((e) => (e.path === '' ? { ...e, path: '/' } : e))];
    if (errors.length === 0) return;
    throw new TriageError(
      request.length > 0 ? 'TRIAGE_REQUEST_INVALID' : BODY_INVALID,
      describeFieldErrors(errors),
      errors,
    );
  });
}

/**
 * The TypeBox validator compiler of `@fastify/type-provider-typebox`, except that a query-string,
 * path or header value whose conversion changed the number it spells (`"1.5"` converted to the
 * integer 1) is an error at that property ("must be an integer"), not a silent truncation.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = (route) => {
  const inner = TypeBoxValidatorCompiler(route) as (value: unknown) => ValidationResult;
  if (route.httpPart === 'body') return inner;
  const properties = (route.schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  return (value: unknown): ValidationResult => {
    // A copy: the conversion may write the converted values into `value`.
    const raw: Record<string, unknown> = isRecord(value) ? { ...value } : {};
    // A parameter given twice (`limit=1&limit=2`) arrives as an array: say so, rather than
    // "must be integer" about a value the client never wrote.
    const repeated: FastifySchemaValidationError[] = Object.entries(raw)
      .filter(([key, v]) => Array.isArray(v) && key in properties && properties[key]!.type !== 'array')
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
      if (typeof converted === 'number' && typeof text === 'string' && Number(text) !== converted)
        errors.push({
          keyword: 'type',
          instancePath: `/${key}`,
          schemaPath: `#/properties/${key}`,
          params: {},
          message: 'must be an integer',
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
