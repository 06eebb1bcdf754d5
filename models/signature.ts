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
   * Earlier editions of the vector the current one still computes on a subset of its features
   * (`earlierVectorVersions` in features/schema.ts): a model carrying one's `version` (or one of
   * its `accepted` pre-split versions) must declare exactly its `names`, and is fed the current
   * vector restricted to them ({@link inputProjection}).
   */
  earlier?: readonly { version: string; accepted?: readonly string[]; names: readonly string[] }[];
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
 * names in the same order and, when the schema gives a version, the same version.
 * @throws TriageError `TRIAGE_MODEL_SIGNATURE_MISMATCH` naming both signatures.
 */
export function checkSignature(
  model: ModelInputSignature,
  expected: FeatureSignature,
  label = 'model',
): void {
  const problems: string[] = [];
  const earlier = expected.earlier?.find(
    (e) =>
      e.version === model.version || (model.version !== null && (e.accepted ?? []).includes(model.version)),
  );
  const want = earlier?.names ?? expected.names;
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
    earlier === undefined &&
    model.version !== expected.version &&
    !(model.version !== null && (expected.accepted ?? []).includes(model.version))
  )
    problems.push(`feature schema version ${model.version ?? 'none'} != ${expected.version}`);
  if (problems.length > 0) {
    throw new TriageError(
      'TRIAGE_MODEL_SIGNATURE_MISMATCH',
      `${label} input signature does not match the feature schema (${problems.join('; ')}): ` +
        `model expects ${describe(model.names, model.count, model.version)}; ` +
        `feature schema provides ${describe(want, want.length, expected.version)}`,
    );
  }
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

/**
 * Where each of a model's inputs sits in the served vector `served` (names in order): null when
 * the model reads the served vector as it is, else the served index of each model input, for a
 * model of an earlier vector version that reads a subset of today's features.
 * @throws RangeError naming an input the served vector does not have.
 */
export function inputProjection(model: readonly string[], served: readonly string[]): Int32Array | null {
  if (model.length === served.length && model.every((n, i) => n === served[i])) return null;
  const at = new Map(served.map((n, i) => [n, i]));
  return Int32Array.from(model, (n) => {
    const i = at.get(n);
    if (i === undefined) throw new RangeError(`model input '${n}' is not in the served feature vector`);
    return i;
  });
}
