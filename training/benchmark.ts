/**
 * Reads the seeded benchmark (`datasets/benchmark/types.ts`): every `*.jsonl` file of
 * a directory, one `{ invoice, label }` record per line, validated and put in submission order
 * (`label.seq`). Each file's sha256 is returned for the model card.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TriageError } from '../core/errors.js';
import { validateInvoice } from '../core/validate.js';
import type { BenchmarkLabel, BenchmarkRecord } from '../datasets/benchmark/types.js';

/** A loaded benchmark with provenance. */
export interface LoadedBenchmark {
  /** Records sorted by `label.seq`. */
  records: BenchmarkRecord[];
  files: { path: string; sha256: string; records: number }[];
}

const SPLITS = new Set(['train', 'valid', 'test']);

function checkLabel(l: unknown, where: string): BenchmarkLabel {
  const o = l as Partial<BenchmarkLabel> | null;
  const bad = (what: string): never => {
    throw new TriageError('TRIAGE_FILE_INVALID', `${where}: label ${what}`, [
      { path: `${where}/label`, message: what },
    ]);
  };
  if (!o || typeof o !== 'object') return bad('must be an object');
  if (!SPLITS.has(o.split as string)) bad('split must be train, valid or test');
  if (!Number.isInteger(o.seq)) bad('seq must be an integer');
  if (!Array.isArray(o.coding)) bad('coding must be an array');
  if (o.duplicate !== null && (typeof o.duplicate !== 'object' || typeof o.duplicate?.of !== 'string'))
    bad('duplicate must be null or { kind, of, changes }');
  if (o.hard_negative !== null && typeof o.hard_negative?.related !== 'string')
    bad('hard_negative must be null or { kind, related }');
  return o as BenchmarkLabel;
}

/**
 * Loads every `*.jsonl` file in `dir` (sorted by name).
 * @throws TriageError `TRIAGE_FILE_INVALID` for unreadable JSON, a bad label or a repeated
 *   invoice id; `TRIAGE_INPUT_INVALID` for an invalid invoice (fields named with file:line).
 */
export function loadBenchmark(dir: string): LoadedBenchmark {
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort();
  if (names.length === 0)
    throw new TriageError('TRIAGE_FILE_INVALID', `no .jsonl benchmark files in ${dir}`, [
      { path: dir, message: 'no .jsonl files' },
    ]);
  const records: BenchmarkRecord[] = [];
  const files: LoadedBenchmark['files'] = [];
  const seen = new Set<string>();
  for (const name of names) {
    const buf = readFileSync(join(dir, name));
    let count = 0;
    buf
      .toString('utf8')
      .split('\n')
      .forEach((text, i) => {
        if (text.trim() === '') return;
        const where = `${name}:${i + 1}`;
        let v: { invoice?: unknown; label?: unknown };
        try {
          v = JSON.parse(text) as typeof v;
        } catch {
          throw new TriageError('TRIAGE_FILE_INVALID', `${where}: not valid JSON`, [
            { path: where, message: 'not JSON' },
          ]);
        }
        const invoice = validateInvoice(v.invoice, `${where}/invoice`);
        const label = checkLabel(v.label, where);
        if (seen.has(invoice.invoice_id))
          throw new TriageError('TRIAGE_FILE_INVALID', `${where}: invoice_id repeated`, [
            { path: `${where}/invoice/invoice_id`, message: 'repeated' },
          ]);
        seen.add(invoice.invoice_id);
        records.push({ invoice, label });
        count++;
      });
    files.push({ path: name, sha256: createHash('sha256').update(buf).digest('hex'), records: count });
  }
  records.sort((a, b) => a.label.seq - b.label.seq);
  return { records, files };
}
