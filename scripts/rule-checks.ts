/**
 * `npx tsx scripts/rule-checks.ts [benchmark dir...]`: measures the description and total rules
 * the README quotes. Per benchmark directory (all splits): wrong-code lines
 * (`wrong_code_same_family`), those that print a HCPCS code, those `PRINTED_CODE_DIFFERS`
 * catches, and clean lines that print a code and are flagged. Then, on the committed SROIE
 * receipts, how many totals are `TOTAL_MISMATCH` and how many `TOTAL_INCLUDES_TAX`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import type { Invoice } from '../core/invoice.js';
import { readBenchmark } from '../datasets/benchmark/read.js';
import { loadReferenceData } from '../datasets/reference.js';
import { buildReferenceIndex } from '../features/reference-index.js';
import { printedCodeCheck, totalCheck } from '../inference/stages/rules.js';
import { printedCodes } from '../features/printed-code.js';

const ref = buildReferenceIndex(loadReferenceData());
const known = (c: string): boolean => ref.get(c) !== undefined;
for (const dir of process.argv.slice(2)) {
  const n = { wrongCode: 0, wrongCodePrinted: 0, caught: 0, cleanPrinted: 0, cleanFlagged: 0 };
  for await (const r of readBenchmark(dir)) {
    const kinds = new Map(r.label.coding.map((c) => [c.line_number, c.kind]));
    for (const line of r.invoice.lines) {
      if (line.code?.system !== 'HCPCS') continue;
      const kind = kinds.get(line.line_number);
      const prints = printedCodes(line.description, known).length > 0;
      const flagged = printedCodeCheck(line, ref) !== null;
      if (kind === 'wrong_code_same_family') {
        n.wrongCode++;
        if (prints) n.wrongCodePrinted++;
        if (flagged) n.caught++;
      } else if (kind === undefined && prints) {
        n.cleanPrinted++;
        if (flagged) n.cleanFlagged++;
      }
    }
  }
  process.stdout.write(`${dir}: ${JSON.stringify(n)}\n`);
}
const receipts = readFileSync(join(packageRoot(), 'datasets', 'samples', 'sroie_invoices.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Invoice);
const codes = receipts.map((inv) => totalCheck(inv)?.code ?? 'none');
process.stdout.write(
  `SROIE receipts ${receipts.length}: TOTAL_MISMATCH ${codes.filter((c) => c === 'TOTAL_MISMATCH').length}, ` +
    `TOTAL_INCLUDES_TAX ${codes.filter((c) => c === 'TOTAL_INCLUDES_TAX').length}\n`,
);
