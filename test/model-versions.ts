/**
 * A registry holding versions 1, 2, ... of one model, each with a card and an evaluation of a
 * given PR-AUC, version 1 the champion: the starting point of the promotion tests.
 */
import type { ModelRegistry } from '../models/registry.js';
import type { TrainedModelSpec } from '../models/spec.js';
import { exportOnnx } from '../training/onnx-export.js';
import { makeCardDraft, makeEvaluation } from './model-fixtures.js';

/**
 * Registers `[spec, prAuc]` in order as versions 1, 2, ... of `name` (actor `setup`) and promotes
 * version 1.
 */
export async function registerVersions(
  registry: ModelRegistry,
  name: string,
  versions: readonly (readonly [TrainedModelSpec, number])[],
): Promise<void> {
  for (const [spec, prAuc] of versions)
    await registry.register(name, {
      onnx: exportOnnx(spec),
      spec,
      card: makeCardDraft(spec, { prAuc }),
      evaluation: makeEvaluation(prAuc),
      actor: 'setup',
    });
  await registry.promote(name, '1', { actor: 'setup' });
}
