/**
 * Fits one declared architecture (`models/specs`) on a labelled table with tfjs (wasm backend)
 * and returns it as a {@link TrainedModelSpec} with `calibration: { kind: 'none' }` (calibration
 * is fitted afterwards on held-out data, see `calibration.ts`).
 *
 * Determinism: the same rows, declaration and seed give bit-identical weights. Kernels start
 * from tfjs' Glorot-uniform initialiser with a seed derived from the run seed and the layer
 * index; biases start at zero; each epoch visits the rows in a permutation drawn from a seeded
 * PRNG (no `Math.random`, no `shuffle: true`); the wasm backend runs single-threaded
 * (`tf.ts`), so float additions happen in the same order on every run.
 *
 * Monotone declarations (`ArchitectureDecl.monotone`): the kernels start as the initialiser's
 * draws with the sign each entry must carry (`|w|` or `-|w|`) and are projected back onto their
 * bounds (`w >= 0`, `w <= 0` or free) after every optimiser step. With
 * `ArchitectureDecl.concaveShare` some hidden units are decreasing in agreement (see
 * {@link unitDirections}), which lets the network be concave as well as convex in agreement.
 *
 * Loss: weighted binary cross-entropy on the logit, `sum_i w_i * (softplus(z_i) - y_i z_i) /
 * sum_i w_i` per batch, plus `l2 * sum(kernel^2)` over kernels (not biases). Adam optimiser.
 */
import type { Scalar, Sequential, Tensor } from '@tensorflow/tfjs';
import type { ArchitectureDecl } from '../models/specs/index.js';
import type { ModelTask, TrainedModelSpec } from '../models/spec.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TriageError } from '../core/errors.js';
import { assertRows, type LabelledRows } from './data.js';
import { deriveSeed, mulberry32, permutation } from './rng.js';
import { loadTf, type Tf } from './tf.js';

/** Options of one training run. */
export interface TrainOptions {
  task: ModelTask;
  featureSchemaVersion: string;
  seed: number;
  /**
   * Agreement direction of each input column: +1 when a larger value means more agreement,
   * -1 when a smaller one does, 0 not agreement; read when the declaration is monotone (absent:
   * all 0, then only the later layers are constrained).
   */
  agreement?: readonly number[];
  /** Called after each epoch with the mean training loss (for progress bars). */
  onEpoch?: (epoch: number, loss: number) => void;
  /**
   * Cancels the run: checked before every batch; while it is given, the loop also yields to the
   * event loop at least every {@link CANCEL_CHECK_MS} so that an abort posted from another
   * thread (training/retrain-worker.ts) is seen. The weights are not affected.
   */
  signal?: AbortSignal;
}

/** Longest stretch, ms, the training loop holds its thread without a turn when it has a signal. */
export const CANCEL_CHECK_MS = 100;

/** The error of a run whose signal was aborted. */
export function trainingCancelled(): TriageError {
  return new TriageError('TRIAGE_TRAINING_CANCELLED', 'training cancelled: the process is shutting down');
}

/** A fitted network and its training curve. */
export interface TrainResult {
  spec: TrainedModelSpec;
  /** Mean training loss per epoch (weighted BCE + L2). */
  lossHistory: number[];
}

/**
 * Mean and standard deviation (population) of each column; a constant column gets std 1 so
 * that standardising it yields 0 rather than NaN.
 */
export function standardisation(
  rows: readonly ArrayLike<number>[],
  cols: number,
): { mean: number[]; std: number[] } {
  const mean = new Array<number>(cols).fill(0);
  const m2 = new Array<number>(cols).fill(0);
  rows.forEach((r, k) => {
    for (let j = 0; j < cols; j++) {
      const d = r[j]! - mean[j]!;
      mean[j]! += d / (k + 1);
      m2[j]! += d * (r[j]! - mean[j]!);
    }
  });
  const std = m2.map((s) => {
    const sd = rows.length > 0 ? Math.sqrt(s / rows.length) : 0;
    return sd > 1e-12 ? sd : 1;
  });
  return { mean, std };
}

/** Rows standardised and flattened row-major into float32, ready for a tensor. */
function standardisedMatrix(rows: readonly ArrayLike<number>[], mean: number[], std: number[]): Float32Array {
  const cols = mean.length;
  const out = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => {
    for (let j = 0; j < cols; j++) out[i * cols + j] = (r[j]! - mean[j]!) / std[j]!;
  });
  return out;
}

/** A tfjs sequential model of the architecture with seeded initial weights (weights [in][out]). */
export function buildNetwork(tf: Tf, decl: ArchitectureDecl, inputs: number, seed: number): Sequential {
  const model = tf.sequential();
  const widths = [...decl.hidden, 1];
  widths.forEach((units, k) => {
    model.add(
      tf.layers.dense({
        units,
        activation: k === widths.length - 1 ? 'linear' : 'relu',
        useBias: true,
        kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, `kernel-${k}`) }),
        biasInitializer: 'zeros',
        ...(k === 0 ? { inputShape: [inputs] } : {}),
      }),
    );
  });
  return model;
}

/**
 * Direction of each unit of a hidden layer of `width` units in a monotone network: +1 for a unit
 * that grows with agreement, -1 for one that falls with it. The last `round(width *
 * concaveShare)` units fall. A falling unit `relu(z)` enters the next layer with a weight <= 0,
 * i.e. as `-relu(z)`, a concave increasing function of agreement, while rising units give convex
 * ones: a network mixing both (two hidden layers or more) approximates any monotone function
 * (Runje & Shankaranarayana, "Constrained Monotonic Neural Networks", ICML 2023: their concave
 * activation `-relu(-x)` is this unit with its signs moved into the weights). With share 0
 * every unit rises and the network is convex in agreement.
 */
export function unitDirections(width: number, concaveShare = 0): number[] {
  const falling = Math.round(width * concaveShare);
  return Array.from({ length: width }, (_, j) => (j < width - falling ? 1 : -1));
}

/**
 * Sign each kernel entry must carry in a monotone network ({@link kernelSigns}): +1 (>= 0),
 * -1 (<= 0) or 0 (free). An entry from input or unit `i` to unit `j` carries
 * `direction(i) * direction(j)`: inputs have their agreement direction (0 leaves the entry free),
 * hidden units their {@link unitDirections}, the output +1. So every unit moves with agreement in
 * its own direction and the logit never falls as agreement grows.
 * @returns one `[in][out]` matrix of signs per layer.
 */
export function kernelSigns(decl: ArchitectureDecl, agreement: readonly number[]): number[][][] {
  const dirs = [
    agreement.map((a) => Math.sign(a)),
    ...decl.hidden.map((w) => unitDirections(w, decl.concaveShare)),
    [1],
  ];
  return dirs.slice(1).map((out, k) => dirs[k]!.map((d) => out.map((o) => d * o)));
}

/** Clamps each kernel to its signs (in place on the variables): `w >= 0`, `w <= 0` or free. */
function projectKernels(tf: Tf, model: Sequential, bounds: readonly { lo: Tensor; hi: Tensor }[]): void {
  tf.tidy(() => {
    model.layers.forEach((layer, k) => {
      const v = layer.trainableWeights[0]!;
      v.write(tf.minimum(tf.maximum(v.read(), bounds[k]!.lo), bounds[k]!.hi));
    });
  });
}

/**
 * Trains `decl` on `data` and returns the uncalibrated spec.
 * @throws RangeError when the table is malformed (see `assertRows`) or empty.
 */
export async function trainNetwork(
  data: LabelledRows,
  decl: ArchitectureDecl,
  opts: TrainOptions,
): Promise<TrainResult> {
  assertRows(data);
  const n = data.X.length;
  if (n === 0) throw new RangeError('no training rows');
  const cols = data.featureNames.length;
  const tf = await loadTf();
  const { mean, std } = standardisation(data.X, cols);
  const model = buildNetwork(tf, decl, cols, opts.seed);
  const bounds = decl.monotone
    ? kernelSigns(decl, opts.agreement ?? new Array<number>(cols).fill(0)).map((m) => ({
        lo: tf.tensor2d(m.map((r) => r.map((x) => (x > 0 ? 0 : -1e30)))),
        hi: tf.tensor2d(m.map((r) => r.map((x) => (x < 0 ? 0 : 1e30)))),
      }))
    : [];
  if (decl.monotone) {
    // start from the initialiser's magnitudes with the required signs
    const signs = kernelSigns(decl, opts.agreement ?? new Array<number>(cols).fill(0));
    tf.tidy(() => {
      model.layers.forEach((layer, k) => {
        const v = layer.trainableWeights[0]!;
        const s = tf.tensor2d(signs[k]!);
        v.write(tf.where(tf.equal(s, 0), v.read(), tf.mul(tf.abs(v.read()), s)));
      });
    });
  }
  const optimizer = tf.train.adam(decl.learningRate);
  const X = tf.tensor2d(standardisedMatrix(data.X, mean, std), [n, cols], 'float32');
  const Y = tf.tensor1d(Float32Array.from(data.y), 'float32');
  const W = tf.tensor1d(Float32Array.from(data.w), 'float32');
  const kernels = model.layers.map((l) => l.getWeights()[0]!);
  const rng = mulberry32(deriveSeed(opts.seed, 'shuffle'));
  const lossHistory: number[] = [];
  const signal = opts.signal;
  let turnAt = Date.now();
  try {
    for (let epoch = 0; epoch < decl.epochs; epoch++) {
      const order = permutation(n, rng);
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start < n; start += decl.batchSize) {
        if (signal && Date.now() - turnAt >= CANCEL_CHECK_MS) {
          await nextTurn();
          turnAt = Date.now();
        }
        if (signal?.aborted) throw trainingCancelled();
        const idx = order.subarray(start, Math.min(n, start + decl.batchSize));
        const loss = tf.tidy((): Scalar => {
          const ix = tf.tensor1d(Int32Array.from(idx), 'int32');
          const xb = tf.gather(X, ix);
          const yb = tf.gather(Y, ix);
          const wb = tf.gather(W, ix);
          const l = optimizer.minimize(() => {
            const z = (model.apply(xb) as Tensor).reshape([-1]);
            // softplus(z) - y z is the BCE of sigmoid(z), stable for large |z|
            const bce = tf.sub(tf.softplus(z), tf.mul(yb, z));
            const data = tf.div(tf.sum(tf.mul(wb, bce)), tf.sum(wb));
            if (decl.l2 === 0) return data as Scalar;
            const penalty = tf.addN(kernels.map((k) => tf.sum(tf.square(k))));
            return tf.add(data, tf.mul(decl.l2, penalty)) as Scalar;
          }, true);
          if (!l) throw new Error('optimizer returned no loss');
          return l;
        });
        if (decl.monotone) projectKernels(tf, model, bounds);
        lossSum += (await loss.data())[0]!;
        loss.dispose();
        batches++;
      }
      const mean = lossSum / batches;
      lossHistory.push(mean);
      opts.onEpoch?.(epoch + 1, mean);
    }
    const layers = await Promise.all(
      model.layers.map(async (layer, k) => {
        const [kernel, bias] = layer.getWeights();
        const [inDim, outDim] = kernel!.shape as [number, number];
        const kv = await kernel!.data();
        const bv = await bias!.data();
        const weights: number[][] = [];
        for (let i = 0; i < inDim; i++) weights.push(Array.from(kv.subarray(i * outDim, (i + 1) * outDim)));
        return {
          weights,
          bias: Array.from(bv),
          activation: (k === model.layers.length - 1 ? 'linear' : 'relu') as 'linear' | 'relu',
        };
      }),
    );
    return {
      spec: {
        task: opts.task,
        architecture: decl.kind,
        featureNames: [...data.featureNames],
        featureSchemaVersion: opts.featureSchemaVersion,
        standardise: { mean, std },
        layers,
        calibration: { kind: 'none' },
        seed: opts.seed,
      },
      lossHistory,
    };
  } finally {
    X.dispose();
    Y.dispose();
    W.dispose();
    optimizer.dispose();
    model.dispose();
    for (const b of bounds) {
      b.lo.dispose();
      b.hi.dispose();
    }
  }
}
