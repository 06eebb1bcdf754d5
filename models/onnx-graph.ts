/**
 * Small builders over `onnx-proto` (ONNX IR 8) to write graphs in JS, read a model's IO
 * signature and metadata without running it, and rewrite metadata. Used by the ONNX export
 * (training), the registry (version stamps, bring-your-own models) and the sessions.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
/** ONNX element types used here. */
export const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

/** IR version written (onnx 1.10's IR 8), default opset of the `ai.onnx` domain. */
export const IR_VERSION = 8;
export const DEFAULT_OPSET = 17;
/** The ONNX-ML domain (LinearClassifier, ZipMap, ...) and its opset. */
export const ML_DOMAIN = 'ai.onnx.ml';
export const ML_OPSET = 3;

/** A graph node: `op(inputs) -> outputs` with attributes. */
export function node(
  opType: string,
  input: string[],
  output: string[],
  attrs: Record<string, number | string | number[] | string[]> = {},
  domain = '',
): onnxProto.onnx.INodeProto {
  const attribute: onnxProto.onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => {
    if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
    if (typeof v === 'number')
      return Number.isInteger(v) ? { name, type: AT.INT, i: v } : { name, type: AT.FLOAT, f: v };
    if (v.length > 0 && typeof v[0] === 'string')
      return { name, type: AT.STRINGS, strings: (v as string[]).map((s) => new TextEncoder().encode(s)) };
    return { name, type: AT.INTS, ints: v as number[] };
  });
  return { opType, input, output, attribute, domain, name: `${opType}_${output[0]}` };
}

/** A float attribute list (INTS would be inferred from integer-valued numbers). */
export function floatsAttr(name: string, values: readonly number[]): onnxProto.onnx.IAttributeProto {
  return { name, type: AT.FLOATS, floats: [...values] };
}

/** A float64 initializer of the given shape, values row-major. */
export function doubleTensor(
  name: string,
  dims: number[],
  values: readonly number[],
): onnxProto.onnx.ITensorProto {
  return { name, dataType: DT.DOUBLE, dims, doubleData: [...values] };
}

/** A float32 initializer of the given shape, values row-major. */
export function floatTensor(
  name: string,
  dims: number[],
  values: readonly number[],
): onnxProto.onnx.ITensorProto {
  return { name, dataType: DT.FLOAT, dims, floatData: [...values] };
}

/** A tensor value info; a string dimension is symbolic (e.g. `N`), `null` unknown. */
export function tensorInfo(
  name: string,
  elemType: number,
  dims: (number | string | null)[],
): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : d === null ? {} : { dimParam: d })),
        },
      },
    },
  };
}

/** Assembles and serialises a model. */
export function encodeModel(opts: {
  graph: onnxProto.onnx.IGraphProto;
  metadata?: Record<string, string>;
  opsets?: { domain: string; version: number }[];
  docString?: string;
}): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'invoice-triage',
    producerVersion: '1',
    docString: opts.docString ?? '',
    opsetImport: opts.opsets ?? [{ domain: '', version: DEFAULT_OPSET }],
    metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: opts.graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Parses a serialised model. @throws Error when the bytes are not an ONNX ModelProto. */
export function decodeModel(buf: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(buf);
}

/** One graph input or output: name, element type name and dimensions (symbolic ones as strings, unknown as null). */
export interface TensorSignature {
  name: string;
  /** e.g. `float`, `double`, `int64`; `sequence`/`map`/`unknown` for non-tensors. */
  type: string;
  dims: (number | string | null)[];
}

/** Inputs (without initializers), outputs and metadata of a model. */
export interface ModelSignature {
  inputs: TensorSignature[];
  outputs: TensorSignature[];
  metadata: Record<string, string>;
  opsets: { domain: string; version: number }[];
}

function dimOf(d: onnxProto.onnx.TensorShapeProto.IDimension): number | string | null {
  if (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0) return Number(d.dimValue);
  if (d.dimParam) return d.dimParam;
  return null;
}

function signatureOf(v: onnxProto.onnx.IValueInfoProto): TensorSignature {
  const t = v.type;
  if (t?.tensorType) {
    const elem = t.tensorType.elemType ?? 0;
    const type = (DT[elem] ?? 'unknown').toLowerCase();
    return { name: v.name ?? '', type, dims: (t.tensorType.shape?.dim ?? []).map(dimOf) };
  }
  if (t?.sequenceType) return { name: v.name ?? '', type: 'sequence', dims: [] };
  if (t?.mapType) return { name: v.name ?? '', type: 'map', dims: [] };
  return { name: v.name ?? '', type: 'unknown', dims: [] };
}

/** Reads the IO signature and metadata of a serialised model without running it. */
export function readSignature(buf: Uint8Array): ModelSignature {
  const m = decodeModel(buf);
  const inits = new Set((m.graph?.initializer ?? []).map((t) => t.name));
  const metadata: Record<string, string> = {};
  for (const p of m.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  return {
    inputs: (m.graph?.input ?? []).filter((v) => !inits.has(v.name ?? '')).map(signatureOf),
    outputs: (m.graph?.output ?? []).map(signatureOf),
    metadata,
    opsets: (m.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: Number(o.version ?? 0) })),
  };
}

/** Returns a copy of the model with the given metadata keys set (others kept). */
export function withMetadata(buf: Uint8Array, set: Record<string, string>): Uint8Array {
  const m = decodeModel(buf);
  const props = new Map((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  for (const [k, v] of Object.entries(set)) props.set(k, v);
  m.metadataProps = [...props].map(([key, value]) => onnx.StringStringEntryProto.create({ key, value }));
  return onnx.ModelProto.encode(m).finish();
}

/** Metadata keys written into every model this project produces or normalises. */
export const META = {
  task: 'invoice_triage.task',
  featureNames: 'invoice_triage.feature_names',
  featureSchemaVersion: 'invoice_triage.feature_schema_version',
  modelVersion: 'invoice_triage.model_version',
  architecture: 'invoice_triage.architecture',
  calibration: 'invoice_triage.calibration',
  source: 'invoice_triage.source',
} as const;

/** Name of the input every served model takes: float32 `[N, F]`. */
export const INPUT_NAME = 'features';
/** Outputs every served model gives: float32 `[N, 1]` each. */
export const LOGIT_OUTPUT = 'logit';
export const PROBABILITY_OUTPUT = 'probability';
