/**
 * `invoice-triage import FILE...`: indexes past invoices (JSONL or CSV, as `score` reads them)
 * for duplicate search and the vendor baselines without scoring them (inference/history.ts).
 * JSON Lines files are read as a stream (memory stays flat whatever the size); CSV files are
 * read whole, since the rows of one invoice may be anywhere in the file. Records are written a
 * chunk per transaction; bad records are reported (location and fields) and left out of their
 * chunk; the run is idempotent per invoice id, so re-running after a stop continues (invoices
 * stored before are skipped without being featurised). Two chunks are in flight by default (the
 * next is featurised while PostgreSQL writes the last); `--defer-index` drops the HNSW index of
 * invoice embeddings for a large backfill and builds it once at the end
 * (store/embedding-index.ts). Every run ends with a VACUUM (ANALYZE) of the tables the candidate
 * search reads (store/history.ts `settle`), so the first invoices scored against the history read
 * no heap page in the vendor and exact-key blocks and are planned with statistics.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { SingleBar, Presets } from 'cli-progress';
import {
  DEFAULT_HISTORY_CHUNK,
  importHistoryStream,
  type HistoryImportResult,
  type HistoryInput,
} from '../inference/history.js';
import { openStore, type StoreConfig } from '../store/index.js';
import { defaultHistoryWorkers, openHistoryWorkers } from '../inference/history-workers.js';
import { NO_INVOICE, notUtf8LineReason, readInvoiceFile } from './invoice-file.js';
import { NotUtf8Error, decodeUtf8 } from '../core/utf8.js';
import { TriageError } from '../core/errors.js';

/** Options of {@link importFiles}. */
export interface ImportOptions {
  store: StoreConfig;
  /** Tenant the history belongs to; default `default`. */
  tenant?: string;
  /** `jsonl` or `csv`; default from each file's extension. */
  format?: 'jsonl' | 'csv';
  /** Invoices per transaction; default {@link DEFAULT_HISTORY_CHUNK}. */
  chunkSize?: number;
  /** Show a progress bar on stderr (bytes of JSONL, records of CSV). */
  progress?: boolean;
  /**
   * Chunks in flight (default 2, 3 with workers): the next chunk is featurised while
   * PostgreSQL writes the last, on another connection.
   */
  parallel?: number;
  /**
   * Drop the HNSW index of invoice embeddings for the import and build it once afterwards
   * (store/embedding-index.ts): several times faster for a large backfill; duplicate search
   * stays correct but slower meanwhile, and writers wait during the build. Default false.
   */
  deferIndex?: boolean;
  /**
   * PostgreSQL `maintenance_work_mem` of the index build, e.g. `2GB`; default sized to hold the
   * graph of the stored rows in memory (store/embedding-index.ts `indexBuildMemory`).
   */
  indexMemory?: string;
  /**
   * Worker threads that parse, validate, featurise and (PostgreSQL) COPY-encode the chunks while
   * this thread writes (inference/history-workers.ts); 0 does it all in this thread. Default
   * {@link defaultHistoryWorkers} (1 on two cores).
   */
  workers?: number;
  /** Told when the index build starts (it can take minutes for a million invoices). */
  onIndexBuild?: () => void;
}

/** Records of one file; `advance` is told the bytes read (JSONL only: a CSV file is parsed whole). */
async function* fileRecords(
  path: string,
  format: 'jsonl' | 'csv',
  advance: (n: number) => void,
): AsyncGenerator<HistoryInput> {
  if (format === 'csv') {
    for (const r of readInvoiceFile(path, 'csv')) {
      yield {
        location: `${path} ${r.location}`,
        value: r.value,
        ...(r.parseError ? { parseError: r.parseError } : {}),
      };
    }
    return;
  }
  let lineNo = 0;
  let records = 0;
  // Read as Latin-1, one character per byte, so each line's bytes are decoded strictly below.
  const input = createReadStream(path, { encoding: 'latin1' });
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    lineNo++;
    const bytes = Buffer.from(raw, 'latin1');
    advance(bytes.length + 1);
    let line: string;
    try {
      line = decodeUtf8(bytes);
    } catch (e) {
      if (!(e instanceof NotUtf8Error)) throw e;
      records++;
      yield {
        location: `${path} line ${lineNo}`,
        value: null,
        parseError: `${notUtf8LineReason(e)}; the record is not read`,
      };
      continue;
    }
    if (line.trim() === '') continue;
    records++;
    // Parsed where it is validated: in a worker thread when the import has workers.
    yield { location: `${path} line ${lineNo}`, text: line };
  }
  if (records === 0) throw new TriageError('TRIAGE_FILE_INVALID', `${path}: ${NO_INVOICE}`);
}

/**
 * The format of a history file: `--format`, else the extension (`.csv`; `.jsonl`, `.ndjson`,
 * `.json`), else the first non-blank byte (`{` JSONL; a comma-separated header line CSV).
 * @throws TriageError `TRIAGE_FILE_INVALID` (a usage error, exit 2) for any other file, e.g. an
 *   X12, UBL or FHIR document, which `score` reads and `import` does not.
 */
export function importFormat(path: string, forced?: 'jsonl' | 'csv'): 'jsonl' | 'csv' {
  if (forced) return forced;
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(jsonl|ndjson|json)$/i.test(path)) return 'jsonl';
  const head = Buffer.alloc(4096);
  let n: number;
  try {
    const fd = openSync(path, 'r');
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return 'jsonl'; // unreadable: fileSize names the error
  }
  const text = head
    .subarray(0, n)
    .toString('utf8')
    .replace(/^[\uFEFF\s]*/, '');
  if (text === '' || text.startsWith('{')) return 'jsonl';
  const firstLine = text.split(/\r?\n/, 1)[0]!;
  if (/^[\w"][^<*{]*,/.test(firstLine)) return 'csv';
  throw new TriageError(
    'TRIAGE_FILE_INVALID',
    `${path} is neither JSONL/NDJSON (a JSON object per line) nor CSV (a header line of columns), by extension or first byte (${JSON.stringify(text.slice(0, 3))}): import takes JSONL/NDJSON or CSV; X12, UBL and FHIR documents are read by score`,
  );
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch (e) {
    throw new TriageError(
      'TRIAGE_FILE_INVALID',
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

/**
 * Imports files of past invoices into a store, chunk by chunk.
 * @returns counts and the records not imported, with why.
 * @throws TriageError `TRIAGE_FILE_INVALID` when a file cannot be read; store errors as they come
 *   (the chunks before are committed; re-run to continue).
 */
export async function importFiles(
  paths: readonly string[],
  opts: ImportOptions,
): Promise<HistoryImportResult> {
  const tenant = opts.tenant ?? 'default';
  const chunkSize = opts.chunkSize ?? DEFAULT_HISTORY_CHUNK;
  const formats = paths.map((p) => importFormat(p, opts.format));
  const total = paths.reduce((acc, p, i) => acc + (formats[i] === 'csv' ? 0 : fileSize(p)), 0);
  const bar = opts.progress
    ? new SingleBar(
        {
          format:
            'importing [{bar}] {percentage}% | {imported} imported, {skipped} skipped, {invalid} invalid | {eta_formatted} left',
          stream: process.stderr,
        },
        Presets.shades_classic,
      )
    : null;
  const seen = { imported: 0, skipped: 0, invalid: 0 };
  const counts = () => ({ ...seen });
  bar?.start(Math.max(1, total), 0, counts());
  const repo = await openStore(opts.store);
  const threads = opts.workers ?? defaultHistoryWorkers();
  const workers = threads > 0 ? openHistoryWorkers(threads) : null;
  let result: HistoryImportResult | null = null;
  let failure: { error: unknown } | null = null;
  try {
    if (opts.deferIndex) await repo.history.suspendIndex();
    async function* records(): AsyncGenerator<HistoryInput> {
      for (const [i, path] of paths.entries())
        yield* fileRecords(path, formats[i]!, (n) => bar?.increment(n));
    }
    result = await importHistoryStream(repo.history, tenant, records(), {
      actorKeyId: null,
      onBadRecord: 'report',
      chunkSize,
      parallel: opts.parallel ?? (workers ? 3 : 2),
      ...(workers ? { prepare: workers.prepare } : {}),
      onChunk: (out) => {
        seen.imported += out.imported;
        seen.skipped += out.skipped;
        seen.invalid += out.invalid.length;
        bar?.update(counts());
      },
    });
  } catch (error) {
    failure = { error };
  } finally {
    await workers?.close();
  }
  bar?.stop();
  try {
    // Also after a failed deferred run, and by any run after an interrupted one: the index is
    // built by whichever run ends next (a no-op when it is present).
    if (opts.deferIndex) opts.onIndexBuild?.();
    await repo.history.buildIndex(opts.indexMemory ? { memory: opts.indexMemory } : {});
    await repo.history.settle();
  } catch (error) {
    failure ??= { error };
  } finally {
    await repo.close();
  }
  if (failure || !result) throw failure?.error;
  return result;
}

/** The import summary as text: counts, then up to 20 bad records. */
export function renderImport(r: HistoryImportResult): string {
  const lines = [
    `records ${r.records}, imported ${r.imported}, already stored ${r.skipped}, invalid ${r.invalid.length}`,
  ];
  for (const i of r.invalid.slice(0, 20)) lines.push(`  ${i.location}: ${i.errors.slice(0, 5).join('; ')}`);
  if (r.invalid.length > 20) lines.push(`  ... ${r.invalid.length - 20} more (use --json)`);
  return lines.join('\n');
}
