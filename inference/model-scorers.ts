/**
 * Serving scorers on top of the registry's champion ONNX models (hot-reloaded, see
 * `onnx-champion.ts`), behind the scorer interfaces of `scorers.ts`.
 *
 * Every call runs the same steps: feature vector (a vectoriser given by the caller, e.g.
 * `lineFeatureVector` / `pairFeatureVector` from features/) -> one batched ONNX run ->
 * calibrated probability (computed inside the graph) -> explanation by feature group.
 * Scores are calibrated probabilities, full precision; `modelVersion` on each result is the
 * version that produced it, even if a reload happens during the call.
 *
 * Reasons (coding): when `P` exceeds the reason threshold (`reasonAt` when given, else
 * `codingReasonThreshold`: the card's auto-approve threshold, or the policy's stricter
 * `coding.review_at` from `ScoringContext.codingReviewAt`, named in each reason's evidence), each
 * feature group with a declared reason code and a positive contribution to the logit gives a
 * reason whose weight is `P * contribution / (sum of positive group contributions)`, so the
 * weights of a line's model reasons add up to P. Evidence: the group's per-feature
 * contributions and values, the base value, logit, method and completeness gap, merged with
 * the evidence of the same reason from the `evidence` scorer (reference descriptions, fee
 * schedule) when one is given. Lines the vectoriser cannot score (no code, another code
 * system) get the evidence scorer's result, or a null score.
 */
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import type { Reason } from '../core/decision.js';
import type { LineFeatures } from '../features/invoice-features.js';
import type { PairComparison } from '../features/pair.js';
import { PAIR_VECTOR_NAMES } from '../features/comparisons.js';
import { servedPairVector } from '../features/served-pair-vector.js';
import { LINE_VECTOR_NAMES, lineFeatureVectors, type LineContext } from '../features/line-features.js';
import { reason, round3 } from './explain.js';
import type { ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import { inputProjection, type FeatureSignature } from '../models/signature.js';
import type { ModelTask } from '../models/spec.js';
import { groupFeatures, LINE_GROUP_RULES, pairGroups } from './feature-groups.js';
import { directedExplanation, modelEvidence, modelReasons, withReasonThreshold } from './model-reasons.js';
import { scoreVectors } from './model-runs.js';
import { ChampionModel, type GroupsOf, type LoadedModel } from './onnx-champion.js';
import {
  codingReasonThreshold,
  type CardThresholds,
  type CodingMismatchScorer,
  type DeferredLineExplanation,
  type DuplicatePairScorer,
  type LineScore,
  type PairScore,
  type ScoringContext,
} from './scorers.js';

/**
 * Maps a line to the model's feature vector (schema order), or null when the model cannot
 * score it. `model` is the version scoring the call: its `files` hold what the run trained
 * with (e.g. `line-context.json`), so a hot-reloaded model gets its own context.
 */
export type LineVectoriserOne = (
  invoice: Invoice,
  line: InvoiceLine,
  features: LineFeatures,
  model: LoadedModel,
  context: ScoringContext | undefined,
) => ArrayLike<number> | null;

/**
 * Maps the lines of one invoice to the model's feature vectors at once (one per line, in
 * order; null where the model cannot score the line), so work shared by the lines (the
 * reference search) is done once. See {@link LineVectoriserOne} for `model`.
 */
export type LineVectoriser = (
  invoice: Invoice,
  lines: readonly { line: InvoiceLine; features: LineFeatures }[],
  model: LoadedModel,
  context: ScoringContext | undefined,
) => (ArrayLike<number> | null)[];

/** A {@link LineVectoriser} that maps each line on its own. */
export function perLineVectoriser(one: LineVectoriserOne): LineVectoriser {
  return (invoice, lines, model, context) =>
    lines.map(({ line, features }) => one(invoice, line, features, model, context));
}

/** Maps a pair comparison to the model's feature vector (schema order). */
export type PairVectoriser = (c: PairComparison, model: LoadedModel) => ArrayLike<number>;

/** Options of {@link createModelCodingScorer}. */
export interface ModelCodingScorerOptions {
  model: ChampionModel;
  vectorise: LineVectoriser;
  /**
   * A rule-based scorer whose reasons lend evidence to the model's reasons and whose result
   * stands for lines the model cannot score; its suggested codes are passed through.
   */
  evidence?: CodingMismatchScorer;
  /**
   * Reasons are given when P exceeds this fixed threshold (then it is the scorer's reason floor);
   * default: {@link codingReasonThreshold} of the card and the policy in effect.
   */
  reasonAt?: number;
  /** Whether the vectoriser reads the vendor's history (`ScoringContext.vendorCodeCounts`); default true. */
  usesVendorHistory?: boolean;
  /**
   * Explain every line while scoring; default false: only lines above `reasonAt` (their
   * reasons are made from the explanation), the others carry `explainLater` and are explained
   * when the stored explanation is read (`explainStored`), with the same numbers.
   */
  explainAllLines?: boolean;
}

/** The async coding scorer over the champion model. */
export type ModelCodingScorer = CodingMismatchScorer<Promise<LineScore[]>>;

/** The async pair scorer over the champion model, with a batch call for all candidates of an invoice. */
export interface ModelPairScorer extends DuplicatePairScorer<Promise<PairScore>> {
  /** Scores many pairs in one ONNX run (same version for all). */
  scorePairs(cs: readonly PairComparison[]): Promise<PairScore[]>;
}

/** The routing thresholds of a loaded version's card. */
export function cardThresholds(m: LoadedModel): CardThresholds {
  return { model: m.label, autoApprove: m.card.thresholds.autoApprove, hold: m.card.thresholds.hold };
}

/**
 * The score a line must exceed to carry a coding reason under `m`: `o.reasonAt` when given
 * (source `scorer`), else {@link codingReasonThreshold} of the card's auto-approve threshold and
 * the policy's `coding.review_at` (`context.codingReviewAt`). Probability in [0, 1].
 */
export function codingReasonAt(
  m: LoadedModel,
  o: Pick<ModelCodingScorerOptions, 'reasonAt'>,
  context?: Pick<ScoringContext, 'codingReviewAt'>,
): { value: number; source: string } {
  if (o.reasonAt !== undefined) return { value: o.reasonAt, source: 'scorer' };
  const t = codingReasonThreshold(m.card.thresholds.autoApprove, context?.codingReviewAt);
  return {
    value: t.value,
    source: t.source === 'policy' ? 'policy:coding.review_at' : `model-card:${m.label}`,
  };
}

/** `v` rounded to float32 as the model reads it; `v` itself when it is already a Float32Array (not copied). */
function asFloat32(v: ArrayLike<number>): Float32Array {
  return v instanceof Float32Array ? v : Float32Array.from(v);
}

/**
 * A coding-mismatch scorer over the champion model (see the module doc for reasons).
 * @throws RangeError from `scoreLines` when a line is not on the invoice or a vector has the wrong length.
 */
export function createModelCodingScorer(o: ModelCodingScorerOptions): ModelCodingScorer {
  return {
    task: 'coding-mismatch',
    kind: 'model',
    get version() {
      return o.model.label;
    },
    get thresholds() {
      return cardThresholds(o.model.current);
    },
    // Reasons follow the policy's coding review threshold unless fixed: no floor then.
    get reasonFloor() {
      return o.reasonAt === undefined ? null : { model: o.model.current.label, value: o.reasonAt };
    },
    usesVendorHistory: o.usesVendorHistory ?? true,
    scoreLines(invoice, lines, context) {
      return o.model.use(async (m) => {
        const byNumber = new Map(invoice.lines.map((l) => [l.line_number, l]));
        const fallback = o.evidence?.scoreLines(invoice, lines, context) ?? [];
        const vectors: ArrayLike<number>[] = [];
        const items = lines.map((features) => {
          const line = byNumber.get(features.lineNumber);
          if (!line)
            throw new RangeError(`line ${features.lineNumber} is not on invoice ${invoice.invoice_id}`);
          return { line, features };
        });
        const slots = o.vectorise(invoice, items, m, context).map((v) => {
          if (v === null) return -1;
          vectors.push(v);
          return vectors.length - 1;
        });
        const scored = await scoreVectors(m, vectors);
        const threshold = codingReasonAt(m, o, context);
        const reasonAt = threshold.value;
        const reasonEvidence = threshold;
        const explainer = m.explainer;
        return lines.map((f, i): LineScore => {
          const rules = fallback[i];
          const k = slots[i]!;
          if (k < 0)
            return rules
              ? { ...rules, modelVersion: m.label }
              : {
                  lineNumber: f.lineNumber,
                  score: null,
                  reasons: [],
                  suggestedCodes: [],
                  modelVersion: m.label,
                };
          const probability = scored[k]!;
          // Integrated gradients cost more than the ONNX run: only lines whose reasons need
          // them are explained now; the others keep their input row for a later explanation.
          const now = explainer !== null && (o.explainAllLines === true || probability > reasonAt);
          const row = asFloat32(vectors[k]!);
          const explanation = now
            ? directedExplanation(explainer.spec, explainer.explain(row), row)
            : undefined;
          const later: DeferredLineExplanation | null =
            explainer !== null && !now ? { model: m.label, features: plainNumbers(row) } : null;
          let reasons: Reason[] = [];
          if (probability > reasonAt) {
            reasons = explanation
              ? modelReasons(m, probability, explanation, vectors[k]!, rules?.reasons ?? [], reasonEvidence)
              : (rules?.reasons ?? []).map((r) =>
                  withReasonThreshold(
                    { ...r, evidence: { ...r.evidence, model: m.label, source: 'rules' } },
                    reasonEvidence,
                  ),
                );
            // A risky line always carries a reason, so routing can name why it is reviewed.
            if (reasons.length === 0)
              reasons = [
                withReasonThreshold(
                  reason('CODING_MODEL_RISK', probability, {
                    model: m.label,
                    ...(explanation ? modelEvidence(m, explanation) : {}),
                  }),
                  reasonEvidence,
                ),
              ];
          }
          return {
            lineNumber: f.lineNumber,
            score: probability,
            reasons,
            suggestedCodes: rules?.suggestedCodes ?? [],
            modelVersion: m.label,
            ...(explanation ? { explanation } : {}),
            ...(later ? { explainLater: later } : {}),
            features: vectors[k]!,
          };
        });
      });
    },
    async explainStored(deferred) {
      const at = deferred.model.lastIndexOf('@');
      if (at < 0 || deferred.model.slice(0, at) !== o.model.name) return null;
      const explainer = await o.model.explainerOf(deferred.model.slice(at + 1));
      if (!explainer || deferred.features.length !== explainer.spec.featureNames.length) return null;
      const row = Float32Array.from(deferred.features);
      return directedExplanation(explainer.spec, explainer.explain(row), row);
    },
  };
}

/** `row` as a plain array, by index (`Array.from` of a typed array goes through its iterator). */
function plainNumbers(row: Float32Array): number[] {
  const out = new Array<number>(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i]!;
  return out;
}

/**
 * A duplicate pair scorer over the champion model. `contributions` are the feature groups'
 * contributions to the model's logit (rounded to 3 decimals); with the explanation's
 * `baseValue` they add up to its logit (`score` is the calibrated probability of that logit).
 * Document-kind rules are left to the duplicate detector (`rule` is null).
 */
export function createModelPairScorer(o: {
  model: ChampionModel;
  vectorise: PairVectoriser;
}): ModelPairScorer {
  // One ONNX run scores the candidates; the explanation (integrated gradients, a float64
  // forward pass of its own) is computed only for the pairs the detector reports.
  const scorePairs = (cs: readonly PairComparison[]): Promise<PairScore[]> =>
    o.model.use(async (m) => {
      const vectors = cs.map((c) => o.vectorise(c, m));
      const scored = await scoreVectors(m, vectors);
      const explainer = m.explainer;
      return scored.map((probability, i) => ({
        score: probability,
        contributions: {},
        rule: null,
        modelVersion: m.label,
        ...(explainer
          ? {
              explain: () => {
                const explanation = explainer.explain(asFloat32(vectors[i]!));
                return {
                  contributions: Object.fromEntries(
                    explanation.contributions.map((c) => [c.group, round3(c.value)]),
                  ),
                  explanation,
                };
              },
            }
          : {}),
      }));
    });
  return {
    task: 'duplicate',
    kind: 'model',
    get version() {
      return o.model.label;
    },
    get thresholds() {
      return cardThresholds(o.model.current);
    },
    scorePairs,
    async scorePair(c) {
      return (await scorePairs([c]))[0]!;
    },
  };
}

/**
 * Line vectoriser over features/' `lineFeatureVector`, given each line's context (reference,
 * vendor profile, typical quantities), which may depend on the scoring model version.
 */
export function featureLineVectoriser(
  context: (
    invoice: Invoice,
    line: InvoiceLine,
    model: LoadedModel,
    scoring: ScoringContext | undefined,
  ) => LineContext,
): LineVectoriser {
  // The coding model is trained on HCPCS lines only: other lines (no code, tax, freight, another
  // code system) are left to the rule-based evidence scorer.
  const inputsOf = modelInputs(LINE_VECTOR_NAMES);
  return (inv, lines, model, scoring) => {
    const hcpcs = lines.flatMap(({ line }, i) => (line.code?.system === 'HCPCS' ? [i] : []));
    const vectors = lineFeatureVectors(
      hcpcs.map((i) => {
        const { line } = lines[i]!;
        return { line, ctx: context(inv, line, model, scoring) };
      }),
    );
    const out: (Float32Array | null)[] = lines.map(() => null);
    hcpcs.forEach((i, j) => (out[i] = inputsOf(model, vectors[j]!)));
    return out;
  };
}

/**
 * The served vector (entries named `served`, in order) restricted to a loaded model's inputs, by
 * name: unchanged for a model of the vector's current edition; for a model of an earlier edition
 * (fewer features, `earlierVectorVersions` of features/schema.ts, e.g. `coding-mismatch@4`,
 * `duplicate@2`) its own features only. The projection is computed once per loaded model.
 * @throws RangeError (from {@link inputProjection}) when the model reads a feature the vector lacks.
 */
function modelInputs(served: readonly string[]): (m: LoadedModel, v: Float32Array) => Float32Array {
  const projections = new WeakMap<LoadedModel, Int32Array | null>();
  return (m, v) => {
    let p = projections.get(m);
    if (p === undefined) projections.set(m, (p = inputProjection(m.session.featureNames, served)));
    if (!p) return v;
    // A plain loop: `Float32Array.from` with a map function goes through the iterator protocol.
    const out = new Float32Array(p.length);
    for (let i = 0; i < p.length; i++) out[i] = v[p[i]!]!;
    return out;
  };
}

const pairInputsOf = modelInputs(PAIR_VECTOR_NAMES);

/**
 * Pair vectoriser: features/' `pairFeatureVector` over `COMPARISONS` (`servedPairVector`, once per
 * comparison), restricted to the model's inputs.
 */
export const featurePairVectoriser: PairVectoriser = (c, model) => pairInputsOf(model, servedPairVector(c));

/** Options of {@link loadChampionScorers}. */
export interface ChampionScorersOptions {
  registry: ModelRegistry;
  /** Served feature signatures; default `servedFeatureSchemas()`. */
  schemas?: Record<ModelTask, FeatureSignature>;
  /** Coding model: vectoriser (e.g. {@link featureLineVectoriser}), grouping (default {@link LINE_GROUP_RULES}). */
  coding?: Pick<ModelCodingScorerOptions, 'vectorise' | 'evidence' | 'explainAllLines'> & {
    name?: string;
    groups?: GroupsOf;
  };
  /** Duplicate model: vectoriser (default {@link featurePairVectoriser}), grouping (default {@link pairGroups}). */
  duplicate?: { name?: string; vectorise?: PairVectoriser; groups?: GroupsOf };
  /** Alias poll interval for hot reload (default 1000 ms; null: no reload). */
  watchIntervalMs?: number | null;
  onSwap?: (from: string, to: string) => void;
  onError?: (e: unknown) => void;
}

/** The loaded scorers; a task is null when it has no champion (the caller keeps its heuristic). */
export interface ChampionScorers {
  coding: ModelCodingScorer | null;
  duplicate: ModelPairScorer | null;
  /** The loaded champions (for model routes and metrics). */
  models: readonly ChampionModel[];
  close(): Promise<void>;
}

/**
 * Loads the champions of `coding-mismatch` and `duplicate` (names overridable) as scorers with
 * hot reload. A task without a champion alias gives null.
 * @throws TriageError `TRIAGE_MODEL_SIGNATURE_MISMATCH` when a champion's input differs from the
 *   served schema, `TRIAGE_MODEL_INVALID` for corrupt artefacts; RangeError when a grouping
 *   does not cover the model's features.
 */
export async function loadChampionScorers(o: ChampionScorersOptions): Promise<ChampionScorers> {
  const schemas = o.schemas ?? servedFeatureSchemas();
  const common = {
    watchIntervalMs: o.watchIntervalMs === undefined ? 1000 : o.watchIntervalMs,
    ...(o.onSwap ? { onSwap: o.onSwap } : {}),
    ...(o.onError ? { onError: o.onError } : {}),
  };
  const load = async (name: string, task: ModelTask, groups: GroupsOf): Promise<ChampionModel | null> => {
    if ((await o.registry.aliases(name)).champion === null) return null;
    return ChampionModel.load(o.registry, name, { ...common, expected: schemas[task], groups });
  };
  const models: ChampionModel[] = [];
  let coding: ModelCodingScorer | null = null;
  let duplicate: ModelPairScorer | null = null;
  if (o.coding) {
    const m = await load(
      o.coding.name ?? 'coding-mismatch',
      'coding-mismatch',
      o.coding.groups ?? ((names) => groupFeatures(names, LINE_GROUP_RULES)),
    );
    if (m) {
      models.push(m);
      coding = createModelCodingScorer({
        model: m,
        vectorise: o.coding.vectorise,
        ...(o.coding.evidence ? { evidence: o.coding.evidence } : {}),
        ...(o.coding.explainAllLines ? { explainAllLines: true } : {}),
      });
    }
  }
  if (o.duplicate) {
    const m = await load(o.duplicate.name ?? 'duplicate', 'duplicate', o.duplicate.groups ?? pairGroups);
    if (m) {
      models.push(m);
      duplicate = createModelPairScorer({
        model: m,
        vectorise: o.duplicate.vectorise ?? featurePairVectoriser,
      });
    }
  }
  return {
    coding,
    duplicate,
    models,
    close: async () => {
      await Promise.all(models.map((m) => m.close()));
    },
  };
}

export * from './serving-line-context.js';
export * from './feature-groups.js';
