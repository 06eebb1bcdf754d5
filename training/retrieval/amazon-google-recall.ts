/**
 * `npm run recall`: retrieval recall@k of the description embedding on the Amazon-Google
 * benchmark (shared folder), for several dimensions, next to the HNSW cost of each dimension in
 * PGlite + pgvector (the embedded store's engine).
 *
 * Definition printed with the results: for each distinct Amazon (left) title among the matching
 * pairs of the DeepMatcher *test* split (227 queries), embed the Amazon record's title and rank
 * all 3,226 Google (right) records of the Leipzig table by cosine; a query is a hit at k when a
 * Google record whose title is the right side of one of its matching test pairs is among the k
 * nearest. recall@k = hits / queries. The same over every Amazon record of the Leipzig perfect
 * mapping (1,113 queries) is printed as a harder, larger check.
 *
 * Usage: `npm run recall -- [--dims 64,128,256] [--no-hnsw] [--json]`
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { loadAmazonGoogle, sharedErDir, type AmazonGoogle } from '../../datasets/er/index.js';
import { embedWords, TEXT_EMBEDDING_RECIPE } from '../../features/embedding.js';
import { hashedNgramEmbedding } from '../../features/hashing.js';
import { descriptionTokens, descriptionWords, normaliseDescription } from '../../features/text.js';
import { fitIdf, idfTable, shippedIdf, type IdfTable } from '../../features/idf.js';
import { loadReferenceData } from '../../datasets/reference.js';
import { openPglite } from '../../store/pglite.js';
import { toVectorLiteral } from '../../store/sql.js';
import {
  deepMatcherQueries,
  perfectMappingQueries,
  recallAtK,
  toMatrix,
  topK,
  type AgQuery,
} from './recall.js';

/** Recall of one embedding at one dimension. */
export interface RecallRow {
  embedding: string;
  dim: number;
  /** recall@k on the DeepMatcher test queries, k = 1, 5, 10, 50. */
  test: Record<string, number>;
  /** recall@k on the perfect-mapping queries. */
  all: Record<string, number>;
}

/**
 * In-domain check: each 4th HCPCS code's CMS short description (abbreviated, like an invoice
 * line) as the query against the long descriptions of all 8,259 codes; a hit when the code's own
 * long description is among the k nearest. The IDF was fitted on these descriptions (no labels).
 */
export function hcpcsShortToLong(dim: number, embed: Embed): Record<string, number> {
  const codes = [...loadReferenceData().hcpcs.values()];
  const corpus = toMatrix(
    codes.map((c) => embed(c.longDescription)),
    dim,
  );
  const queries = codes
    .map((c, i) => ({ vector: embed(c.shortDescription), truth: new Set([i]) }))
    .filter((_, i) => i % 4 === 0);
  const r = recallAtK(corpus, queries, KS);
  return Object.fromEntries(KS.map((k) => [`@${k}`, r.get(k)!]));
}

/** HNSW cost of one dimension over the Google table. */
export interface HnswRow {
  dim: number;
  vectors: number;
  buildMs: number;
  indexBytes: number;
  /** Mean wall time of one `ORDER BY embedding <=> $1 LIMIT 10` query, ms. */
  queryMs: number;
  /** Share of the exact top 10 that the HNSW search returns (ef_search 40, the default). */
  annRecall10: number;
  /** recall@10 of the test queries through the HNSW index. */
  testRecall10: number;
}

const KS = [1, 5, 10, 50] as const;

type Embed = (text: string) => ArrayLike<number>;

function measure(
  ag: AmazonGoogle,
  queries: { test: AgQuery[]; all: AgQuery[] },
  name: string,
  dim: number,
  embed: Embed,
): RecallRow {
  const corpus = toMatrix(
    ag.google.map((r) => embed(r.title)),
    dim,
  );
  const run = (qs: AgQuery[]): Record<string, number> => {
    const r = recallAtK(
      corpus,
      qs.map((q) => ({ vector: embed(ag.amazon[q.amazon]!.title), truth: q.google })),
      KS,
    );
    return Object.fromEntries(KS.map((k) => [`@${k}`, r.get(k)!]));
  };
  return { embedding: name, dim, test: run(queries.test), all: run(queries.all) };
}

/** Builds an HNSW index over the Google vectors in an in-memory PGlite and times it. */
export async function hnswCost(
  ag: AmazonGoogle,
  queries: AgQuery[],
  dim: number,
  embed: Embed,
): Promise<HnswRow> {
  const db = await openPglite();
  try {
    await db.exec(
      `CREATE EXTENSION IF NOT EXISTS vector; CREATE TABLE v (id int PRIMARY KEY, embedding vector(${dim}) NOT NULL);`,
    );
    const vectors = ag.google.map((r) => embed(r.title));
    for (let i = 0; i < vectors.length; i += 500) {
      const chunk = vectors.slice(i, i + 500);
      const params = chunk.flatMap((v, j) => [i + j, toVectorLiteral(v)]);
      const tuples = chunk.map((_, j) => `($${2 * j + 1}, $${2 * j + 2}::vector)`).join(',');
      await db.query(`INSERT INTO v (id, embedding) VALUES ${tuples}`, params);
    }
    const t0 = performance.now();
    await db.exec('CREATE INDEX v_hnsw ON v USING hnsw (embedding vector_cosine_ops)');
    const buildMs = performance.now() - t0;
    const size = await db.query<{ b: string | number }>(`SELECT pg_relation_size('v_hnsw') AS b`);
    const corpus = toMatrix(vectors, dim);
    let annHits = 0;
    let testHits = 0;
    let queryMs = 0;
    for (const q of queries) {
      const qv = embed(ag.amazon[q.amazon]!.title);
      const t = performance.now();
      const rows = await db.query<{ id: number }>(
        'SELECT id FROM v ORDER BY embedding <=> $1::vector LIMIT 10',
        [toVectorLiteral(qv)],
      );
      queryMs += performance.now() - t;
      const exact = new Set(topK(corpus, qv, 10));
      annHits += rows.filter((r) => exact.has(r.id)).length;
      if (rows.some((r) => q.google.has(r.id))) testHits++;
    }
    return {
      dim,
      vectors: vectors.length,
      buildMs: Math.round(buildMs),
      indexBytes: Number(size[0]!.b),
      queryMs: Math.round((queryMs / queries.length) * 100) / 100,
      annRecall10: annHits / (queries.length * 10),
      testRecall10: testHits / queries.length,
    };
  } finally {
    await db.close();
  }
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

async function main(): Promise<void> {
  const opts = new Command()
    .option('--dims <list>', 'dimensions to compare', '64,128,256')
    .option('--no-hnsw', 'skip the HNSW cost measurement')
    .option('--json', 'print JSON instead of tables')
    .parse()
    .opts<{ dims: string; hnsw: boolean; json?: boolean }>();
  const er = sharedErDir();
  if (er === null) {
    console.error(
      'Shared datasets not found (<repo>/../shared/datasets or /work/shared/datasets): nothing measured.',
    );
    process.exitCode = 2;
    return;
  }
  const ag = loadAmazonGoogle(join(er, 'amazon_google'));
  const queries = { test: deepMatcherQueries(ag, ag.pairs.test), all: perfectMappingQueries(ag) };
  const dims = opts.dims.split(',').map(Number);
  const domainIdf: IdfTable = idfTable(
    fitIdf(
      [...ag.amazon, ...ag.google].map((r) => descriptionTokens(r.title)),
      { source: 'Amazon-Google Leipzig titles (comparison only)', tokenizer: 'descriptionTokens' },
    ),
  );
  const recipe =
    (dim: number, idf: IdfTable): Embed =>
    (t) =>
      embedWords(descriptionWords(t), { dim, idf });
  const rows: RecallRow[] = [];
  const hnsw: HnswRow[] = [];
  const hcpcs: { embedding: string; dim: number; recall: Record<string, number> }[] = [];
  for (const dim of dims) {
    rows.push(
      measure(
        ag,
        queries,
        `recipe ${TEXT_EMBEDDING_RECIPE.version} (shipped: HCPCS IDF)`,
        dim,
        recipe(dim, shippedIdf()),
      ),
    );
    rows.push(measure(ag, queries, 'recipe 2 with IDF fitted on Amazon-Google', dim, recipe(dim, domainIdf)));
    rows.push(
      measure(ag, queries, 'recipe 1 (hashed 3/4-grams + words)', dim, (t) =>
        hashedNgramEmbedding(normaliseDescription(t), { dim }),
      ),
    );
    hcpcs.push({
      embedding: 'recipe 2 (shipped)',
      dim,
      recall: hcpcsShortToLong(dim, recipe(dim, shippedIdf())),
    });
    hcpcs.push({
      embedding: 'recipe 1',
      dim,
      recall: hcpcsShortToLong(dim, (t) => hashedNgramEmbedding(normaliseDescription(t), { dim })),
    });
    if (opts.hnsw) hnsw.push(await hnswCost(ag, queries.test, dim, recipe(dim, shippedIdf())));
  }
  if (opts.json) {
    console.log(
      JSON.stringify(
        { queries: { test: queries.test.length, all: queries.all.length }, rows, hcpcs, hnsw },
        null,
        2,
      ),
    );
    return;
  }
  console.log(
    [
      'Description-embedding retrieval recall on Amazon-Google (shared folder).',
      `Test queries: ${queries.test.length} distinct Amazon titles among the ${ag.pairs.test.filter((p) => p.label === 1).length} matching pairs of the DeepMatcher test split.`,
      `Corpus: all ${ag.google.length} Google records of the Leipzig table. Text embedded: the title only.`,
      'recall@k = share of queries with a true Google match (a right side of one of their matching',
      'test pairs, resolved to the table by title) among the k records of highest cosine.',
      `"all" = the same over the ${queries.all.length} Amazon records of the Leipzig perfect mapping.`,
      '',
    ].join('\n'),
  );
  const head = ['embedding', 'dim', ...KS.map((k) => `test@${k}`), ...KS.map((k) => `all@${k}`)];
  console.log(head.join(' | '));
  for (const r of rows)
    console.log(
      [
        r.embedding,
        r.dim,
        ...KS.map((k) => pct(r.test[`@${k}`]!)),
        ...KS.map((k) => pct(r.all[`@${k}`]!)),
      ].join(' | '),
    );
  console.log(
    '\nIn-domain: HCPCS short description -> own long description among all 8,259 codes (every 4th code):',
  );
  console.log(['embedding', 'dim', ...KS.map((k) => `@${k}`)].join(' | '));
  for (const h of hcpcs)
    console.log([h.embedding, h.dim, ...KS.map((k) => pct(h.recall[`@${k}`]!))].join(' | '));
  if (hnsw.length > 0) {
    console.log(
      '\nHNSW cost in PGlite (pgvector defaults m=16, ef_construction=64, ef_search=40), shipped recipe:',
    );
    console.log(
      'dim | vectors | build ms | index KiB | query ms | ANN recall of exact top-10 | test recall@10 via HNSW',
    );
    for (const h of hnsw)
      console.log(
        [
          h.dim,
          h.vectors,
          h.buildMs,
          Math.round(h.indexBytes / 1024),
          h.queryMs,
          pct(h.annRecall10),
          pct(h.testRecall10),
        ].join(' | '),
      );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
