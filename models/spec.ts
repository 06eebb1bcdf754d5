/**
 * The trained-model contract between training (tfjs) and the model platform (ONNX export,
 * registry, serving, explanations). A trained model is a plain JSON {@link TrainedModelSpec}.
 */

/** A model task; each maps to a scorer and a feature schema. */
export type ModelTask = 'coding-mismatch' | 'duplicate';

/** One dense layer: `h_out = act(h_in . weights + bias)`, `weights` is `[in][out]`. */
export interface DenseLayerSpec {
  weights: number[][];
  bias: number[];
  activation: 'relu' | 'linear';
}

/** Calibration of the logit into a probability. */
export type CalibrationSpec =
  /** `p = sigmoid(a * logit + b)`. */
  | { kind: 'platt'; a: number; b: number }
  /** Piecewise-linear on `sigmoid(logit)` through the knots (x ascending), clamped at the ends. */
  | { kind: 'isotonic'; x: number[]; y: number[] }
  /** `p = sigmoid(logit)`. */
  | { kind: 'none' };

/**
 * A trained model. Inference: `z = (x - mean) / std`, then the layers in order (the last one
 * has 1 output and is linear: the logit), then the calibration.
 */
export interface TrainedModelSpec {
  task: ModelTask;
  architecture: 'logistic' | 'mlp';
  featureNames: string[];
  featureSchemaVersion: string;
  standardise: { mean: number[]; std: number[] };
  layers: DenseLayerSpec[];
  calibration: CalibrationSpec;
  seed: number;
}
