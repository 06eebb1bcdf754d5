/**
 * ONNX Runtime sessions for the served models: the only importer of `onnxruntime-node`.
 * A served model takes float32 `features` [N, F] and gives float32 `logit` and `probability`
 * [N, 1] (the ONNX export writes this shape; bring-your-own models are normalised to it at
 * registration). Loading checks the model's input signature against the feature schema.
 */
import * as ort from 'onnxruntime-node';
import { TriageError } from '../core/errors.js';
import {
  INPUT_NAME,
  LOGIT_OUTPUT,
  META,
  PROBABILITY_OUTPUT,
  readSignature,
  type ModelSignature,
} from '../models/onnx-graph.js';
import { checkSignature, modelInputSignature, type FeatureSignature } from '../models/signature.js';

export {
  checkSignature,
  modelInputSignature,
  type FeatureSignature,
  type ModelInputSignature,
} from '../models/signature.js';

/** Options of {@link OnnxModelSession.fromBuffer}. */
export interface OnnxSessionOptions {
  /** Feature schema to check the model against; omit only for inspection tools. */
  expected?: FeatureSignature;
  /** ONNX Runtime intra-op threads; default: runtime's choice. */
  intraOpNumThreads?: number;
  /** Name used in error messages, e.g. `coding-mismatch@3`. */
  label?: string;
}

/** Outputs of a batch: float32, one entry per row. */
export interface BatchOutput {
  logit: Float32Array;
  probability: Float32Array;
}

/** A loaded served model. Safe to run concurrently. */
export class OnnxModelSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** Signature and metadata read from the model bytes. */
    readonly signature: ModelSignature,
    /** Feature names the model declares, in input order. */
    readonly featureNames: readonly string[],
    /** Model version stamped by the registry, e.g. `coding-mismatch@3`; `unregistered` otherwise. */
    readonly modelVersion: string,
  ) {}

  /** Number of features per row (F). */
  get numFeatures(): number {
    return this.featureNames.length;
  }

  /**
   * Loads a served model from its bytes.
   * @throws TriageError `TRIAGE_MODEL_INVALID` when the bytes are not a model with the served
   *   IO (`features` float [N, F] -> `logit`, `probability` float [N, 1]) or ONNX Runtime
   *   refuses them; `TRIAGE_MODEL_SIGNATURE_MISMATCH` when `expected` is given and differs.
   */
  static async fromBuffer(buf: Uint8Array, opts: OnnxSessionOptions = {}): Promise<OnnxModelSession> {
    const label = opts.label ?? 'model';
    let sig: ModelSignature;
    try {
      sig = readSignature(buf);
    } catch (e) {
      throw new TriageError('TRIAGE_MODEL_INVALID', `${label} is not an ONNX model`, [], { cause: e });
    }
    const input = sig.inputs[0];
    const outs = new Set(sig.outputs.map((o) => o.name));
    if (
      sig.inputs.length !== 1 ||
      input?.name !== INPUT_NAME ||
      input.type !== 'float' ||
      input.dims.length !== 2 ||
      !outs.has(LOGIT_OUTPUT) ||
      !outs.has(PROBABILITY_OUTPUT)
    ) {
      throw new TriageError(
        'TRIAGE_MODEL_INVALID',
        `${label} does not have the served IO: expected input '${INPUT_NAME}' float [N, F] and outputs ` +
          `'${LOGIT_OUTPUT}', '${PROBABILITY_OUTPUT}'; got inputs ${JSON.stringify(sig.inputs)} outputs ` +
          JSON.stringify(sig.outputs.map((o) => o.name)),
      );
    }
    const declared = modelInputSignature(sig);
    if (opts.expected) checkSignature(declared, opts.expected, label);
    const names = declared.names;
    if (names === null || declared.count !== names.length)
      checkSignature(declared, { names: names ?? [] }, label); // count/names inconsistent: throws
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(buf, {
        ...(opts.intraOpNumThreads ? { intraOpNumThreads: opts.intraOpNumThreads } : {}),
        graphOptimizationLevel: 'all',
      });
    } catch (e) {
      throw new TriageError(
        'TRIAGE_MODEL_INVALID',
        `ONNX Runtime refused ${label}: ${(e as Error).message}`,
        [],
        {
          cause: e,
        },
      );
    }
    return new OnnxModelSession(session, sig, names ?? [], sig.metadata[META.modelVersion] ?? 'unregistered');
  }

  /**
   * Scores a batch. `rows` is either row-major float32 of length N * F or an array of rows.
   * @throws RangeError when the data length is not a multiple of F or a row has the wrong length.
   */
  async run(
    rows: Float32Array | readonly (readonly number[] | Float64Array | Float32Array)[],
  ): Promise<BatchOutput> {
    const f = this.numFeatures;
    let data: Float32Array;
    if (rows instanceof Float32Array) {
      if (rows.length % f !== 0)
        throw new RangeError(`batch length ${rows.length} is not a multiple of ${f} features`);
      data = rows;
    } else {
      data = new Float32Array(rows.length * f);
      rows.forEach((r, i) => {
        if (r.length !== f) throw new RangeError(`row ${i} has ${r.length} features, the model takes ${f}`);
        data.set(r, i * f);
      });
    }
    const n = data.length / f;
    if (n === 0) return { logit: new Float32Array(0), probability: new Float32Array(0) };
    const out = await this.session.run({ [INPUT_NAME]: new ort.Tensor('float32', data, [n, f]) });
    const logit = out[LOGIT_OUTPUT]!.data as Float32Array;
    const probability = out[PROBABILITY_OUTPUT]!.data as Float32Array;
    return { logit, probability };
  }

  /** Scores one row. */
  async runOne(
    row: readonly number[] | Float64Array | Float32Array,
  ): Promise<{ logit: number; probability: number }> {
    const out = await this.run([row]);
    return { logit: out.logit[0]!, probability: out.probability[0]! };
  }

  /** Frees the native session. Runs already started complete first (the caller awaits them). */
  async release(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Loads a served model in ONNX Runtime and scores probe rows (zeros, ones and seeded values in
 * [-1000, 1000]): every logit must be finite and every probability in [0, 1], and a single row
 * must score as in a batch. Meant as the registry's `verifyOnnx` hook.
 * @throws TriageError `TRIAGE_MODEL_UPLOAD_INVALID` naming what failed;
 *   `TRIAGE_MODEL_SIGNATURE_MISMATCH` when `expected` is given and differs.
 */
export async function verifyServedModel(
  onnx: Uint8Array,
  label = 'model',
  expected?: FeatureSignature,
): Promise<void> {
  let session: OnnxModelSession;
  try {
    session = await OnnxModelSession.fromBuffer(onnx, { label, ...(expected ? { expected } : {}) });
  } catch (e) {
    if (e instanceof TriageError && e.code === 'TRIAGE_MODEL_INVALID')
      throw new TriageError('TRIAGE_MODEL_UPLOAD_INVALID', e.message, [], { cause: e });
    throw e;
  }
  try {
    const f = session.numFeatures;
    const rows: number[][] = [new Array<number>(f).fill(0), new Array<number>(f).fill(1)];
    let seed = 0x9e3779b9;
    for (let i = 0; i < 62; i++)
      rows.push(
        Array.from({ length: f }, () => {
          seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
          const u = seed / 4294967296;
          return (u * 2 - 1) * 10 ** (i % 4);
        }),
      );
    const out = await session.run(rows);
    const bad = rows.findIndex(
      (_, i) =>
        !Number.isFinite(out.logit[i]!) || !(out.probability[i]! >= -1e-6 && out.probability[i]! <= 1 + 1e-6),
    );
    if (bad >= 0)
      throw new TriageError(
        'TRIAGE_MODEL_UPLOAD_INVALID',
        `${label} gives logit ${out.logit[bad]} / probability ${out.probability[bad]} on probe row ${bad}`,
      );
    const one = await session.runOne(rows[5]!);
    if (Math.abs(one.probability - out.probability[5]!) > 1e-6)
      throw new TriageError(
        'TRIAGE_MODEL_UPLOAD_INVALID',
        `${label} scores a single row unlike the same row in a batch`,
      );
  } finally {
    await session.release();
  }
}
