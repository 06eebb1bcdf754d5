/**
 * History import (POST /v1/history, `cli import`): past invoices are indexed without a decision,
 * found by the candidate search of later scoring, idempotent per invoice id, and bad records are
 * refused (API, naming the record, nothing of its chunk written) or reported (CLI).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Invoice } from '../core/invoice.js';
import { importFiles } from '../bin/import.js';
import { openStore, type StoreConfig } from '../store/index.js';
import { extractInvoiceFeatures } from '../features/invoice-features.js';
import { indexKeysOf, payloadSha256 } from '../inference/stages/prepare.js';
import { validateInvoice } from '../core/validate.js';
import { engines, makeInvoice, TEST_DATABASE_URL, uniqueSchema } from './fixtures.js';
import { dropSchema, useHarness } from './harness.js';
import './problem-matcher.js';

function past(i: number, over: Partial<Invoice> = {}): Invoice {
  return makeInvoice({
    invoice_id: `hist-${i}`,
    invoice_number: `H-${1000 + i}`,
    invoice_date: `2024-0${1 + (i % 9)}-1${i % 10}`,
    due_date: undefined,
    ...over,
  } as Partial<Invoice>);
}
const ndjson = (invs: unknown[]): string => invs.map((x) => JSON.stringify(x)).join('\n') + '\n';

describe.each(engines('history'))('history import on $name', ({ name, config }) => {
  const ref = useHarness(config());
  const post = (
    payload: string | unknown[],
    type = 'application/json',
    key: 'admin' | 'workflow' = 'admin',
  ) =>
    ref.h.call(key, {
      method: 'POST',
      url: '/v1/history',
      headers: { 'content-type': type },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  const storedIds = async (): Promise<string[]> =>
    (
      await ref.h.wired.repo.transaction((tx) =>
        tx.query<{ invoice_id: string }>(
          `SELECT invoice_id FROM invoices WHERE tenant_id = 'default' AND indexed_as = 'history' ORDER BY invoice_id`,
        ),
      )
    ).map((r) => r.invoice_id);

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

  it('stores each row its own embeddings, as float4 (binary COPY on PostgreSQL, literals on PGlite)', async () => {
    const invs = [40, 41, 42].map((i) =>
      past(i, {
        vendor: { id: `V-${i}`, name: `Vendor ${i} Medical` },
        lines: [0, 1, 2].map((j) => ({
          line_number: j + 1,
          description: `item ${i}-${j} ${'abcdefgh'[j]}`,
          quantity: 1 + j,
          unit_price_cents: 100 * (i + j),
          amount_cents: 100 * (i + j) * (1 + j),
        })),
        total_cents: [0, 1, 2].reduce((a, j) => a + 100 * (i + j) * (1 + j), 0),
      }),
    );
    expect((await post(invs)).json()).toEqual({ records: 3, imported: 3, skipped: 0 });
    const f32 = (v: ArrayLike<number>): number[] => Array.from(v, Math.fround);
    const parse = (t: string): number[] => f32(JSON.parse(t) as number[]);
    for (const inv of invs) {
      const f = extractInvoiceFeatures(validateInvoice(inv));
      const rows = await ref.h.wired.repo.transaction((tx) =>
        tx.query<{ inv: string; line: number; emb: string }>(
          `SELECT i.embedding::text AS inv, l.line_number AS line, l.embedding::text AS emb
             FROM invoices i JOIN invoice_lines l ON l.invoice_pk = i.pk
            WHERE i.tenant_id = 'default' AND i.invoice_id = $1 ORDER BY l.line_number`,
          [inv.invoice_id],
        ),
      );
      expect(rows).toHaveLength(3);
      expect(parse(rows[0]!.inv)).toEqual(f32(f.embedding));
      for (const r of rows) expect(parse(r.emb)).toEqual(f32(f.lines[r.line - 1]!.embedding));
    }
  });

  it('stores every column of the invoice and its lines as sent (binary COPY on PostgreSQL)', async () => {
    const inv = past(60, {
      vendor: { id: 'V-60', name: 'Vendor 60 Médical', tax_id: '12-3456789', npi: '1234567893' },
      due_date: '2024-08-30',
      po_number: 'PO-60',
      facility_id: 'FAC-1',
      service_period: { start: '2024-06-01', end: '2024-06-30' },
      document_type: 'credit_memo',
      lines: [
        {
          line_number: 1,
          description: 'Foley catheter 16 Fr "silicone"\tcase',
          code: { system: 'HCPCS', value: 'A4344' },
          modifiers: ['NU', 'RR'],
          quantity: -2.5,
          unit_price_cents: 1_234,
          amount_cents: -3_085,
          service_date: '2024-06-15',
        },
        { line_number: 2, description: 'gloves', quantity: -0.125, unit_price_cents: 80, amount_cents: -10 },
      ],
      total_cents: -3_095,
    } as Partial<Invoice>);
    expect((await post([inv])).json()).toEqual({ records: 1, imported: 1, skipped: 0 });
    const [row] = await ref.h.wired.repo.transaction((tx) =>
      tx.query(
        `SELECT payload::text AS payload, payload_sha256, vendor_id, vendor_name, vendor_tax_id, vendor_npi,
                invoice_number, invoice_date::text AS invoice_date, due_date::text AS due_date, currency,
                total_cents::text AS total_cents, document_type, po_number, facility_id,
                service_period_start::text AS sps, service_period_end::text AS spe, indexed_as
           FROM invoices WHERE tenant_id = 'default' AND invoice_id = 'hist-60'`,
      ),
    );
    const valid = validateInvoice(inv);
    expect({ ...row, payload: JSON.parse(row!.payload as string) as unknown }).toEqual({
      payload: JSON.parse(JSON.stringify(valid)) as unknown,
      payload_sha256: payloadSha256(valid),
      vendor_id: 'V-60',
      vendor_name: 'Vendor 60 Médical',
      vendor_tax_id: '12-3456789',
      vendor_npi: '1234567893',
      invoice_number: inv.invoice_number,
      invoice_date: inv.invoice_date,
      due_date: '2024-08-30',
      currency: 'USD',
      total_cents: '-3095',
      document_type: 'credit_memo',
      po_number: 'PO-60',
      facility_id: 'FAC-1',
      sps: '2024-06-01',
      spe: '2024-06-30',
      indexed_as: 'history',
    });
    const lines = await ref.h.wired.repo.transaction((tx) =>
      tx.query(
        `SELECT l.line_number, l.description, l.code_system, l.code, l.modifiers::text AS modifiers,
                l.quantity::text AS quantity, l.unit_price_cents::text AS price, l.amount_cents::text AS amount,
                l.service_date::text AS service_date, l.match_key
           FROM invoices i JOIN invoice_lines l ON l.invoice_pk = i.pk
          WHERE i.tenant_id = 'default' AND i.invoice_id = 'hist-60' ORDER BY l.line_number`,
      ),
    );
    const keys = indexKeysOf(extractInvoiceFeatures(valid)).lines;
    expect(lines).toEqual([
      {
        line_number: 1,
        description: 'Foley catheter 16 Fr "silicone"\tcase',
        code_system: 'HCPCS',
        code: 'A4344',
        modifiers: '{NU,RR}',
        quantity: '-2.5',
        price: '1234',
        amount: '-3085',
        service_date: '2024-06-15',
        match_key: keys[0]!.matchKey,
      },
      {
        line_number: 2,
        description: 'gloves',
        code_system: null,
        code: null,
        modifiers: '{}',
        quantity: '-0.125',
        price: '80',
        amount: '-10',
        service_date: null,
        match_key: keys[1]!.matchKey,
      },
    ]);
  });

  it('two writers of the same chunk at once store it once; the later one skips it', async () => {
    const records = [70, 71, 72].map((i) => {
      const invoice = validateInvoice(past(i));
      return {
        location: `/${i}`,
        invoice,
        payloadSha256: payloadSha256(invoice),
        keys: indexKeysOf(extractInvoiceFeatures(invoice)),
      };
    });
    // On PostgreSQL the second COPY waits on the first's unique keys, fails when it commits and
    // runs again, reading the three as stored.
    const outs = await Promise.all([
      ref.h.wired.repo.history.importChunk('default', records, null),
      ref.h.wired.repo.history.importChunk('default', records, null),
    ]);
    expect(outs.map((o) => o.imported).sort()).toEqual([0, 3]);
    expect(outs.map((o) => o.skipped).sort()).toEqual([0, 3]);
    expect((await storedIds()).filter((id) => /^hist-7\d$/.test(id))).toEqual([
      'hist-70',
      'hist-71',
      'hist-72',
    ]);
  });

  it('a chunk that fails after its invoices are inserted leaves nothing written', async () => {
    const records = [50, 51].map((i) => {
      const invoice = validateInvoice(past(i));
      return {
        location: `/${i}`,
        invoice,
        payloadSha256: payloadSha256(invoice),
        keys: indexKeysOf(extractInvoiceFeatures(invoice)),
      };
    });
    // The second record lacks its line keys: the line insert refuses it after the invoice insert.
    records[1]!.keys = { ...records[1]!.keys, lines: [] };
    await expect(ref.h.wired.repo.history.importChunk('default', records, null)).rejects.toThrow(
      '/51: no features for line 1',
    );
    expect(await storedIds()).not.toContain('hist-50');
    expect(await storedIds()).not.toContain('hist-51');
  });

  it('the CLI reports bad records, imports the rest and continues on re-run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hist-'));
    const file = join(dir, 'past.jsonl');
    writeFileSync(file, ndjson([past(30), { ...past(31), lines: [] }, past(32)]) + 'not json\n');
    const cfg: StoreConfig =
      name === 'postgres'
        ? { engine: 'postgres', connectionString: TEST_DATABASE_URL!, schema: uniqueSchema('histcli') }
        : { engine: 'pglite', dataDir: join(dir, 'db') };
    // One record per chunk, two chunks in flight, the index dropped and built after.
    const first = await importFiles([file], { store: cfg, chunkSize: 1, parallel: 2, deferIndex: true });
    expect(first.imported).toBe(2);
    expect(first.invalid.map((i) => i.location).sort()).toEqual([`${file} line 2`, `${file} line 4`]);
    type Settled = { relname: string; pages: number; visible: number; analyzed: boolean };
    const indexed = async (drop: boolean): Promise<{ present: boolean; settled: Settled[] }> => {
      const repo = await openStore(cfg);
      try {
        const [present, settled] = await repo.transaction(async (tx) => [
          (
            await tx.query<{ ok: boolean }>(`SELECT to_regclass('invoices_embedding_hnsw') IS NOT NULL AS ok`)
          )[0]!.ok,
          await tx.query<Settled>(
            `SELECT c.relname, c.relpages AS pages, c.relallvisible AS visible,
                    EXISTS (SELECT 1 FROM pg_stats s WHERE s.schemaname = current_schema()
                            AND s.tablename = c.relname) AS analyzed
               FROM pg_class c WHERE c.oid IN ('invoices'::regclass, 'invoice_line_keys'::regclass)
              ORDER BY c.relname`,
          ),
        ]);
        if (drop) await repo.history.suspendIndex();
        return { present, settled };
      } finally {
        await repo.close();
      }
    };
    // Built after the run; then dropped as by a deferred run that was killed.
    const after = await indexed(true);
    expect(after.present).toBe(true);
    // Vacuumed and analyzed after the run: every page of the searched tables all-visible (the
    // vendor and exact-key blocks read no heap), with planner statistics.
    expect(after.settled.map((r) => r.relname)).toEqual(['invoice_line_keys', 'invoices']);
    for (const r of after.settled) {
      expect(r.pages).toBeGreaterThan(0);
      expect({ table: r.relname, visible: r.visible, analyzed: r.analyzed }).toEqual({
        table: r.relname,
        visible: r.pages,
        analyzed: true,
      });
    }
    const second = await importFiles([file], { store: cfg, chunkSize: 2 });
    expect({ imported: second.imported, skipped: second.skipped }).toEqual({ imported: 0, skipped: 2 });
    expect(second.invalid).toHaveLength(2);
    // The next run, deferred or not, builds it again.
    expect((await indexed(false)).present).toBe(true);
    await dropSchema(cfg);
  }, 240_000); // two PGlite starts with migrations on the embedded engine

  it('the CLI reports each bad record once, truly and in line order; a repeat leaves its chunk written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hist-'));
    const file = join(dir, 'past.jsonl');
    const records = [
      JSON.stringify(past(60)),
      '{oops',
      JSON.stringify({ ...past(61), total_cents: 'lots' }),
      '',
      JSON.stringify({ ...past(64), currency: 'XYZ' }),
      JSON.stringify(past(62)),
      JSON.stringify(past(62, { total_cents: 99_999 })),
      JSON.stringify(past(63)),
    ];
    writeFileSync(file, records.join('\n') + '\n');
    const cfg: StoreConfig =
      name === 'postgres'
        ? { engine: 'postgres', connectionString: TEST_DATABASE_URL!, schema: uniqueSchema('histbad') }
        : { engine: 'pglite', dataDir: join(dir, 'db') };
    // Chunks of 3 records, two in flight: lines 1-3, 5-7 (the repeat is found by the store), 8.
    const r = await importFiles([file], { store: cfg, chunkSize: 3, parallel: 2 });
    expect({ records: r.records, imported: r.imported, skipped: r.skipped }).toEqual({
      records: 7,
      imported: 3,
      skipped: 0,
    });
    expect(r.invalid.map((i) => i.location)).toEqual([2, 3, 5, 7].map((n) => `${file} line ${n}`));
    expect(r.invalid[0]!.errors).toEqual(['not valid JSON']);
    expect(r.invalid[1]!.errors).toEqual(['/total_cents must be integer']);
    expect(r.invalid[2]!.errors[0]).toMatch(/^\/currency \(XYZ\) is not an active ISO 4217 currency code/);
    expect(r.invalid[3]!.errors).toEqual([`/invoice_id repeats ${file} line 6 with different content`]);
    const again = await importFiles([file], { store: cfg, chunkSize: 3 });
    expect({ imported: again.imported, skipped: again.skipped }).toEqual({ imported: 0, skipped: 3 });
    expect(again.invalid[3]!.errors).toEqual([`/invoice_id repeats ${file} line 6 with different content`]);
    await dropSchema(cfg);
  }, 240_000); // two PGlite starts with migrations on the embedded engine
});
