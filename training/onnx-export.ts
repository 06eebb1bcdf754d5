/**
 * ONNX export of a {@link TrainedModelSpec}: the graph is written in JS with `onnx-proto`
 * (IR 8, opset 17) and computes exactly the formulas of `models/spec-math.ts`:
 *
 * ```
 * features  float32 [N, F]
 *   -> Cast float64 -> Sub(mean) -> Div(std)              standardisation
 *   -> (MatMul W_k -> Add b_k -> Relu?) for every layer    the network
 *   -> logit [N, 1]                                        output `logit` (float32)
 *   -> calibration                                         output `probability` (float32)
 *        platt:    Sigmoid(a * logit + b)
 *        isotonic: s = Sigmoid(logit); y_0 + (Min(Max(s, lo), hi) - lo) . slope
 *                  (one ramp per segment: exact piecewise-linear, clamped at the ends)
 *        none:     Sigmoid(logit)
 * ```
 *
 * Arithmetic runs in float64 inside the graph, so the served logit equals the float64
 * reference (and the explanations computed from it) to ~1e-12 before the final cast.
 * Metadata: task, feature names (JSON), feature schema version, model version, architecture,
 * calibration kind.
 */
import {
  DT,
  INPUT_NAME,
  LOGIT_OUTPUT,
  META,
  PROBABILITY_OUTPUT,
  doubleTensor,
  encodeModel,
  node,
  tensorInfo,
} from '../models/onnx-graph.js';
import type onnxProto from 'onnx-proto';
import { assertModelSpec, type CalibrationSpec, type TrainedModelSpec } from '../models/spec.js';

/** Options of {@link exportOnnx}. */
export interface OnnxExportOptions {
  /** Written to the metadata; the registry re-stamps it with the registered version. Default `unregistered`. */
  modelVersion?: string;
}

type Graph = { nodes: onnxProto.onnx.INodeProto[]; inits: onnxProto.onnx.ITensorProto[] };

function calibrationNodes(g: Graph, c: CalibrationSpec, z: string, out: string): void {
  if (c.kind === 'none') {
    g.nodes.push(node('Sigmoid', [z], [out]));
    return;
  }
  if (c.kind === 'platt') {
    g.inits.push(doubleTensor('platt_a', [], [c.a]), doubleTensor('platt_b', [], [c.b]));
    g.nodes.push(
      node('Mul', [z, 'platt_a'], ['platt_az']),
      node('Add', ['platt_az', 'platt_b'], ['platt_z']),
      node('Sigmoid', ['platt_z'], [out]),
    );
    return;
  }
  // f(s) = y_0 + sum_i slope_i * (clamp(s, x_i, x_{i+1}) - x_i): equals the linear interpolation
  // inside [x_0, x_n-1] (the ramps left of s are full, the one holding s is partial, the rest 0)
  // and y_0 / y_n-1 beyond the ends. Knots increase strictly (assertModelSpec).
  const n = c.x.length;
  if (n === 1) {
    g.inits.push(doubleTensor('iso_y0', [1, 1], [c.y[0]!]));
    g.nodes.push(node('Sub', [z, z], ['iso_zero']), node('Add', ['iso_zero', 'iso_y0'], [out]));
    return;
  }
  const lo = c.x.slice(0, -1);
  const hi = c.x.slice(1);
  const slope = lo.map((_, i) => (c.y[i + 1]! - c.y[i]!) / (c.x[i + 1]! - c.x[i]!));
  g.inits.push(
    doubleTensor('iso_y0', [], [c.y[0]!]),
    doubleTensor('iso_lo', [n - 1], lo),
    doubleTensor('iso_hi', [n - 1], hi),
    doubleTensor('iso_slope', [n - 1, 1], slope),
  );
  g.nodes.push(
    node('Sigmoid', [z], ['iso_s']),
    node('Max', ['iso_s', 'iso_lo'], ['iso_max']),
    node('Min', ['iso_max', 'iso_hi'], ['iso_clamped']),
    node('Sub', ['iso_clamped', 'iso_lo'], ['iso_ramp']),
    node('MatMul', ['iso_ramp', 'iso_slope'], ['iso_ramps']),
    node('Add', ['iso_ramps', 'iso_y0'], [out]),
  );
}

/**
 * Builds the ONNX model of a trained spec.
 * @returns the serialised ModelProto: input `features` float32 [N, F]; outputs `logit` and
 *   `probability`, float32 [N, 1].
 * @throws TriageError `TRIAGE_MODEL_INVALID` when the spec is malformed (see `assertModelSpec`).
 */
export function exportOnnx(spec: TrainedModelSpec, opts: OnnxExportOptions = {}): Uint8Array {
  assertModelSpec(spec);
  const f = spec.featureNames.length;
  const g: Graph = { nodes: [], inits: [] };
  g.inits.push(
    doubleTensor('std_mean', [f], spec.standardise.mean),
    doubleTensor('std_std', [f], spec.standardise.std),
  );
  g.nodes.push(
    node('Cast', [INPUT_NAME], ['x64'], { to: DT.DOUBLE }),
    node('Sub', ['x64', 'std_mean'], ['x_centred']),
    node('Div', ['x_centred', 'std_std'], ['z0']),
  );
  let h = 'z0';
  spec.layers.forEach((l, k) => {
    const inDim = l.weights.length;
    const outDim = l.bias.length;
    g.inits.push(
      doubleTensor(`W${k}`, [inDim, outDim], l.weights.flat()),
      doubleTensor(`b${k}`, [outDim], l.bias),
    );
    g.nodes.push(node('MatMul', [h, `W${k}`], [`mm${k}`]), node('Add', [`mm${k}`, `b${k}`], [`pre${k}`]));
    if (l.activation === 'relu') {
      g.nodes.push(node('Relu', [`pre${k}`], [`h${k}`]));
      h = `h${k}`;
    } else h = `pre${k}`;
  });
  calibrationNodes(g, spec.calibration, h, 'p64');
  g.nodes.push(
    node('Cast', [h], [LOGIT_OUTPUT], { to: DT.FLOAT }),
    node('Cast', ['p64'], [PROBABILITY_OUTPUT], { to: DT.FLOAT }),
  );
  return encodeModel({
    graph: {
      name: `invoice_triage_${spec.task.replace('-', '_')}`,
      node: g.nodes,
      initializer: g.inits,
      input: [tensorInfo(INPUT_NAME, DT.FLOAT, ['N', f])],
      output: [
        tensorInfo(LOGIT_OUTPUT, DT.FLOAT, ['N', 1]),
        tensorInfo(PROBABILITY_OUTPUT, DT.FLOAT, ['N', 1]),
      ],
    },
    docString: `invoice-triage ${spec.task} model (${spec.architecture}, calibration ${spec.calibration.kind})`,
    metadata: {
      [META.task]: spec.task,
      [META.featureNames]: JSON.stringify(spec.featureNames),
      [META.featureSchemaVersion]: spec.featureSchemaVersion,
      [META.modelVersion]: opts.modelVersion ?? 'unregistered',
      [META.architecture]: spec.architecture,
      [META.calibration]: spec.calibration.kind,
      [META.source]: 'invoice-triage',
    },
  });
}
