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
 * Reasons (coding): when `P > reasonAt` (default: the card's auto-approve threshold), each
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
import { cosine } from '../features/hashing.js';
import { reason, round3 } from './explain.js';
import { pickFee } from './heuristic-coding.js';
import type { ReferenceIndex } from './reference-index.js';
import type { ModelRegistry } from '../models/registry.js';
import { servedFeatureSchemas } from '../models/served-schemas.js';
import type { FeatureSignature } from '../models/signature.js';
import type { ModelTask } from '../models/spec.js';
import type { FeatureGroup, ModelExplanation } from './explain-model.js';
import { ChampionModel, type LoadedModel } from './onnx-champion.js';
import type { CodingMismatchScorer, DuplicatePairScorer, LineScore, PairScore } from './scorers.js';

/** Maps a line to the model's feature vector (schema order), or null when the model cannot score it. */
export type LineVectoriser = (
  invoice: Invoice,
  line: InvoiceLine,
  features: LineFeatures,
) => ArrayLike<number> | null;

/** Maps a pair comparison to the model's feature vector (schema order). */
export type PairVectoriser = (c: PairComparison) => ArrayLike<number>;

/** Options of {@link createModelCodingScorer}. */
export interface ModelCodingScorerOptions {
  model: ChampionModel;
  vectorise: LineVectoriser;
  /**
   * A rule-based scorer whose reasons lend evidence to the model's reasons and whose result
   * stands for lines the model cannot score; its suggested codes are passed through.
   */
  evidence?: CodingMismatchScorer;
  /** Reasons are given when P exceeds this; default the card's `thresholds.autoApprove`. */
  reasonAt?: number;
}

/** The async coding scorer over the champion model. */
export type ModelCodingScorer = CodingMismatchScorer<Promise<LineScore[]>>;

/** The async pair scorer over the champion model, with a batch call for all candidates of an invoice. */
export interface ModelPairScorer extends DuplicatePairScorer<Promise<PairScore>> {
  /** Scores many pairs in one ONNX run (same version for all). */
  scorePairs(cs: readonly PairComparison[]): Promise<PairScore[]>;
}

function toRows(vectors: readonly ArrayLike<number>[], f: number): Float32Array {
  const data = new Float32Array(vectors.length * f);
  vectors.forEach((v, i) => {
    if (v.length !== f)
      throw new RangeError(`feature vector ${i} has ${v.length} values, the model takes ${f}`);
    data.set(Array.from(v), i * f);
  });
  return data;
}

/** Runs the model and explains each row (when the model can be explained). */
async function scoreVectors(
  m: LoadedModel,
  vectors: readonly ArrayLike<number>[],
): Promise<{ probability: number; explanation?: ModelExplanation }[]> {
  if (vectors.length === 0) return [];
  const out = await m.session.run(toRows(vectors, m.session.numFeatures));
  return vectors.map((v, i) => {
    const probability = out.probability[i]!;
    if (!m.explainer) return { probability };
    return { probability, explanation: m.explainer.explain(Float32Array.from(v)) };
  });
}

/** Evidence block shared by every model reason: where the numbers come from. */
function modelEvidence(m: LoadedModel, e: ModelExplanation): Record<string, unknown> {
  return {
    model: m.label,
    method: e.method,
    baseline: e.baseline,
    base_value: e.baseValue,
    logit: e.logit,
    completeness_gap: e.completenessGap,
  };
}

function modelReasons(
  m: LoadedModel,
  p: number,
  e: ModelExplanation,
  values: ArrayLike<number>,
  from: readonly Reason[],
): Reason[] {
  const index = new Map(m.spec!.featureNames.map((n, i) => [n, i]));
  const positive = e.contributions.filter((c) => c.reason && c.value > 0);
  const total = positive.reduce((s, c) => s + c.value, 0);
  return positive
    .sort((a, b) => b.value - a.value)
    .map((c) =>
      reason(c.reason!, (p * c.value) / total, {
        ...(from.find((r) => r.code === c.reason)?.evidence ?? {}),
        ...modelEvidence(m, e),
        group: c.group,
        contribution: c.value,
        features: Object.fromEntries(
          Object.entries(c.features).map(([k, v]) => [k, { value: values[index.get(k)!]!, contribution: v }]),
        ),
      }),
    );
}

/**
 * A coding-mismatch scorer over the champion model (see the module doc for reasons).
 * @throws RangeError from `scoreLines` when a line is not on the invoice or a vector has the wrong length.
 */
export function createModelCodingScorer(o: ModelCodingScorerOptions): ModelCodingScorer {
  return {
    task: 'coding-mismatch',
    get version() {
      return o.model.label;
    },
    scoreLines(invoice, lines) {
      return o.model.use(async (m) => {
        const byNumber = new Map(invoice.lines.map((l) => [l.line_number, l]));
        const fallback = o.evidence?.scoreLines(invoice, lines) ?? [];
        const vectors: ArrayLike<number>[] = [];
        const slots = lines.map((f) => {
          const line = byNumber.get(f.lineNumber);
          if (!line) throw new RangeError(`line ${f.lineNumber} is not on invoice ${invoice.invoice_id}`);
          const v = o.vectorise(invoice, line, f);
          if (v === null) return -1;
          vectors.push(v);
          return vectors.length - 1;
        });
        const scored = await scoreVectors(m, vectors);
        const reasonAt = o.reasonAt ?? m.card.thresholds.autoApprove;
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
          const { probability, explanation } = scored[k]!;
          let reasons: Reason[] = [];
          if (probability > reasonAt) {
            reasons = explanation
              ? modelReasons(m, probability, explanation, vectors[k]!, rules?.reasons ?? [])
              : (rules?.reasons ?? []).map((r) => ({
                  ...r,
                  evidence: { ...r.evidence, model: m.label, source: 'rules' },
                }));
          }
          return {
            lineNumber: f.lineNumber,
            score: probability,
            reasons,
            suggestedCodes: rules?.suggestedCodes ?? [],
            modelVersion: m.label,
            ...(explanation ? { explanation } : {}),
          };
        });
      });
    },
  };
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
  const scorePairs = (cs: readonly PairComparison[]): Promise<PairScore[]> =>
    o.model.use(async (m) => {
      const scored = await scoreVectors(m, cs.map(o.vectorise));
      return scored.map(({ probability, explanation }) => ({
        score: probability,
        contributions: Object.fromEntries(
          (explanation?.contributions ?? []).map((c) => [c.group, round3(c.value)]),
        ),
        rule: null,
        modelVersion: m.label,
        ...(explanation ? { explanation } : {}),
      }));
    });
  return {
    task: 'duplicate',
    get version() {
      return o.model.label;
    },
    scorePairs,
    async scorePair(c) {
      return (await scorePairs([c]))[0]!;
    },
  };
}

/**
 * Feature groups of the line features (`LINE_FEATURES` in features/schema.ts) for
 * explanations, with the reason code a positive contribution supports.
 */
export const LINE_FEATURE_GROUPS: readonly FeatureGroup[] = [
  {
    name: 'description_fit',
    features: ['desc_ref_cosine', 'desc_ref_token_overlap'],
    reason: 'DESCRIPTION_CODE_MISMATCH',
  },
  { name: 'code_known', features: ['code_known'], reason: 'CODE_UNKNOWN' },
  { name: 'code_terminated', features: ['code_terminated'], reason: 'CODE_TERMINATED' },
  {
    name: 'price_vs_fee_schedule',
    features: ['unit_price_fee_log_ratio'],
    reason: 'PRICE_ABOVE_FEE_SCHEDULE',
  },
  { name: 'line_amount_gap', features: ['line_amount_gap_cents'], reason: 'LINE_AMOUNT_MISMATCH' },
];

/** Feature groups of the pair comparison (`PAIR_FEATURES`); duplicate reasons are chosen by the detector. */
export const PAIR_FEATURE_GROUPS: readonly FeatureGroup[] = [
  { name: 'vendor', features: ['same_vendor', 'vendor_name_jw'] },
  {
    name: 'invoice_number',
    features: ['invoice_number_equal', 'invoice_number_canonical_equal', 'invoice_number_edit'],
  },
  { name: 'amount', features: ['amount_rel_diff'] },
  { name: 'dates', features: ['days_apart'] },
  { name: 'content', features: ['line_overlap', 'embedding_cosine'] },
  { name: 'document_types', features: ['document_types'] },
];

/** Options of {@link loadChampionScorers}. */
export interface ChampionScorersOptions {
  registry: ModelRegistry;
  /** Served feature signatures; default `servedFeatureSchemas()`. */
  schemas?: Record<ModelTask, FeatureSignature>;
  coding?: {
    name?: string;
    vectorise: LineVectoriser;
    groups?: readonly FeatureGroup[];
    evidence?: CodingMismatchScorer;
  };
  duplicate?: { name?: string; vectorise: PairVectoriser; groups?: readonly FeatureGroup[] };
  /** Alias poll interval for hot reload (default 1000 ms; null: no reload). */
  watchIntervalMs?: number | null;
  onSwap?: (from: string, to: string) => void;
  onError?: (e: unknown) => void;
}

/** The loaded scorers; a task is null when it has no champion (the caller keeps its heuristic). */
export interface ChampionScorers {
  coding: ModelCodingScorer | null;
  duplicate: ModelPairScorer | null;
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
  const load = async (
    name: string,
    task: ModelTask,
    groups: readonly FeatureGroup[],
  ): Promise<ChampionModel | null> => {
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
      o.coding.groups ?? LINE_FEATURE_GROUPS,
    );
    if (m) {
      models.push(m);
      coding = createModelCodingScorer({
        model: m,
        vectorise: o.coding.vectorise,
        ...(o.coding.evidence ? { evidence: o.coding.evidence } : {}),
      });
    }
  }
  if (o.duplicate) {
    const m = await load(
      o.duplicate.name ?? 'duplicate',
      'duplicate',
      o.duplicate.groups ?? PAIR_FEATURE_GROUPS,
    );
    if (m) {
      models.push(m);
      duplicate = createModelPairScorer({ model: m, vectorise: o.duplicate.vectorise });
    }
  }
  return {
    coding,
    duplicate,
    close: async () => {
      await Promise.all(models.map((m) => m.close()));
    },
  };
}

/**
 * Line vectors of the walking skeleton's feature schema (`LINE_FEATURES`), as the training
 * provider `training/skeleton-features.ts` computes them (a test pins the two equal): lines
 * with an HCPCS code are scored; an unknown code gives `[0, 0, 0, 0, 0, gap]`; otherwise
 * `[max cosine to the long+short / short description, share of the line's stems in the
 * reference, 1, terminated on the service date, ln(unit price / fee) or 0, amount gap cents]`.
 * Stand-in until features/ ships `lineFeatureVector`, which both sides should then share.
 */
export function skeletonLineVectoriser(ref: ReferenceIndex): LineVectoriser {
  return (inv, line, f) => {
    if (!line.code || line.code.system !== 'HCPCS') return null;
    const gap = line.amount_cents - Math.round(line.quantity * line.unit_price_cents);
    const rc = ref.get(line.code.value.toUpperCase());
    if (!rc) return [0, 0, 0, 0, 0, gap];
    const cos = Math.max(cosine(f.embedding, rc.embedding), cosine(f.embedding, rc.shortEmbedding));
    const stems = new Set(f.tokens);
    let hit = 0;
    for (const s of stems) if (rc.stems.has(s)) hit++;
    const serviceDate = line.service_date ?? inv.service_period?.start ?? inv.invoice_date;
    const terminated = rc.code.terminationDate !== null && serviceDate > rc.code.terminationDate ? 1 : 0;
    const fee = pickFee(ref.fees(rc.code.code), line.modifiers ?? []);
    const logRatio =
      fee && fee.amountCents > 0 && line.unit_price_cents > 0
        ? Math.log(line.unit_price_cents / fee.amountCents)
        : 0;
    return [cos, stems.size ? hit / stems.size : 0, 1, terminated, logRatio, gap];
  };
}

/**
 * Pair vectors of the skeleton schema (`PAIR_FEATURES`), as `training/skeleton-features.ts`
 * computes them; `document_types` is 0 for the same type, 1 when exactly one side is a credit
 * memo, 2 otherwise.
 */
export const skeletonPairVectoriser: PairVectoriser = (c) => {
  const [a, b] = c.documentTypes.split('/');
  const credit = (a === 'credit_memo' ? 1 : 0) + (b === 'credit_memo' ? 1 : 0);
  return [
    c.sameVendor ? 1 : 0,
    c.vendorNameJw,
    c.invoiceNumberEqual ? 1 : 0,
    c.invoiceNumberCanonicalEqual ? 1 : 0,
    c.invoiceNumberEdit,
    c.amountRelDiff,
    c.daysApart,
    c.lineOverlap,
    c.embeddingCosine,
    a === b ? 0 : credit === 1 ? 1 : 2,
  ];
};
