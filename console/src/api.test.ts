import { describe, expect, it } from 'vitest';
import { ApiError, apiPath, isSameOriginPath } from './api.js';

describe('console API paths built from ids', () => {
  it('keeps each id in its own segment, whatever it holds', () => {
    expect(apiPath`/v1/decisions/${'9db3d928-b2e3-4480-8f10-39bd69ab569c'}/history`).toBe(
      '/v1/decisions/9db3d928-b2e3-4480-8f10-39bd69ab569c/history',
    );
    expect(apiPath`/v1/decisions/${'../../keys'}/history`).toBe('/v1/decisions/..%2F..%2Fkeys/history');
    expect(apiPath`/v1/decisions/${'a?limit=1#x'}`).toBe('/v1/decisions/a%3Flimit%3D1%23x');
    expect(apiPath`/v1/decisions/${'a\\b'}`).toBe('/v1/decisions/a%5Cb');
    expect(isSameOriginPath(apiPath`/v1/decisions/${'//evil.example'}`)).toBe(true);
    // Resolved by the URL parser, the path would name another route: such a path is never built.
    expect(new URL('/v1/decisions/../keys', 'http://h').pathname).toBe('/v1/keys');
    for (const id of ['..', '.', ''])
      expect(() => apiPath`/v1/decisions/${id}/history`, JSON.stringify(id)).toThrow(ApiError);
  });
});
