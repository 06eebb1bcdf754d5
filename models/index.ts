/**
 * Models: the training/serving contract (specs, card drafts, architecture declarations), the
 * float64 reference arithmetic, ONNX graph helpers, model cards and the registry.
 */
export * from './spec.js';
export * from './specs/index.js';
export * from './spec-math.js';
export * from './signature.js';
export * from './card.js';
export * from './registry.js';
export {
  INPUT_NAME,
  LOGIT_OUTPUT,
  PROBABILITY_OUTPUT,
  META,
  readSignature,
  type ModelSignature,
  type TensorSignature,
} from './onnx-graph.js';
export * from './served-schemas.js';
export * from './external-onnx.js';
