/**
 * The console's only way to the API: same-origin relative URLs, the API key from
 * sessionStorage as a Bearer token, problem+json turned into {@link ApiError}. A path that is
 * not a relative URL of this origin is refused before anything is sent, so the key never
 * leaves for another host.
 */

const KEY_STORAGE = 'invoice-triage.api-key';

/** The signed-in API key, or null. Kept in sessionStorage: gone when the tab closes. */
export const apiKey = {
  get: (): string | null => sessionStorage.getItem(KEY_STORAGE),
  set: (key: string): void => sessionStorage.setItem(KEY_STORAGE, key),
  clear: (): void => sessionStorage.removeItem(KEY_STORAGE),
};

/** A refused or failed API call: status, problem code and detail (from problem+json). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

/**
 * A path whose interpolated values are each one percent-encoded segment, for ids that come from
 * the page's URL or a form: `apiPath\`/v1/decisions/${id}/history\``. An id holding `/`, `?` or
 * `#` stays inside its segment.
 * @throws ApiError (status 0, `TRIAGE_CONSOLE_BAD_ID`) for an empty value or `.` / `..`, which a
 *   URL resolves as a directory step (to another route) instead of sending.
 */
export function apiPath(strings: TemplateStringsArray, ...values: (string | number)[]): string {
  return strings.reduce((out, s, i) => {
    if (i === 0) return s;
    const value = String(values[i - 1]);
    if (value === '' || value === '.' || value === '..')
      throw new ApiError(0, 'TRIAGE_CONSOLE_BAD_ID', `not an id: "${value}"`);
    return out + encodeURIComponent(value) + s;
  }, '');
}

/** True for `/v1/...`-style paths: relative to this origin, not protocol-relative (`//host`). */
export function isSameOriginPath(path: string): boolean {
  return path.startsWith('/') && !path.startsWith('//') && !path.includes('\\');
}

/**
 * Calls the API. `body` is sent as JSON.
 * @throws ApiError on a non-2xx answer (status 0 when the network failed).
 */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<T> {
  const res = await send(path, init);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** Like {@link api} but returns the body as a Blob (exports). */
export async function apiBlob(path: string): Promise<Blob> {
  return (await send(path, {})).blob();
}

async function send(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> },
): Promise<Response> {
  if (!isSameOriginPath(path)) throw new ApiError(0, 'CONSOLE_PATH_REFUSED', `refused to call ${path}`);
  const key = apiKey.get();
  const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
  if (key) headers.authorization = `Bearer ${key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      credentials: 'omit',
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
  } catch (e) {
    throw new ApiError(0, 'CONSOLE_NETWORK', `the service did not answer (${(e as Error).message})`);
  }
  if (!res.ok) {
    let code = `HTTP_${res.status}`;
    let detail = res.statusText;
    try {
      const p = (await res.json()) as { code?: string; detail?: string };
      code = p.code ?? code;
      detail = p.detail ?? detail;
    } catch {
      // not problem+json
    }
    throw new ApiError(res.status, code, detail);
  }
  return res;
}
