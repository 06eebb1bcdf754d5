/**
 * Parsers of command-line option values shared by the CLI entry points (commander argParsers).
 */
import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';

const POSITIVE_INT = /^[1-9]\d*$/;

/**
 * Reads an option value that must be a positive integer written in decimal digits (`1`, `500`;
 * not `0`, `-5`, `abc`, `1e3`, `0x10` or an empty string), up to `Number.MAX_SAFE_INTEGER`.
 * Commander names the option in its usage error (`option '--chunk <n>' argument 'abc' is invalid`).
 * @throws InvalidArgumentError for any other text.
 */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!POSITIVE_INT.test(value) || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

/**
 * Reads an option value that must be 0 or a positive integer in decimal digits (as
 * {@link positiveInt}, and `0`).
 * @throws InvalidArgumentError for any other text.
 */
export function nonNegativeInt(value: string): number {
  if (value === '0') return 0;
  try {
    return positiveInt(value);
  } catch {
    throw new InvalidArgumentError('must be 0 or a positive integer.');
  }
}

/**
 * Reads `--workers`: 0 or a positive integer no larger than the machine's cores
 * (`os.availableParallelism()`), since more featurising threads than cores only add contention
 * and memory (each worker holds its own reference data).
 * @throws InvalidArgumentError for other text or a count above the cores.
 */
export function workerCount(value: string, cores: number = availableParallelism()): number {
  const n = nonNegativeInt(value);
  if (n > cores) throw new InvalidArgumentError(`must be at most ${cores} (the cores of this machine).`);
  return n;
}

/**
 * Reads an output file option (`--out FILE`): the file may not exist yet, but its directory must,
 * so that a long run is not refused at its end, after its work is stored, with a bare `ENOENT`.
 * @returns the path as given.
 * @throws InvalidArgumentError when the directory does not exist or is not a directory.
 */
export function outputFile(value: string): string {
  const dir = dirname(resolve(value));
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st) throw new InvalidArgumentError(`its directory ${dir} does not exist.`);
  if (!st.isDirectory()) throw new InvalidArgumentError(`${dir} is not a directory.`);
  return value;
}
