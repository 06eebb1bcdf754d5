/**
 * `invoice-triage score <files...>`: scores JSONL or CSV files of invoices, or intake documents
 * (X12 810 interchanges, UBL 2.1 Invoice/CreditNote, FHIR R4 Invoice/Bundle), in file order and
 * prints a summary (decision counts, queues, top reasons, duplicates found). By default the
 * store is a fresh in-memory PGlite, so the summary covers just that file; `--data-dir` or
 * `--database-url` score into a persistent store instead.
 */
import { statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import { isTriageError, TriageError } from '../core/errors.js';
import { validateInvoice } from '../core/validate.js';
import type { DecisionResponse } from '../core/decision.js';
import type { StoreConfig } from '../store/index.js';
import { readInvoiceFiles, type FileFormat } from './invoice-file.js';
import { outputFile } from './cli-args.js';
import { wire, type ModelsWiring } from './bootstrap.js';

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
  const paths = typeof path === 'string' ? [path] : path;
  if (opts.out !== undefined) refuseOutputOverInput(opts.out, paths);
  const records = await readInvoiceFiles(paths, opts.format);
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

/**
 * Refuses an output file that is one of the input files (the same path once resolved, or the same
 * file through another name: a link), since writing the decisions there would replace the
 * invoices read from it.
 * @throws TriageError `TRIAGE_FILE_INVALID` naming `--out` and the input.
 */
function refuseOutputOverInput(out: string, inputs: readonly string[]): void {
  const o = statSync(out, { throwIfNoEntry: false });
  for (const input of inputs) {
    const i = statSync(input, { throwIfNoEntry: false });
    const same = o && i ? o.dev === i.dev && o.ino === i.ino : resolve(out) === resolve(input);
    if (same)
      throw new TriageError(
        'TRIAGE_FILE_INVALID',
        `--out ${out} is the input file ${input}: writing the decisions there would replace its invoices; choose another file`,
      );
  }
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

/** Declares the `score` command on `program`. */
export function addScoreCommand(program: Command): void {
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
    .option('--out <file>', 'write every decision as JSON Lines to this file', outputFile)
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
}
