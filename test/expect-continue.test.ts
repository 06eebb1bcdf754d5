/**
 * `Expect: 100-continue` over a real socket: a request that will be refused (a `Content-Length`
 * over the route's limit, no API key) gets its final 4xx problem+json at once, never
 * `100 Continue` first; a request whose body will be read gets `100 Continue`, then its answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type AddressInfo } from 'node:net';
import { makeInvoice } from './fixtures.js';
import { startStack, type Stack } from './jobs-harness.js';

let s: Stack;
let port = 0;
let key = '';
beforeAll(async () => {
  s = await startStack({ engine: 'pglite' }, { batches: { bodyLimitBytes: 64 * 1024 } });
  await s.app.listen({ port: 0, host: '127.0.0.1' });
  port = (s.app.server.address() as AddressInfo).port;
  ({ key } = await s.wired.repo.keys.create(
    { tenantId: 'default', name: 'expect', roles: ['workflow', 'admin'] },
    null,
  ));
});
afterAll(async () => s.close());

/** What a raw client reads after sending a request head with `Expect: 100-continue`. */
interface Exchange {
  /** Everything read before the body was sent (the server's first answer). */
  first: string;
  /** Everything read in all. */
  all: string;
}

/**
 * Sends `head` (request line and headers, `Expect: 100-continue` added), waits for the server's
 * first bytes, then sends `body` if they were `100 Continue`, and reads until the server closes
 * the connection or a final answer with its body has arrived.
 */
function exchange(head: string[], body: string): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let all = '';
    let first: string | null = null;
    const done = () => {
      sock.destroy();
      resolve({ first: first ?? all, all });
    };
    const timer = setTimeout(done, 10_000);
    sock.on('data', (b: Buffer) => {
      all += b.toString();
      if (first === null) {
        first = all;
        if (/^HTTP\/1\.1 100 /.test(all)) sock.write(body);
      }
      const final = all.replace(/^HTTP\/1\.1 100 [^\r]*\r\n\r\n/, '');
      const length = /content-length: (\d+)/i.exec(final);
      const at = final.indexOf('\r\n\r\n');
      if (length && at >= 0 && final.length - at - 4 >= Number(length[1])) {
        clearTimeout(timer);
        done();
      }
    });
    sock.on('close', () => {
      clearTimeout(timer);
      done();
    });
    sock.on('error', reject);
    sock.write([...head, 'Host: x', 'Expect: 100-continue', '', ''].join('\r\n'));
  });
}

/** The problem+json body of a raw HTTP answer. */
function problemBody(answer: string): { code: string; status: number; errors: { path: string }[] } {
  return JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as ReturnType<typeof problemBody>;
}

describe('Expect: 100-continue', () => {
  it('answers an oversized POST /v1/batches with 413 problem+json at once, without 100 Continue', async () => {
    const r = await exchange(
      [
        'POST /v1/batches HTTP/1.1',
        `Authorization: Bearer ${key}`,
        'Content-Type: application/json',
        `Content-Length: ${64 * 1024 + 1}`,
      ],
      'x'.repeat(64 * 1024 + 1),
    );
    expect(r.first).toMatch(/^HTTP\/1\.1 413 /);
    expect(r.all).not.toContain('100 Continue');
    expect(r.first).toMatch(/content-type: application\/problem\+json/i);
    expect(r.first).toMatch(/connection: close/i);
    expect(problemBody(r.first)).toMatchObject({
      code: 'TRIAGE_PAYLOAD_TOO_LARGE',
      status: 413,
      errors: [{ path: '/' }],
    });
  });

  it('answers an oversized score body and an NDJSON history import over its limit with 413 at once', async () => {
    const score = await exchange(
      [
        'POST /v1/invoices/score HTTP/1.1',
        `Authorization: Bearer ${key}`,
        'Content-Type: application/json',
        `Content-Length: ${2 * 1024 * 1024}`,
      ],
      '',
    );
    expect(score.first).toMatch(/^HTTP\/1\.1 413 /);
    expect(problemBody(score.first).errors[0]!.path).toBe('/');
    const history = await exchange(
      [
        'POST /v1/history HTTP/1.1',
        `Authorization: Bearer ${key}`,
        'Content-Type: application/x-ndjson',
        `Content-Length: ${65 * 1024 * 1024}`,
      ],
      '',
    );
    expect(history.first).toMatch(/^HTTP\/1\.1 413 /);
    expect(history.all).not.toContain('100 Continue');
    expect(problemBody(history.first)).toMatchObject({
      code: 'TRIAGE_PAYLOAD_TOO_LARGE',
      errors: [{ path: '/' }],
    });
  });

  it('answers a request without an API key with 401 before inviting its body', async () => {
    const r = await exchange(
      ['POST /v1/invoices/score HTTP/1.1', 'Content-Type: application/json', 'Content-Length: 20'],
      '{"invoice_id":"x"}  ',
    );
    expect(r.first).toMatch(/^HTTP\/1\.1 401 /);
    expect(r.all).not.toContain('100 Continue');
  });

  it('invites a body within the limit with 100 Continue, then answers it', async () => {
    const body = JSON.stringify(makeInvoice({ invoice_id: 'expect-ok-1' }));
    const r = await exchange(
      [
        'POST /v1/invoices/score HTTP/1.1',
        `Authorization: Bearer ${key}`,
        'Content-Type: application/json',
        `Content-Length: ${Buffer.byteLength(body)}`,
      ],
      body,
    );
    expect(r.first).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    expect(r.all).toMatch(/\r\n\r\nHTTP\/1\.1 200 /);
    const history = JSON.stringify(makeInvoice({ invoice_id: 'expect-hist-1' })) + '\n';
    const h = await exchange(
      [
        'POST /v1/history HTTP/1.1',
        `Authorization: Bearer ${key}`,
        'Content-Type: application/x-ndjson',
        `Content-Length: ${Buffer.byteLength(history)}`,
      ],
      history,
    );
    expect(h.first).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(h.all).toMatch(/\r\n\r\nHTTP\/1\.1 200 [^]*"imported":1/);
  });

  it('answers an Expect other than 100-continue with 417 problem+json naming the header', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      let all = '';
      sock.on('data', (b: Buffer) => (all += b.toString()));
      sock.on('close', () => resolve(all));
      sock.on('error', reject);
      sock.write(
        [
          'POST /v1/invoices/score HTTP/1.1',
          'Host: x',
          'Expect: 200-ok',
          'Content-Type: application/json',
          'Content-Length: 2',
          '',
          '{}',
        ].join('\r\n'),
      );
    });
    expect(answer).toMatch(/^HTTP\/1\.1 417 /);
    expect(answer).toMatch(/content-type: application\/problem\+json/i);
    const p = problemBody(answer);
    expect(p.status).toBe(417);
    expect(p.code).toBe('TRIAGE_EXPECTATION_FAILED');
    expect(p.errors.map((e) => e.path)).toEqual(['/headers/expect']);
  });
});
