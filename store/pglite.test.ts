import { existsSync, mkdirSync, mkdtempSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTriageError } from '../core/errors.js';
import { loadMigrations, openDatabase } from './index.js';
import { PGLITE_TEMPLATE_ENV } from './pglite.js';

describe('in-memory PGlite databases (copies of one migrated template)', () => {
  it('are migrated and independent of each other', async () => {
    const a = await openDatabase({ engine: 'pglite' });
    const b = await openDatabase({ engine: 'pglite', dataDir: 'memory://second' });
    try {
      const applied = async (db: typeof a) =>
        (await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map(
          (r) => r.version,
        );
      const expected = loadMigrations().map((m) => m.version);
      expect(await applied(a)).toEqual(expected);
      expect(await applied(b)).toEqual(expected);
      await a.exec(`INSERT INTO policies (tenant_id, version, label, document, sha256, created_at)
        VALUES ('t', 2, 'p@2', '{}', 'x', now())`);
      expect(await a.query('SELECT 1 FROM policies')).toHaveLength(1);
      expect(await b.query('SELECT 1 FROM policies')).toHaveLength(0);
      const ext = await b.query<{ extname: string }>(
        `SELECT extname FROM pg_extension WHERE extname = 'vector'`,
      );
      expect(ext).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('on-disk PGlite databases (one opener at a time)', () => {
  it('refuses a second open of a held data directory at once, and opens it again after close', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'triage-pglite-lock-')), 'pglite');
    const first = await openDatabase({ engine: 'pglite', dataDir: dir });
    try {
      await first.exec(`INSERT INTO policies (tenant_id, version, label, document, sha256, created_at)
        VALUES ('t', 2, 'p@2', '{}', 'x', now())`);
      const t0 = Date.now();
      const second = openDatabase({ engine: 'pglite', dataDir: dir });
      await expect(second).rejects.toSatisfy(
        (e: unknown) =>
          isTriageError(e, 'TRIAGE_STORE_UNAVAILABLE') &&
          e.message.includes(dir) &&
          e.message.includes('in use by another process') &&
          // A restart right after a kill -9 is refused the same way until the lock is stale.
          e.message.includes('a process killed without closing it (kill -9) holds it for up to 30 s more'),
      );
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(existsSync(`${dir}.lock`)).toBe(true);
    } finally {
      await first.close();
    }
    expect(existsSync(`${dir}.lock`)).toBe(false);
    const again = await openDatabase({ engine: 'pglite', dataDir: dir });
    try {
      expect(await again.query('SELECT tenant_id FROM policies')).toEqual([{ tenant_id: 't' }]);
    } finally {
      await again.close();
    }
  }, 120_000);

  it('breaks the stale lock of a crashed process', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'triage-pglite-stale-')), 'pglite');
    mkdirSync(`${dir}.lock`, { recursive: true });
    const old = new Date(Date.now() - 120_000);
    utimesSync(`${dir}.lock`, old, old);
    const db = await openDatabase({ engine: 'pglite', dataDir: dir });
    try {
      expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  }, 120_000);
});

describe('vector[] parameters', () => {
  // The chunk candidate search (store/chunk-search.ts) sends `$6::vector[]`; PGlite serialises an
  // array parameter only for the array types it knew when it opened, and a new data directory
  // gets pgvector from the migrations, after that.
  it('are sent as arrays on a data directory created by this open, and on a reopen', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'triage-pglite-vector-')), 'pglite');
    for (const open of ['created', 'reopened']) {
      const db = await openDatabase({ engine: 'pglite', dataDir: dir });
      try {
        const rows = await db.query<{ n: number; d: number }>(
          'SELECT array_length($1::vector[], 1) AS n, ($1::vector[])[1] <=> ($1::vector[])[2] AS d',
          [['[1,0,0]', '[0,1,0]']],
        );
        expect(rows, open).toEqual([{ n: 2, d: 1 }]);
      } finally {
        await db.close();
      }
    }
  }, 120_000);
});

describe('the run-wide migrated template (test/global-setup.ts)', () => {
  it('is named to every test process and holds a migrated database that a copy opens', async () => {
    const file = process.env[PGLITE_TEMPLATE_ENV];
    expect(file).toBeTruthy();
    expect(statSync(file!).size).toBeGreaterThan(1_000_000);
    const db = await openDatabase({ engine: 'pglite', dataDir: 'memory://template-check' });
    try {
      const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0]!.n).toBe(loadMigrations().length);
    } finally {
      await db.close();
    }
  });
});
