/**
 * Bring your own model: rewrites a binary classifier trained elsewhere (typically
 * scikit-learn exported by skl2onnx: input `float_input` [N, F], outputs `label` and
 * `probabilities` [N, 2] or a ZipMap `output_probability`) into the served IO:
 *
 * ```
 * features float32 [N, F] -> (original graph, input renamed; double inputs via Cast)
 *   -> class probabilities [N, C] (the ZipMap's input when there is one; the ZipMap is dropped)
 *   -> MatMul(one-hot of the positive class)                 -> probability [N, 1]
 *   -> Log(clamp(p, 1e-7, 1 - 1e-7)) - Log(1 - clamp(...))   -> logit [N, 1]
 * ```
 *
 * Nodes that only fed other outputs (e.g. `label`) are pruned. The positive class is the
 * class label 1 (or `1` / `true` / `yes` for string labels) read from the ZipMap or the
 * classifier node; column 1 when no labels are declared. Pure onnx-proto: no runtime here.
 */
import onnxProto from 'onnx-proto';
import { TriageError } from '../core/errors.js';
import {
  DT,
  INPUT_NAME,
  LOGIT_OUTPUT,
  META,
  ML_DOMAIN,
  PROBABILITY_OUTPUT,
  decodeModel,
  doubleTensor,
  node,
  onnx,
  readSignature,
  tensorInfo,
  type TensorSignature,
} from './onnx-graph.js';
import { checkSignature, type FeatureSignature } from './signature.js';
import type { ModelTask } from './spec.js';

/** How an external model was adapted (recorded in the registration's notes). */
export interface ExternalAdaptation {
  originalInput: TensorSignature;
  originalOutputs: TensorSignature[];
  /** Tensor holding the class probabilities that was used. */
  probabilityTensor: string;
  /** Column of the positive class in it, and the class labels when declared. */
  positiveColumn: number;
  classLabels: (string | number)[] | null;
  droppedZipMap: boolean;
  prunedNodes: number;
}

const EPS = 1e-7;

function uploadInvalid(detail: string): TriageError {
  return new TriageError('TRIAGE_MODEL_UPLOAD_INVALID', `External model: ${detail}`);
}

function attr(n: onnxProto.onnx.INodeProto, name: string): onnxProto.onnx.IAttributeProto | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}

function classLabelsOf(n: onnxProto.onnx.INodeProto): (string | number)[] | null {
  for (const name of ['classlabels_int64s', 'classlabels_ints']) {
    const a = attr(n, name);
    if (a?.ints && a.ints.length > 0) return a.ints.map((v) => Number(v));
  }
  const s = attr(n, 'classlabels_strings');
  if (s?.strings && s.strings.length > 0) return s.strings.map((b) => new TextDecoder().decode(b));
  return null;
}

function positiveColumnOf(labels: (string | number)[] | null, columns: number | null): number {
  if (labels === null) return 1;
  const i = labels.findIndex((l) => l === 1 || ['1', 'true', 'yes'].includes(String(l).toLowerCase()));
  if (i < 0)
    throw uploadInvalid(`class labels ${JSON.stringify(labels)} have no positive class (1, true, yes)`);
  if (columns !== null && i >= columns)
    throw uploadInvalid(`positive class column ${i} is outside ${columns} columns`);
  return i;
}

/** Nodes needed to compute `targets`, in their original (topological) order. */
function prune(nodes: onnxProto.onnx.INodeProto[], targets: string[]): onnxProto.onnx.INodeProto[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => producer.set(o, i)));
  const keep = new Set<number>();
  const stack = [...targets];
  while (stack.length > 0) {
    const t = stack.pop()!;
    const i = producer.get(t);
    if (i === undefined || keep.has(i)) continue;
    keep.add(i);
    stack.push(...(nodes[i]!.input ?? []).filter((x) => x !== ''));
  }
  return nodes.filter((_, i) => keep.has(i));
}

/**
 * Rewrites an external binary classifier to the served IO and stamps the metadata.
 * @param featureNames the names the model's columns mean (from the card draft), in order.
 * @throws TriageError `TRIAGE_MODEL_SIGNATURE_MISMATCH` when the input width differs from
 *   `expected` (names and counts of both sides in the message) or the declared names differ;
 *   `TRIAGE_MODEL_UPLOAD_INVALID` when the graph is not a usable binary classifier.
 */
export function normaliseExternalOnnx(
  buf: Uint8Array,
  o: {
    task: ModelTask;
    featureNames: readonly string[];
    featureSchemaVersion: string;
    expected: FeatureSignature;
  },
): { onnx: Uint8Array; adaptation: ExternalAdaptation } {
  let model: onnxProto.onnx.ModelProto;
  let sig;
  try {
    model = decodeModel(buf);
    sig = readSignature(buf);
  } catch (e) {
    throw new TriageError('TRIAGE_MODEL_UPLOAD_INVALID', 'External model: not an ONNX model', [], {
      cause: e,
    });
  }
  const graph = model.graph;
  if (!graph) throw uploadInvalid('no graph');
  if (sig.inputs.length !== 1)
    throw uploadInvalid(
      `expected one input [N, F], got ${sig.inputs.map((i) => i.name).join(', ') || 'none'}`,
    );
  const input = sig.inputs[0]!;
  if (!['float', 'double'].includes(input.type) || input.dims.length !== 2)
    throw uploadInvalid(
      `input '${input.name}' must be float or double [N, F], is ${input.type} [${input.dims.join(', ')}]`,
    );
  const width = typeof input.dims[1] === 'number' ? input.dims[1] : null;
  // The columns must mean what the served schema means: same count, same names, same order.
  checkSignature(
    { names: o.featureNames, count: width, version: o.featureSchemaVersion },
    o.expected,
    'external model',
  );
  if (width === null)
    throw uploadInvalid(
      `input '${input.name}' has no fixed feature width (dims ${JSON.stringify(input.dims)})`,
    );

  const nodes = [...(graph.node ?? [])];
  const zipmap = nodes.find((n) => n.opType === 'ZipMap' && (n.domain ?? '') === ML_DOMAIN);
  let probTensor: string;
  let labels: (string | number)[] | null;
  if (zipmap) {
    probTensor = zipmap.input![0]!;
    labels = classLabelsOf(zipmap);
  } else {
    const candidates = sig.outputs.filter(
      (t) => t.type === 'float' && t.dims.length === 2 && t.dims[1] === 2,
    );
    const chosen = candidates.find((t) => /prob/i.test(t.name)) ?? candidates[0];
    if (!chosen)
      throw uploadInvalid(
        `no class-probability output: expected a float [N, 2] output or a ZipMap, got ` +
          sig.outputs.map((t) => `${t.name}: ${t.type} [${t.dims.join(', ')}]`).join('; '),
      );
    probTensor = chosen.name;
    labels = null;
  }
  const classifier = nodes.find((n) => (n.output ?? []).length > 1 && classLabelsOf(n) !== null);
  labels ??= classifier ? classLabelsOf(classifier) : null;
  const declared = sig.outputs.find((t) => t.name === probTensor);
  const columns = labels?.length ?? (typeof declared?.dims[1] === 'number' ? declared.dims[1] : 2);
  if (columns < 2) throw uploadInvalid(`probabilities have ${columns} column(s); a binary classifier has 2`);
  const positive = positiveColumnOf(labels, columns);

  const body = prune(nodes, [probTensor]);
  const rename = (x: string): string => (x === input.name ? 'external_input' : x);
  for (const n of body) n.input = (n.input ?? []).map(rename);
  const head: onnxProto.onnx.INodeProto[] = [
    node('Cast', [INPUT_NAME], ['external_input'], { to: input.type === 'double' ? DT.DOUBLE : DT.FLOAT }),
  ];
  const oneHot = Array.from({ length: columns }, (_, i) => (i === positive ? 1 : 0));
  const tail: onnxProto.onnx.INodeProto[] = [
    node('Cast', [probTensor], ['byo_p_all'], { to: DT.DOUBLE }),
    node('MatMul', ['byo_p_all', 'byo_one_hot'], ['byo_p']),
    node('Cast', ['byo_p'], [PROBABILITY_OUTPUT], { to: DT.FLOAT }),
    node('Max', ['byo_p', 'byo_eps'], ['byo_p_lo']),
    node('Min', ['byo_p_lo', 'byo_one_minus_eps'], ['byo_p_clamped']),
    node('Sub', ['byo_one', 'byo_p_clamped'], ['byo_q']),
    node('Log', ['byo_p_clamped'], ['byo_log_p']),
    node('Log', ['byo_q'], ['byo_log_q']),
    node('Sub', ['byo_log_p', 'byo_log_q'], ['byo_logit']),
    node('Cast', ['byo_logit'], [LOGIT_OUTPUT], { to: DT.FLOAT }),
  ];
  const initializers = [...(graph.initializer ?? [])];
  initializers.push(
    doubleTensor('byo_one_hot', [columns, 1], oneHot),
    doubleTensor('byo_eps', [], [EPS]),
    doubleTensor('byo_one_minus_eps', [], [1 - EPS]),
    doubleTensor('byo_one', [], [1]),
  );
  const opsets = (model.opsetImport ?? []).map((x) => ({
    domain: x.domain ?? '',
    version: Number(x.version ?? 0),
  }));
  const core = opsets.find((x) => x.domain === '' || x.domain === 'ai.onnx');
  if (core && core.version < 9) throw uploadInvalid(`ai.onnx opset ${core.version} is too old (need >= 9)`);
  if (!core) opsets.push({ domain: '', version: 13 });
  const props = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  props.set(META.task, o.task);
  props.set(META.featureNames, JSON.stringify(o.featureNames));
  props.set(META.featureSchemaVersion, o.featureSchemaVersion);
  props.set(META.source, 'external');
  props.set(META.calibration, 'external');
  const out = onnx.ModelProto.create({
    irVersion: Number(model.irVersion ?? 8),
    producerName: model.producerName ?? '',
    producerVersion: model.producerVersion ?? '',
    domain: model.domain ?? '',
    modelVersion: model.modelVersion ?? 0,
    docString: `${model.docString ?? ''} [normalised to the invoice-triage served IO]`.trim(),
    opsetImport: opsets,
    metadataProps: [...props].map(([key, value]) => ({ key, value })),
    graph: {
      name: graph.name ?? 'external',
      node: [...head, ...body, ...tail],
      initializer: initializers,
      input: [tensorInfo(INPUT_NAME, DT.FLOAT, ['N', width])],
      output: [
        tensorInfo(LOGIT_OUTPUT, DT.FLOAT, ['N', 1]),
        tensorInfo(PROBABILITY_OUTPUT, DT.FLOAT, ['N', 1]),
      ],
    },
  });
  return {
    onnx: onnx.ModelProto.encode(out).finish(),
    adaptation: {
      originalInput: input,
      originalOutputs: sig.outputs,
      probabilityTensor: probTensor,
      positiveColumn: positive,
      classLabels: labels,
      droppedZipMap: zipmap !== undefined,
      prunedNodes: nodes.length - body.length,
    },
  };
}
