/**
 * The migrations' indexes as one declaration (store/declared-indexes.ts), and a history import
 * that defers them: killed mid-import, the next start-up (or run) builds every declared index
 * again, valid (`pg_index.indisvalid`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  declaredIndexes,
  ensureDeclaredIndexes,
  importDeferrableIndexes,
} from '../store/declared-indexes.js';
import { loadMigrations } from '../store/migrate.js';
import { openDatabase, openStore, type StoreConfig } from '../store/index.js';
import { tenLineInvoice } from '../bench/history.js';
import { TEST_DATABASE_URL, uniqueSchema } from './fixtures.js';
import { dropSchema } from './harness.js';
import { lockKey } from '../store/locks.js';

describe('declaredIndexes', () => {
  it('reads each index of the migrations once, less those a later migration drops', () => {
    const all = declaredIndexes();
    const byName = new Map(all.map((i) => [i.name, i]));
    expect(byName.size).toBe(all.length);
    expect(byName.get('invoices_number_key')?.sql).toBe(
      'CREATE INDEX invoices_number_key ON invoices (tenant_id, invoice_number_canonical)',
    );
    expect(byName.get('webhook_deliveries_lane')?.sql).toBe(
      "CREATE INDEX webhook_deliveries_lane ON webhook_deliveries (subscription_id, ordering_key, event_seq) WHERE state = 'pending'",
    );
    expect(byName.get('shadow_assignments_active')?.unique).toBe(true);
    // Dropped by 011 and 002.
    expect(byName.has('invoice_lines_embedding_hnsw')).toBe(false);
    expect(byName.has('decisions_worklist')).toBe(false);
  });

  it('an import defers the read-only indexes of invoices and invoice_lines, not the keys', () => {
    // Sorted: a migration that drops and re-creates an index moves it to the end.
    expect(
      importDeferrableIndexes()
        .map((i) => `${i.table}.${i.name} ${i.method}`)
        .sort(),
    ).toEqual([
      'invoice_lines.invoice_lines_block_id btree',
      'invoice_lines.invoice_lines_block_key btree',
      'invoice_lines.invoice_lines_rebill_key btree',
      'invoices.invoices_embedding_hnsw hnsw',
      'invoices.invoices_number_key btree',
      'invoices.invoices_reverses btree',
      'invoices.invoices_tenant_vendor_key btree',
      'invoices.invoices_vendor_id_keys btree',
      'invoices.invoices_vendor_id_recent btree',
      'invoices.invoices_vendor_total_date btree',
    ]);
  });

  it('refuses an index statement it does not understand', () => {
    const m = loadMigrations();
    const odd = {
      version: 999,
      name: 'odd',
      sql: 'CREATE INDEX CONCURRENTLY x ON invoices (pk);',
      checksum: '',
    };
    expect(() => declaredIndexes([...m, odd])).toThrow(/999_odd: an index statement was not understood/);
  });
});

/** Declared indexes missing or invalid in `schema` (`pg_index.indisvalid`). */
async function notValid(c: pg.Client, schema: string): Promise<string[]> {
  const rows = await c.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND x.indisvalid`,
    [schema],
  );
  const valid = new Set(rows.rows.map((r) => r.name));
  return declaredIndexes()
    .map((i) => i.name)
    .filter((n) => !valid.has(n));
}

describe.skipIf(!TEST_DATABASE_URL)('deferred indexes on PostgreSQL', () => {
  it('a migrated schema holds every declared index, and only those besides the keys', async () => {
    const cfg: StoreConfig = {
      engine: 'postgres',
      connectionString: TEST_DATABASE_URL!,
      schema: uniqueSchema('decl'),
    };
    await (await openStore(cfg)).close();
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    try {
      expect(await notValid(c, cfg.schema!)).toEqual([]);
      // Every index that no constraint owns is declared (the reader missed none).
      const own = await c.query<{ name: string }>(
        `SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1
            AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE connamespace = $1::regnamespace)`,
        [cfg.schema],
      );
      expect(own.rows.map((r) => r.name).sort()).toEqual(
        declaredIndexes()
          .map((i) => i.name)
          .sort(),
      );
    } finally {
      await c.end();
      await dropSchema(cfg);
    }
  }, 120_000);

  it('builds the indexes of two tables at once, each in its own transaction, never during a migration', async () => {
    const cfg: StoreConfig = {
      engine: 'postgres',
      connectionString: TEST_DATABASE_URL!,
      schema: uniqueSchema('lanes'),
    };
    const db = await openDatabase(cfg);
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    const lockSql = `SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0))`;
    try {
      await db.exec('DROP INDEX invoices_number_key; DROP INDEX invoice_lines_block_id');
      const only = importDeferrableIndexes();
      // A migration in progress (its lock held): nothing is built until it ends.
      await c.query('BEGIN');
      await c.query(lockSql, [cfg.schema, lockKey('migrations')]);
      let building = ensureDeclaredIndexes(db, { only, concurrency: 2 });
      await new Promise((r) => setTimeout(r, 500));
      expect(await notValid(c, cfg.schema!)).toEqual(['invoices_number_key', 'invoice_lines_block_id']);
      await c.query('COMMIT');
      expect((await building).sort()).toEqual(['invoice_lines_block_id', 'invoices_number_key']);
      expect(await notValid(c, cfg.schema!)).toEqual([]);
      // A build of invoices waiting (a writer holds the table): invoice_lines' is built meanwhile.
      await db.exec('DROP INDEX invoices_number_key; DROP INDEX invoice_lines_block_id');
      await c.query('BEGIN');
      await c.query(`LOCK TABLE ${cfg.schema}.invoices IN ROW EXCLUSIVE MODE`);
      building = ensureDeclaredIndexes(db, { only, concurrency: 2 });
      for (let t = 0; t < 100 && (await notValid(c, cfg.schema!)).length > 1; t++)
        await new Promise((r) => setTimeout(r, 100));
      expect(await notValid(c, cfg.schema!)).toEqual(['invoices_number_key']);
      await c.query('COMMIT');
      expect(await building).toEqual(['invoice_lines_block_id', 'invoices_number_key']);
      expect(await notValid(c, cfg.schema!)).toEqual([]);
    } finally {
      await c.query('ROLLBACK');
      await c.end();
      await db.close();
      await dropSchema(cfg);
    }
  }, 120_000);

  it('killed mid-import, the next start-up builds every dropped index again; an invalid one too', async () => {
    const schema = uniqueSchema('killimp');
    const cfg: StoreConfig = { engine: 'postgres', connectionString: TEST_DATABASE_URL!, schema };
    const dir = mkdtempSync(join(tmpdir(), 'killimp-'));
    const file = join(dir, 'h.jsonl');
    writeFileSync(
      file,
      Array.from({ length: 4000 }, (_, i) => JSON.stringify(tenLineInvoice(i, 'k'))).join('\n') + '\n',
    );
    await (await openStore(cfg)).close();
    const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    try {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'bin/cli.ts', 'import', file, '--defer-index', '--no-progress', '--chunk', '50'],
        {
          env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema },
          stdio: 'ignore',
        },
      );
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Kill it once rows are committed (the indexes are dropped by then).
      let stored = 0;
      for (let t = 0; t < 600 && stored === 0; t++) {
        await new Promise((r) => setTimeout(r, 200));
        stored = Number((await c.query(`SELECT count(*) AS n FROM ${schema}.invoices`)).rows[0].n);
      }
      child.kill('SIGKILL');
      await exited;
      const imported = Number((await c.query(`SELECT count(*) AS n FROM ${schema}.invoices`)).rows[0].n);
      expect(imported).toBeGreaterThan(0);
      expect(imported).toBeLessThan(4000);
      expect((await notValid(c, schema)).sort()).toEqual(
        importDeferrableIndexes()
          .map((i) => i.name)
          .sort(),
      );
      // An index left invalid (as by an interrupted CREATE INDEX CONCURRENTLY) is rebuilt too.
      await c.query(
        `UPDATE pg_index SET indisvalid = false WHERE indexrelid = '${schema}.audit_log_subject'::regclass`,
      );
      expect(await notValid(c, schema)).toContain('audit_log_subject');
      // Start-up (migrate) builds them all.
      await (await openStore(cfg)).close();
      expect(await notValid(c, schema)).toEqual([]);
    } finally {
      await c.end();
      await dropSchema(cfg);
    }
  }, 300_000);
});
