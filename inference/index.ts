/** Inference: scorers, duplicate detection, routing policy and the scoring pipeline. */
export * from './scorers.js';
export * from './explain.js';
export * from './heuristic-coding.js';
export * from './heuristic-duplicate.js';
export * from './policy.js';
export * from './pipeline.js';
export * from './onnx-session.js';
export * from './onnx-champion.js';
export * from './model-scorers.js';
export * from './explain-model.js';
export * from './priority.js';
export * from './duplicate-detector.js';
export * from './stages/index.js';
