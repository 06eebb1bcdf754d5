/**
 * A registered version loaded as a shadow challenger: the same scorer factories and
 * vectorisers as the champions (inference/model-scorers.ts), pinned to one version (no alias
 * watching, no explanations), giving the invoice-level score the champion's routing uses
 * (max over the invoice's lines, or over its candidate pairs; 0 without any).
 */
import type { AliasName, ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import { ChampionModel } from '../inference/onnx-champion.js';
import {
  createModelCodingScorer,
  createModelPairScorer,
  featurePairVectoriser,
  type LineVectoriser,
} from '../inference/model-scorers.js';
import type { ShadowScorer } from './service.js';

/**
 * Loads `name@version` for shadow scoring.
 * @throws TriageError `TRIAGE_MODEL_NOT_FOUND`, `TRIAGE_MODEL_SIGNATURE_MISMATCH`, `TRIAGE_MODEL_INVALID`.
 */
export async function loadShadowScorer(
  registry: ModelRegistry,
  name: string,
  version: string,
  lineVectoriser: LineVectoriser,
): Promise<ShadowScorer> {
  const card = await registry.card(name, version);
  // A version number resolves like an alias (registry.resolve takes either).
  const model = await ChampionModel.load(registry, name, {
    expected: servedFeatureSchemas()[card.task],
    alias: version as AliasName,
    watchIntervalMs: null,
  });
  const max = (xs: readonly (number | null)[]): number => xs.reduce<number>((m, x) => Math.max(m, x ?? 0), 0);
  if (card.task === 'coding-mismatch') {
    const scorer = createModelCodingScorer({ model, vectorise: lineVectoriser });
    return {
      label: model.label,
      invoiceScore: async (e) =>
        max((await scorer.scoreLines(e.invoice, e.lineFeatures, e.context)).map((l) => l.score)),
      close: () => model.close(),
    };
  }
  const scorer = createModelPairScorer({ model, vectorise: featurePairVectoriser });
  return {
    label: model.label,
    invoiceScore: async (e) =>
      e.pairs.length
        ? max((await scorer.scorePairs(e.pairs.map((p) => p.comparison))).map((s) => s.score))
        : 0,
    close: () => model.close(),
  };
}
