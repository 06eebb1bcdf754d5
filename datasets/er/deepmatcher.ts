/**
 * Labelled record pairs in the DeepMatcher layout, for any dataset: one CSV per split with a
 * `label` column (1 = match) and the two records' fields as `left_<field>` / `right_<field>`
 * columns (`id`, `pair_id` and other columns are ignored). Which fields exist differs between
 * datasets (`title, manufacturer, price`; `name, description, price`; `title, authors, venue,
 * year`, ...): they are returned by name, both sides with the same names.
 *
 * Files: `<dir>/train.csv`, `valid.csv`, `test.csv`, or one `*_train.csv` (etc.) each.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { TriageError } from '../../core/errors.js';
import { readCsvRecords } from './csv.js';

/** One labelled pair; `left` and `right` map field names (without the prefix) to cell text. */
export interface FieldPair {
  /** `<file>:<row>` (row 2 is the first data row). */
  pairId: string;
  left: Record<string, string>;
  right: Record<string, string>;
  label: 0 | 1;
}

/** The three splits, and the field names found (in column order). */
export interface PairSplits {
  fields: string[];
  files: Record<'train' | 'valid' | 'test', string>;
  train: FieldPair[];
  valid: FieldPair[];
  test: FieldPair[];
}

/**
 * The file of one split in `dir`: `<split>.csv`, else the single `*_<split>.csv`.
 * @throws TriageError `TRIAGE_FILE_INVALID` when there is none or more than one.
 */
export function splitFile(dir: string, split: 'train' | 'valid' | 'test'): string {
  if (!existsSync(dir)) throw new TriageError('TRIAGE_FILE_INVALID', `Pair directory is missing: ${dir}`);
  const plain = join(dir, `${split}.csv`);
  if (existsSync(plain)) return plain;
  const found = readdirSync(dir).filter((f) => f.endsWith(`_${split}.csv`));
  if (found.length !== 1)
    throw new TriageError(
      'TRIAGE_FILE_INVALID',
      found.length === 0
        ? `${dir} has no ${split}.csv or *_${split}.csv`
        : `${dir} has several *_${split}.csv files: ${found.join(', ')}`,
    );
  return join(dir, found[0]!);
}

function readSplit(file: string): { fields: string[]; pairs: FieldPair[] } {
  const rows = readCsvRecords(file, ['label']);
  const columns = Object.keys(rows[0] ?? {});
  const fields = columns.filter((c) => c.startsWith('left_')).map((c) => c.slice(5));
  if (fields.length === 0 || !fields.every((f) => columns.includes(`right_${f}`)))
    throw new TriageError(
      'TRIAGE_FILE_INVALID',
      `${file}: needs left_<field> and right_<field> columns for the same fields (found ${columns.join(', ')})`,
    );
  const pairs = rows.map((r, i): FieldPair => {
    const label = r.label?.trim();
    if (label !== '0' && label !== '1')
      throw new TriageError('TRIAGE_FILE_INVALID', `${file} row ${i + 2}: label "${r.label}" is not 0 or 1`);
    const side = (prefix: string): Record<string, string> =>
      Object.fromEntries(fields.map((f) => [f, r[`${prefix}${f}`] ?? '']));
    return {
      pairId: `${file.split('/').pop()}:${i + 2}`,
      left: side('left_'),
      right: side('right_'),
      label: label === '1' ? 1 : 0,
    };
  });
  return { fields, pairs };
}

/**
 * Reads the train, valid and test pairs of a directory.
 * @throws TriageError `TRIAGE_FILE_INVALID` naming the file (and row) when a split is missing,
 *   lacks `label` or paired field columns, has a label other than 0/1, or when the splits do
 *   not have the same fields.
 */
export function readPairSplits(dir: string): PairSplits {
  const files = {
    train: splitFile(dir, 'train'),
    valid: splitFile(dir, 'valid'),
    test: splitFile(dir, 'test'),
  };
  const train = readSplit(files.train);
  const valid = readSplit(files.valid);
  const test = readSplit(files.test);
  for (const [name, s] of [
    ['valid', valid],
    ['test', test],
  ] as const)
    if (s.fields.join(',') !== train.fields.join(','))
      throw new TriageError(
        'TRIAGE_FILE_INVALID',
        `${files[name]}: fields ${s.fields.join(', ')} differ from the train file's ${train.fields.join(', ')}`,
      );
  return { fields: train.fields, files, train: train.pairs, valid: valid.pairs, test: test.pairs };
}
