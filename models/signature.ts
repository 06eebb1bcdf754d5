/**
 * Input signatures: what a feature schema provides (ordered names, version) and what a model
 * declares (names in its metadata, count in its input shape), and the check between them.
 */
import { TriageError } from '../core/errors.js';
import { META, type ModelSignature } from './onnx-graph.js';

/** The input a feature schema provides: ordered feature names and, optionally, its version. */
export interface FeatureSignature {
  names: readonly string[];
  /** When given, the model's `feature_schema_version` must equal it or one of `accepted`. */
  version?: string;
  /**
   * Other versions computing the same vector (pre-split schema versions, see
   * `acceptedSchemaVersions` in features/schema.ts); only read with `version`.
   */
  accepted?: readonly string[];
  /**
   * Other vectors the service also computes for this task (earlier pair-vector editions): a model
   * matching one of them passes {@link checkSignature} too.
   */
  alternatives?: readonly FeatureSignature[];
}

/** What a model says it expects: names from its metadata, count from its input shape. */
export interface ModelInputSignature {
  names: readonly string[] | null;
  count: number | null;
  version: string | null;
}

function describe(
  names: readonly string[] | null,
  count: number | null,
  version: string | null | undefined,
): string {
  const n = count ?? names?.length ?? '?';
  return `${n} features [${names ? names.join(', ') : 'names not declared'}]${version ? ` (schema ${version})` : ''}`;
}

/**
 * Compares a model's input signature with a feature schema: the same feature count, the same
 * names in the same order and, when the schema gives a version, the same version; or the same
 * against one of the schema's `alternatives`.
 * @throws TriageError `TRIAGE_MODEL_SIGNATURE_MISMATCH` naming both signatures (the main one).
 */
export function checkSignature(
  model: ModelInputSignature,
  expected: FeatureSignature,
  label = 'model',
): void {
  const problems = signatureProblems(model, expected);
  if (problems.length === 0) return;
  if ((expected.alternatives ?? []).some((alt) => signatureProblems(model, alt).length === 0)) return;
  throw new TriageError(
    'TRIAGE_MODEL_SIGNATURE_MISMATCH',
    `${label} input signature does not match the feature schema (${problems.join('; ')}): ` +
      `model expects ${describe(model.names, model.count, model.version)}; ` +
      `feature schema provides ${describe(expected.names, expected.names.length, expected.version)}`,
  );
}

/** What differs between a model's input signature and one feature signature (empty: they match). */
function signatureProblems(model: ModelInputSignature, expected: FeatureSignature): string[] {
  const problems: string[] = [];
  const want = expected.names;
  if (model.count !== null && model.count !== want.length)
    problems.push(`count ${model.count} != ${want.length}`);
  if (model.names === null) problems.push('the model declares no feature names');
  else if (model.names.length !== want.length || model.names.some((n, i) => n !== want[i])) {
    const i = model.names.findIndex((n, k) => n !== want[k]);
    problems.push(
      i >= 0 && i < want.length
        ? `feature ${i} is '${model.names[i]}', schema has '${want[i]}'`
        : `names differ in length (${model.names.length} vs ${want.length})`,
    );
  }
  if (
    expected.version !== undefined &&
    model.version !== expected.version &&
    !(model.version !== null && (expected.accepted ?? []).includes(model.version))
  )
    problems.push(`feature schema version ${model.version ?? 'none'} != ${expected.version}`);
  return problems;
}

/** The model input signature read from a served model's graph and metadata. */
export function modelInputSignature(sig: ModelSignature): ModelInputSignature {
  const input = sig.inputs[0];
  const d = input?.dims[1];
  let names: string[] | null = null;
  const raw = sig.metadata[META.featureNames];
  if (raw) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) names = parsed;
    } catch {
      names = null;
    }
  }
  return {
    names,
    count: typeof d === 'number' ? d : null,
    version: sig.metadata[META.featureSchemaVersion] ?? null,
  };
}
