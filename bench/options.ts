/**
 * The options of `npm run bench` (bench/run.ts): which sections run, and each section's sizes,
 * rates and stores, with their defaults.
 */
import { Command } from 'commander';
import { embeddingIndexParams } from '../store/embedding-index.js';
import { HNSW_EF_SEARCH } from '../store/hnsw-search.js';

/** The parsed options (strings as typed; flags true when given). */
export interface BenchOptions {
  only: string;
  databaseUrl: string;
  invoices: string;
  computeDescriptions: string;
  rates: string;
  httpStores: string;
  httpProcesses: string;
  serverDir: string;
  duration: string;
  knnSizes: string;
  pgliteKnnSize: string;
  knnQueries: string;
  knnHnsw: string;
  knnEfSearch: string;
  trainInvoices: string;
  dataDir: string;
  intakeInvoices: string;
  historyInvoices: string;
  historyChunk: string;
  batchInvoices: string;
  batchChunk: string;
  batchConcurrency: string;
  batchWorkers: string;
  batchWorkerConcurrency: string;
  batchWorkerTrees: string;
  batchWorkerRounds: string;
  batchWorkerNodeOptions: string;
  redisUrl: string;
  historyParallel: string;
  historyDeferIndex?: boolean;
  historyWorkers: string;
  scaleSizes: string;
  scaleInvoices: string;
  scaleExplain?: boolean;
  scaleDatabaseUrls?: string;
  scaleTenant: string;
  scaleRounds: string;
  scaleWarmup: string;
  scaleHistoryShape: string;
  batchStatements?: boolean;
}

/**
 * Parses the command line of `npm run bench`.
 * @param argv the process arguments (default `process.argv`).
 * @throws exits the process with commander's message on an unknown option.
 */
export function parseBenchOptions(argv: readonly string[] = process.argv): BenchOptions {
  return new Command()
    .option(
      '--only <sections>',
      'comma-separated sections',
      'compute,scoring,procurement,shadow,http,knn,models,training,intake,store-open,history',
    )
    .option('--intake-invoices <n>', 'invoices per intake conversion run', '10000')
    .option('--history-invoices <n>', 'invoices of the history import run (PostgreSQL)', '100000')
    .option('--history-chunk <n>', 'invoices per history import transaction', '500')
    .option('--batch-invoices <n>', 'invoices of the batch section (PostgreSQL)', '600')
    .option('--batch-chunk <n>', 'items per score-batch job in the batch section', '100')
    .option(
      '--batch-concurrency <n>',
      'batch: score-batch jobs in flight at once (as WORKER_CONCURRENCY; 1 = one chunk after the other)',
      '1',
    )
    .option(
      '--batch-workers <list>',
      'batch-workers: worker processes (bin/worker.ts) per run, comma-separated',
      '1,2',
    )
    .option('--batch-worker-concurrency <n>', 'batch-workers: WORKER_CONCURRENCY of each worker', '2')
    .option(
      '--batch-worker-trees <dirs>',
      'batch-workers: checkouts whose bin/worker.ts runs, comma-separated, alternated per round (an A/B)',
      '.',
    )
    .option(
      '--batch-worker-node-options <list>',
      "batch-workers: the workers' NODE_OPTIONS, '|'-separated variants alternated like the trees (empty: none)",
      '',
    )
    .option('--batch-worker-rounds <n>', 'batch-workers: rounds over the trees and worker counts', '1')
    .option(
      '--redis-url <url>',
      'Redis of the batch-workers section',
      process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    )
    .option('--history-parallel <n>', 'history import chunks in flight', '2')
    .option('--history-defer-index', 'history import: drop the HNSW index before, build it after')
    .option('--history-workers <n>', 'history import: worker threads preparing the chunks', '0')
    .option(
      '--database-url <url>',
      'PostgreSQL for the PostgreSQL sections',
      process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/invoice_triage_test',
    )
    .option('--invoices <n>', 'invoices per in-process scoring run', '1000')
    .option(
      '--compute-descriptions <list>',
      'compute: line descriptions, `new` (unique per invoice) and/or `repeated` (the same ten on every invoice)',
      'new',
    )
    .option('--rates <list>', 'HTTP request rates, req/s', '100,250,500')
    .option('--http-stores <list>', 'stores of the http section', 'pglite,postgres')
    .option('--http-processes <list>', 'API processes of the http section (PostgreSQL only above 1)', '1')
    .option('--server-dir <dir>', 'the checkout whose dist/bin/server.js the http section runs', '.')
    .option('--duration <s>', 'seconds per HTTP rate', '30')
    .option('--knn-sizes <list>', 'PostgreSQL kNN index sizes (base invoices)', '100000,1000000')
    .option('--pglite-knn-size <n>', 'PGlite kNN index size', '20000')
    .option('--knn-queries <n>', 'duplicate queries per size', '500')
    .option(
      '--knn-hnsw <list>',
      'HNSW variants built over the same rows, m/ef_construction[/halfvec] comma-separated (default: the served graph)',
      `${embeddingIndexParams().m}/${embeddingIndexParams().efConstruction}`,
    )
    .option('--knn-ef-search <list>', 'hnsw.ef_search values queried', `40,${HNSW_EF_SEARCH},200`)
    .option(
      '--train-invoices <list>',
      'benchmark invoices of the coding and duplicate training runs (about 3 lines and 10 candidate pairs per invoice: 200k examples each)',
      '67000,20000',
    )
    .option('--data-dir <dir>', 'cache of generated benchmark sets', 'reports/bench-data')
    .option('--scale-sizes <list>', 'store-scale: indexed invoices before each point', '0,100000')
    .option('--scale-invoices <n>', 'store-scale: invoices scored per point', '300')
    .option('--scale-explain', 'store-scale: print EXPLAIN ANALYZE of one candidate search per point')
    .option(
      '--scale-database-urls <list>',
      'store-scale: alternate these filled databases (bench/store-scale-existing.ts)',
    )
    .option('--scale-tenant <id>', 'store-scale on filled databases: the tenant of the history', 'default')
    .option('--scale-rounds <n>', 'store-scale on filled databases: alternated rounds', '4')
    .option(
      '--scale-history-shape <shape>',
      "store-scale on filled databases: shape of the scored invoices, the history's (uniform | spread, bench/history.ts)",
      'uniform',
    )
    .option('--scale-warmup <n>', 'store-scale on filled databases: discarded invoices per point', '20')
    .option(
      '--batch-statements',
      'batch: also print PostgreSQL CPU per statement (log_statement_stats, superuser; bench/pg-statements.ts)',
    )
    .parse([...argv])
    .opts<BenchOptions>();
}
