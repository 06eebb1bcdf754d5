#!/usr/bin/env node
/**
 * Command line.
 * - `invoice-triage score <files...>` scores JSONL or CSV files of invoices, or intake documents
 *   (X12 810 interchanges, UBL 2.1 Invoice/CreditNote, FHIR R4 Invoice/Bundle), in file order and
 *   prints a summary (decision counts, queues, top reasons, duplicates found). By default the
 *   store is a fresh in-memory PGlite, so the summary covers just that file; `--data-dir` or
 *   `--database-url` score into a persistent store instead.
 * - `invoice-triage keys create --tenant T --role R [--role R2] [--name N]`, `keys list
 *   --tenant T`, `keys revoke <id> --tenant T`: API keys (the new key is printed once).
 * - `invoice-triage import <files...> [--tenant T]`: indexes past invoices without scoring them
 *   (bin/import.ts); idempotent, re-run to continue.
 * - `invoice-triage audit verify [--tenant T]`: recomputes the hash-chained audit log; exit
 *   code 1 when a chain is broken.
 * - `invoice-triage erp load <file> --tenant T`: purchase orders, goods receipts, contracts.
 * Key, audit, import and ERP commands use the service's store: `--database-url` / `--data-dir`,
 * else `DATABASE_URL` / `DATA_DIR` as the server reads them (bin/cli-store.ts). The embedded
 * store (PGlite) is one process at a time: stop the server first, or use the admin API.
 *
 * Each command group is declared in its own module: `score` in bin/cli-score.ts, `keys` and
 * `audit` in bin/cli-admin.ts, `import` and `erp` in bin/cli-data.ts; this module assembles
 * them in the order `--help` lists them.
 */
import { Command } from 'commander';
import { isTriageError } from '../core/errors.js';
import { addScoreCommand } from './cli-score.js';
import { addAuditCommand, addKeysCommand } from './cli-admin.js';
import { addErpCommand, addImportCommand } from './cli-data.js';

export { renderSummary, scoreFile, type ScoreFileOptions, type ScoreSummary } from './cli-score.js';
export { createKey, verifyAuditLog } from './cli-admin.js';
export { serviceStore, type StoreFlags } from './cli-store.js';

// A usage error (bad option value, unknown option, missing argument) exits 2, like a failed run;
// set before the subcommands are declared so that they inherit it.
const program = new Command()
  .name('invoice-triage')
  .description('Score healthcare supplier invoices: coding mismatch, duplicates, routing.')
  .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2));
addScoreCommand(program);
addKeysCommand(program);
addImportCommand(program);
addErpCommand(program);
addAuditCommand(program);

const isMain = process.argv[1] !== undefined && /cli\.(ts|js)$/.test(process.argv[1]);
if (isMain) {
  program.parseAsync().catch((e: unknown) => {
    process.stderr.write(`error: ${isTriageError(e) ? `${e.code}: ${e.message}` : (e as Error).message}\n`);
    process.exitCode = 2;
  });
}
