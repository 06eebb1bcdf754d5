/**
 * `expect(x).toBeProblem(status, code, path?)`: a vitest matcher for catalogued errors. `x` is
 * an HTTP response (`app.inject()` result: status, `application/problem+json`, body `code` and
 * `errors[].path`) or a thrown `TriageError` (its `status`, `code` and `errors[].path`). With
 * `path`, one of the field errors must name exactly that JSON pointer. Registered for every test
 * file by vitest.config.ts (`setupFiles`).
 */
import { expect } from 'vitest';
import { TriageError, type ErrorCode, type FieldError } from '../core/errors.js';

interface ProblemMatchers<R = unknown> {
  /** Asserts a problem+json response or a `TriageError` with this status, code and (optionally) field path. */
  toBeProblem(status: number, code: ErrorCode, path?: string): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends ProblemMatchers<T> {}
}

interface InjectedLike {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/** Status, code, field paths and media type of what was received. */
function received(x: unknown): {
  status: number;
  code: unknown;
  paths: string[];
  mediaOk: boolean;
  shown: string;
} {
  if (x instanceof TriageError)
    return {
      status: x.status,
      code: x.code,
      paths: x.errors.map((e) => e.path),
      mediaOk: true,
      shown: `TriageError ${x.code} (${x.status}): ${x.message}`,
    };
  const r = x as InjectedLike;
  let body: { code?: unknown; errors?: FieldError[] } = {};
  try {
    body = JSON.parse(r.body) as typeof body;
  } catch {
    // Not JSON: reported through the code below.
  }
  return {
    status: r.statusCode,
    code: body.code,
    paths: (body.errors ?? []).map((e) => e.path),
    mediaOk: /^application\/problem\+json/.test(String(r.headers['content-type'] ?? '')),
    shown: `${r.statusCode} ${String(r.headers['content-type'])} ${r.body.slice(0, 400)}`,
  };
}

expect.extend({
  toBeProblem(x: unknown, status: number, code: ErrorCode, path?: string) {
    const got = received(x);
    const pass =
      got.status === status &&
      got.code === code &&
      got.mediaOk &&
      (path === undefined || got.paths.includes(path));
    const want = `${status} ${code}${path === undefined ? '' : ` at ${path}`} (application/problem+json)`;
    return {
      pass,
      message: () =>
        pass
          ? `expected not to be the problem ${want}`
          : `expected the problem ${want}, got ${got.shown}` +
            (path !== undefined ? `; paths: ${JSON.stringify(got.paths)}` : ''),
    };
  },
});
