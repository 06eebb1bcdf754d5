/**
 * `npx tsx bench/history-prepare.ts FILE TREE... [--records N] [--rounds R]`: the work of a
 * history import's featurising worker thread, alone (no database): the first N records of the
 * NDJSON file FILE, in chunks of the import's size, through each checkout TREE's
 * `prepareHistoryRecords` with its binary COPY encoding (inference/history.ts), the trees
 * alternated round by round in this one process. Prints one JSON line per tree and round: CPU
 * milliseconds per invoice of this thread, and the sha256 of the encoded `invoices` and
 * `invoice_lines` COPY bytes with each row's primary key (a new UUIDv7 per run) zeroed, so two
 * trees that write the same rows print the same digests.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseBenchArgs } from './args.js';
import type * as History from '../inference/history.js';

const {
  args: [file, trees],
  opts,
} = parseBenchArgs<[string, string[]], { records: string; rounds: string }>('bench/history-prepare.ts', (c) =>
  c
    .argument('<file>', 'NDJSON file of invoices (bench/history-file.ts)')
    .argument('<trees...>', 'checkouts whose inference/history.ts prepares the chunks')
    .option('--records <n>', 'records read from the start of the file', '20000')
    .option('--rounds <n>', 'rounds over every tree', '2'),
);
const records = Number(opts.records);
const lines = readFileSync(file, 'utf8')
  .split('\n', records)
  .filter((l) => l !== '');
const modules = await Promise.all(
  trees.map(
    async (tree) =>
      (await import(pathToFileURL(resolve(tree, 'inference/history.ts')).href)) as typeof History,
  ),
);

/** The bytes with every 16-byte occurrence of each primary key zeroed. */
function masked(bytes: Uint8Array, pks: readonly string[]): Buffer {
  const out = Buffer.from(bytes);
  for (const pk of pks) {
    const id = Buffer.from(pk.replaceAll('-', ''), 'hex');
    for (let at = out.indexOf(id); at >= 0; at = out.indexOf(id, at + 16)) out.fill(0, at, at + 16);
  }
  return out;
}

for (let round = 1; round <= Number(opts.rounds); round++) {
  for (const [t, m] of modules.entries()) {
    const invoices = createHash('sha256');
    const lineRows = createHash('sha256');
    let cpu = 0;
    let valid = 0;
    for (let i = 0; i < lines.length; i += m.DEFAULT_HISTORY_CHUNK) {
      const inputs = lines
        .slice(i, i + m.DEFAULT_HISTORY_CHUNK)
        .map((text, j) => ({ location: `line ${i + j + 1}`, text }));
      const c0 = process.cpuUsage();
      const chunk = m.prepareHistoryRecords(inputs, 'report', 'default');
      const c = process.cpuUsage(c0);
      cpu += (c.user + c.system) / 1000;
      for (const v of chunk.valid) {
        invoices.update(masked(v.rows!.invoice, [v.rows!.pk]));
        lineRows.update(masked(v.rows!.lines, [v.rows!.pk]));
      }
      valid += chunk.valid.length;
    }
    console.log(
      JSON.stringify({
        tree: trees[t],
        round,
        records: lines.length,
        valid,
        cpuMsPerInvoice: Math.round((1000 * cpu) / lines.length) / 1000,
        invoices: invoices.digest('hex').slice(0, 16),
        lines: lineRows.digest('hex').slice(0, 16),
      }),
    );
  }
}
