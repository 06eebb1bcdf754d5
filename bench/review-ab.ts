/**
 * Two checkouts' review routes in one process, taking turns (`BENCH_DATABASE_URL=postgres://…
 * npx tsx bench/review-ab.ts BEFORE_DIR AFTER_DIR [--rounds 10] [--reviews 20]`): each tree's
 * app (its bin/bootstrap.ts and api/app.ts, on its own schema of the PostgreSQL database)
 * scores an invoice and its exact copy (a HOLD with a coding and a duplicate finding); then,
 * each round, in turns with the order of the trees swapped every round, posts `--reviews`
 * non-closing reviews of the copy's decision (`POST /v1/reviews`) and lists them
 * (`GET /v1/reviews?decision_id=`) as many times. Prints the median wall milliseconds per
 * request of each tree and route, their ratio (after / before) and the 1-minute load average.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parseAbCommand } from './args.js';

/** One tree's app, keys, the reviewed decision and the timings of its requests by route. */
interface Tree {
  dir: string;
  app: FastifyInstance;
  close: () => Promise<void>;
  auth: { reviewer: string; workflow: string };
  decisionId: string;
  ms: { post: number[]; get: number[] };
}

async function openTree(dir: string, url: string, tag: string): Promise<Tree> {
  const { wire, appDepsOf } = (await import(
    `${dir}/bin/bootstrap.ts`
  )) as typeof import('../bin/bootstrap.js');
  const { buildApp } = (await import(`${dir}/api/app.ts`)) as typeof import('../api/app.js');
  const schema = `bench_review_${tag}_${process.pid}`;
  const wired = await wire(
    { engine: 'postgres', connectionString: url, schema, maxConnections: 4 },
    { models: null },
  );
  const key = async (role: 'reviewer' | 'workflow') =>
    `Bearer ${(await wired.repo.keys.create({ tenantId: 'default', name: `bench ${role}`, roles: [role] }, null)).key}`;
  const auth = { reviewer: await key('reviewer'), workflow: await key('workflow') };
  const app = await buildApp(appDepsOf(wired));
  const example = JSON.parse(
    readFileSync(join(dir, 'datasets', 'samples', 'example-invoice.json'), 'utf8'),
  ) as object;
  let decisionId = '';
  for (const id of ['bench-first', 'bench-copy']) {
    const r = await app.inject({
      method: 'POST',
      url: '/v1/invoices/score',
      headers: { authorization: auth.workflow },
      payload: { ...example, invoice_id: id },
    });
    if (r.statusCode !== 200) throw new Error(`${dir}: scoring ${id}: ${r.statusCode} ${r.body}`);
    decisionId = r.json<{ decision_id: string }>().decision_id;
  }
  const close = async () => {
    await app.close();
    await wired.repo.transaction((tx) => tx.query(`DROP SCHEMA ${schema} CASCADE`));
    await wired.repo.close();
  };
  return { dir, app, close, auth, decisionId, ms: { post: [], get: [] } };
}

/** Posts `n` non-closing reviews of the tree's decision, then lists them `n` times, timing each. */
async function turn(t: Tree, round: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const r = await t.app.inject({
      method: 'POST',
      url: '/v1/reviews',
      headers: { authorization: t.auth.reviewer },
      payload: {
        decision_id: t.decisionId,
        task: i % 2 === 0 ? 'duplicate' : 'coding-mismatch',
        outcome: 'false_positive',
        close_item: false,
        idempotency_key: `bench-${round}-${i}`,
      },
    });
    t.ms.post.push(performance.now() - start);
    if (r.statusCode !== 201) throw new Error(`${t.dir}: review: ${r.statusCode} ${r.body}`);
  }
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const r = await t.app.inject({
      method: 'GET',
      url: `/v1/reviews?decision_id=${t.decisionId}`,
      headers: { authorization: t.auth.reviewer },
    });
    t.ms.get.push(performance.now() - start);
    if (r.statusCode !== 200) throw new Error(`${t.dir}: list: ${r.statusCode} ${r.body}`);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { trees: dirs, opts } = parseAbCommand<{ rounds: string; reviews: string }>((c) =>
    c
      .option('--rounds <n>', 'rounds (each tree one turn per round)', '10')
      .option('--reviews <n>', 'reviews per turn', '20'),
  );
  const url = process.env.BENCH_DATABASE_URL;
  if (!url)
    throw new Error('BENCH_DATABASE_URL is required (a PostgreSQL database with the vector extension)');
  const trees = [await openTree(dirs[0], url, 'a'), await openTree(dirs[1], url, 'b')];
  const n = Number(opts.reviews);
  // One untimed turn each warms the JIT and the connection pools.
  for (const t of trees) await turn(t, -1, n);
  for (const t of trees) t.ms = { post: [], get: [] };
  for (let round = 0; round < Number(opts.rounds); round++)
    for (const t of round % 2 === 0 ? trees : [...trees].reverse()) await turn(t, round, n);
  const [a, b] = trees as [Tree, Tree];
  for (const route of ['post', 'get'] as const)
    console.log(
      `${route === 'post' ? 'POST /v1/reviews' : 'GET /v1/reviews '}: before ${median(a.ms[route]).toFixed(2)} ms, ` +
        `after ${median(b.ms[route]).toFixed(2)} ms, ratio ${(median(b.ms[route]) / median(a.ms[route])).toFixed(3)} ` +
        `(median of ${a.ms[route].length} requests each)`,
    );
  console.log(
    `reviews on the decision at the end: ${(Number(opts.rounds) + 1) * n}; load (1 min) ${loadavg()[0]!.toFixed(2)}`,
  );
  for (const t of trees) await t.close();
}

await main();
