/**
 * A history import the client abandons mid-stream (it closes the connection while the NDJSON
 * body is still being sent) is not a failure of the service: one info line with the route and
 * the counts committed, no error-level line, no invoice contents; the committed chunk stays and
 * a re-send imports the rest. Real HTTP on 127.0.0.1 (a closed socket cannot be injected).
 */
import { request } from 'node:http';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { engines, makeInvoice } from './fixtures.js';
import { useHarness } from './harness.js';

const engine = engines('habort').at(-1)!;
const CHUNK = 20;

const past = (i: number): Invoice =>
  makeInvoice({
    invoice_id: `abort-${i}`,
    invoice_number: `AB-${1000 + i}`,
    vendor: { id: 'V-ABORT', name: 'Secretive Oxygen Supply' },
    due_date: undefined,
  } as Partial<Invoice>);

describe(`history import abandoned by the client on ${engine.name}`, () => {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  const ref = useHarness(engine.config(), {
    app: () => ({ logger, history: { chunkSize: CHUNK } }),
  });
  const stored = async (): Promise<number> =>
    (
      await ref.h.wired.repo.transaction((tx) =>
        tx.query<{ n: string }>(
          `SELECT count(*) AS n FROM invoices WHERE tenant_id = 'default' AND invoice_id LIKE 'abort-%'`,
        ),
      )
    ).map((r) => Number(r.n))[0]!;

  it('logs one info line with the route and counts, no error; the committed chunk stays', async () => {
    const base = new URL(await ref.h.app.listen({ host: '127.0.0.1', port: 0 }));
    const req = request({
      host: base.hostname,
      port: base.port,
      method: 'POST',
      path: '/v1/history',
      headers: {
        authorization: `Bearer ${ref.h.keys.admin}`,
        'content-type': 'application/x-ndjson',
        'transfer-encoding': 'chunked',
      },
    });
    req.on('error', () => undefined); // the socket is destroyed below
    // One chunk and a half: the first chunk is written when record CHUNK + 1 arrives.
    req.write(
      Array.from({ length: CHUNK + CHUNK / 2 }, (_, i) => JSON.stringify(past(i)))
        .join('\n')
        .concat('\n'),
    );
    for (let t = 0; (await stored()) < CHUNK; t++) {
      if (t > 600) throw new Error('the first chunk was never committed');
      await new Promise((r) => setTimeout(r, 100));
    }
    req.destroy();
    for (let t = 0; !lines.some((l) => l.msg === 'client closed the connection mid-request'); t++) {
      if (t > 300) throw new Error(`no client-closed line in ${JSON.stringify(lines)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(lines.find((l) => l.msg === 'client closed the connection mid-request')).toMatchObject({
      level: 30,
      route: '/v1/history',
      records: CHUNK,
      imported: CHUNK,
      skipped: 0,
    });
    const text = JSON.stringify(lines);
    expect(text).not.toContain('Secretive');
    expect(text).not.toContain('ECONNRESET');
    expect(await stored()).toBe(CHUNK);
    // A re-send of everything imports the rest and skips the committed chunk.
    const again = await ref.h.call('admin', {
      method: 'POST',
      url: '/v1/history',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: Array.from({ length: CHUNK + CHUNK / 2 }, (_, i) => JSON.stringify(past(i))).join('\n'),
    });
    expect(again.json()).toEqual({ records: 30, imported: 10, skipped: 20 });
  });
});
