/** Model specs (the training/serving contract), model card drafts and architecture declarations. */
export * from './spec.js';
export * from './specs/index.js';
