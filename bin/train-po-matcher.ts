/**
 * `npm run train:po-matcher [-- --seed N --out DIR]`: trains the PO line matcher on the seeded
 * procurement benchmark and writes `po-line-matcher.json` (spec and card) and
 * `po-line-matcher.eval.json` (figures) into DIR (default the shipped `models/artifacts`), then
 * prints the per-kind table. See training/po-matcher.ts.
 */
import { Command, InvalidArgumentError } from 'commander';
import { shippedModelsDir } from './models-dir.js';
import { PO_MATCHER_SEED, trainPoMatcher } from '../training/po-matcher.js';
import { renderProcurementTable } from '../training/eval/procurement.js';

const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a non-negative integer');
  return n;
};

await new Command('train:po-matcher')
  .option('--seed <n>', 'seed of the benchmark and the fit', int, PO_MATCHER_SEED)
  .option('--out <dir>', 'directory for the spec and the figures (default models/artifacts)')
  .action(async (o: { seed: number; out?: string }) => {
    const run = await trainPoMatcher(o.out ?? shippedModelsDir(), o.seed);
    const f = run.figures;
    process.stdout.write(
      `${f.version}: test pairs F1 ${f.testPairs.f1} (P ${f.testPairs.precision}, R ${f.testPairs.recall}); ` +
        `identifier rule F1 ${f.ruleTestPairs.f1}\n${renderProcurementTable(f.procurement)}\n` +
        `wrote ${run.specPath}\n      ${run.evalPath}\n`,
    );
  })
  .parseAsync();
