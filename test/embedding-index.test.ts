/**
 * Memory of the deferred HNSW build (store/embedding-index.ts): the default
 * `maintenance_work_mem` holds the graph of the stored rows, checked against the installed
 * pgvector (a build that runs out of it reports so and inserts the rest row by row, several times
 * slower: 1 GB, the default before, held 811k of 1M invoice embeddings); and the graph's build and
 * search parameters as migration 097 and store/hnsw-search.ts declare them, on both engines.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EMBEDDING_INDEX,
  GRAPH_BYTES_PER_ROW,
  embeddingIndexParams,
  indexBuildMemory,
} from '../store/embedding-index.js';
import { HNSW_EF_SEARCH } from '../store/hnsw-search.js';
import { openDatabase } from '../store/index.js';
import { dropSchema } from './harness.js';
import { EMBEDDING_DIM } from '../features/hashing.js';
import { engines } from './fixtures.js';

describe('indexBuildMemory', () => {
  it('sizes the build for the rows, between 64 MB and 8 GB', () => {
    expect(indexBuildMemory(0)).toBe('64MB');
    expect(indexBuildMemory(10_000)).toBe('64MB');
    // 1M rows: more than 1M x 1,293 bytes (pgvector 0.8.0, 128 dimensions) = 1,234 MB.
    expect(indexBuildMemory(1_000_000)).toBe('1543MB');
    expect(indexBuildMemory(1e9)).toBe('8192MB');
  });
});

const pgEngine = engines('hnswmem').find((e) => e.name === 'postgres');

describe.skipIf(!pgEngine)('HNSW build memory on PostgreSQL', () => {
  const config = pgEngine?.config();
  const client = new pg.Client({
    connectionString: config?.engine === 'postgres' ? config.connectionString : '',
  });
  const notices: string[] = [];
  const rows = 2_000;
  beforeAll(async () => {
    await client.connect();
    client.on('notice', (n) => notices.push(n.message ?? ''));
    await client.query(`CREATE TEMP TABLE hnsw_mem (embedding vector(${EMBEDDING_DIM}))`);
    // Seeded pseudo-random unit-scale vectors (a linear congruential generator).
    let s = 42;
    const next = (): number => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const literals = Array.from(
      { length: rows },
      () => `[${Array.from({ length: EMBEDDING_DIM }, next).join(',')}]`,
    );
    await client.query('INSERT INTO hnsw_mem SELECT unnest($1::text[])::vector', [literals]);
  }, 60_000);
  afterAll(async () => {
    await client.end();
  });

  const build = async (bytes: number): Promise<string[]> => {
    notices.length = 0;
    await client.query(`SET maintenance_work_mem = '${Math.ceil(bytes / 1024)}kB'`);
    // The graph the migrations declare (m, ef_construction).
    const { m, efConstruction } = embeddingIndexParams();
    await client.query(
      `CREATE INDEX hnsw_mem_idx ON hnsw_mem USING hnsw (embedding vector_cosine_ops) WITH (m = ${m}, ef_construction = ${efConstruction})`,
    );
    await client.query('DROP INDEX hnsw_mem_idx');
    return notices.filter((m) => /no longer fits into maintenance_work_mem/.test(m));
  };

  it('the per-row allowance holds the whole graph in memory; 1,000 bytes per row does not', async () => {
    expect(await build(rows * GRAPH_BYTES_PER_ROW)).toEqual([]);
    expect(await build(rows * 1_000)).toHaveLength(1);
  }, 60_000);
});

describe.each(engines('hnswparams'))(
  'the embedding index as migration 097 declares it ($name)',
  ({ config }) => {
    it('builds the graph with m 12 / ef_construction 40 and searches it with ef_search 80', async () => {
      const cfg = config();
      const db = await openDatabase(cfg);
      try {
        expect(embeddingIndexParams()).toEqual({ m: 12, efConstruction: 40 });
        const rows = await db.query<{ options: string[] | null }>(
          `SELECT c.reloptions AS options FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relname = $1 AND n.nspname = current_schema()`,
          [EMBEDDING_INDEX],
        );
        expect(rows.map((r) => [...(r.options ?? [])].sort())).toEqual([['ef_construction=40', 'm=12']]);
        // Every connection of the store (PostgreSQL: each pooled one; PGlite: its one session).
        const settings = await db.query<{ ef: string; iterative: string }>(
          `SELECT current_setting('hnsw.ef_search') AS ef, current_setting('hnsw.iterative_scan') AS iterative`,
        );
        expect(settings).toEqual([{ ef: String(HNSW_EF_SEARCH), iterative: 'strict_order' }]);
        expect(HNSW_EF_SEARCH).toBe(80);
      } finally {
        await db.close();
        await dropSchema(cfg);
      }
    }, 120_000);
  },
);
