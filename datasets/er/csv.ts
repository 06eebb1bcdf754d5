/** Reading the shared benchmark CSV files (header row, UTF-8) into records keyed by column. */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { TriageError } from '../../core/errors.js';

/**
 * Reads a CSV file with a header row into objects; every listed column must be present.
 * @throws TriageError `TRIAGE_FILE_INVALID` when the file is missing, malformed or lacks a column.
 */
export function readCsvRecords(file: string, required: readonly string[]): Record<string, string>[] {
  if (!existsSync(file)) throw new TriageError('TRIAGE_FILE_INVALID', `Benchmark file is missing: ${file}`);
  let rows: Record<string, string>[];
  try {
    rows = parse(readFileSync(file, 'utf8'), { columns: true, bom: true, skip_empty_lines: true }) as Record<
      string,
      string
    >[];
  } catch (e) {
    throw new TriageError(
      'TRIAGE_FILE_INVALID',
      `Benchmark file ${file} is not valid CSV: ${(e as Error).message}`,
      [],
      {
        cause: e,
      },
    );
  }
  const first = rows[0];
  for (const c of required) {
    if (first !== undefined && !Object.hasOwn(first, c))
      throw new TriageError('TRIAGE_FILE_INVALID', `Benchmark file ${file} lacks column "${c}"`);
  }
  return rows;
}
