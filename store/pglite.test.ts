import { describe, expect, it } from 'vitest';
import { loadMigrations, openDatabase } from './index.js';

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
