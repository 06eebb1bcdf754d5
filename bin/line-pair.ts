/**
 * The line-pair model's training and measurement (training/line-pair.ts):
 *
 * - `npm run line-pair -- train --data <dir> [--seed 42]`: fits on the benchmark's train split,
 *   chooses the threshold on its valid split, writes `models/artifacts/line-pair.json` (spec and
 *   card) and `line-pair.eval.json` (valid-split figures).
 * - `npm run line-pair -- eval <dir>...`: figures of the shipped model and of the earlier rule on
 *   every split of each benchmark.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../core/paths.js';
import { readCard } from '../datasets/benchmark/read.js';
import { loadLinePairModel, shippedLinePairModel } from '../models/line-pair.js';
import { linePairFigures, trainLinePair } from '../training/line-pair.js';
import { linePairInvoices } from '../training/line-pairs.js';

const out = (v: unknown): boolean => process.stdout.write(`${JSON.stringify(v, null, 1)}\n`);

const program = new Command('line-pair');
program
  .command('train')
  .requiredOption('--data <dir>', 'benchmark directory (train and valid splits)')
  .option(
    '--seed <n>',
    'seed recorded in the card (the fit itself is deterministic)',
    (v) => Number.parseInt(v, 10),
    42,
  )
  .action(async (o: { data: string; seed: number }) => {
    const train = await linePairInvoices(o.data, { splits: ['train'] });
    const valid = await linePairInvoices(o.data, { splits: ['valid'] });
    const card = readCard(o.data);
    const spec = trainLinePair(train, valid, {
      seed: o.seed,
      data: { generator: card.generator_version, seed: card.seed, command: card.command },
      threshold_rule: 'lowest score with at most 0.5% of valid plain invoices flagged',
    });
    const model = loadLinePairModel(spec);
    const figures = linePairFigures(valid, model.score, model.threshold);
    const dir = join(packageRoot(), 'models', 'artifacts');
    await writeFile(join(dir, 'line-pair.json'), `${JSON.stringify(spec, null, 1)}\n`);
    await writeFile(
      join(dir, 'line-pair.eval.json'),
      `${JSON.stringify({ version: spec.version, valid: figures }, null, 1)}\n`,
    );
    out({ version: spec.version, threshold: spec.threshold, weights: spec.weights, valid: figures });
  });
program
  .command('eval')
  .argument('<dirs...>')
  .action(async (dirs: string[]) => {
    const model = shippedLinePairModel();
    for (const dir of dirs) {
      const invs = await linePairInvoices(dir);
      out({
        dir,
        model: model.version,
        threshold: model.threshold,
        line_pair_model: linePairFigures(invs, model.score, model.threshold),
        earlier_rule: linePairFigures(invs, model.score, model.threshold, (i) => i.ruleFlagged),
      });
    }
  });
await program.parseAsync();
