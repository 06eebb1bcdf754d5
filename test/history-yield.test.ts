/**
 * A history import shares the event loop with every other request: on the embedded engine its
 * statements run on that thread, so the import turns the loop between records, statements and
 * chunks. Checked by order, not speed: a request started from a timer once the import is under
 * way is answered before the import is. And a request timeout that closes an import half-way
 * answers how many records were committed and how to resume.
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { engines, makeInvoice } from './fixtures.js';
import { useHarness } from './harness.js';

const past = (i: number): Invoice =>
  makeInvoice({
    invoice_id: `yield-${i}`,
    invoice_number: `Y-${1000 + i}`,
    due_date: undefined,
  } as Partial<Invoice>);

describe.each(engines('hyield'))('history import on $name', ({ config }) => {
  const ref = useHarness(config(), { app: () => ({ history: { chunkSize: 20 } }) });

  it('answers a request started during an import before the import (JSON array and NDJSON)', async () => {
    for (const [type, from] of [
      ['application/json', 0],
      ['application/x-ndjson', 100],
    ] as const) {
      const records = Array.from({ length: 100 }, (_, i) => past(from + i));
      const order: string[] = [];
      const imported = ref.h
        .call('admin', {
          method: 'POST',
          url: '/v1/history',
          headers: { 'content-type': type },
          payload:
            type === 'application/json'
              ? JSON.stringify(records)
              : records.map((r) => JSON.stringify(r)).join('\n'),
        })
        .then((r) => {
          order.push('import');
          return r;
        });
      // A timer is a turn of the event loop: it fires only when the import lets go of it.
      const other = new Promise<number>((resolve) =>
        setTimeout(() => {
          void ref.h.call(null, { method: 'GET', url: '/docs/json' }).then((r) => {
            order.push('other');
            resolve(r.statusCode);
          });
        }, 0),
      );
      const [r, status] = await Promise.all([imported, other]);
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual({ records: 100, imported: 100, skipped: 0 });
      expect(status).toBe(200);
      expect(order).toEqual(['other', 'import']);
    }
  });

  it('a request timeout during an NDJSON import answers 408 with the records committed and how to resume', async () => {
    const { h } = ref;
    const app = await (
      await import('../api/app.js')
    ).buildApp({
      scoring: h.wired.scoring,
      store: h.wired.repo,
      ping: () => h.wired.repo.ping(),
      engine: h.wired.repo.engine,
      requestTimeoutMs: 600,
      history: { chunkSize: 20 },
    });
    try {
      const base = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: base.hostname,
            port: base.port,
            method: 'POST',
            path: '/v1/history',
            headers: {
              authorization: `Bearer ${h.keys.admin}`,
              'content-type': 'application/x-ndjson',
              'transfer-encoding': 'chunked',
            },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        // Two chunks and a half, then the body never ends: the request timeout closes it.
        req.write(
          Array.from({ length: 50 }, (_, i) => JSON.stringify(past(500 + i)))
            .join('\n')
            .concat('\n'),
        );
      });
      expect(answer.status).toBe(408);
      const problem = JSON.parse(answer.body) as { code: string; detail: string };
      expect(problem.code).toBe('TRIAGE_REQUEST_TIMEOUT');
      // The chunks committed when the timeout fired (0, 20 or 40, as fast as the machine is).
      const m =
        /^the request body was not received in time: (\d+) records are committed \(\1 imported, 0 already stored\), and a chunk being written may commit too; re-send the whole body to resume \(stored invoices are skipped\), or send the rest from record \/\1$/.exec(
          problem.detail,
        );
      expect(m, problem.detail).not.toBeNull();
      expect([0, 20, 40]).toContain(Number(m![1]));
      // Whole chunks only: the two full chunks commit, the half chunk is never written.
      const stored = async (): Promise<number> =>
        (
          await h.wired.repo.transaction((tx) =>
            tx.query<{ n: string }>(
              `SELECT count(*) AS n FROM invoices WHERE tenant_id = 'default' AND invoice_id LIKE 'yield-5__'`,
            ),
          )
        ).map((r) => Number(r.n))[0]!;
      for (let t = 0; (await stored()) < 40 && t < 300; t++) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      expect(await stored()).toBe(40);
    } finally {
      await app.close();
    }
  });
});
