/**
 * History import through `POST /v1/history`: past invoices are indexed without a decision, found
 * by the candidate search of later scoring, idempotent per invoice id, and bad records are
 * refused naming the record (index and NDJSON line), with nothing of their chunk written; size
 * and media-type limits. The stored rows, concurrent and failing chunks and `cli import` are in
 * test/history-import-store.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { engines } from './fixtures.js';
import { useHarness } from './harness.js';
import { historyCalls, ndjson, past } from './history-import-harness.js';
import './problem-matcher.js';

describe.each(engines('history'))('history import on $name', ({ config }) => {
  const ref = useHarness(config());
  const { post, storedIds } = historyCalls(ref);

  it('imports a JSON array once and skips it when re-sent; only admins may', async () => {
    const invs = [past(1), past(2), past(3)];
    expect(await post(invs, 'application/json', 'workflow')).toBeProblem(403, 'TRIAGE_FORBIDDEN');
    const r1 = await post(invs);
    expect(r1.statusCode).toBe(200);
    expect(r1.json()).toEqual({ records: 3, imported: 3, skipped: 0 });
    expect((await post(invs)).json()).toEqual({ records: 3, imported: 0, skipped: 3 });
    expect(await storedIds()).toEqual(['hist-1', 'hist-2', 'hist-3']);
    // No decision was made for them; the vendor's history counts their lines.
    const decisions = await ref.h.wired.repo.transaction((tx) =>
      tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM decisions WHERE tenant_id = 'default'`),
    );
    expect(decisions[0]!.n).toBe(0);
    expect(await ref.h.wired.repo.vendors.codeCounts('default', 'V-100')).toEqual(
      new Map([
        ['E1390', 3],
        ['E0570', 3],
      ]),
    );
    const audit = await ref.h.wired.repo.audit.list('default');
    expect(audit.filter((a) => a.kind === 'history.imported')).toHaveLength(1);
    expect((await ref.h.wired.repo.audit.verify('default')).ok).toBe(true);
    // Primary keys are UUIDv7, increasing in import order (appended to the primary-key indexes).
    const pks = (
      await ref.h.wired.repo.transaction((tx) =>
        tx.query<{ pk: string }>(
          `SELECT pk::text AS pk FROM invoices WHERE tenant_id = 'default' AND indexed_as = 'history' ORDER BY invoice_id`,
        ),
      )
    ).map((r) => r.pk);
    expect(pks).toHaveLength(3);
    for (const pk of pks) expect(pk).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]/);
    expect([...pks].sort()).toEqual(pks);
  });

  it('a later invoice is scored against the imported history (candidate search finds it)', async () => {
    const resent = past(2, { invoice_id: 'new-after-history' });
    const d = await ref.h.scoreOk(resent);
    const match = d.duplicates.find((x) => x.invoice_id === 'hist-2');
    expect(match).toBeDefined();
    expect(match!.decision_id).toBeNull();
    expect(match!.earlier_decision).toBeNull();
    expect(match!.earlier_approval).toBe('history');
    expect(d.reasons.map((r) => r.code)).toContain('DUPLICATE_SAME_NUMBER');
    // Scoring an id imported as history is a conflict, not a replay.
    const again = await ref.h.call('workflow', {
      method: 'POST',
      url: '/v1/invoices/score',
      payload: past(1),
    });
    expect(again).toBeProblem(409, 'TRIAGE_INVOICE_CONFLICT', '/invoice_id');
  });

  it('streams NDJSON; a bad record is refused by index and nothing of its chunk is written', async () => {
    const bad = { ...past(12), total_cents: 'lots' };
    const r = await post(ndjson([past(10), past(11), bad, past(13)]), 'application/x-ndjson');
    expect(r).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/2/total_cents');
    expect(await storedIds()).not.toContain('hist-10');
    const ok = await post(ndjson([past(10), past(11), past(13)]), 'application/x-ndjson');
    expect(ok.json()).toEqual({ records: 3, imported: 3, skipped: 0 });
    const notJson = await post(`${JSON.stringify(past(14))}\n{oops\n`, 'application/x-ndjson');
    expect(notJson).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/1');
    expect(await storedIds()).not.toContain('hist-14');
  });

  it('names every bad record of a JSON array (up to 100 field errors, as batches) and writes nothing', async () => {
    const invs = [
      past(20),
      { ...past(21), total_cents: 'lots' },
      past(22),
      { ...past(23), currency: 5 },
      past(24),
    ];
    const r = await post(invs);
    expect(r.statusCode).toBe(400);
    const body = r.json<{ code: string; detail: string; errors: { path: string }[] }>();
    expect(body.code).toBe('TRIAGE_INPUT_INVALID');
    expect(body.errors.map((e) => e.path)).toEqual(['/1/total_cents', '/3/currency']);
    expect(body.detail).toMatch(/^2 records invalid \(\/1, \/3\)/);
    expect(await storedIds()).not.toContain('hist-20');
    const many = Array.from({ length: 130 }, (_, i) => ({ ...past(200 + i), total_cents: 'lots' }));
    const capped = (await post(many)).json<{ detail: string; errors: { path: string }[] }>();
    expect(capped.errors).toHaveLength(100);
    expect(capped.errors[99]!.path).toBe('/99/total_cents');
    expect(capped.detail).toMatch(/^130 records invalid .*the first 100 of 130 field errors are listed/);
    const nd = await post(
      ndjson([past(25), { ...past(26), total_cents: 'x' }, { ...past(27), total_cents: 'y' }]),
      'application/x-ndjson',
    );
    expect(nd.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual([
      '/1/total_cents',
      '/2/total_cents',
    ]);
    expect(await storedIds()).not.toContain('hist-25');
  });

  it('names every NDJSON error by record pointer (no trailing slash) and file line', async () => {
    const body = [
      JSON.stringify(past(90)),
      '',
      JSON.stringify({ ...past(91), total_cents: 'lots' }),
      '   ',
      '5',
      '{oops',
      '',
    ].join('\n');
    const r = await post(body, 'application/x-ndjson');
    expect(r.statusCode).toBe(400);
    const problem = r.json<{ detail: string; errors: { path: string; message: string }[] }>();
    expect(problem.errors.map((e) => [e.path, e.message.replace(/^(line \d+: )?.*$/, '$1')])).toEqual([
      ['/1/total_cents', 'line 3: '],
      ['/2', 'line 5: '],
      ['/3', 'line 6: '],
    ]);
    expect(problem.errors[1]!.message).toBe('line 5: must be object');
    expect(problem.detail).toMatch(/^3 records invalid \(\/1 \(line 3\), \/2 \(line 5\), \/3 \(line 6\)\)/);
    const one = await post(
      `\n${JSON.stringify({ ...past(92), total_cents: 'lots' })}\n`,
      'application/x-ndjson',
    );
    expect(one.json<{ detail: string }>().detail).toMatch(/^\/0 \(line 2\): /);
    await post(ndjson([past(93)]), 'application/x-ndjson');
    const clash = await post(`\n${ndjson([past(94), past(93, { total_cents: 5 })])}`, 'application/x-ndjson');
    expect(clash).toBeProblem(409, 'TRIAGE_INVOICE_CONFLICT', '/1/invoice_id');
    expect(clash.json<{ detail: string; errors: { message: string }[] }>()).toMatchObject({
      detail: expect.stringMatching(/^\/1 \(line 3\): /),
      errors: [{ message: 'line 3: is already stored with different content' }],
    });
    expect(await storedIds()).not.toContain('hist-90');
  });

  it('names an id repeated with other content inside the body with the schema errors (one 400)', async () => {
    const invs = [past(100), { ...past(101), total_cents: 'lots' }, past(100, { total_cents: 5 }), past(100)];
    const r = await post(invs);
    expect(r.statusCode).toBe(400);
    const body = r.json<{ code: string; errors: { path: string; message: string }[] }>();
    expect(body.code).toBe('TRIAGE_INPUT_INVALID');
    expect(body.errors).toEqual([
      { path: '/1/total_cents', message: expect.any(String) },
      { path: '/2/invoice_id', message: 'repeats /0 with different content' },
    ]);
    expect(await storedIds()).not.toContain('hist-100');
    const nd = await post(ndjson([past(102), past(102, { total_cents: 5 })]), 'application/x-ndjson');
    expect(nd).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/1/invoice_id');
    expect((await post([past(103), past(103)])).json()).toEqual({ records: 2, imported: 1, skipped: 1 });
  });

  it('NDJSON lines are parsed as strictly as JSON bodies, and an over-long line is refused (413)', async () => {
    const repeated = JSON.stringify(past(15)).replace('"total_cents":', '"total_cents":1,"total_cents":');
    expect(await post(`${repeated}\n`, 'application/x-ndjson')).toBeProblem(
      400,
      'TRIAGE_INPUT_INVALID',
      '/0',
    );
    const latin1 = Buffer.concat([
      Buffer.from(JSON.stringify(past(16)).replace('"name":"', '"name":"\u0000'.slice(0, 8))),
      Buffer.from([0xff]),
      Buffer.from('\n'),
    ]);
    expect(
      await ref.h.call('admin', {
        method: 'POST',
        url: '/v1/history',
        headers: { 'content-type': 'application/x-ndjson' },
        payload: latin1,
      }),
    ).toBeProblem(400, 'TRIAGE_INPUT_INVALID', '/0');
    const long = `${JSON.stringify(past(17))}\n${'a'.repeat(1024 * 1024 + 10)}\n`;
    expect(await post(long, 'application/x-ndjson')).toBeProblem(413, 'TRIAGE_PAYLOAD_TOO_LARGE', '/1');
    const bom = `\ufeff${JSON.stringify(past(18))}\n`;
    expect((await post(bom, 'application/x-ndjson')).json()).toEqual({ records: 1, imported: 1, skipped: 0 });
    expect(await storedIds()).not.toContain('hist-15');
    expect(await storedIds()).not.toContain('hist-16');
  });

  it('limits a JSON array body to 1 MiB (413 pointing to NDJSON); the same records stream as NDJSON', async () => {
    // 20 lines of 1,000-character descriptions: about 22 kB an invoice, 50 of them over 1 MiB.
    const wide = (i: number): Invoice => {
      const inv = past(1000 + i);
      const line = inv.lines[0]!;
      inv.lines = Array.from({ length: 20 }, (_, j) => ({
        ...line,
        line_number: j + 1,
        description: `${'Oxygen concentrator '.repeat(50)}`.slice(0, 1000),
      }));
      inv.total_cents = 20 * line.amount_cents;
      return inv;
    };
    const n = Math.ceil((1024 * 1024) / JSON.stringify(wide(0)).length) + 2;
    const invs = Array.from({ length: n }, (_, i) => wide(i));
    const big = await post(invs);
    expect(big).toBeProblem(413, 'TRIAGE_PAYLOAD_TOO_LARGE', '/');
    expect(big.json<{ detail: string }>().detail).toContain('send a larger import as application/x-ndjson');
    expect(await storedIds()).not.toContain('hist-1000');
    const streamed = await post(ndjson(invs), 'application/x-ndjson');
    expect(streamed.statusCode).toBe(200);
    expect(streamed.json()).toEqual({ records: n, imported: n, skipped: 0 });
  });

  it('answers another media type with 415 naming both accepted ones', async () => {
    for (const type of ['text/plain', 'application/xml']) {
      const r = await post(ndjson([past(40)]), type);
      expect(r).toBeProblem(415, 'TRIAGE_MEDIA_TYPE_UNSUPPORTED', '/headers/content-type');
      expect(r.json<{ detail: string }>().detail).toBe(
        'send the body as application/json (an array of invoices, up to 1048576 bytes) or application/x-ndjson (one invoice per line, streamed, up to 67108864 bytes)',
      );
    }
    expect(await storedIds()).not.toContain('hist-40');
  });

  it('refuses an id stored with other content (409 naming the record)', async () => {
    const changed = past(3, { total_cents: 99_999 });
    expect(await post([past(20), changed])).toBeProblem(409, 'TRIAGE_INVOICE_CONFLICT', '/1/invoice_id');
    expect(await storedIds()).not.toContain('hist-20');
  });
});
