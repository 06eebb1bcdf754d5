/**
 * `npm run eval -- --procurement [--procurement-seed N] [--out DIR]`: the PO match with the
 * shipped line matcher (or the identifier rule without it) on the seeded procurement benchmark's
 * test split, against the rule baseline; writes `procurement.json` into DIR.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateProcurementBenchmark } from '../datasets/procurement/generator.js';
import { DEFAULT_MATCH_THRESHOLD, identifierRuleMatcher } from '../inference/procurement/matcher.js';
import { evaluateProcurement, renderProcurementTable } from '../training/eval/procurement.js';
import { loadShippedPoMatcher } from './po-matcher.js';

/** Runs the evaluation, writes the JSON report and returns the table. */
export async function evaluateShippedPoMatch(seed: number, out: string): Promise<string> {
  const shipped = loadShippedPoMatcher() ?? {
    matcher: identifierRuleMatcher,
    threshold: DEFAULT_MATCH_THRESHOLD,
  };
  const report = evaluateProcurement(
    generateProcurementBenchmark({ seed }),
    shipped.matcher,
    shipped.threshold,
  );
  await mkdir(out, { recursive: true });
  const path = join(out, 'procurement.json');
  await writeFile(path, JSON.stringify(report, null, 2) + '\n');
  return `${renderProcurementTable(report)}\nreport: ${path}`;
}
