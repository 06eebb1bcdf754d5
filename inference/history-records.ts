/**
 * A history import's record as it was read (request index or file line) and how a bad one is
 * named: the field errors, the 400's detail and the CLI's report all say where the record is
 * (`/4 (line 6)`, `line 12`, `rows 4-6`). Used by inference/history.ts.
 */
import { isTriageError, type FieldError } from '../core/errors.js';
import { describeFieldErrors } from '../core/validate.js';

/** One record as read from a request or file: unvalidated, with where it came from. */
export interface HistoryInput {
  /** `/3` (API record index) or `line 12` / `rows 4-6` (file). */
  location: string;
  /** File line of an API record read from an NDJSON body (1-based), named next to `location`. */
  line?: number;
  /** The record, parsed. */
  value?: unknown;
  /**
   * The record as JSON text instead of `value`, parsed where it is validated (in a worker thread
   * when the import has workers, `HistoryStreamOptions.prepare` of inference/history.ts); bad JSON is reported as
   * `not valid JSON`.
   */
  text?: string;
  /**
   * Set when the record could not be parsed at all: what is wrong with it, a predicate of the
   * record (`not valid JSON`, `is not valid JSON`, `holds a byte that is not UTF-8 ...`).
   */
  parseError?: string;
  /**
   * Set when the record was parsed but the parser refused some of its fields (a number written
   * with a fraction or exponent in an integer field: api/body/json.ts), at paths within the
   * record; the record is refused with these errors.
   */
  fieldErrors?: FieldError[];
}

/** A record that was not imported, with why (field paths inside the invoice). */
export interface HistoryRecordError {
  location: string;
  errors: string[];
}

export function recordError(input: HistoryInput, e: unknown): HistoryRecordError {
  if (input.parseError) return { location: input.location, errors: [input.parseError] };
  if (isTriageError(e))
    return {
      location: input.location,
      errors: e.errors.length > 0 ? e.errors.map((x) => `${x.path} ${x.message}`) : [e.message],
    };
  throw e;
}

/** A record as errors name it: its location, and its file line when it has one (`/4 (line 6)`). */
export function recordName(r: { location: string; line?: number }): string {
  return r.line === undefined ? r.location : `${r.location} (line ${r.line})`;
}

/**
 * A field error of a record, at the path under its location (`/3/lines/0/hcpcs`; the record
 * itself is `/3`, not `/3/`), its message prefixed by the record's file line when it has one.
 */
export function recordFieldError(
  r: { location: string; line?: number },
  path: string,
  message: string,
): FieldError {
  return {
    path: path === '' || path === '/' ? r.location : `${r.location}${path}`,
    message: r.line === undefined ? message : `line ${r.line}: ${message}`,
  };
}

/**
 * The `detail` of a refused record: its name once, then its errors at paths within the record
 * (`/2 (line 4): 1 field invalid: /total_cents must not be positive on a credit memo`,
 * `/2 (line 4) is not valid JSON`).
 */
export function recordDetail(input: HistoryInput, e: unknown): string {
  const name = recordName(input);
  if (input.parseError)
    return `${name} ${input.parseError.startsWith('not ') ? 'is ' : ''}${input.parseError}`;
  if (isTriageError(e, 'TRIAGE_INPUT_INVALID') && e.errors.length > 0)
    return `${name}: ${describeFieldErrors(e.errors)}`;
  return `${name}: ${isTriageError(e) ? e.message : String(e)}`;
}

/** The field errors of a bad record, at paths under its location. */
export function fieldErrorsOf(input: HistoryInput, e: unknown): FieldError[] {
  if (input.parseError) return [recordFieldError(input, '', input.parseError)];
  if (isTriageError(e, 'TRIAGE_INPUT_INVALID'))
    return e.errors.length > 0
      ? e.errors.map((x) => recordFieldError(input, x.path, x.message))
      : [recordFieldError(input, '', e.message)];
  throw e;
}
