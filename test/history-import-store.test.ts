/**
 * History import, what it stores: each row its own embeddings and every column as sent (binary
 * COPY on PostgreSQL), two writers of one chunk storing it once, a failing chunk leaving nothing
 * written, and `cli import` (`importFiles`) reporting bad records by file line, deferring and
 * rebuilding the index, and continuing on re-run. The route's answers are in
 * test/history-import.test.ts.
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
import { engines, TEST_DATABASE_URL, uniqueSchema } from './fixtures.js';
import { dropSchema, useHarness } from './harness.js';
import { chunkRecords, historyCalls, ndjson, past } from './history-import-harness.js';
import './problem-matcher.js';

describe.each(engines('history_store'))('history import on $name', ({ name, config }) => {
  const ref = useHarness(config());
  const { post, storedIds } = historyCalls(ref);

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
    const records = chunkRecords([70, 71, 72]);
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
    const records = chunkRecords([50, 51]);
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
