/**
 * `npm run card:complete -- --data <benchmark dir> --model duplicate [--models models/artifacts]
 * [--check]`: completes the champion's card with the test reliability diagram and the label mix
 * (training/card-completion.ts), re-evaluated on the benchmark of
 * `npm run gen:benchmark -- --invoices 20000 --seed 42` assembled as `npm run train` assembles
 * it. With `--check` nothing is written: exit code 1 when the shipped card differs from what
 * the command would write. `--unseen <report.json...>` also replaces the card's notes of
 * figures on unseen data with one note per `npm run eval -- --detector current` report (on a
 * benchmark the model never saw; duplicate figures). The spec, ONNX and other files are not
 * touched.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { validateCard } from '../models/card.js';
import { assertModelSpec, type ModelTask } from '../models/spec.js';
import { assembleTask } from '../training/assemble.js';
import { loadBenchmark } from '../training/benchmark.js';
import { completeCard, unseenEvaluationNote, withUnseenNotes } from '../training/card-completion.js';
import type { EvalReport } from '../training/eval/report-types.js';
import { createFeatureProvider } from '../training/provider.js';

const opts = new Command('card:complete')
  .requiredOption('--data <dir>', 'the benchmark (20,000 invoices, seed 42)')
  .addOption(
    new Option('--model <task>', 'model').choices(['coding-mismatch', 'duplicate']).makeOptionMandatory(),
  )
  .option('--models <dir>', 'registry whose champion card is completed', 'models/artifacts')
  .option('--seed <n>', 'seed of the champion’s training run (default: the seed its card records)')
  .option('--check', 'compare with the shipped card instead of writing it')
  .option(
    '--unseen <report...>',
    'npm run eval reports (report.json) on unseen benchmarks to note in the card',
  )
  .parse()
  .opts<{
    data: string;
    model: ModelTask;
    models: string;
    seed?: string;
    check?: boolean;
    unseen?: string[];
  }>();

const version = (
  JSON.parse(readFileSync(join(opts.models, opts.model, 'aliases.json'), 'utf8')) as { champion: string }
).champion;
const dir = join(opts.models, opts.model, version);
const cardText = readFileSync(join(dir, 'card.json'), 'utf8');
const card = validateCard(JSON.parse(cardText));
const spec = assertModelSpec(JSON.parse(readFileSync(join(dir, 'spec.json'), 'utf8')));
const bench = loadBenchmark(opts.data);
const seed = opts.seed !== undefined ? Number(opts.seed) : (card.seed ?? 42);
const { provider } = createFeatureProvider({ bench, dataDir: opts.data, seed });
const assembled = await assembleTask(opts.model, bench, provider, { blocking: { k: 10 } });
const benchSeed = (JSON.parse(readFileSync(join(opts.data, 'card.json'), 'utf8')) as { seed: number }).seed;
const source = `the benchmark of npm run gen:benchmark -- --invoices ${bench.records.length} --seed ${benchSeed}`;
let completed = completeCard(card, assembled, spec, source);
if (opts.unseen) {
  const notes = opts.unseen.map((file) => {
    const report = JSON.parse(readFileSync(file, 'utf8')) as EvalReport;
    const bench = JSON.parse(readFileSync(join(report.dataset, 'card.json'), 'utf8')) as {
      generator_version: string;
      seed: number;
    };
    const current = report.detectors.find((d) => d.name === 'current');
    if (!current) throw new Error(`${file}: no current detector`);
    const what =
      `${bench.generator_version} seed ${bench.seed}, ${report.split} split ` +
      `(${report.limit ? `its first ${report.invoices}` : report.invoices} invoices)`;
    return unseenEvaluationNote(what, current);
  });
  completed = withUnseenNotes(completed, notes);
}
const text = JSON.stringify(completed, null, 2) + '\n';
const label = `${opts.model}@${version}`;
if (opts.check) {
  const same = text === cardText;
  process.stdout.write(`${label}: card ${same ? 'identical to' : 'DIFFERS from'} its completion\n`);
  process.exitCode = same ? 0 : 1;
} else {
  writeFileSync(join(dir, 'card.json'), text);
  process.stderr.write(`completed ${join(dir, 'card.json')}\n`);
}
