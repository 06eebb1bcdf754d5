/**
 * `npm run samples`: builds the committed sample files in `datasets/samples/`:
 *
 * - `hcpcs_invoices.jsonl` + `hcpcs_invoices.labels.jsonl`: synthetic healthcare supplier
 *   invoices priced from the CMS 2025 fee schedules, with a handful of labelled exceptions
 *   (`hcpcs-samples.ts`, `vendors.ts`, `seeding.ts`).
 * - `sroie_invoices.jsonl`: the 626 SROIE train receipts converted to the invoice schema
 *   (`datasets/sroie.ts`).
 * - `sroie_same_company_date_total_groups.csv`: copied unchanged (ground truth for tests).
 * - the counts block of `README.md` (between the `samples-stats` markers; `readme-stats.ts`).
 *
 * Options: `--shared <dir>` (default {@link sharedDatasetsDir}, else `../shared/datasets`
 * beside the package) and `--out <dir>` (default `datasets/samples`). The output is
 * deterministic.
 */
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { validateInvoice } from '../../core/validate.js';
import { loadReferenceData, packageRoot } from '../reference.js';
import { sharedDatasetsDir } from '../shared.js';
import { convertSroie, readSroie } from '../sroie.js';
import { canonicalInvoice, pickInOrder } from '../synth.js';
import { buildHcpcsSamples } from './hcpcs-samples.js';
import { groupKeys, statsBlock, updateReadme } from './readme-stats.js';

function toJsonl(rows: readonly unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

/** Writes every sample file into `out`, reading the SROIE receipts from `shared`. */
function buildSamples(shared: string, out: string): void {
  const ref = loadReferenceData();
  const hcpcs = buildHcpcsSamples(ref);
  hcpcs.invoices.forEach((inv) => validateInvoice(inv, `/${inv.invoice_id}`));
  const sroie = convertSroie(readSroie(shared));
  writeFileSync(join(out, 'hcpcs_invoices.jsonl'), toJsonl(hcpcs.invoices.map(canonicalInvoice)));
  writeFileSync(
    join(out, 'hcpcs_invoices.labels.jsonl'),
    toJsonl(
      hcpcs.labels.map((l) =>
        pickInOrder(l, ['invoice_id', 'kind', 'line_number', 'duplicate_of', 'similar_to', 'note']),
      ),
    ),
  );
  writeFileSync(join(out, 'sroie_invoices.jsonl'), toJsonl(sroie.invoices.map(canonicalInvoice)));
  const groups = 'sroie_same_company_date_total_groups.csv';
  // The shared copy is read-only; keep ours writable so the next build can overwrite it.
  if (existsSync(join(out, groups))) chmodSync(join(out, groups), 0o644);
  copyFileSync(join(shared, 'invoices', 'sroie', groups), join(out, groups));
  chmodSync(join(out, groups), 0o644);
  const keys = groupKeys(readFileSync(join(out, groups), 'utf8'));
  updateReadme(join(out, 'README.md'), statsBlock(hcpcs, sroie, keys));
  const s = sroie.stats;
  console.log(
    `hcpcs: ${hcpcs.invoices.length} invoices, ${hcpcs.labels.length} labels; ` +
      `sroie: ${s.converted}/${s.receipts} converted, ${s.skipped} skipped, ` +
      `${s.invoiceNumberExtracted} numbers extracted, ${s.itemsReconciled}+${s.itemsPartial} with items`,
  );
}

const root = packageRoot();
const program = new Command()
  .name('build-samples')
  .description('Builds the sample invoice files of datasets/samples and the counts block of its README.')
  .option('--shared <dir>', 'shared datasets directory (SROIE receipts)')
  .option('--out <dir>', 'output directory', join(root, 'datasets', 'samples'))
  .action((o: { shared?: string; out: string }) => {
    const shared = o.shared ?? sharedDatasetsDir() ?? join(root, '..', 'shared', 'datasets');
    buildSamples(resolve(shared), resolve(o.out));
  });
program.parse();
