#!/usr/bin/env tsx
/**
 * `npm run bench`: the published benchmarks (see BENCHMARKS.md). Not part of `npm test`.
 * Prints a table per section and writes `reports/bench/bench-<timestamp>.json`.
 *
 * Sections (`--only a,b`): `compute` (the scoring path, store stubbed: bench/compute.ts),
 * `scoring` (in-process throughput and latency of a 10-line invoice on
 * PGlite and PostgreSQL), `shadow` (the same with a challenger in shadow: the champion's answer
 * must not slow by more than 20%), `http` (POST /v1/invoices/score at fixed rates with autocannon, on
 * both stores, plus the server's resident memory), `knn` (HNSW vs exact kNN on invoice
 * embeddings of a generated benchmark: recall@10, latency, build time), `models` (ONNX vs tfjs
 * scoring of the same model, 100k rows), `training` (time and peak memory of a training run), `intake` (X12 810 and UBL
 * conversion alone: invoices/s, peak RSS growth, load average), `history` (history import of
 * `--history-invoices` 10-line invoices into PostgreSQL, bench/history.ts), `batch` (a stored batch
 * of `--batch-invoices` 10-line invoices scored by the score-batch processor on PostgreSQL, one by
 * one and per chunk, bench/batch.ts), `batch-workers` (the same batch scored by `--batch-workers`
 * worker processes through BullMQ on `--redis-url`, bench/batch-workers.ts).
 * PostgreSQL sections need `BENCH_DATABASE_URL` (default the test database).
 */
import type { OnnxTfjsComparison } from './models-source.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import Table from 'cli-table3';
import { generateBenchmark } from '../datasets/benchmark/index.js';
import { wire } from '../bin/bootstrap.js';
import { openPglite, openPostgres, type SqlDatabase } from '../store/index.js';
import { runScoringBenchmark, type ScoringResult } from './scoring.js';
import { procurementTable, runProcurementBenchmark } from './procurement.js';
import { runShadowBenchmark, type ShadowOverhead } from './shadow.js';
import { httpSection } from './http.js';
import { parseHnswParams, runKnnBenchmark, type KnnResult } from './knn.js';
import { knnDataFromBenchmark } from './knn-source.js';
import { runStoreOpenBenchmark, storeOpenTable } from './store-open.js';
import { fmt, msSince } from './stats.js';
import { intakeTable, runIntakeBenchmark } from './intake.js';
import { HISTORY_SHAPES, historySection, tenLineInvoice, type HistoryShape } from './history.js';
import { batchRows, runBatchBenchmark } from './batch.js';
import { workerBatchSection } from './batch-workers.js';
import { recordStatementCpu } from './pg-statements.js';
import { trainingSection } from './training.js';
import { computeSection } from './compute.js';
import { runStoreScaleBenchmark, storeScaleTable } from './store-scale.js';
import { storeScaleExistingSection } from './store-scale-existing.js';
import { parseBenchOptions } from './options.js';

const opts = parseBenchOptions();

const only = new Set(opts.only.split(','));
const report: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  },
};
const schemaTag = `bench_${process.pid}_${Date.now().toString(36)}`;

/** A generated benchmark set of `n` invoices (seed 42), cached under --data-dir. */
async function benchmarkSet(n: number): Promise<string> {
  const dir = resolve(opts.dataDir, `n${n}-s42`);
  if (existsSync(join(dir, 'card.json'))) return dir;
  const t0 = process.hrtime.bigint();
  await generateBenchmark({ invoices: n, seed: 42, out: dir });
  console.log(`generated ${n} invoices in ${fmt(msSince(t0) / 1000)} s -> ${dir}`);
  return dir;
}

function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

async function withPg<T>(f: (db: SqlDatabase) => Promise<T>, schema: string): Promise<T> {
  const db = await openPostgres({ connectionString: opts.databaseUrl, schema });
  try {
    return await f(db);
  } finally {
    await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await db.close();
  }
}

// ---------------------------------------------------------------- compute (in-process, store stubbed)
if (only.has('compute')) {
  const runs: Record<string, unknown> = {};
  for (const d of opts.computeDescriptions.split(',')) {
    if (d !== 'new' && d !== 'repeated') throw new Error(`--compute-descriptions: unknown ${d}`);
    runs[d] = await computeSection(Number(opts.invoices), (i, tag) => tenLineInvoice(i, tag, d === 'new'), d);
  }
  report.compute = runs;
}

// ---------------------------------------------------------------- scoring (in-process)
if (only.has('scoring')) {
  const n = Number(opts.invoices);
  const results: (ScoringResult & { store: string; models: Record<string, string> })[] = [];
  for (const store of ['pglite', 'postgres'] as const) {
    const schema = `${schemaTag}_scoring`;
    // The shipped champions, as the service serves them (no alias polling in a benchmark).
    const w = await wire(
      store === 'pglite'
        ? { engine: 'pglite' }
        : { engine: 'postgres', connectionString: opts.databaseUrl, schema },
      { models: { reloadMs: null } },
    );
    const invoices = Array.from({ length: n + 20 }, (_, i) => tenLineInvoice(i, `s-${store}`));
    const r = await runScoringBenchmark(w.scoring, 'default', invoices);
    results.push({ store, ...r, models: w.scoring.versions.models });
    await w.repo.close();
    await w.closeModels();
    if (store === 'postgres') await withPg(async () => undefined, schema);
  }
  report.scoring = { versions: undefined, results };
  console.log('\nIn-process scoring, 10-line invoices, sequential');
  console.log(
    table(
      ['store', 'invoices/s', 'lines/s', 'p50 ms', 'p95 ms', 'p99 ms', 'n'],
      results.map((r) => [
        r.store,
        fmt(r.invoicesPerSecond),
        fmt(r.linesPerSecond),
        fmt(r.latencyMs.p50),
        fmt(r.latencyMs.p95),
        fmt(r.latencyMs.p99),
        r.invoices,
      ]),
    ),
  );
}

if (only.has('procurement')) {
  const w = await wire(
    { engine: 'postgres', connectionString: opts.databaseUrl, schema: `${schemaTag}_po` },
    { models: { reloadMs: null } },
  );
  const pr = await runProcurementBenchmark(w, Math.min(Number(opts.invoices), 300), tenLineInvoice);
  report.procurement = pr;
  console.log(`\nPO-backed scoring on PostgreSQL, sequential\n${procurementTable(pr, fmt)}`);
  await w.repo.close();
  await w.closeModels();
  await withPg(async () => undefined, `${schemaTag}_po`);
}

// ---------------------------------------------------------------- shadow (overhead of a shadow challenger)
if (only.has('shadow')) {
  const n = Number(opts.invoices);
  const out: (ShadowOverhead & { store: string })[] = [];
  for (const store of ['pglite', 'postgres'] as const) {
    const schema = `${schemaTag}_shadow`;
    const r = await runShadowBenchmark(
      () =>
        store === 'pglite'
          ? { engine: 'pglite' }
          : { engine: 'postgres', connectionString: opts.databaseUrl, schema },
      (tag) => Array.from({ length: n + 20 }, (_, i) => tenLineInvoice(i, `sh-${store}-${tag}`)),
    );
    out.push({ store, ...r });
    if (store === 'postgres') await withPg(async () => undefined, schema);
  }
  report.shadow = out;
  console.log(
    '\nChampion answer with a shadow challenger (coding-mismatch@2) vs without (alternating blocks of 20 on one store), 10-line invoices, sequential',
  );
  console.log(
    table(
      [
        'store',
        'p50 ms without',
        'p50 ms with',
        'p50 ratio',
        'mean ratio',
        'invoices/s without',
        'invoices/s with',
        'shadow scores',
      ],
      out.map((r) => [
        r.store,
        fmt(r.without.latencyMs.p50),
        fmt(r.with.latencyMs.p50),
        fmt(r.p50Ratio),
        fmt(r.meanRatio),
        fmt(r.without.invoicesPerSecond),
        fmt(r.with.invoicesPerSecond),
        r.shadowScores,
      ]),
    ),
  );
}

// ---------------------------------------------------------------- http
if (only.has('http')) {
  execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  report.http = await httpSection({
    rates: opts.rates.split(',').map(Number),
    seconds: Number(opts.duration),
    stores: opts.httpStores.split(',') as ('pglite' | 'postgres')[],
    processes: opts.httpProcesses.split(',').map(Number),
    serverDir: resolve(opts.serverDir),
    databaseUrl: opts.databaseUrl,
    schema: `${schemaTag}_http`,
    invoiceOf: tenLineInvoice,
    dropSchema: (schema) => withPg(async () => undefined, schema),
  });
}

// ---------------------------------------------------------------- knn
if (only.has('knn')) {
  const results: KnnResult[] = [];
  const q = Number(opts.knnQueries);
  const sizes = opts.knnSizes
    .split(',')
    .map(Number)
    .filter((x) => x > 0);
  const plSize = Number(opts.pgliteKnnSize);
  const hnsw = opts.knnHnsw.split(',').map(parseHnswParams);
  const efSearch = opts.knnEfSearch.split(',').map(Number);
  const plan: { engine: 'pglite' | 'postgres'; n: number }[] = [
    ...(plSize > 0 ? [{ engine: 'pglite' as const, n: plSize }] : []),
    ...sizes.map((n) => ({ engine: 'postgres' as const, n })),
  ];
  for (const { engine, n } of plan) {
    // ~3% of generated invoices are duplicates; generate enough for n base invoices.
    const dir = await benchmarkSet(Math.min(1_000_000, Math.ceil(n * 1.06))); // the generator stops at 1M
    const data = await knnDataFromBenchmark(dir, n, q);
    const progress = (stage: string, done: number, total: number): void => {
      if (done === total || done % 100_000 === 0)
        process.stdout.write(`\r  ${engine} n=${n} ${stage} ${done}/${total}      `);
    };
    const r =
      engine === 'pglite'
        ? await (async () => {
            const db = await openPglite();
            try {
              return await runKnnBenchmark(db, data.base, data.queries, {
                n,
                dim: data.dim,
                hnsw,
                efSearch,
                onProgress: progress,
              });
            } finally {
              await db.close();
            }
          })()
        : await withPg(
            (db) =>
              runKnnBenchmark(db, data.base, data.queries, {
                n,
                dim: data.dim,
                hnsw,
                efSearch,
                onProgress: progress,
              }),
            `${schemaTag}_knn`,
          );
    process.stdout.write('\n');
    results.push(...r);
  }
  report.knn = results;
  console.log('\nDuplicate index: invoice embeddings, HNSW (cosine) vs exact scan, k = 10; latency ms');
  console.log(
    table(
      [
        'engine',
        'n',
        'build s',
        'build CPU s',
        'HNSW m/efC/element',
        'ef_search',
        'recall@10 vs exact',
        'dup in top10 (HNSW / exact)',
        'HNSW p50',
        'HNSW p99',
        'exact p50',
        'exact p99',
        'exact/HNSW p50',
      ],
      results.flatMap((r) =>
        r.points.map((p) => [
          r.engine,
          r.n,
          fmt(r.buildSeconds),
          r.buildCpuSeconds === null ? '-' : fmt(r.buildCpuSeconds),
          `${r.hnsw.m}/${r.hnsw.efConstruction}/${r.hnsw.element ?? 'vector'}`,
          p.efSearch,
          fmt(p.recallAtK),
          `${fmt(p.duplicateHitAtK)} / ${fmt(r.exactDuplicateHitAtK)}`,
          fmt(p.latencyMs.p50),
          fmt(p.latencyMs.p99),
          fmt(r.exactLatencyMs.p50),
          fmt(r.exactLatencyMs.p99),
          fmt(r.exactLatencyMs.p50 / p.latencyMs.p50),
        ]),
      ),
    ),
  );
}

// ---------------------------------------------------------------- models: ONNX vs tfjs
if (only.has('models')) {
  const { listChampionSpecs } = await import('./models-source.js');
  const rows = 100_000;
  const out: OnnxTfjsComparison[] = [];
  for (const c of await listChampionSpecs()) {
    const { compareOnnxTfjs } = await import('./models-source.js');
    out.push(await compareOnnxTfjs(c, rows));
  }
  report.models = out;
  console.log(
    `\nModel scoring, ${rows} rows in one batch: ONNX Runtime (served) vs tfjs wasm (training) on the same champion`,
  );
  console.log(
    table(
      [
        'task',
        'version',
        'features',
        'ONNX ms',
        'tfjs ms',
        'tfjs/ONNX',
        'max |p diff|',
        'ONNX 1-row p50 us',
        'p99 us',
      ],
      out.map((o) => [
        o.task,
        o.version,
        o.features,
        fmt(o.onnxMs),
        fmt(o.tfjsMs),
        fmt(o.ratio),
        o.maxAbsDiff.toExponential(2),
        fmt(o.onnxSingleRowUs.p50),
        fmt(o.onnxSingleRowUs.p99),
      ]),
    ),
  );
}

// ---------------------------------------------------------------- intake (conversion alone)
if (only.has('intake')) {
  const results = await runIntakeBenchmark(resolve('.'), Number(opts.intakeInvoices));
  report.intake = results;
  console.log('\nIntake conversion alone (parse, map, validate; no scoring)');
  console.log(intakeTable(results));
}

// ---------------------------------------------------------------- store-open (in-memory PGlite)
if (only.has('store-open')) {
  const result = await runStoreOpenBenchmark(5);
  report.storeOpen = result;
  console.log('\nOpening an in-memory PGlite store: initdb + migrations vs a copy of the migrated template');
  console.log(storeOpenTable(result));
}

// ---------------------------------------------------------------- store cost against history
if (only.has('store-scale') && opts.scaleDatabaseUrls) {
  if (!HISTORY_SHAPES.includes(opts.scaleHistoryShape as HistoryShape))
    throw new Error(`--scale-history-shape: expected one of ${HISTORY_SHAPES.join(', ')}`);
  report.storeScaleExisting = await storeScaleExistingSection(opts.scaleDatabaseUrls.split(','), {
    tenant: opts.scaleTenant,
    rounds: Number(opts.scaleRounds),
    perRound: Number(opts.scaleInvoices),
    warmup: Number(opts.scaleWarmup),
    explain: opts.scaleExplain === true,
    shape: opts.scaleHistoryShape as HistoryShape,
  });
} else if (only.has('store-scale')) {
  const sizes = opts.scaleSizes.split(',').map(Number);
  const points = await runStoreScaleBenchmark(
    opts.databaseUrl,
    `${schemaTag}_scale`,
    sizes,
    Number(opts.scaleInvoices),
    (m) => process.stdout.write(`\r  store-scale ${m}      `),
    { explain: opts.scaleExplain === true },
  );
  report.storeScale = points;
  console.log('\nStore cost per invoice against history (scoring transaction + audit link, PostgreSQL)');
  console.log(storeScaleTable(points));
  for (const p of points)
    if (p.plan) console.log(`\nCandidate search at ${p.indexedInvoices} indexed invoices:\n${p.plan}`);
}
// ---------------------------------------------------------------- history import
if (only.has('history'))
  report.history = await historySection(
    { engine: 'postgres', connectionString: opts.databaseUrl, schema: `${schemaTag}_history` },
    [Number(opts.historyInvoices), Number(opts.historyChunk)],
    (i) => tenLineInvoice(i, 'h'),
    {
      parallel: Number(opts.historyParallel),
      deferIndex: opts.historyDeferIndex === true,
      workers: Number(opts.historyWorkers),
    },
  );

// ---------------------------------------------------------------- batch scoring
if (only.has('batch')) {
  const schema = `${schemaTag}_batch`;
  const statements = opts.batchStatements === true ? recordStatementCpu() : null;
  const runs = await runBatchBenchmark(
    { engine: 'postgres', connectionString: opts.databaseUrl, schema },
    Number(opts.batchInvoices),
    Number(opts.batchChunk),
    tenLineInvoice,
    undefined,
    Number(opts.batchConcurrency),
  );
  await withPg(async () => undefined, schema);
  report.batch = runs;
  console.log(
    `\nBatch scoring on PostgreSQL, ${opts.batchInvoices} 10-line invoices, chunks of ${opts.batchChunk}, ${opts.batchConcurrency} in flight`,
  );
  console.log(
    table(
      [
        'mode',
        'invoices/s',
        'lines/s',
        'node CPU ms/invoice',
        'pg CPU ms/invoice',
        'cores busy',
        's',
        'load 1m',
        'KB/decision: response + explanation (stored)',
      ],
      batchRows(runs),
    ),
  );
  if (statements) {
    const n = runs.reduce((x, r) => x + r.invoices, 0);
    console.log('\nPostgreSQL CPU per statement, both modes and the set-up together, ms per scored invoice');
    console.log(
      table(
        ['ms/invoice', 'messages', 'statement'],
        statements
          .stop()
          .slice(0, 25)
          .map((t) => [fmt(t.cpuMs / n), String(t.calls), t.statement]),
      ),
    );
  }
}

if (only.has('batch-workers'))
  report.batchWorkers = await workerBatchSection({
    connectionString: opts.databaseUrl,
    redisUrl: opts.redisUrl,
    schemaTag,
    trees: opts.batchWorkerTrees.split(',').map((t) => resolve(t)),
    nodeOptions: opts.batchWorkerNodeOptions.split('|'),
    workers: opts.batchWorkers.split(',').map(Number),
    concurrency: Number(opts.batchWorkerConcurrency),
    rounds: Number(opts.batchWorkerRounds),
    invoices: Number(opts.batchInvoices),
    chunkSize: Number(opts.batchChunk),
    invoiceOf: tenLineInvoice,
  });

// ---------------------------------------------------------------- training
if (only.has('training'))
  report.training = await trainingSection(opts.trainInvoices.split(',').map(Number), benchmarkSet);

mkdirSync('reports/bench', { recursive: true });
const file = `reports/bench/bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, JSON.stringify(report, null, 2));
console.log(`\nwrote ${file}`);
