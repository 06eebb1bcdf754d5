/**
 * `npm run drift:reference -- --data <benchmark dir> [--models models/artifacts]`: writes the
 * reference histograms (`reference-histograms.json`, monitoring/reference.ts) of each shipped
 * champion from its training data, reproducibly: the seed-42 benchmark of
 * `npm run gen:benchmark -- --invoices 20000 --seed 42` (as in scripts/reproduce-champions.sh),
 * assembled as `npm run train` assembles it, scored with the champion's own spec.json. The
 * champions' spec, ONNX and card files are not touched.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { assertModelSpec, type ModelTask } from '../models/spec.js';
import { writeReference } from '../monitoring/reference.js';
import { assembleTask } from '../training/assemble.js';
import { loadBenchmark } from '../training/benchmark.js';
import { createFeatureProvider } from '../training/provider.js';
import { runReference } from '../training/reference.js';

const opts = new Command('drift:reference')
  .requiredOption('--data <dir>', 'the champions’ benchmark (20,000 invoices, seed 42)')
  .option('--models <dir>', 'registry whose champions get the sidecar', 'models/artifacts')
  .option('--seed <n>', 'seed of the champions’ training run', '42')
  .parse()
  .opts<{ data: string; models: string; seed: string }>();

const bench = loadBenchmark(opts.data);
const { provider } = createFeatureProvider({ bench, dataDir: opts.data, seed: Number(opts.seed) });
for (const task of ['coding-mismatch', 'duplicate'] as ModelTask[]) {
  const version = (
    JSON.parse(readFileSync(join(opts.models, task, 'aliases.json'), 'utf8')) as { champion: string }
  ).champion;
  const dir = join(opts.models, task, version);
  const spec = assertModelSpec(JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8')));
  const assembled = await assembleTask(task, bench, provider, { blocking: { k: 10 } });
  const ref = runReference(assembled, spec, `benchmark seed ${opts.seed}, ${bench.records.length} invoices`);
  ref.model = `${task}@${version}`;
  process.stderr.write(`wrote ${writeReference(dir, ref)} (${ref.rows} rows)\n`);
}
