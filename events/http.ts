/**
 * One webhook POST with undici: a time limit on the whole exchange, redirects not followed (a
 * 3xx is a failed attempt), at most a few KiB of the answer read (then the connection is
 * dropped), and the connection opened only to an address {@link guardedLookup} allows.
 * undici rather than the global fetch because its agent takes a `connect.lookup`: the address is
 * checked at connection time, not before (no DNS-rebinding window).
 */
import ipaddr from 'ipaddr.js';
import { Agent, request } from 'undici';
import { addressRefusal, guardedLookup, urlRefusal, type UrlPolicy } from './url-safety.js';

/** Outcome of one attempt. `status` is null when nothing was answered. */
export interface PostResult {
  ok: boolean;
  status: number | null;
  /** Why it failed (no response body, never invoice data), or null. */
  error: string | null;
}

/** Options of {@link createPoster}. */
export interface PosterOptions {
  policy: UrlPolicy;
  /** Time limit of one attempt (connect, send, headers, reading), ms. */
  timeoutMs: number;
  /** Bytes of the answer read before the connection is dropped; default 4096. */
  maxResponseBytes?: number;
}

/** Sends webhook POSTs; `close()` drops the kept-alive connections. */
export interface Poster {
  post(url: string, body: string, headers: Record<string, string>): Promise<PostResult>;
  close(): Promise<void>;
}

/** A {@link Poster} with its own connection pool. */
export function createPoster(o: PosterOptions): Poster {
  const limit = o.maxResponseBytes ?? 4096;
  const agent = new Agent({
    connect: { lookup: guardedLookup(o.policy), timeout: o.timeoutMs },
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
  });
  return {
    async post(url, body, headers) {
      // Checked again at each attempt: settings may have changed since the subscription.
      const refused = urlRefusal(url, o.policy);
      if (refused) return { ok: false, status: null, error: `url ${refused}` };
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      // net.connect skips the lookup for IP literals: check those here.
      if (ipaddr.isValid(host)) {
        const why = addressRefusal(host, o.policy);
        if (why) return { ok: false, status: null, error: `target ${why}` };
      }
      try {
        const res = await request(url, {
          method: 'POST',
          body,
          headers,
          dispatcher: agent,
          signal: AbortSignal.timeout(o.timeoutMs),
        });
        let read = 0;
        for await (const chunk of res.body) {
          read += (chunk as Buffer).length;
          if (read >= limit) break;
        }
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        const error = ok
          ? null
          : res.statusCode >= 300 && res.statusCode < 400
            ? `redirect ${res.statusCode} not followed`
            : `answered ${res.statusCode}`;
        return { ok, status: res.statusCode, error };
      } catch (e) {
        const err = e as { code?: string; name?: string; message?: string };
        const why =
          err.name === 'TimeoutError' ||
          err.code === 'UND_ERR_HEADERS_TIMEOUT' ||
          err.code === 'UND_ERR_BODY_TIMEOUT'
            ? `no answer within ${o.timeoutMs} ms`
            : (err.code ?? err.name ?? 'request failed');
        return { ok: false, status: null, error: why === 'ETARGETREFUSED' ? (err.message ?? why) : why };
      }
    },
    close: () => agent.close(),
  };
}
