/**
 * Parsers of the `train` command's option values (training/cli.ts): bounded numbers, label
 * provenances and weights, vector editions and architecture ids; each throws commander's
 * `InvalidArgumentError` naming the flag.
 */
import { InvalidArgumentError } from 'commander';
import { isLabelProvenance, LABEL_PROVENANCES, type LabelProvenance } from '../core/labels.js';
import { VECTOR_EDITIONS } from '../features/schema.js';
import { ARCHITECTURES } from '../models/specs/index.js';

export const num =
  (name: string, min: number, max: number) =>
  (v: string): number => {
    const x = Number(v);
    if (!(x >= min && x <= max))
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}]`);
    return x;
  };
export const int =
  (name: string, min: number) =>
  (v: string): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return x;
  };

/** `reviewer,erp` -> the provenances, each known, none repeated. */
export function labelSources(v: string): LabelProvenance[] {
  const list = v.split(',').map((x) => x.trim());
  for (const x of list)
    if (!isLabelProvenance(x))
      throw new InvalidArgumentError(`--label-sources: ${x} is not one of ${LABEL_PROVENANCES.join(', ')}`);
  if (new Set(list).size !== list.length)
    throw new InvalidArgumentError('--label-sources: repeated provenance');
  return list as LabelProvenance[];
}

/** `erp=0.5` (repeatable) -> weight per provenance, each in (0, 1000] (exclude with --label-sources). */
export function labelWeight(
  v: string,
  prev: Partial<Record<LabelProvenance, number>> = {},
): Partial<Record<LabelProvenance, number>> {
  const [source, w] = v.split('=');
  const x = Number(w);
  if (!isLabelProvenance(source) || w === undefined || w.trim() === '' || !(x > 0 && x <= 1000))
    throw new InvalidArgumentError(
      `--label-weight: want <${LABEL_PROVENANCES.join('|')}>=<weight in (0, 1000]>, got ${v}`,
    );
  return { ...prev, [source]: x };
}

/** Editions the code computes, per vector (`VECTOR_EDITIONS` of features/schema.ts), for help and errors. */
export const EDITIONS = Object.entries(VECTOR_EDITIONS)
  .map(([vector, es]) => `${vector} ${es.map((e) => e.edition).join(', ')}`)
  .join('; ');

/** `--vector-edition`: an edition of some vector (checked against the model's vector by the provider). */
export function vectorEdition(v: string): number {
  const n = Number(v);
  if (!Object.values(VECTOR_EDITIONS).some((es) => es.some((e) => e.edition === n)))
    throw new InvalidArgumentError(`--vector-edition: want one of ${EDITIONS}, got ${v}`);
  return n;
}

/** `--architectures a,b`: declared architecture ids, each once. */
export function architectureIds(v: string): string[] {
  const ids = v.split(',').map((s) => s.trim());
  const bad = ids.filter((id) => !Object.hasOwn(ARCHITECTURES, id));
  if (bad.length > 0 || ids.length === 0 || new Set(ids).size !== ids.length)
    throw new InvalidArgumentError(
      `--architectures: want distinct ids of ${Object.keys(ARCHITECTURES).join(', ')}, got ${v}`,
    );
  return ids;
}

/** Numeric options: flag, help, bounds and default. */
export const RATE_OPTIONS: readonly [string, string, number, number, number][] = [
  ['--target-error', 'max share of auto-approved invoices that are exceptions', 1e-6, 0.5, 0.005],
  ['--hold-error', 'max share of held invoices that are clean', 1e-6, 0.9, 0.1],
  ['--delta', 'allowed failure probability of each threshold guarantee', 1e-6, 0.5, 0.05],
  ['--review-weight', 'weight of a reviewer label vs a benchmark row', 1e-6, 1000, 3],
];
