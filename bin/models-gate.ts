/**
 * The same-split promotion gate from the registry (`npm run models -- gate <name> <version>
 * --data <dir>`, and `models promote --data <dir>`): the version and the champion of its name
 * are read from the registry, the benchmark at `dir` is assembled as `npm run train` assembles
 * it, and both are re-measured on its test split (training/same-split-gate.ts).
 */
import { TriageError } from '../core/errors.js';
import type { ModelRegistry } from '../models/registry.js';
import { assembleTask } from '../training/assemble.js';
import { loadBenchmark } from '../training/benchmark.js';
import { createFeatureProvider } from '../training/provider.js';
import { sameSplitGate, type GateModel, type SameSplitGate } from '../training/same-split-gate.js';

/** Options of {@link registryGate}. */
export interface RegistryGateOptions {
  /** Benchmark directory (the challenger's: `npm run gen:benchmark` output). */
  data: string;
  /** Seed of the feature provider (default: the challenger card's seed, else 42). */
  seed?: number;
  /** kNN candidates per invoice of the duplicate blocking (default 10, as `npm run train`). */
  k?: number;
}

/**
 * Runs {@link sameSplitGate} for `name@version` against the champion of `name`.
 * @throws TriageError `TRIAGE_MODEL_NOT_FOUND` for an unknown version; `TRIAGE_MODEL_PROMOTION_REFUSED`
 *   when `name` has no champion, the version is the champion, or either is an external model (no spec);
 *   TriageError for an invalid benchmark directory; RangeError as {@link sameSplitGate}.
 */
export async function registryGate(
  registry: ModelRegistry,
  name: string,
  version: string,
  o: RegistryGateOptions,
): Promise<SameSplitGate> {
  const challenger = await registry.resolve(name, version.replace(/^v(?=\d)/, ''));
  const champion = await registry.resolve(name, 'champion').catch(() => null);
  const refuse = (why: string): never => {
    throw new TriageError('TRIAGE_MODEL_PROMOTION_REFUSED', `same-split gate of ${challenger.label}: ${why}`);
  };
  if (champion === null) return refuse(`${name} has no champion to compare with`);
  if (champion.version === challenger.version) return refuse('it is the champion');
  const model = (r: typeof challenger): GateModel =>
    r.spec === null
      ? refuse(`${r.label} is an external model without a spec to re-measure`)
      : { card: r.card, spec: r.spec };
  const c = model(challenger);
  const h = model(champion);
  const bench = loadBenchmark(o.data);
  const { provider } = createFeatureProvider({
    bench,
    dataDir: o.data,
    seed: o.seed ?? challenger.card.seed ?? 42,
  });
  const assembled = await assembleTask(challenger.card.task, bench, provider, { blocking: { k: o.k ?? 10 } });
  return sameSplitGate(c, h, assembled);
}
