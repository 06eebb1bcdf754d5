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
 * Key and audit commands use the service's store: `--database-url` / `--data-dir`, else
 * `DATABASE_URL` / `DATA_DIR` as the server reads them. The embedded store (PGlite) is one
 * process at a time: stop the server first, or use the admin API.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import { isTriageError } from '../core/errors.js';
import { blankTextErrors, validateInvoice } from '../core/validate.js';
import type { DecisionResponse } from '../core/decision.js';
import { readInvoiceFiles, type FileFormat } from './invoice-file.js';
import { openErpFile } from './erp-file.js';
import { wire, type ModelsWiring } from './bootstrap.js';
import { loadConfig } from './config.js';
import { openStore, type AuditVerification, type CreatedApiKey, type StoreConfig } from '../store/index.js';
import { isRole, ROLES, type Role } from '../core/auth.js';
import { TriageError } from '../core/errors.js';
import { importFiles, renderImport } from './import.js';
import { DEFAULT_HISTORY_CHUNK } from '../inference/history.js';
import { positiveInt, workerCount } from './cli-args.js';

/** Summary of a scored file. */
export interface ScoreSummary {
  invoices: number;
  scored: number;
  replayed: number;
  invalid: { location: string; errors: string[] }[];
  decisions: Record<string, number>;
  queues: Record<string, number>;
  reasons: Record<string, number>;
  duplicates: { invoice_id: string; duplicate_of: string; score: number; decision: string }[];
}

/** Options of {@link scoreFile}. */
export interface ScoreFileOptions {
  store: StoreConfig;
  format?: FileFormat;
  progress?: boolean;
  /** Write every decision as JSON Lines here. */
  out?: string;
  /** Models served (default the shipped champions, no hot reload); null: the heuristic scorers. */
  models?: ModelsWiring | null;
  /**
   * Routing policy document to score under as it is (the server's `POLICY_FILE`); default the
   * served default: the certified policy bound to its champions (bin/served-policy.ts).
   */
  policyFile?: string;
}

/**
 * Scores every invoice of one or more files (JSONL, CSV, X12 810, UBL, FHIR; in order) and
 * summarises. Invalid rows, and documents that do not convert, are reported, not fatal.
 */
export async function scoreFile(
  path: string | readonly string[],
  opts: ScoreFileOptions,
): Promise<ScoreSummary> {
  const records = await readInvoiceFiles(typeof path === 'string' ? [path] : path, opts.format);
  const { scoring, repo, closeModels } = await wire(opts.store, {
    models: opts.models === undefined ? { reloadMs: null } : opts.models,
    ...(opts.policyFile ? { policyFile: opts.policyFile } : {}),
  });
  const summary: ScoreSummary = {
    invoices: records.length,
    scored: 0,
    replayed: 0,
    invalid: [],
    decisions: {},
    queues: {},
    reasons: {},
    duplicates: [],
  };
  const out: DecisionResponse[] = [];
  const bar = opts.progress
    ? new SingleBar(
        { format: 'scoring [{bar}] {value}/{total} invoices | {eta_formatted} left', stream: process.stderr },
        Presets.shades_classic,
      )
    : null;
  bar?.start(records.length, 0);
  try {
    for (const rec of records) {
      try {
        if (rec.parseError) throw new Error(rec.parseError);
        const inv = validateInvoice(rec.value);
        const { decision: d, created } = await scoring.score(inv);
        if (!created) summary.replayed++;
        summary.scored++;
        out.push(d);
        summary.decisions[d.decision] = (summary.decisions[d.decision] ?? 0) + 1;
        if (d.queue) summary.queues[d.queue] = (summary.queues[d.queue] ?? 0) + 1;
        for (const code of new Set(d.reasons.map((r) => r.code)))
          summary.reasons[code] = (summary.reasons[code] ?? 0) + 1;
        // The pair the DUPLICATE_ reason flagged: the best entry that is not a line-level match only.
        const top = d.duplicates.find((x) => x.kind !== 'lines');
        // A replayed invoice (its id sent again) answers its stored decision: listed once.
        if (
          top &&
          d.reasons.some((r) => r.code.startsWith('DUPLICATE_')) &&
          !summary.duplicates.some((x) => x.invoice_id === d.invoice_id)
        ) {
          summary.duplicates.push({
            invoice_id: d.invoice_id,
            duplicate_of: top.invoice_id,
            score: top.score,
            decision: d.decision,
          });
        }
      } catch (e) {
        if (isTriageError(e) && e.errors.length > 0) {
          summary.invalid.push({
            location: rec.location,
            errors: e.errors.map((x) => `${x.path} ${x.message}`),
          });
        } else if (isTriageError(e) && e.code === 'TRIAGE_INVOICE_CONFLICT') {
          summary.invalid.push({ location: rec.location, errors: [e.message] });
        } else if (!isTriageError(e) && rec.parseError) {
          summary.invalid.push({ location: rec.location, errors: [rec.parseError] });
        } else {
          // Not a problem with this invoice (e.g. the store failed): stop, saying where.
          throw new Error(`${rec.location}: ${(e as Error).message}`, { cause: e });
        }
      }
      bar?.increment();
    }
  } finally {
    bar?.stop();
    await repo.close();
    await closeModels();
  }
  if (opts.out)
    writeFileSync(opts.out, out.map((d) => JSON.stringify(d)).join('\n') + (out.length ? '\n' : ''));
  return summary;
}

/** Renders a summary as text tables. */
export function renderSummary(s: ScoreSummary): string {
  const parts: string[] = [];
  const t1 = new Table({
    style: { head: [], border: [] },
    head: ['invoices', 'scored', 'replayed', 'invalid', ...['AUTO_APPROVE', 'REVIEW', 'HOLD']],
  });
  t1.push([
    s.invoices,
    s.scored,
    s.replayed,
    s.invalid.length,
    s.decisions.AUTO_APPROVE ?? 0,
    s.decisions.REVIEW ?? 0,
    s.decisions.HOLD ?? 0,
  ]);
  parts.push(t1.toString());
  const t2 = new Table({ style: { head: [], border: [] }, head: ['queue', 'invoices'] });
  for (const [q, n] of Object.entries(s.queues).sort((a, b) => b[1] - a[1])) t2.push([q, n]);
  if (t2.length > 0) parts.push(t2.toString());
  const t3 = new Table({ style: { head: [], border: [] }, head: ['top reasons', 'invoices'] });
  for (const [r, n] of Object.entries(s.reasons)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10))
    t3.push([r, n]);
  if (t3.length > 0) parts.push(t3.toString());
  const t4 = new Table({
    style: { head: [], border: [] },
    head: ['duplicate invoice', 'of earlier invoice', 'score', 'decision'],
  });
  for (const d of s.duplicates) t4.push([d.invoice_id, d.duplicate_of, d.score.toFixed(3), d.decision]);
  parts.push(`duplicates found: ${s.duplicates.length}`);
  if (s.duplicates.length > 0) parts.push(t4.toString());
  if (s.invalid.length > 0) {
    parts.push(`invalid invoices: ${s.invalid.length}`);
    for (const i of s.invalid.slice(0, 20)) parts.push(`  ${i.location}: ${i.errors.slice(0, 5).join('; ')}`);
  }
  return parts.join('\n');
}

/**
 * Creates an API key in a store (audited with the system as actor).
 * @throws TriageError `TRIAGE_REQUEST_INVALID` for an unknown role or a bad tenant id.
 */
export async function createKey(
  store: StoreConfig,
  spec: { tenant: string; roles: readonly string[]; name?: string },
): Promise<CreatedApiKey> {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(spec.tenant))
    throw new TriageError('TRIAGE_REQUEST_INVALID', 'tenant must be 1-64 letters, digits, ".", "_" or "-"', [
      { path: '--tenant', message: 'is invalid' },
    ]);
  const bad = spec.roles.filter((r) => !isRole(r));
  if (spec.roles.length === 0 || bad.length > 0)
    throw new TriageError('TRIAGE_REQUEST_INVALID', `roles must be among ${ROLES.join(', ')}`, [
      { path: '--role', message: bad.length > 0 ? `unknown: ${bad.join(', ')}` : 'is required' },
    ]);
  const blank = blankTextErrors('--name', spec.name);
  if (blank.length > 0) throw new TriageError('TRIAGE_REQUEST_INVALID', 'blank --name', blank);
  const repo = await openStore(store);
  try {
    return await repo.keys.create(
      {
        tenantId: spec.tenant,
        name: spec.name ?? `cli ${spec.roles.join('+')}`,
        roles: spec.roles as Role[],
      },
      null,
    );
  } finally {
    await repo.close();
  }
}

/** Verifies the audit chain of one tenant, or of every tenant. */
export async function verifyAuditLog(store: StoreConfig, tenant?: string): Promise<AuditVerification[]> {
  const repo = await openStore(store);
  try {
    return tenant ? [await repo.audit.verify(tenant)] : await repo.audit.verifyAll();
  } finally {
    await repo.close();
  }
}

/** The store flags of key/audit commands (`--data-dir`, `--database-url`, `--schema`). */
export interface StoreFlags {
  dataDir?: string;
  databaseUrl?: string;
  schema?: string;
}

/**
 * The store of key/audit commands: flags first, else the server's configuration (env). With
 * `--database-url`, the schema is `--schema`, else `DATABASE_SCHEMA`, else the default (public).
 */
export function serviceStore(o: StoreFlags, env: NodeJS.ProcessEnv = process.env): StoreConfig {
  const schema = o.schema ?? env.DATABASE_SCHEMA;
  if (o.databaseUrl)
    return { engine: 'postgres', connectionString: o.databaseUrl, ...(schema ? { schema } : {}) };
  if (o.dataDir) return { engine: 'pglite', dataDir: resolve(o.dataDir) };
  return loadConfig().store;
}

const withStoreFlags = (c: Command): Command =>
  c
    .option('--data-dir <dir>', 'embedded store directory (default: DATA_DIR or ./data/pglite)')
    .option('--database-url <url>', 'PostgreSQL (default: DATABASE_URL)')
    .option('--schema <schema>', 'PostgreSQL schema (default: DATABASE_SCHEMA or public)');

// A usage error (bad option value, unknown option, missing argument) exits 2, like a failed run;
// set before the subcommands are declared so that they inherit it.
const program = new Command()
  .name('invoice-triage')
  .description('Score healthcare supplier invoices: coding mismatch, duplicates, routing.')
  .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2));

program
  .command('score')
  .description('Score files of invoices (JSONL, CSV, X12 810, UBL 2.1, FHIR R4) and print a summary')
  .argument(
    '<files...>',
    'invoices: .jsonl (one API-shaped invoice per line), .csv (one row per line), .x12/.edi/.810 (an X12 810 interchange, any number of invoices), .xml (a UBL 2.1 Invoice or CreditNote), .fhir.json (a FHIR R4 Invoice or Bundle of Invoices)',
  )
  .addOption(
    new Option('--format <format>', 'file format (default: from the extension)').choices([
      'jsonl',
      'csv',
      'x12',
      'ubl',
      'fhir',
    ]),
  )
  .option('--data-dir <dir>', 'score into a persistent PGlite store in this directory')
  .option('--database-url <url>', 'score into PostgreSQL (with pgvector)')
  .option('--out <file>', 'write every decision as JSON Lines to this file')
  .option(
    '--policy-file <file>',
    "routing policy to score under (default: POLICY_FILE, else the shipped policy with the cards' thresholds)",
  )
  .option('--json', 'print the summary as JSON instead of tables')
  .option('--no-progress', 'hide the progress bar')
  .action(
    async (
      files: string[],
      o: {
        format?: FileFormat;
        dataDir?: string;
        databaseUrl?: string;
        out?: string;
        policyFile?: string;
        json?: boolean;
        progress: boolean;
      },
    ) => {
      const policyFile = o.policyFile ?? process.env.POLICY_FILE;
      const store: StoreConfig = o.databaseUrl
        ? { engine: 'postgres', connectionString: o.databaseUrl }
        : { engine: 'pglite', ...(o.dataDir ? { dataDir: o.dataDir } : {}) };
      const summary = await scoreFile(files, {
        store,
        progress: o.progress && !o.json && process.stderr.isTTY === true,
        ...(o.format ? { format: o.format } : {}),
        ...(o.out ? { out: o.out } : {}),
        ...(policyFile ? { policyFile: resolve(policyFile) } : {}),
      });
      process.stdout.write((o.json ? JSON.stringify(summary, null, 2) : renderSummary(summary)) + '\n');
      if (summary.invalid.length > 0) process.exitCode = 1;
    },
  );

const keys = program.command('keys').description('API keys: create, list, revoke');
withStoreFlags(
  keys
    .command('create')
    .description('Create an API key and print it once (JSON)')
    .requiredOption('--tenant <tenant>', 'tenant of the key')
    .requiredOption(
      '--role <role>',
      `role (${ROLES.join(', ')}); repeat for several`,
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--name <name>', 'what the key is for'),
).action(async (o: StoreFlags & { tenant: string; role: string[]; name?: string }) => {
  const k = await createKey(serviceStore(o), {
    tenant: o.tenant,
    roles: o.role,
    ...(o.name !== undefined ? { name: o.name } : {}),
  });
  process.stdout.write(
    JSON.stringify(
      {
        id: k.record.id,
        tenant_id: k.record.tenantId,
        name: k.record.name,
        roles: k.record.roles,
        prefix: k.record.prefix,
        key: k.key,
      },
      null,
      2,
    ) + '\n',
  );
});
withStoreFlags(
  keys
    .command('list')
    .description("List a tenant's keys (prefix only)")
    .requiredOption('--tenant <tenant>', 'tenant'),
).action(async (o: StoreFlags & { tenant: string }) => {
  const repo = await openStore(serviceStore(o));
  try {
    const t = new Table({
      style: { head: [], border: [] },
      head: ['id', 'prefix', 'name', 'roles', 'created', 'revoked'],
    });
    for (const k of await repo.keys.list(o.tenant))
      t.push([k.id, k.prefix, k.name, k.roles.join(','), k.createdAt, k.revokedAt ?? '']);
    process.stdout.write(t.toString() + '\n');
  } finally {
    await repo.close();
  }
});
withStoreFlags(
  keys
    .command('revoke')
    .description('Revoke a key of a tenant')
    .argument('<id>', 'key id')
    .requiredOption('--tenant <tenant>', 'tenant'),
).action(async (id: string, o: StoreFlags & { tenant: string }) => {
  const repo = await openStore(serviceStore(o));
  try {
    const rec = await repo.keys.revoke(o.tenant, id, null);
    if (!rec) throw new TriageError('TRIAGE_KEY_NOT_FOUND', `tenant ${o.tenant} has no key ${id}`);
    process.stdout.write(`revoked ${rec.id} (${rec.prefix}) at ${rec.revokedAt}\n`);
  } finally {
    await repo.close();
  }
});

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
      new Option('--format <format>', 'file format (default: from the extension)').choices(['jsonl', 'csv']),
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

const audit = program.command('audit').description('Hash-chained audit log');
withStoreFlags(
  audit
    .command('verify')
    .description('Recompute the audit chain(s); exit code 1 names the first bad seq')
    .option('--tenant <tenant>', 'only this tenant (default: every tenant)'),
).action(async (o: StoreFlags & { tenant?: string }) => {
  const results = await verifyAuditLog(serviceStore(o), o.tenant);
  for (const r of results) {
    process.stdout.write(
      r.ok
        ? `ok      tenant ${r.tenantId}: ${r.rowsChecked} entries, head seq ${r.head.seq} ${r.head.hash}\n`
        : `BROKEN  tenant ${r.tenantId}: first bad seq ${r.firstBadSeq} (${r.problem}) after ${r.rowsChecked} good entries\n`,
    );
  }
  if (results.length === 0) process.stdout.write('no audit entries\n');
  if (results.some((r) => !r.ok)) process.exitCode = 1;
});

const isMain = process.argv[1] !== undefined && /cli\.(ts|js)$/.test(process.argv[1]);
if (isMain) {
  program.parseAsync().catch((e: unknown) => {
    process.stderr.write(`error: ${isTriageError(e) ? `${e.code}: ${e.message}` : (e as Error).message}\n`);
    process.exitCode = 2;
  });
}
