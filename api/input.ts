/**
 * Guards every route's input before its schema and handler see it, so that routes added later
 * are covered too (the body parsers in api/body/ refuse what cannot be parsed faithfully):
 * a `preValidation` hook refuses text PostgreSQL cannot store (NUL characters, unpaired
 *   surrogates) in the body, the path parameters and the query string, naming the field as
 *   schema errors do (`/name`, `/params/vendor_id`, `/querystring/subject_id`), before any
 *   store access.
 */
import type { FastifyInstance } from 'fastify';
import { TriageError, type FieldError } from '../core/errors.js';
import { checkStrings } from '../core/validate.js';
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
    const head = errors
      .slice(0, 3)
      .map((e) => `${e.path} ${e.message}`)
      .join('; ');
    throw new TriageError(
      request.length > 0 ? 'TRIAGE_REQUEST_INVALID' : BODY_INVALID,
      `${errors.length} field${errors.length === 1 ? '' : 's'} invalid: ${head}`,
      errors,
    );
  });
}
