/**
 * Architecture declarations: the candidate models each task's training run compares on the
 * validation split (the better one by validation log-loss is kept; the comparison goes into
 * the model card). Plain data: `training/` builds them with tfjs, nothing here imports tfjs.
 */
import type { ArchitectureKind, ModelTask } from '../spec.js';

/** A trainable architecture and its optimisation settings. */
export interface ArchitectureDecl {
  /** Stable id recorded in the card, e.g. `logistic-l2` or `mlp-16-8`. */
  id: string;
  kind: ArchitectureKind;
  /** Hidden layer widths (ReLU); empty for logistic regression. */
  hidden: readonly number[];
  /** Adam learning rate. */
  learningRate: number;
  /** L2 penalty on weights (not biases), per example: loss += l2 * sum(w^2). */
  l2: number;
  /** Full passes over the training rows. */
  epochs: number;
  /** Rows per gradient step. */
  batchSize: number;
  /**
   * Monotone by construction in the inputs with an agreement direction (`TrainOptions.agreement`
   * of training/train.ts: +1, -1 or 0 per input): their first-layer weights carry the
   * direction's sign (>= 0 where more is more agreement, <= 0 where less is), every later
   * layer's weights are >= 0, and ReLU never decreases, so the logit never falls as agreement
   * grows, whatever the other inputs (they keep free first-layer weights). Kept by projecting
   * the weights after every optimiser step.
   */
  monotone?: boolean;
  /**
   * Monotone networks only: share of each hidden layer's units that fall as agreement grows
   * (`unitDirections` in training/train.ts), entering the next layer with weights <= 0. 0 or
   * absent: a ReLU network with non-negative deeper weights, convex in agreement; 0.5: convex and
   * concave parts, a universal approximator of monotone functions.
   */
  concaveShare?: number;
  /**
   * Seed ensemble: this many networks of the declaration, trained with seeds derived from the
   * run seed (training/ensemble.ts `memberSeed`), served as one network whose logit is the mean
   * of theirs (`mergeMembers`; monotone when the members are). Absent or 1: one network.
   */
  members?: number;
}

/** Logistic regression: one linear layer on the standardised features. */
export const LOGISTIC: ArchitectureDecl = {
  id: 'logistic-l2',
  kind: 'logistic',
  hidden: [],
  learningRate: 0.05,
  l2: 1e-4,
  epochs: 30,
  batchSize: 256,
};

/** A small MLP: two ReLU layers (16, 8), then a linear logit. */
export const MLP_16_8: ArchitectureDecl = {
  id: 'mlp-16-8',
  kind: 'mlp',
  hidden: [16, 8],
  learningRate: 0.01,
  l2: 1e-4,
  epochs: 30,
  batchSize: 256,
};

/** {@link LOGISTIC}, monotone in agreement (see {@link ArchitectureDecl.monotone}). */
export const MONOTONE_LOGISTIC: ArchitectureDecl = {
  ...LOGISTIC,
  id: 'monotone-logistic-l2',
  monotone: true,
};

/** {@link MLP_16_8}, monotone in agreement (see {@link ArchitectureDecl.monotone}). */
export const MONOTONE_MLP_16_8: ArchitectureDecl = { ...MLP_16_8, id: 'monotone-mlp-16-8', monotone: true };

/**
 * {@link MLP_16_8}, monotone in agreement with half of each hidden layer falling in agreement
 * (see {@link ArchitectureDecl.concaveShare}): convex and concave in agreement.
 */
export const MONOTONE_MIXED_MLP_16_8: ArchitectureDecl = {
  ...MONOTONE_MLP_16_8,
  id: 'monotone-mixed-mlp-16-8',
  concaveShare: 0.5,
};

/**
 * Two {@link MONOTONE_MIXED_MLP_16_8} networks of different seeds averaged on the logit (see
 * {@link ArchitectureDecl.members}): the same monotone guarantee with less seed variance.
 */
export const MONOTONE_MIXED_MLP_16_8_X2: ArchitectureDecl = {
  ...MONOTONE_MIXED_MLP_16_8,
  id: 'monotone-mixed-mlp-16-8-x2',
  members: 2,
};

/**
 * Candidates compared for each task, in the order they are trained. The duplicate task keeps the
 * unconstrained pair (`duplicate@2` reproduces from it; the champion `duplicate@5` was trained with
 * `--architectures monotone-mixed-mlp-16-8-x2`, which its card records): the monotone candidates
 * ({@link MONOTONE_MIXED_MLP_16_8}) scored lower test PR-AUC on seed 42 (see training/README.md).
 */
export const TASK_ARCHITECTURES: Readonly<Record<ModelTask, readonly ArchitectureDecl[]>> = {
  'coding-mismatch': [LOGISTIC, MLP_16_8],
  duplicate: [LOGISTIC, MLP_16_8],
};

/** Every declared architecture, by id (`npm run train -- --architectures <id,...>`). */
export const ARCHITECTURES: Readonly<Record<string, ArchitectureDecl>> = Object.fromEntries(
  [
    LOGISTIC,
    MLP_16_8,
    MONOTONE_LOGISTIC,
    MONOTONE_MLP_16_8,
    MONOTONE_MIXED_MLP_16_8,
    MONOTONE_MIXED_MLP_16_8_X2,
  ].map((d) => [d.id, d]),
);

/** Number of trainable parameters of `decl` over `inputs` features. */
export function parameterCount(decl: ArchitectureDecl, inputs: number): number {
  let n = 0;
  let width = inputs;
  for (const h of [...decl.hidden, 1]) {
    n += width * h + h;
    width = h;
  }
  return n * (decl.members ?? 1);
}
