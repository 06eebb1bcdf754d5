/**
 * Data loaded into the service's store without scoring:
 * - `invoice-triage import <files...> [--tenant T]`: indexes past invoices for duplicate search
 *   and vendor baselines (bin/import.ts); idempotent, re-run to continue;
 * - `invoice-triage erp load <file> --tenant T`: upserts purchase orders, goods receipts and
 *   contracts (all or nothing; audited).
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { isTriageError } from '../core/errors.js';
import { openStore } from '../store/index.js';
import { DEFAULT_HISTORY_CHUNK } from '../inference/history.js';
import { openErpFile } from './erp-file.js';
import { importFiles, renderImport } from './import.js';
import { positiveInt, workerCount } from './cli-args.js';
import { serviceStore, withStoreFlags, type StoreFlags } from './cli-store.js';

/** Declares the `import` command on `program`. */
export function addImportCommand(program: Command): void {
  withStoreFlags(
    program
      .command('import')
      .description(
        'Index past invoices (JSONL, CSV) for duplicate search and vendor baselines without scoring them; idempotent, re-run to continue',
      )
      .argument(
        '<files...>',
        'invoices: .jsonl (one API-shaped invoice per line, streamed) or .csv (one row per line)',
      )
      .addOption(
        new Option('--format <format>', 'file format (default: from the extension)').choices([
          'jsonl',
          'csv',
        ]),
      )
      .option('--tenant <tenant>', 'tenant the history belongs to', 'default')
      .option('--chunk <n>', 'invoices per transaction', positiveInt, DEFAULT_HISTORY_CHUNK)
      .option(
        '--parallel <n>',
        'chunks in flight (featurise one while the last is written; default 2, 3 with workers)',
        positiveInt,
      )
      .option(
        '--workers <n>',
        'worker threads that parse and featurise chunks while the main thread writes (0: none; at most the cores; default: cores - 1, at most 2)',
        (v: string) => workerCount(v),
      )
      .option(
        '--defer-index',
        'drop the duplicate-search HNSW index for the import and build it once at the end (large backfills; writers wait during the build)',
      )
      .option(
        '--index-memory <size>',
        'PostgreSQL maintenance_work_mem for the index build (default: enough for the graph of the stored rows, at most 8GB)',
      )
      .option('--json', 'print the result as JSON (every invalid record)')
      .option('--no-progress', 'hide the progress bar'),
  ).action(
    async (
      files: string[],
      o: StoreFlags & {
        format?: 'jsonl' | 'csv';
        tenant: string;
        chunk: number;
        parallel?: number;
        workers?: number;
        deferIndex?: boolean;
        indexMemory?: string;
        json?: boolean;
        progress: boolean;
      },
    ) => {
      const r = await importFiles(files, {
        store: serviceStore(o),
        tenant: o.tenant,
        chunkSize: o.chunk,
        ...(o.parallel !== undefined ? { parallel: o.parallel } : {}),
        ...(o.workers !== undefined ? { workers: o.workers } : {}),
        deferIndex: o.deferIndex === true,
        ...(o.indexMemory ? { indexMemory: o.indexMemory } : {}),
        onIndexBuild: () => process.stderr.write('building the duplicate-search index...\n'),
        progress: o.progress && !o.json && process.stderr.isTTY === true,
        ...(o.format ? { format: o.format } : {}),
      });
      process.stdout.write((o.json ? JSON.stringify(r, null, 2) : renderImport(r)) + '\n');
      if (r.invalid.length > 0) process.exitCode = 1;
    },
  );
}

/** Declares the `erp` command (load) on `program`. */
export function addErpCommand(program: Command): void {
  const erp = program
    .command('erp')
    .description('ERP reference data: purchase orders, goods receipts, contracts');
  withStoreFlags(
    erp
      .command('load <file>')
      .description('Upsert POs, receipts and contracts from JSON, JSONL or CSV (all or nothing; audited)')
      .requiredOption('--tenant <tenant>', 'tenant the data belongs to'),
  ).action(async (file: string, o: StoreFlags & { tenant: string }) => {
    const erpFile = openErpFile(resolve(file));
    const repo = await openStore(serviceStore(o));
    try {
      const result = await repo.erp.load(o.tenant, erpFile.load, null).catch((e: unknown) => {
        throw isTriageError(e) ? erpFile.locate(e) : e;
      });
      process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    } finally {
      await repo.close();
    }
  });
}
